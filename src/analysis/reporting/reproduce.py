"""Reproducing a recorded run: same inputs (checked by SHA-256), same parameters, every metric compared."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from analysis.data.datasets import sha256_file
from analysis.errors import DataError, ParameterError
from analysis.reporting.run import RunResult, execute_run
from analysis.studies.registry import resolve_parameters

__all__ = ["compare_metrics", "reproduce"]


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
    if isinstance(recorded, float) and isinstance(new, float) and math.isnan(recorded) and math.isnan(new):
        return []  # a metric that is undefined (NaN) in both runs is reproduced
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
        command={"reproduce": str(manifest_path)},
        engine=recorded.get("engine", "duckdb"),
    )
    differences = []
    for metrics in sorted(folder.glob("metrics.json")) + sorted((folder / "metrics").glob("*.json")):
        relative = metrics.relative_to(folder)
        new_file = result.folder / relative
        new = json.loads(new_file.read_text()) if new_file.exists() else None
        old = json.loads(metrics.read_text())
        differences += [(f"{relative}: {key}", a, b) for key, a, b in compare_metrics(old, new)]
    return result, differences
