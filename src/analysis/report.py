"""Run folders under ``reports/``: written atomically, never overwritten.

A run is assembled in a hidden temporary folder next to its destination and
renamed into place only when complete, so a reader never sees a half-written
run and a failed run leaves nothing behind. An existing run folder is never
replaced: the new run gets the next free name (``name-2``, ``name-3``...).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ParameterError

__all__ = ["RunFolder", "atomic_run_folder", "publish_file", "write_json", "write_metrics", "write_table"]

log = logging.getLogger("analysis")


@dataclass
class RunFolder:
    """A run being written: write into ``staging``; ``final`` is set once it is in place."""

    staging: Path
    final: Path | None = None


@contextmanager
def atomic_run_folder(root: str | Path, name: str) -> Iterator[RunFolder]:
    """Stage a run folder and move it to ``root/name`` (or ``name-N``) when complete.

    Parameters
    ----------
    root : path
        Folder holding the runs (created if missing).
    name : str
        Preferred run name.

    Yields
    ------
    RunFolder
        Write into ``run.staging``. If the ``with`` block raises, the staging
        folder is removed and nothing appears under ``root``; otherwise it is
        renamed into place and ``run.final`` gives its path.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run = RunFolder(Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=root)))
    run.staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
    try:
        yield run
    except BaseException:
        shutil.rmtree(run.staging, ignore_errors=True)
        raise
    run.final = _claim(root, name, run.staging)
    log.info("run written to %s", run.final)


def _claim(root: Path, name: str, staging: Path) -> Path:
    """Rename ``staging`` to the first free ``name``, ``name-2``, ... (race-safe)."""
    for attempt in range(1, 10_000):
        candidate = root / (name if attempt == 1 else f"{name}-{attempt}")
        if candidate.exists():
            continue
        try:
            # rename() onto a missing name is atomic on POSIX; if another run took
            # the name in between, renaming onto its non-empty folder fails.
            os.rename(staging, candidate)
        except OSError:
            continue
        return candidate
    raise RuntimeError(f"no free run name for {name!r} in {root}")


def write_json(path: str | Path, payload: Any) -> None:
    """Write JSON with sorted keys and a final newline (byte-identical for equal payloads)."""
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    Path(path).write_text(text + "\n", encoding="utf-8")


def publish_file(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Write a file next to ``target`` and link it into place only if ``target`` does not exist.

    ``write`` receives a staging path with the target's suffix. A reader never
    sees a half-written file, a failed write leaves nothing behind, and an
    existing file (even one created meanwhile by another process) is never
    replaced: ``os.link`` fails if the name is taken.

    Raises
    ------
    ParameterError
        If ``target`` exists.
    """
    target = Path(target)
    staging = target.with_name(f".partial-{os.getpid()}-{target.name}")
    try:
        write(staging)
        try:
            os.link(staging, target)
        except FileExistsError as exc:
            raise ParameterError("output", str(target), "a path that does not exist yet (never overwritten)") from exc
    finally:
        staging.unlink(missing_ok=True)
    return target


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path | None:
    """Write a study's headline metrics as JSON, atomically and never over an existing file.

    ``""`` writes nothing. Equal metrics give identical bytes.
    """
    if not path:
        return None
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return publish_file(target, lambda staging: write_json(staging, dict(metrics)))


def write_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a DataFrame as CSV (``.csv``) or Parquet (``.parquet``)."""
    path = Path(path)
    if path.suffix == ".csv":
        table.to_csv(path, index=False, lineterminator="\n")
    else:
        table.to_parquet(path, index=False)
