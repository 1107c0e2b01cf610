"""A run: studies executed into a new run folder with a manifest recording what reproduces it."""

from __future__ import annotations

import platform
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import __version__
from analysis.data.datasets import DATASETS, dataset_path, sha256_file
from analysis.data.sources import data_sources
from analysis.engines.profile import profile_transactions
from analysis.engines.select import check_engine
from analysis.engines.summaries import customer_summary
from analysis.files import write_json, write_table
from analysis.parameters import safe_name
from analysis.reporting.execute import (
    NAMED_SOURCES,
    Planned,
    absolute_engine,
    check_inputs,
    data_label,
    run_parameters,
    run_study,
)
from analysis.reporting.exports import write_customer_table
from analysis.reporting.folders import atomic_run_folder
from analysis.reporting.schedule import run_studies as run_all
from analysis.reporting.summary_page import write_summary_page

__all__ = ["RunResult", "execute_run"]


#: The installed package: inside a git checkout, the run records its commit.
PACKAGE = Path(__file__).resolve().parents[1]


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
    name: str | None = None,
    command: Mapping[str, Any] | None = None,
    engine: str = "duckdb",
    run_studies: bool = True,
    jobs: int | None = None,
) -> RunResult:
    """Run studies with resolved parameters into a new run folder.

    Before anything is written, every path a user gave is made absolute
    (against the current directory), every parameter is checked to be plain
    data, every study's data is loaded and validated, its dates are chosen
    from the data and the pseudonymisation key is looked up: any problem
    raises and nothing is published. A study whose data's history is too
    short is skipped (recorded in the manifest with the reason); the others
    run. With every study skipped, nothing is published.

    Parameters
    ----------
    parameters : mapping
        ``{study: parameters}``, complete and checked
        (:func:`analysis.studies.registry.resolve_parameters`).
    reports : path
        Folder of runs.
    name : str, optional
        Preferred run name, one safe path component (a free ``name-N`` is
        used if taken); default ``main-<last day of the data>``.
    command : mapping, optional
        The command line's options, recorded in the manifest.
    engine : str
        Where the run's data summaries are computed (:mod:`analysis.engines`);
        each study has its own ``engine`` parameter.
    run_studies : bool
        ``False``: everything is checked, but only the data profiles and
        summaries are written (no notebook runs).
    jobs : int, optional
        Studies executed at once, each in its own kernel (default: one per
        core, :func:`analysis.reporting.schedule.default_jobs`).

    Returns
    -------
    RunResult
        The published folder, with ``data/<source>_profile.csv`` and
        ``data/<source>_customer_summary.parquet`` of each study's data, and
        the manifest.
    """
    started = time.time()
    reports = Path(reports).absolute()
    if name is not None:
        safe_name("name", name)
    engine = absolute_engine(engine) if isinstance(engine, str) else engine
    check_engine(engine, recorded=True)
    parameters = {study: run_parameters(study, values) for study, values in parameters.items()}
    planned = check_inputs(parameters)
    runnable = {study: plan for study, plan in planned.items() if plan.problem is None}
    if planned and not runnable:
        raise next(iter(planned.values())).problem
    data = _data_tables(runnable, engine)
    last = max((facts["last_day"] for facts, _ in data.values()), default=None)
    if name is None:
        name = f"main-{last or pd.Timestamp.today().date()}"
    with atomic_run_folder(reports, name) as run:
        (run.staging / "data").mkdir()
        for label, (_, tables) in data.items():
            for suffix, table in tables.items():
                write_table(run.staging / "data" / f"{label}_{suffix}", table)
        write_json(run.staging / "metrics.json", {"data": {label: facts for label, (facts, _) in data.items()}})
        executed = (
            run_all({study: plan.values for study, plan in runnable.items()}, run.staging, run_study, jobs=jobs)
            if run_studies
            else {}
        )
        studies: dict[str, Any] = {}
        for study, plan in planned.items():
            if plan.problem is not None:
                studies[study] = {"status": "skipped", "error": str(plan.problem), "parameters": plan.values}
            elif study in executed:
                studies[study] = executed[study]
                studies[study]["dated_parameters"] = _recordable(plan.dated)
                studies[study]["chosen"] = plan.chosen.to_dict("records")
        joined = write_customer_table(run.staging)
        manifest = _manifest(command or {}, parameters, started, engine=engine)
        manifest["exports"] = [str(p.relative_to(run.staging)) for p in joined]
        manifest["as_of"] = last  # the last day of the studied data
        manifest["data"] = {label: facts for label, (facts, _) in data.items()}
        # The shipped data must be unchanged by the run (dataset_path verifies the checksums).
        for dataset in DATASETS:
            dataset_path(dataset)
        manifest["inputs_unchanged_after_run"] = True
        manifest["studies"] = studies
        ran = [s for s in studies.values() if s["status"] != "skipped"]
        manifest["status"] = "ok" if all(s["status"] == "ok" for s in ran) else "failed"
        manifest["skipped"] = sorted(study for study, s in studies.items() if s["status"] == "skipped")
        if run_studies:
            first = next(iter(parameters.values()), {})
            write_summary_page(run.staging, manifest, first.get("language", "en"), first.get("currency", ""))
            manifest["summary"] = "summary.html"
        write_json(run.staging / "manifest.json", manifest)
    return RunResult(run.final, manifest)


def _recordable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON can hold them (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _data_tables(
    planned: Mapping[str, Planned], engine: str
) -> dict[str, tuple[dict[str, Any], dict[str, pd.DataFrame]]]:
    """Each distinct data source of the run: its headline facts, and its profile and customer summary.

    The summary is at the last day the studies use (the latest ``as_of`` of
    the studies reading that source); nothing later enters it.
    """
    found: dict[str, tuple[dict[str, Any], dict[str, pd.DataFrame]]] = {}
    for plan in planned.values():
        label = data_label(plan.source)
        if label in found:
            continue
        transactions = plan.transactions
        as_of = str(pd.Timestamp(transactions["date"].max()).date())
        matching = int(plan.dated.get("return_window_days", 30))  # the studies' return rule (one per source)
        summary = customer_summary(transactions, as_of, time_unit="weeks", engine=engine, return_window_days=matching)
        facts = {
            "source": transactions.attrs.get("source", plan.source),
            "rows": len(transactions),
            "first_day": str(pd.Timestamp(transactions["date"].min()).date()),
            "last_day": as_of,
            "customers": len(summary),
            "repeat_customers_share": round(float((summary["frequency"] > 0).mean()), 6),
            "mean_frequency": round(float(summary["frequency"].mean()), 6),
            "total_value": round(float(summary["total_value"].sum()), 2),
            "rows_after_as_of_left_out": int(transactions.attrs.get("rows_after_as_of", 0)),
            "rows_without_customer_id_left_out": int(transactions.attrs.get("rows_without_customer_id", 0)),
        }
        found[label] = (
            facts,
            {
                "profile.csv": profile_transactions(transactions, return_window_days=matching),
                "customer_summary.parquet": summary,
            },
        )
    return found


def _input_files(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every input file of the run: the shipped datasets and any user file, with SHA-256 and rows."""
    inputs = {
        name: {"file": str(dataset_path(name)), "sha256": spec.sha256, "rows": spec.rows}
        for name, spec in DATASETS.items()
    }
    for values in parameters.values():
        source = str(values.get("data_source", ""))
        if not source or source in NAMED_SOURCES:
            continue
        for file in data_sources(source, columns=values.get("column_map") or None).files():
            path = Path(file)
            if path.is_file():
                inputs[file] = {"file": file, "sha256": sha256_file(file), "rows": _count_rows(path)}
            elif path.is_dir():
                for part in sorted(path.rglob("*.parquet")):
                    inputs[str(part)] = {"file": str(part), "sha256": sha256_file(part), "rows": _count_rows(part)}
    return inputs


def _count_rows(path: Path) -> int | None:
    """Data rows of a file (``None`` for a spreadsheet or a source file, which are not counted by lines)."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if path.suffix.lower() in {".xlsx", ".xlsm", ".xls", ".ods", ".yaml", ".yml"}:
        return None
    with open(path, "rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _manifest(
    command: Mapping[str, Any],
    parameters: Mapping[str, Mapping[str, Any]],
    started: float,
    *,
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
        "as_of": None,
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
