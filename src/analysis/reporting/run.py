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
from analysis.data.contract import LATER_ROWS
from analysis.data.datasets import DATASETS, dataset_path, load_dataset, sha256_file
from analysis.data.validate import rows_up_to
from analysis.engines.periods import period_table
from analysis.engines.profile import profile_transactions
from analysis.engines.select import check_engine
from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import ParameterError, check_option
from analysis.files import write_json, write_table
from analysis.parameters import safe_name
from analysis.reporting.execute import absolute_engine, check_inputs, run_parameters, run_study
from analysis.reporting.folders import atomic_run_folder

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
        (:func:`analysis.studies.registry.resolve_parameters`).
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
