"""Runs of the studies: execution with papermill, run folders, manifests, reproduction.

A run executes study notebooks with resolved parameters into a new run folder
(:func:`analysis.report.atomic_run_folder`): each executed notebook, a
stand-alone HTML version without code, each study's metrics and a
``manifest.json`` recording what is needed to reproduce it. A failing study is
kept (partially executed) and reported; the others still run.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import __version__
from analysis.data import (
    DATASETS,
    LATER_ROWS,
    dataset_path,
    load_dataset,
    profile_transactions,
    rows_up_to,
    sha256_file,
)
from analysis.engines import check_engine
from analysis.errors import DataError, ParameterError, check_option
from analysis.files import write_json, write_table
from analysis.parameters import check_injected_source, check_plain, safe_name
from analysis.privacy import read_pseudonym_key
from analysis.report import atomic_run_folder
from analysis.sources import SYNTHETIC_B2B, load_transactions
from analysis.studies import STUDIES, resolve_parameters
from analysis.summaries import calibration_holdout, customer_summary, period_table

__all__ = ["RunResult", "absolute_engine", "compare_metrics", "execute_run", "reproduce"]

log = logging.getLogger("analysis")

#: The installed package: inside a git checkout, the run records its commit.
PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder and manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Whether every study succeeded."""
        return self.manifest["status"] == "ok"


def execute_run(
    parameters: Mapping[str, Mapping[str, Any]],
    *,
    reports: str | Path,
    name: str,
    as_of: str,
    calibration_end: str = "1997-09-30",
    command: Mapping[str, Any] | None = None,
    engine: str = "duckdb",
    later_rows: str = "refuse",
) -> RunResult:
    """Run studies with resolved parameters into a new run folder.

    Before anything is written, every path a user gave is made absolute
    (against the current directory), every parameter is checked to be plain
    data, every study's data is loaded and validated and the
    pseudonymisation key is looked up: any problem raises and nothing is
    published.

    Parameters
    ----------
    parameters : mapping
        ``{study: parameters}``, complete and checked
        (:func:`analysis.studies.resolve_parameters`).
    reports : path
        Folder of runs.
    name : str
        Preferred run name, one safe path component (a free ``name-N`` is
        used if taken).
    as_of, calibration_end : str
        Dates of the CDNOW data summaries written with every run.
    command : mapping, optional
        The command line's options, recorded in the manifest.
    engine : str
        Where the CDNOW data summaries run (:mod:`analysis.engines`); each
        study has its own ``engine`` parameter.
    later_rows : {"refuse", "drop"}
        CDNOW rows after ``as_of`` for the run's data profile and summaries:
        refused, or left out and counted (each study has its own parameter).
    """
    started = time.time()
    reports = Path(reports).absolute()
    safe_name("name", name)
    check_option("later_rows", later_rows, LATER_ROWS)
    engine = absolute_engine(engine) if isinstance(engine, str) else engine
    check_engine(engine, recorded=True)
    parameters = {study: run_parameters(study, values) for study, values in parameters.items()}
    check_inputs(parameters)
    if pd.Timestamp(calibration_end) >= pd.Timestamp(as_of):
        raise ParameterError("calibration_end", calibration_end, f"a date before as_of ({as_of})")
    cdnow = rows_up_to(load_dataset("cdnow"), as_of, later_rows=later_rows, file="cdnow")
    telco = load_dataset("telco")
    summary = customer_summary(cdnow, as_of, time_unit="weeks", engine=engine)
    holdout = calibration_holdout(cdnow, calibration_end, as_of, time_unit="weeks", engine=engine)
    periods = period_table(cdnow, freq="month", end=as_of, dense=True, engine=engine)
    active = (holdout["frequency_holdout"] > 0).mean() if len(holdout) else None
    metrics = {
        "cdnow": {
            "customers": len(summary),
            "repeat_customers_share": round(float((summary["frequency"] > 0).mean()), 6),
            "mean_frequency": round(float(summary["frequency"].mean()), 6),
            "total_value": round(float(summary["total_value"].sum()), 2),
            "holdout_customers_active_share": None if active is None else round(float(active), 6),
            "customer_months": len(periods),
        },
        "telco": {"customers": len(telco), "churn_rate": round(float(telco["churned"].mean()), 6)},
    }
    with atomic_run_folder(reports, name) as run:
        write_table(run.staging / "cdnow_profile.csv", profile_transactions(cdnow))
        write_table(run.staging / "cdnow_customer_summary.parquet", summary)
        write_table(run.staging / "cdnow_calibration_holdout.parquet", holdout)
        write_table(run.staging / "cdnow_customer_months.parquet", periods)
        write_json(run.staging / "metrics.json", metrics)
        studies = {study: run_study(study, run.staging, values) for study, values in parameters.items()}
        manifest = _manifest(
            command or {}, parameters, started, as_of=as_of, calibration_end=calibration_end, engine=engine
        )
        manifest["later_rows"] = later_rows
        # The shipped data must be unchanged by the run (dataset_path verifies the checksums).
        for dataset in DATASETS:
            dataset_path(dataset)
        manifest["inputs_unchanged_after_run"] = True
        manifest["studies"] = studies
        manifest["status"] = "ok" if all(s["status"] == "ok" for s in studies.values()) else "failed"
        write_json(run.staging / "manifest.json", manifest)
    return RunResult(run.final, manifest)


#: Parameters that name a file of the user's (resolved against the current directory before a run).
PATH_PARAMETERS = ("data_source", "pseudonym_key_file")
#: Names of data sources that are not files.
NAMED_SOURCES = (*DATASETS, SYNTHETIC_B2B)


def run_parameters(study: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A study's parameters as a run uses them: plain data, user paths absolute, export names safe.

    - Every value must be plain data (:func:`analysis.parameters.check_plain`).
    - ``data_source`` (unless a shipped or synthetic source) and
      ``pseudonym_key_file`` are made absolute against the current
      directory, so they mean what the user meant wherever the notebook runs.
    - ``alerts_path`` must be a file name (one safe path component ending in
      ``.csv``): a run writes its exports into its own ``exports/`` folder.

    Raises
    ------
    ParameterError
        Naming the first parameter that breaks a rule.
    """
    out = {key: _as_lists(check_plain(key, value)) for key, value in values.items()}
    if isinstance(out.get("engine"), str):
        out["engine"] = absolute_engine(out["engine"])
    for key in PATH_PARAMETERS:
        value = out.get(key)
        if isinstance(value, str) and value and value not in NAMED_SOURCES:
            out[key] = str(Path(value).expanduser().absolute())
    alerts = out.get("alerts_path")
    if alerts:
        safe_name("alerts_path", alerts)
        if not alerts.lower().endswith(".csv"):
            raise ParameterError("alerts_path", alerts, "a file name ending in .csv (written to the run's exports/)")
    return out


def _as_lists(value: Any) -> Any:
    """Tuples as lists, at every level (papermill writes lists; a tuple would not reach the notebook as itself)."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


_FILE_ENGINE = re.compile(r"^(duckdb|sqlite)://(?!/)(?!:memory:)(.+)$")


def absolute_engine(engine: str) -> str:
    """An engine URL whose database file is given relative (``duckdb://local.ddb``) made absolute (cwd).

    Examples
    --------
    >>> absolute_engine("duckdb://") == "duckdb://" and absolute_engine("spark") == "spark"
    True
    >>> absolute_engine("duckdb://local.ddb") == "duckdb://" + str(Path("local.ddb").absolute())
    True
    """
    match = _FILE_ENGINE.match(engine)
    if not match:
        return engine
    return f"{match.group(1)}://{Path(match.group(2)).absolute()}"


def check_inputs(parameters: Mapping[str, Mapping[str, Any]]) -> None:
    """Load and validate every study's data as the study will, and find the pseudonymisation key.

    Run before anything is written, so a bad file, rows dated after a
    study's date or a missing key stop the run with nothing published. Each
    distinct source is read once.

    Raises
    ------
    DataError, ParameterError
        The first problem found.
    """
    loaded: dict[str, pd.DataFrame] = {}
    for study, values in parameters.items():
        declaration = STUDIES[study].parameters(**values)
        options = declaration.data_options()
        key = json.dumps(options, sort_keys=True, default=str)
        if key not in loaded:
            loaded[key] = load_transactions(**options)
        if hasattr(declaration, "check_data"):
            declaration.check_data(loaded[key])
        if values.get("pseudonymise"):
            read_pseudonym_key(values.get("pseudonym_key_file", ""))


def run_study(study: str, folder: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Execute one study notebook with papermill into ``folder``; export HTML without code.

    The notebook runs with ``folder`` as its working directory; its
    parameters are checked once more to reach it as plain literals
    (:func:`analysis.parameters.check_injected_source`). A failing notebook
    is kept (partially executed) and reported, never raised.
    """
    import papermill
    from nbconvert import HTMLExporter
    from papermill.translators import translate_parameters

    source = STUDIES[study].path
    stem = source.stem
    executed = folder / f"{stem}.ipynb"
    metrics = folder / "metrics" / f"{stem}.json"
    started = time.time()
    values = {k: v for k, v in parameters.items() if k != "metrics_path"}
    outcome: dict[str, Any] = {
        "notebook": executed.name,
        "html": f"{stem}.html",
        "metrics": str(metrics.relative_to(folder)),
        "parameters": values,
    }
    given = values | {"metrics_path": str(metrics)}
    if values.get("alerts_path"):
        (folder / "exports").mkdir(exist_ok=True)
        given["alerts_path"] = str(folder / "exports" / values["alerts_path"])
        outcome["exports"] = [f"exports/{values['alerts_path']}"]
    check_injected_source(translate_parameters("python3", "python", check_plain("parameters", given)), given)
    try:
        papermill.execute_notebook(
            _literal_path(source),
            _literal_path(executed),
            parameters=given,
            kernel_name="python3",
            cwd=str(folder),
            progress_bar=sys.stderr.isatty(),  # a progress bar for a person at a terminal, none in logs
        )
        outcome["status"] = "ok"
    except papermill.PapermillExecutionError as exc:
        if exc.ename in _FILE_SYSTEM_ERRORS:  # a full disk inside the notebook: the run cannot be trusted
            raise _os_error(exc.evalue, folder) from exc
        outcome |= {"status": "failed", "cell": exc.exec_count, "error": f"{exc.ename}: {exc.evalue}"}
    except OSError:
        raise  # the run folder cannot be written: nothing is published (exit 3)
    except Exception as exc:  # a dead kernel or a timeout must not take the other studies down
        outcome |= {"status": "failed", "cell": None, "error": f"{type(exc).__name__}: {exc}"}
    outcome["seconds"] = round(time.time() - started, 3)
    if executed.exists():
        try:
            exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
            body, _ = exporter.from_filename(str(executed))
            (folder / f"{stem}.html").write_text(body, encoding="utf-8")
        except Exception as exc:  # the executed notebook is kept even if its export fails
            outcome |= {"status": "failed", "html_error": f"{type(exc).__name__}: {exc}"}
    return outcome


#: Exceptions that, raised inside a notebook, mean the run's folder could not be written.
_FILE_SYSTEM_ERRORS = ("OSError", "PermissionError", "IsADirectoryError", "NotADirectoryError", "BlockingIOError")
_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\] ([^:]+)(?:: '(.*)')?")


def _os_error(text: str, folder: Path) -> OSError:
    """An :class:`OSError` rebuilt from a notebook's error text (``[Errno 28] No space left on device: 'x'``)."""
    match = _ERRNO_TEXT.search(text)
    if not match:
        return OSError(None, text, str(folder))
    return OSError(int(match.group(1)), match.group(2), match.group(3) or str(folder))


def _literal_path(path: Path) -> str:
    """``path`` for papermill, which formats paths with the parameters (``{name}``): braces escaped."""
    return str(path).replace("{", "{{").replace("}", "}}")


def _input_files(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every input file of the run: the shipped datasets and any user file, with SHA-256 and rows."""
    inputs = {
        name: {"file": str(dataset_path(name)), "sha256": spec.sha256, "rows": spec.rows}
        for name, spec in DATASETS.items()
    }
    for values in parameters.values():
        source = str(values.get("data_source", ""))
        if source and Path(source).suffix and Path(source).is_file():
            inputs[source] = {"file": source, "sha256": sha256_file(source), "rows": _count_rows(Path(source))}
    return inputs


def _count_rows(path: Path) -> int:
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, "rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _manifest(
    command: Mapping[str, Any],
    parameters: Mapping[str, Mapping[str, Any]],
    started: float,
    *,
    as_of: str,
    calibration_end: str,
    engine: str,
) -> dict[str, Any]:
    import duckdb
    import ibis
    import numpy as np
    import scipy
    import statsmodels

    return {
        "package_version": __version__,
        "git": _git_state(),
        "python": platform.python_version(),
        "libraries": {
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
            "duckdb": duckdb.__version__,
            "ibis": ibis.__version__,
        },
        "command": {k: v for k, v in command.items() if k != "handler"},
        "as_of": as_of,
        "calibration_end": calibration_end,
        "engine": engine,  # never a literal password (check_engine(recorded=True)); placeholders are kept
        "inputs": _input_files(parameters),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_seconds": round(time.time() - started, 3),
    }


def _git_state() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PACKAGE, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PACKAGE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


# --------------------------------------------------------------------------- reproduce


def compare_metrics(recorded: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every difference between two metrics documents: ``(key path, recorded, new)``."""
    if isinstance(recorded, dict) and isinstance(new, dict):
        differences = []
        for key in sorted(set(recorded) | set(new), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in recorded or key not in new:
                differences.append((where, recorded.get(key), new.get(key)))
            else:
                differences.extend(compare_metrics(recorded[key], new[key], where))
        return differences
    return [] if recorded == new else [(path, recorded, new)]


def reproduce(manifest_path: str | Path, *, reports: str | Path | None = None) -> tuple[RunResult, list]:
    """Re-run a recorded run with the same parameters and compare its metrics.

    Refuses (:class:`DataError`) if any input file is missing or its SHA-256
    changed since the recorded run. The new run goes to a new folder next to
    the recorded one (``<name>-reproduced``); nothing is overwritten.

    Returns
    -------
    (RunResult, differences)
        The new run, and ``(file: key path, recorded, new)`` for every metric
        that differs (empty when the reproduction is identical).
    """
    manifest_path = Path(manifest_path).absolute()
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ParameterError("manifest", str(manifest_path), f"a readable manifest.json ({exc})") from exc
    folder = manifest_path.parent
    for name, spec in recorded.get("inputs", {}).items():
        path = Path(spec["file"])
        if not path.is_file():
            raise DataError("input of the recorded run not found", file=str(path))
        actual = sha256_file(path)
        if actual != spec["sha256"]:
            raise DataError(
                f"input {name!r} changed since the recorded run: SHA-256 {actual}, recorded {spec['sha256']}",
                file=str(path),
                hint="A reproduction needs the same data",
            )
    parameters = {
        study: resolve_parameters(study, outcome["parameters"]) for study, outcome in recorded["studies"].items()
    }
    result = execute_run(
        parameters,
        reports=reports or folder.parent,
        name=f"{folder.name[:89]}-reproduced",
        as_of=recorded["as_of"],
        calibration_end=recorded["calibration_end"],
        command={"reproduce": str(manifest_path)},
        engine=recorded.get("engine", "duckdb"),
        later_rows=recorded.get("later_rows", "refuse"),
    )
    differences = []
    for metrics in sorted(folder.glob("metrics.json")) + sorted((folder / "metrics").glob("*.json")):
        relative = metrics.relative_to(folder)
        new_file = result.folder / relative
        new = json.loads(new_file.read_text()) if new_file.exists() else None
        old = json.loads(metrics.read_text())
        differences += [(f"{relative}: {key}", a, b) for key, a, b in compare_metrics(old, new)]
    return result, differences


# --------------------------------------------------------------------------- periodic reports


def period_end(period: str) -> pd.Timestamp:
    """Last day of a ``YYYY-MM`` period."""
    try:
        month = pd.Period(period, freq="M")
    except (ValueError, TypeError) as exc:
        raise ParameterError("period", period, "a month such as '1998-06'") from exc
    if str(month) != period:
        raise ParameterError("period", period, "a month written YYYY-MM, such as '1998-06'")
    return month.end_time.normalize()


def period_parameters(study: str, end: pd.Timestamp, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A study's dates for the report of the period ending on ``end``, using only data up to ``end``.

    - grading: ``as_of`` = the period end; the stability history covers the
      12 months before it; the validity backtest stays inside the data.
    - churn: signals need a known outcome, so the model is scored at
      ``validation_as_of`` = period end minus the horizon (the last date whose
      churn is known at the period end) and fitted three months earlier.
    - value: ``as_of`` = the period end, calibration ending 39 weeks before.

    ``given`` parameters (from ``--params``/``-p``) set anything else; a
    given date would let data after the period end into the report, so it
    is refused.
    """
    given = dict(given or {})
    dated = sorted(set(given) & DATE_PARAMETERS)
    if dated:
        raise ParameterError(
            dated[0], given[dated[0]], "no date: a report's dates come from its period (use analysis run for others)"
        )
    if study == "grading":
        dates = {"as_of": str(end.date()), "history_start": str((end - pd.DateOffset(months=11)).replace(day=1).date())}
    elif study == "churn":
        horizon = given.get("horizon_days", 90)
        if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
            raise ParameterError("horizon_days", horizon, "a positive whole number of days")
        scored = end - pd.Timedelta(days=horizon)
        dates = {
            "validation_as_of": str(scored.date()),
            "as_of": str((scored - pd.DateOffset(months=3)).date()),
            "data_end": str(end.date()),
        }
    elif study == "value":
        dates = {"as_of": str(end.date()), "calibration_end": str((end - pd.Timedelta(weeks=39)).date())}
    else:
        dates = {}
    return resolve_parameters(study, dates | given)


#: Parameters that are dates of a study (set from the period in report mode).
DATE_PARAMETERS = {"as_of", "validation_as_of", "data_end", "calibration_end", "history_start"}

#: Headline figures followed across periods in the index: (study, metric key, label).
TREND_FIGURES = (
    ("grading", "gini", "Gini of 12-month value"),
    ("grading", "kept_grade", "share keeping their grade"),
    ("grading", "capture_rate", "A grade's capture rate"),
    ("churn", "churn_rate", "churn rate"),
    ("churn", "alert_precision", "alert precision at K"),
    ("value", "mean_p_alive", "mean probability alive"),
)


def collect_runs(reports: str | Path) -> pd.DataFrame:
    """One row per finished run under ``reports``: folder, status, dates and headline metrics."""
    rows = []
    for manifest in sorted(Path(reports).glob("*/manifest.json")):
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s left out of the index: unreadable manifest (%s)", manifest, exc)
            continue
        row: dict[str, Any] = {
            "run": manifest.parent.name,
            "as_of": recorded.get("as_of"),
            "status": recorded.get("status"),
            "started": recorded.get("started"),
        }
        for study, outcome in recorded.get("studies", {}).items():
            path = manifest.parent / outcome["metrics"]
            metrics = json.loads(path.read_text()) if path.exists() else {}
            for name, key, _ in TREND_FIGURES:
                if name == study and key in metrics:
                    row[f"{study}.{key}"] = metrics[key]
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["run", "as_of", "status", "started"])


def write_index(reports: str | Path) -> Path:
    """Write ``reports/index.html``: every run with its headline metrics, and a trend figure.

    The index is a view of the runs, rebuilt from their manifests each time
    (written to a temporary file and renamed into place).
    """
    import base64
    import html
    import io
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = Path(reports)
    runs = collect_runs(reports)
    figure = ""
    trend_columns = [f"{s}.{k}" for s, k, _ in TREND_FIGURES if f"{s}.{k}" in runs]
    if len(runs) > 1 and trend_columns:
        ordered = runs.sort_values("as_of")
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        labels = {f"{s}.{k}": label for s, k, label in TREND_FIGURES}
        for column in trend_columns:
            ax.plot(pd.to_datetime(ordered["as_of"]), ordered[column], marker="o", label=labels[column])
        ax.set(xlabel="analysis date of the run", ylabel="share", title="Key figures across runs")
        ax.legend(loc="best", fontsize="small")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        encoded = base64.b64encode(buffer.getvalue()).decode()
        figure = f'<img alt="Key figures across runs" src="data:image/png;base64,{encoded}">'
    rows = []
    for values in runs.sort_values("as_of").to_dict("records"):
        name = html.escape(str(values["run"]))
        cells = [f'<a href="{name}/">{name}</a>', html.escape(str(values["as_of"])), html.escape(str(values["status"]))]
        cells += [
            f"{values[c]:.3f}" if isinstance(values.get(c), float) and values[c] == values[c] else ""
            for c in trend_columns
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in ["run", "as of", "status", *trend_columns])
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer analytics reports</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:4px 10px;border-bottom:1px solid #ddd}}</style>
</head><body><h1>Customer analytics reports</h1>
<p>{len(runs)} run(s). Each run folder holds the studies as HTML reports, their metrics and a manifest.</p>
<table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>
{figure}
</body></html>
"""
    target = reports / "index.html"
    staging = reports / f".index-{os.getpid()}.html"
    try:
        staging.write_text(page, encoding="utf-8")
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target
