"""The ``analysis`` command (also ``python -m analysis``): argument parsing only.

Exit status: 0 success, 1 a data problem, 2 a bad parameter or usage.
"""

from __future__ import annotations

import argparse
import logging
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import __version__
from analysis.data import (
    DATASETS,
    dataset_path,
    load_dataset,
    profile_transactions,
    read_transactions,
)
from analysis.errors import DataError, ParameterError
from analysis.report import atomic_run_folder, publish_file, write_json, write_table
from analysis.studies import STUDIES, parameter_table, resolve_parameters
from analysis.summaries import calibration_holdout, customer_summary, period_table

log = logging.getLogger("analysis")

REPO = Path(__file__).resolve().parents[2]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.handler(args)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="analysis", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser.add_argument("--version", action="version", version=f"analysis {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run studies (default: all, on the shipped data) into a new run folder")
    run.add_argument("studies", nargs="*", metavar="STUDY", help=f"studies to run (default: all of {sorted(STUDIES)})")
    run.add_argument("--params", default=None, help="YAML file: {study: {parameter: value}} (flat for one study)")
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="[STUDY.]NAME=VALUE",
        help="override a parameter (YAML value); without STUDY. it applies to every study that has it",
    )
    run.add_argument(
        "--as-of",
        default=None,
        help="analysis date of every study and of the data summaries (default: each study's own; data end)",
    )
    run.add_argument("--calibration-end", default="1997-09-30", help="end of calibration of the CDNOW summaries")
    run.add_argument("--reports", default=str(REPO / "reports"), help="folder of runs")
    run.add_argument("--name", default=None, help="run name (default: main-<as-of>)")
    run.add_argument("--no-studies", action="store_true", help="only the data profile and summaries")
    run.set_defaults(handler=_run)

    params = commands.add_parser("params", help="a study's parameters: type, default, meaning")
    params.add_argument("study", choices=sorted(STUDIES), help="the study")
    params.set_defaults(handler=_params)

    profile = commands.add_parser("profile", help="data profile of a dataset or file")
    _add_source(profile)
    profile.set_defaults(handler=_profile)

    summarize = commands.add_parser("summarize", help="customer summary of a dataset or file")
    _add_source(summarize)
    summarize.add_argument("--as-of", required=True, help="analysis date")
    summarize.add_argument("--time-unit", default="days", choices=["days", "weeks"])
    summarize.add_argument("--trailing-days", type=int, default=365)
    summarize.add_argument("--out", required=True, help="output .csv or .parquet (not overwritten)")
    summarize.set_defaults(handler=_summarize)
    return parser


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help=f"a shipped dataset ({', '.join(DATASETS)}) or a file")
    parser.add_argument(
        "-c",
        "--column",
        action="append",
        default=[],
        metavar="NAME=YOURS",
        help="map a contract column to your column name (repeatable)",
    )
    parser.add_argument("--date-format", default=None, help="strptime format of dates")
    parser.add_argument("--delimiter", default=",", help="CSV delimiter")
    parser.add_argument("--encoding", default="utf-8", help="CSV text encoding")


def _transactions(args: argparse.Namespace) -> pd.DataFrame:
    if args.source == "cdnow":
        return load_dataset("cdnow")
    if args.source in DATASETS:
        raise ParameterError("source", args.source, "a transactions dataset ('cdnow') or a file")
    mapping = {}
    for item in args.column:
        name, sep, theirs = item.partition("=")
        if not sep:
            raise ParameterError("--column", item, "NAME=YOURS, e.g. customer_id=Kunde")
        mapping[name.strip()] = theirs.strip()
    return read_transactions(
        args.source,
        columns=mapping,
        date_format=args.date_format,
        delimiter=args.delimiter,
        encoding=args.encoding,
    )


def _params(args: argparse.Namespace) -> int:
    table = parameter_table(args.study)
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table.to_string(index=False))
    return 0


def _profile(args: argparse.Namespace) -> int:
    print(profile_transactions(_transactions(args)).to_string(index=False))
    return 0


def _summarize(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists():
        raise ParameterError("--out", str(out), "a path that does not exist yet (never overwritten)")
    if out.suffix not in (".csv", ".parquet"):
        raise ParameterError("--out", str(out), "a .csv or .parquet file name")
    if not out.parent.is_dir():
        raise ParameterError("--out", str(out), "a file in an existing folder")
    summary = customer_summary(
        _transactions(args), args.as_of, time_unit=args.time_unit, trailing_days=args.trailing_days
    )
    if summary.empty:
        raise DataError(f"no customer bought on or before {args.as_of}", file=args.source, column="date")
    publish_file(out, lambda staging: write_table(staging, summary))
    print(f"{len(summary):,} customers -> {out}")
    return 0


def _study_parameters(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every chosen study's complete, checked parameters (ParameterError before anything runs)."""
    import datetime as dt

    import yaml

    for name in args.studies:
        if name not in STUDIES:
            raise ParameterError("study", name, f"one of {sorted(STUDIES)}")
    chosen = list(dict.fromkeys(args.studies)) or list(STUDIES)
    values: dict[str, dict[str, Any]] = {study: {} for study in chosen}

    def plain(value: Any) -> Any:  # YAML reads 1998-06-30 as a date; parameters take text
        return value.isoformat() if isinstance(value, dt.date) else value

    if args.params:
        try:
            loaded = yaml.safe_load(Path(args.params).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ParameterError("--params", args.params, f"a readable YAML file ({exc})") from exc
        if not isinstance(loaded, dict):
            raise ParameterError("--params", args.params, "a YAML mapping")
        if set(loaded) <= set(STUDIES) and all(isinstance(v, dict) for v in loaded.values()):
            for study, mapping in loaded.items():
                if study in values:
                    values[study].update({k: plain(v) for k, v in mapping.items()})
        elif len(chosen) == 1:
            values[chosen[0]].update({k: plain(v) for k, v in loaded.items()})
        else:
            raise ParameterError("--params", args.params, "a mapping {study: {parameter: value}} for several studies")
    for item in args.parameter:
        key, sep, text = item.partition("=")
        if not sep:
            raise ParameterError("-p", item, "NAME=VALUE or STUDY.NAME=VALUE")
        study, dot, name = key.partition(".")
        targets = [study] if dot else [s for s in chosen if key in parameter_table(s)["parameter"].tolist()]
        name = name if dot else key
        if not targets or (dot and study not in values):
            raise ParameterError(key, text, f"a parameter of a chosen study ({', '.join(chosen)})")
        for target in targets:
            values[target][name] = plain(yaml.safe_load(text))
    if args.as_of:
        for study in chosen:
            given = values[study].setdefault("as_of", args.as_of)
            if str(given) != args.as_of:
                raise ParameterError("as_of", given, f"the run's --as-of {args.as_of} (one analysis date per run)")
    return {study: resolve_parameters(study, given) for study, given in values.items()}


def _run(args: argparse.Namespace) -> int:
    """Run the chosen studies (default: all, with their default parameters) into a new run folder."""
    started = time.time()
    parameters = {} if args.no_studies else _study_parameters(args)
    # --as-of sets every study's analysis date (a contradicting -p is refused); without
    # it each study keeps its own (the churn study needs outcome data after its date),
    # recorded in the manifest, and the data summaries and run name use the data's end.
    args.as_of = args.as_of or "1998-06-30"
    cdnow = load_dataset("cdnow")
    telco = load_dataset("telco")
    profile = profile_transactions(cdnow)
    summary = customer_summary(cdnow, args.as_of, time_unit="weeks")
    holdout = calibration_holdout(cdnow, args.calibration_end, args.as_of, time_unit="weeks")
    periods = period_table(cdnow, freq="month", end=args.as_of, dense=True)
    metrics = {
        "cdnow": {
            "customers": len(summary),
            "repeat_customers_share": round(float((summary["frequency"] > 0).mean()), 6),
            "mean_frequency": round(float(summary["frequency"].mean()), 6),
            "total_value": round(float(summary["total_value"].sum()), 2),
            "holdout_customers_active_share": round(float((holdout["frequency_holdout"] > 0).mean()), 6),
            "customer_months": len(periods),
        },
        "telco": {"customers": len(telco), "churn_rate": round(float(telco["churned"].mean()), 6)},
    }
    name = args.name or f"main-{pd.Timestamp(args.as_of).date()}"
    with atomic_run_folder(args.reports, name) as run:
        write_table(run.staging / "cdnow_profile.csv", profile)
        write_table(run.staging / "cdnow_customer_summary.parquet", summary)
        write_table(run.staging / "cdnow_calibration_holdout.parquet", holdout)
        write_table(run.staging / "cdnow_customer_months.parquet", periods)
        write_json(run.staging / "metrics.json", metrics)
        studies = {
            STUDIES[study].path.stem: _run_study(STUDIES[study].path, run.staging, values)
            for study, values in parameters.items()
        }
        manifest = _manifest(vars(args), started) | {"studies": studies}
        manifest["status"] = "ok" if all(s["status"] == "ok" for s in studies.values()) else "failed"
        write_json(run.staging / "manifest.json", manifest)
    print("CDNOW data profile")
    print(profile.to_string(index=False))
    print(f"\nTelco: {len(telco):,} subscribers, churn rate {telco['churned'].mean():.1%}")
    print(f"\nCustomer summaries of {len(summary):,} customers written to {run.final}")
    for study, outcome in studies.items():
        print(f"{study}: {outcome['status']} in {outcome['seconds']:.1f} s -> {run.final / (study + '.html')}")
    return 0 if manifest["status"] == "ok" else 1


def _run_study(source: Path, folder: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """Execute one study notebook with papermill into ``folder``; export HTML without code.

    A failing notebook is kept (partially executed) and reported, never raised:
    the other studies still run.
    """
    import papermill
    from nbconvert import HTMLExporter

    study = source.stem
    executed = folder / f"{study}.ipynb"
    metrics = folder / "metrics" / f"{study}.json"
    started = time.time()
    parameters = parameters | {"metrics_path": str(metrics)}
    outcome: dict[str, Any] = {
        "notebook": executed.name,
        "metrics": str(metrics.relative_to(folder)),
        "parameters": parameters | {"metrics_path": str(metrics.relative_to(folder))},
    }
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(source.parent),
            progress_bar=False,
        )
        outcome["status"] = "ok"
    except papermill.PapermillExecutionError as exc:
        outcome |= {"status": "failed", "cell": exc.exec_count, "error": f"{exc.ename}: {exc.evalue}"}
    outcome["seconds"] = round(time.time() - started, 3)
    if executed.exists():
        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
        body, _ = exporter.from_filename(str(executed))
        (folder / f"{study}.html").write_text(body, encoding="utf-8")
    return outcome


def _manifest(parameters: dict[str, Any], started: float) -> dict[str, Any]:
    import duckdb
    import numpy as np

    inputs = {
        name: {"file": spec.file, "sha256": spec.sha256, "rows": spec.rows, "verified": True}
        for name, spec in DATASETS.items()
        if dataset_path(name)
    }
    return {
        "package_version": __version__,
        "git": _git_state(),
        "python": platform.python_version(),
        "libraries": {
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "duckdb": duckdb.__version__,
        },
        "parameters": {k: v for k, v in parameters.items() if k != "handler"},
        "inputs": inputs,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_seconds": round(time.time() - started, 3),
        "status": "ok",
    }


def _git_state() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}
