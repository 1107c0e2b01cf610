"""Files the package writes: run folders and single files, atomic and never overwritten; formula-safe CSV.

A run is assembled in a hidden temporary folder next to its destination and
renamed into place only when complete, so a reader never sees a half-written
run and a failed run leaves nothing behind. An existing run folder is never
replaced: the new run gets the next free name (``name-2``, ``name-3``...).
A staging folder left by a killed run is removed by the next run in the same
folder (it records the process that owns it), or reported when its owner
cannot be checked.

Every single file goes through :func:`publish_file` (written beside the
target, flushed, then linked into place only if the name is free), and every
CSV through :func:`write_csv`, which neutralises cells a spreadsheet would
run as formulas.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ParameterError
from analysis.parameters import safe_name

__all__ = [
    "FORMULA_STARTS",
    "RunFolder",
    "atomic_run_folder",
    "neutralise_formulas",
    "publish_file",
    "remove_stale_staging",
    "write_csv",
    "write_json",
    "write_metrics",
    "write_table",
]

log = logging.getLogger("analysis")

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: File in a staging folder naming the process that writes it (removed before the run is published).
OWNER_FILE = ".owner.json"
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
        renamed into place and ``run.final`` gives its path.
    """
    safe_name("name", name)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(root)
    run = RunFolder(Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=root)))
    try:
        run.staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
        owner = {"host": socket.gethostname(), "pid": os.getpid()}
        (run.staging / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        yield run
        (run.staging / OWNER_FILE).unlink()
        run.final = _claim(root, name, run.staging)
    except BaseException:
        shutil.rmtree(run.staging, ignore_errors=True)
        raise
    log.info("run written to %s", run.final)


def remove_stale_staging(root: str | Path) -> list[Path]:
    """Remove staging folders under ``root`` whose writing process has ended; warn about unknown ones.

    A staging folder records its host and process id; one from this host
    whose process no longer exists was left by a killed run and is removed.
    Folders of another host, or without a readable owner, are left alone and
    reported (a warning naming them).

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
            owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
            host, pid = str(owner["host"]), int(owner["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("unfinished run folder %s has no owner record: remove it if no run is writing it", folder)
            continue
        if host != socket.gethostname():
            log.warning("unfinished run folder %s belongs to a run on host %s: left alone", folder, host)
            continue
        if _process_alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        log.warning("removed %s, left by a run that ended before finishing (process %d)", folder, pid)
        removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


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


def write_json(path: str | Path, payload: Any) -> None:
    """Write JSON with sorted keys and a final newline (byte-identical for equal payloads)."""
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    Path(path).write_text(text + "\n", encoding="utf-8")


def publish_file(
    target: str | Path, write: Callable[[Path], None], *, overwrite: bool = False, mode: int = 0o644
) -> Path:
    """Write a file next to ``target`` and move it into place only if ``target`` does not exist.

    ``write`` receives a staging path (hidden, in the target's folder, with
    the target's suffix). The staged file is flushed to disk before it is
    linked into place, so a reader never sees a half-written file, a failed
    write leaves nothing behind, and an existing file (even one created
    meanwhile by another process) is never replaced: ``os.link`` fails if
    the name is taken. With ``overwrite=True`` it replaces the target
    atomically instead. The file gets permissions ``mode`` (``0o600`` for
    files only their owner may read, such as customer lists).

    Raises
    ------
    ParameterError
        If ``target`` exists (and ``overwrite`` is false).
    """
    target = Path(target)
    handle, name = tempfile.mkstemp(prefix=f".partial-{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    staging = Path(name)
    try:
        staging.chmod(mode)
        write(staging)
        with open(staging, "rb") as stream:
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(staging, target)
        else:
            _link_new(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def _link_new(staging: Path, target: Path) -> None:
    taken = ParameterError("output", str(target), "a path that does not exist yet (never overwritten)")
    try:
        os.link(staging, target)  # fails if target exists, even if it appeared a moment ago
    except FileExistsError:
        raise taken from None
    except OSError:  # no hard links on this file system: best effort
        if target.exists():
            raise taken from None
        os.replace(staging, target)


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path | None:
    """Write a study's headline metrics as JSON, atomically and never over an existing file.

    ``""`` writes nothing. Equal metrics give identical bytes.
    """
    if not path:
        return None
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return publish_file(target, lambda staging: write_json(staging, dict(metrics)))


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` in which no text cell or header can run as a spreadsheet formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
    gets a leading apostrophe (OWASP's advice), so Excel, LibreOffice and
    Google Sheets show it as text. Numeric and boolean columns are kept as
    they are (a negative number is a number, not a formula).

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"id": ["=HYPERLINK(1)", "A1"], "value": [-1.5, 2.0]})).to_dict("list")
    {'id': ["'=HYPERLINK(1)", 'A1'], 'value': [-1.5, 2.0]}
    """
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            out[column] = values.astype("object").map(_neutralise)
    out.columns = [_neutralise(str(c)) for c in out.columns]
    return out


def _neutralise(cell: Any) -> Any:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def write_csv(path: str | Path, table: pd.DataFrame, *, excel: bool = False) -> None:
    """Write ``table`` as a formula-safe CSV (:func:`neutralise_formulas`), without the index.

    Rows end with CRLF (RFC 4180), so a cell holding a line break or a
    carriage return is quoted and cannot break a row. ``excel=True`` adds a
    UTF-8 byte-order mark, so that Excel reads Chinese text as such.
    """
    safe = neutralise_formulas(table)
    with open(path, "w", encoding="utf-8-sig" if excel else "utf-8", newline="") as stream:
        safe.to_csv(stream, index=False, lineterminator="\r\n")


def write_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a DataFrame as formula-safe CSV (``.csv``, :func:`write_csv`) or Parquet (any other suffix)."""
    path = Path(path)
    if path.suffix == ".csv":
        write_csv(path, table)
    else:
        table.to_parquet(path, index=False)
