"""Reading a spreadsheet (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) as text columns, with python-calamine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError

__all__ = ["read_spreadsheet"]


def read_spreadsheet(
    path: Path, *, sheet: str | int | None = None, date_format: str | None = None
) -> tuple[pd.DataFrame, str, np.ndarray, str]:
    """A sheet as all-text columns: (frame, file label, sheet row of each data row, ``"row"``).

    The first row is the header. Cells keep what the sheet shows: whole
    numbers without ``.0`` (an id ``1001`` stays ``1001``), date cells written
    in ``date_format`` (so text dates and date cells of one column read the
    same way; ISO 8601 without one), empty cells empty.

    Raises
    ------
    DataError
        Naming the file (and sheet) when it cannot be read, has no such
        sheet, no header or no data rows.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    file = str(path)
    try:
        workbook = CalamineWorkbook.from_path(file)
    except (CalamineError, OSError, ValueError) as exc:
        raise DataError(f"unreadable spreadsheet ({exc})", file=file) from exc
    names = list(workbook.sheet_names)
    if not names:
        raise DataError("spreadsheet without sheets", file=file)
    if sheet is None:
        chosen = names[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(names):
            raise ParameterError("sheet", sheet, f"a sheet number from 0 to {len(names) - 1} (sheets: {names})")
        chosen = names[sheet]
    elif sheet in names:
        chosen = sheet
    else:
        raise ParameterError("sheet", sheet, f"one of the file's sheets {names}")
    label = f"{file} [sheet {chosen}]"
    cells = workbook.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    while cells and all(_blank(v) for v in cells[-1]):
        cells.pop()
    if not cells or all(_blank(v) for v in cells[0]):
        raise DataError("no header row", file=label)
    header = [_text(v, date_format).strip() for v in cells[0]]
    while header and not header[-1]:
        header.pop()
    body = [row[: len(header)] + [""] * (len(header) - len(row)) for row in cells[1:]]
    if not body:
        raise DataError("header only, no data rows", file=label)
    frame = pd.DataFrame(
        {name: [_text(row[i], date_format) for row in body] for i, name in enumerate(header)},
        dtype="str",
    )
    if len(set(header)) != len(header):
        repeated = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"column names appear more than once: {repeated}", file=label)
    return frame, label, np.arange(len(frame)) + 2, "row"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, date_format: str | None) -> str:
    """A cell as the text a person sees: ``1001`` not ``1001.0``, dates in ``date_format`` (or ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if date_format:
            return value.strftime(date_format)
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.strftime(date_format) if date_format else value.isoformat()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return str(value)
