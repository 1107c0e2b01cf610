"""Run folders under ``reports/``: written atomically, never overwritten; the studies' metrics files.

A run is assembled in a hidden temporary folder next to its destination and
renamed into place only when complete, so a reader never sees a half-written
run and a failed run leaves nothing behind. An existing run folder is never
replaced: the new run gets the next free name (``name-2``, ``name-3``...).
A staging folder left by a killed run is removed by the next run in the same
folder (it records the process that owns it), or reported when its owner
cannot be checked.

Single files are written by :mod:`analysis.files`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.files import publish_file, write_json
from analysis.parameters import safe_name

__all__ = ["OWNER_FILE", "RunFolder", "atomic_run_folder", "remove_stale_staging", "write_metrics"]

log = logging.getLogger("analysis")

#: File in a staging folder, locked by the process writing the run (removed before the run is published).
OWNER_FILE = ".owner.json"
#: A staging folder younger than this without an owner record is a run starting or finishing: not reported.
YOUNG_SECONDS = 300
_STAGING = re.compile(r"\..+\.partial")


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
        Preferred run name: one safe path component
        (:func:`analysis.parameters.safe_name`).

    Yields
    ------
    RunFolder
        Write into ``run.staging``. If the ``with`` block raises, the staging
        folder is removed and nothing appears under ``root``; otherwise it is
        renamed into place and ``run.final`` gives its path. While the block
        runs, the staging folder's owner record is locked (``flock``), which
        tells other runs it is alive.
    """
    safe_name("name", name)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(root)
    run = RunFolder(Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=root)))
    owner = None
    try:
        run.staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
        # The record appears under its name already locked (written aside, locked, then renamed), so another
        # run's clean-up can never lock it, and take this run for a dead one, in between.
        pending = run.staging / f"{OWNER_FILE}.pending"
        owner = open(pending, "w", encoding="utf-8")  # noqa: SIM115 - held for the whole run
        fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        json.dump({"host": socket.gethostname(), "pid": os.getpid()}, owner)
        owner.flush()
        os.replace(pending, run.staging / OWNER_FILE)
        yield run
        (run.staging / OWNER_FILE).unlink()
        run.final = _claim(root, name, run.staging)
    except BaseException:
        shutil.rmtree(run.staging, ignore_errors=True)
        raise
    finally:
        if owner is not None:
            owner.close()  # releases the lock
    log.info("run written to %s", run.final)


def remove_stale_staging(root: str | Path) -> list[Path]:
    """Remove staging folders under ``root`` that no live run holds; warn about the ones it cannot judge.

    A run holds an exclusive lock on its staging folder's owner record for
    as long as it writes; a folder whose record can be locked was left by a
    run that ended without finishing (killed, power cut) and is removed, with
    a warning naming it. A folder without an owner record (a run killed in
    its first instant, or an older version) is left alone and reported.

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    for folder in sorted(Path(root).iterdir()):
        if not (folder.is_dir() and _STAGING.fullmatch(folder.name)):
            continue
        try:
            record = open(folder / OWNER_FILE, "r+", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError:
            if _age_seconds(folder) > YOUNG_SECONDS:  # a younger one is a run being set up or renamed into place
                log.warning("unfinished run folder %s has no owner record: remove it if no run is writing it", folder)
            continue
        with record:
            try:
                fcntl.flock(record, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run holds it
            try:
                owner = json.loads(record.read() or "{}")
            except ValueError:
                owner = {}
            shutil.rmtree(folder, ignore_errors=True)
        log.warning(
            "removed %s, left by a run that ended before finishing (host %s, process %s)",
            folder,
            owner.get("host", "?"),
            owner.get("pid", "?"),
        )
        removed.append(folder)
    return removed


def _age_seconds(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


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
            if candidate.exists():
                continue
            raise
        return candidate
    raise RuntimeError(f"no free run name for {name!r} in {root}")


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path | None:
    """Write a study's headline metrics as JSON, atomically and never over an existing file.

    ``""`` writes nothing. Equal metrics give identical bytes.
    """
    if not path:
        return None
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return publish_file(target, lambda staging: write_json(staging, dict(metrics)))
