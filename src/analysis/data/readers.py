"""Reading a user's file (CSV, compressed CSV, Parquet) or DataFrame into a validated table of the contract."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from analysis.data.contract import CONTRACT, EXCEL_SUFFIXES, LATER_ROWS, PARQUET_SUFFIXES
from analysis.data.parsing import NumberFormat
from analysis.data.spreadsheets import read_spreadsheet
from analysis.data.validate import validate_table
from analysis.errors import DataError, ParameterError, check_option

__all__ = ["csv_lines", "read_customers", "read_events", "read_table", "read_transactions"]


def read_transactions(source: str | Path | pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Read and validate a transactions table; see :func:`read_table`."""
    return read_table(source, "transactions", **options)


def read_customers(source: str | Path | pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Read and validate a customers table; see :func:`read_table`."""
    return read_table(source, "customers", **options)


def read_events(source: str | Path | pd.DataFrame, kind: str, **options: Any) -> pd.DataFrame:
    """Read and validate an event table (``invoices``, ``complaints``, ``contacts``)."""
    check_option("kind", kind, ["invoices", "complaints", "contacts"])
    return read_table(source, kind, **options)


def read_table(
    source: str | Path | pd.DataFrame,
    table: str = "transactions",
    *,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
    timezone: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    later_rows: str = "refuse",
    returns: str = "keep",
    duplicates: str = "keep",
    decimal: str = ".",
    thousands: str = "",
    currency_symbol: str | Sequence[str] = (),
    missing_ids: str = "refuse",
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a table of the data contract from a file or DataFrame and validate it.

    Parameters
    ----------
    source : path or DataFrame
        A CSV file (also ``.gz``, ``.bz2``, ``.zst``), a Parquet file or
        folder, a spreadsheet (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``), or a
        DataFrame (which is not modified).
    table : {"transactions", "customers", "invoices", "complaints", "contacts"}
        Which table of :data:`CONTRACT` the source holds.
    columns : mapping, optional
        ``{contract name: your column name}`` for columns not named as in the
        contract.
    date_format : str, optional
        ``strptime`` format of the date columns (default: ISO 8601).
    encoding : str
        Text encoding of a CSV file (a UTF-8 byte-order mark is always skipped).
    delimiter : str
        Field delimiter of a CSV file.
    timezone : str, optional
        Convert offset-carrying timestamps to this zone (then drop the zone).
        Needed when a file mixes UTC offsets.
    as_of : date, optional
        Analysis date: the data cannot hold its future (:func:`rows_up_to`).
    later_rows : {"refuse", "drop"}
        Rows dated after ``as_of``: an error naming their count and first
        lines (default), or left out, counted in ``attrs["rows_after_as_of"]``
        and logged.
    returns : {"keep", "drop", "error"}
        What to do with negative amounts (transactions only).
    duplicates : {"keep", "drop", "error"}
        What to do with rows identical in every column.
    decimal, thousands : str
        The file's decimal separator (``"."`` or ``","``) and thousands
        separator (``""``: none; ``","``, ``"."``, ``" "``, ``"'"``). A value
        using the thousands separator must be grouped by threes.
    currency_symbol : str or sequence of str
        Currency symbols or codes written beside the amounts (``"¥"``,
        ``"元"``), stripped from the money columns. Without them such values
        are refused, never guessed.
    missing_ids : {"refuse", "drop"}
        Rows without a customer id (guest purchases): an error naming them
        (default), or left out, counted in ``attrs["rows_without_customer_id"]``.
    sheet : str or int, optional
        The sheet of a spreadsheet (default: the first).

    Returns
    -------
    pandas.DataFrame
        The contract's columns that are present, in contract order, with the
        contract's names and types (ids and text as strings, dates as
        ``datetime64``, numbers as ``float64``, flags as ``bool``), followed by
        any other columns as text (customers only). A fresh ``RangeIndex``.

    Raises
    ------
    DataError
        On any problem with the data; the message names the file, column,
        number of bad rows and the first offending rows.
    ParameterError
        On an unknown table or option.
    """
    check_option("table", table, CONTRACT)
    check_option("later_rows", later_rows, LATER_ROWS)
    check_option("returns", returns, ["keep", "drop", "error"])
    check_option("duplicates", duplicates, ["keep", "drop", "error"])
    numbers = NumberFormat(decimal=decimal, thousands=thousands, currency=currency_symbol)
    if isinstance(source, pd.DataFrame):
        raw, file, rows, row_label = source, "<DataFrame>", np.asarray(source.index), "index"
    else:
        raw, file, rows, row_label = _read_raw(
            Path(source), encoding=encoding, delimiter=delimiter, sheet=sheet, date_format=date_format
        )
    return validate_table(
        raw,
        table,
        file=file,
        rows=rows,
        row_label=row_label,
        columns=columns,
        date_format=date_format,
        timezone=timezone,
        as_of=as_of,
        later_rows=later_rows,
        returns=returns,
        duplicates=duplicates,
        numbers=numbers,
        missing_ids=missing_ids,
    )


def csv_lines(index: pd.Index) -> np.ndarray:
    """File line of each data row of a CSV read with one header line."""
    return np.arange(len(index)) + 2


def _read_raw(
    path: Path, *, encoding: str, delimiter: str, sheet: str | int | None = None, date_format: str | None = None
) -> tuple[pd.DataFrame, str, Any, str]:
    """Read a file as all-text columns; return (frame, file label, row labels, row word)."""
    file = str(path)
    if not path.exists():
        raise DataError("file not found", file=file)
    if path.is_dir():
        if not any(path.rglob("*.parquet")):
            raise DataError("is a folder without Parquet files", file=file)
        return _read_parquet(path, "Parquet folder")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_spreadsheet(path, sheet=sheet, date_format=date_format)
    if sheet is not None:
        raise ParameterError("sheet", sheet, "no sheet: only a spreadsheet (.xlsx, .xlsm, .xls, .ods) has sheets")
    if path.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", file=file)
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        if not head.startswith(b"PAR1"):
            raise DataError("not a Parquet file (no PAR1 magic bytes)", file=file)
        return _read_parquet(path, "Parquet file")
    compressed = path.suffix.lower() in {".gz", ".bz2", ".zst", ".lz4"}
    if not compressed:
        if head.startswith(b"PAR1"):
            raise DataError("is a Parquet file, not CSV", file=file, hint="Give it a .parquet extension")
        if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DataError("binary content, not a CSV text file", file=file)
    try:
        return _read_csv_text(path, encoding=encoding, delimiter=delimiter)
    except (EOFError, zlib.error, gzip.BadGzipFile, pa.ArrowInvalid) as exc:
        if not compressed:
            raise
        raise DataError(f"not a readable {path.suffix} compressed file ({exc})", file=file) from exc
    except OSError as exc:  # bz2's "Invalid data stream", lz4/zstd frame errors (not a file-system problem)
        if not compressed or exc.errno is not None:
            raise
        raise DataError(f"not a readable {path.suffix} compressed file ({exc})", file=file) from exc


def _read_parquet(path: Path, what: str) -> tuple[pd.DataFrame, str, Any, str]:
    """A Parquet file or folder (hive partitions) as a frame, rows numbered from 1."""
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"unreadable {what} ({exc})", file=str(path)) from exc
    if frame.empty:
        raise DataError("no data rows", file=str(path))
    return frame, str(path), np.arange(len(frame)) + 1, "row"


def _read_csv_text(path: Path, *, encoding: str, delimiter: str) -> tuple[pd.DataFrame, str, Any, str]:
    file = str(path)
    header = _read_header(path, encoding=encoding, delimiter=delimiter)
    if not header or all(not name.strip() for name in header):
        raise DataError("no header line", file=file)
    bad_rows: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row.text)
        return "skip"

    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding=encoding, skip_rows=1, column_names=header, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "decode" in str(exc).lower():
            raise _encoding_error(path, encoding) from exc
        raise DataError(f"unreadable CSV ({exc})", file=file) from exc
    if bad_rows:
        raise _ragged_error(path, encoding=encoding, delimiter=delimiter, width=len(header))
    if table.num_rows == 0:
        raise DataError("header only, no data rows", file=file)
    frame = table.to_pandas()
    return frame, file, csv_lines(frame.index), "line"


def _read_header(path: Path, *, encoding: str, delimiter: str) -> list[str]:
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        with _open_text(path, codec) as handle:
            first = handle.readline()
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, encoding) from exc
    except LookupError as exc:
        raise ParameterError("encoding", encoding, "a text encoding Python knows") from exc
    return next(csv.reader([first], delimiter=delimiter), [])


def _open_text(path: Path, codec: str) -> io.TextIOBase:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding=codec, newline="")
    if suffix == ".bz2":
        import bz2

        return bz2.open(path, "rt", encoding=codec, newline="")
    return open(path, encoding=codec, newline="")


def _encoding_error(path: Path, encoding: str) -> DataError:
    line_no, text = None, None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                line_no, text = number, line[:60]
                break
    hint = "Pass the file's encoding, e.g. encoding='gb18030' (Chinese) or encoding='cp1252' (Western Windows)"
    if text is not None and encoding.lower().replace("_", "-") in {"utf-8", "utf8"}:
        try:
            decoded = text.decode("gb18030")
        except UnicodeDecodeError:
            decoded = ""
        if any("\u4e00" <= c <= "\u9fff" for c in decoded):
            hint = f"The line reads as Chinese in GB18030 ({decoded[:20]!r}): pass encoding='gb18030' (GBK exports)"
    return DataError(
        f"text is not valid {encoding}",
        file=str(path),
        n_bad=None,
        examples=[(line_no, text)] if line_no else (),
        row_label="line",
        hint=hint,
    )


def _ragged_error(path: Path, *, encoding: str, delimiter: str, width: int) -> DataError:
    codec = "utf-8-sig" if encoding.lower() in {"utf-8", "utf8"} else encoding
    bad = []
    with _open_text(path, codec) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for fields in reader:
            if reader.line_num > 1 and len(fields) != width and fields:
                bad.append((reader.line_num, delimiter.join(fields)[:80]))
    return DataError(
        f"rows with a number of fields other than the header's {width}",
        file=str(path),
        n_bad=len(bad),
        examples=bad,
        row_label="line",
        hint="Check the delimiter and quoting of those lines",
    )
