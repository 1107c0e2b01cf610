"""Single files the package writes: atomic, never silently overwritten; CSV that is formula-safe.

Every file goes through :func:`publish_file` (written beside the target,
flushed, then linked into place only if the name is free), and every CSV
through :func:`write_csv`, which neutralises cells a spreadsheet would run
as formulas. A file-system error (disk full, no permission) always carries
the path it was about, so the command line can name it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

__all__ = [
    "FORMULA_STARTS",
    "neutralise_formulas",
    "publish_file",
    "publish_for_excel",
    "publish_table",
    "with_path",
    "write_csv",
    "write_json",
    "write_table",
    "write_xlsx",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ERRNO = re.compile(r"\[errno (\d+)\]\s*([^\n]*)", re.IGNORECASE)


def with_path(exc: OSError, path: str | Path) -> OSError:
    """``exc`` with ``path`` as its file name if it had none (pyarrow's write errors carry none)."""
    if exc.filename is not None:
        return exc
    match = _ERRNO.search(str(exc))
    number = exc.errno if exc.errno is not None else (int(match.group(1)) if match else None)
    cause = exc.strerror or (os.strerror(number) if number is not None else str(exc))
    return OSError(number, cause, str(path))


def write_json(path: str | Path, payload: Any) -> None:
    """Write JSON with sorted keys and a final newline (byte-identical for equal payloads)."""
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise with_path(exc, path) from exc


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


def write_xlsx(path: str | Path, table: pd.DataFrame, *, sheet: str = "list") -> None:
    """Write ``table`` as an ``.xlsx`` sheet (xlsxwriter): text stays text, never a formula or a link.

    Numbers are numbers, dates are dates (``yyyy-mm-dd``), missing cells are
    empty; the header row is frozen and the columns are sized to their text.
    """
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    try:
        with xlsxwriter.Workbook(str(path), options) as workbook:
            sheet_ = workbook.add_worksheet(sheet[:31])
            bold, day = workbook.add_format({"bold": True}), workbook.add_format({"num_format": "yyyy-mm-dd"})
            for col, name in enumerate(table.columns):
                sheet_.write_string(0, col, str(name), bold)
                values = table[name]
                width = max([len(str(name)), *(len(str(v)) for v in values.head(200))]) + 2
                sheet_.set_column(col, col, min(width, 60))
                for row, value in enumerate(values.tolist(), start=1):
                    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
                        continue
                    if isinstance(value, pd.Timestamp):
                        sheet_.write_datetime(row, col, value.to_pydatetime(), day)
                    elif isinstance(value, (bool, np.bool_)):
                        sheet_.write_boolean(row, col, bool(value))
                    elif isinstance(value, (int, float, np.integer, np.floating)):
                        sheet_.write_number(row, col, float(value))
                    else:
                        sheet_.write_string(row, col, str(value))
            sheet_.freeze_panes(1, 0)
    except OSError as exc:
        raise with_path(exc, path) from exc


def publish_for_excel(csv_path: str | Path, table: pd.DataFrame, *, sheet: str) -> list[Path]:
    """A table as ``.csv`` (UTF-8 BOM, formula-safe) and ``.xlsx`` beside it: atomic, owner-only, never overwriting."""
    csv_path = Path(csv_path)
    return [
        publish_file(csv_path, lambda staging: write_csv(staging, table, excel=True), mode=0o600),
        publish_file(
            csv_path.with_suffix(".xlsx"), lambda staging: write_xlsx(staging, table, sheet=sheet), mode=0o600
        ),
    ]


def publish_table(path: str | Path, table: pd.DataFrame, *, mode: int = 0o600) -> Path:
    """Write a table (:func:`write_table`) atomically, never over an existing file (:func:`publish_file`)."""
    return publish_file(path, lambda staging: write_table(staging, table), mode=mode)


def write_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a DataFrame as formula-safe CSV (``.csv``, :func:`write_csv`) or Parquet (any other suffix)."""
    path = Path(path)
    try:
        if path.suffix == ".csv":
            write_csv(path, table)
        else:
            table.to_parquet(path, index=False)
    except OSError as exc:
        raise with_path(exc, path) from exc
