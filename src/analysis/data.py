"""Shipped datasets, the data contract, and validated readers for user files.

This is the only module that reads files (with :mod:`analysis.summaries`, which
can also scan Parquet files in place). Everything it returns uses the
package's own column names, so downstream code never sees the user's naming.

The data contract (see ``data/README.md`` for the full text)
------------------------------------------------------------
``transactions`` (required)
    ``customer_id`` (id), ``date`` (date or timestamp), ``amount`` (number;
    negative amounts are returns); optional ``order_id``, ``quantity``,
    ``margin`` (gross margin), ``region``, ``channel``.
``customers`` (optional)
    ``customer_id``; optional ``acquisition_date``, ``churned`` (yes/no),
    ``churn_date``; any other column is kept as an attribute.
``invoices``, ``complaints``, ``contacts`` (optional event tables)
    See :data:`CONTRACT`.

Files may be CSV (any extension but ``.parquet``/``.pq``, optionally
compressed as ``.gz``/``.bz2``) or Parquet. A ``columns`` mapping
``{contract name: your column name}`` spares users from renaming their files.

Policies (documented, tested)
-----------------------------
- Surrounding whitespace in ids and text is stripped; ids are always text, so
  leading zeros survive.
- A UTF-8 byte-order mark is skipped. Other encodings (e.g. ``gb18030``,
  ``latin-1``) are read with ``encoding=``; undecodable bytes are an error
  that names the line and suggests an encoding.
- Timestamps are either all naive or all carry a UTC offset. With one offset
  in the file they are kept as local wall time; with several, pass
  ``timezone=`` to convert them all to one zone (otherwise: an error).
- ``returns``: ``"keep"`` (default; negative amounts are returns and the
  summaries net them against value), ``"drop"``, or ``"error"``.
- ``duplicates`` (rows identical in every column): ``"keep"`` (default;
  identical rows can be genuine repeat items, and CDNOW has 255 of them),
  ``"drop"``, or ``"error"``. The data profile reports their count.
- ``as_of``: when given, rows dated after it are an error (the data cannot
  hold the future of the analysis date).
- The input file or DataFrame is never modified.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from analysis.checks import check_date
from analysis.errors import DataError, ParameterError, check_option, first_examples

__all__ = [
    "CONTRACT",
    "DATASETS",
    "MAX_MONEY",
    "ColumnSpec",
    "Dataset",
    "dataset_path",
    "load_dataset",
    "profile_transactions",
    "read_customers",
    "read_events",
    "read_table",
    "read_transactions",
    "rows_up_to",
    "sha256_file",
]

log = logging.getLogger("analysis")

Kind = Literal["id", "datetime", "number", "bool", "text"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the data contract."""

    name: str
    kind: Kind
    required: bool = False
    nullable: bool = False
    description: str = ""


_ID = ColumnSpec("customer_id", "id", required=True, description="customer identifier")

#: Money (``amount``, ``margin``) must be below this in absolute value: every engine sums it as
#: DECIMAL(18, 4), which holds less than 1e14. Larger values are refused when a file is read.
MAX_MONEY = 1e14
#: Columns holding money, checked against :data:`MAX_MONEY`.
MONEY_COLUMNS = frozenset({"amount", "margin"})

#: The data contract: for each table, its columns in output order.
CONTRACT: dict[str, tuple[ColumnSpec, ...]] = {
    "transactions": (
        _ID,
        ColumnSpec("date", "datetime", True, description="date or timestamp of the purchase"),
        ColumnSpec("amount", "number", True, description="value; negative = return"),
        ColumnSpec("order_id", "text", description="order identifier"),
        ColumnSpec("quantity", "number", description="units bought"),
        ColumnSpec("margin", "number", description="gross margin of the line"),
        ColumnSpec("region", "text", description="sales region"),
        ColumnSpec("channel", "text", description="sales channel"),
    ),
    "customers": (
        _ID,
        ColumnSpec("acquisition_date", "datetime", nullable=True, description="first contract"),
        ColumnSpec("churned", "bool", description="customer has left (yes/no)"),
        ColumnSpec("churn_date", "datetime", nullable=True, description="date the customer left"),
        ColumnSpec("region", "text", description="sales region"),
    ),
    "invoices": (
        _ID,
        ColumnSpec("invoice_date", "datetime", True, description="date issued"),
        ColumnSpec("due_date", "datetime", True, description="payment due"),
        ColumnSpec("paid_date", "datetime", nullable=True, description="paid on; empty = unpaid"),
        ColumnSpec("amount", "number", True, description="invoiced amount"),
    ),
    "complaints": (
        _ID,
        ColumnSpec("date", "datetime", True, description="date of the complaint"),
        ColumnSpec("resolved", "bool", description="complaint resolved (yes/no)"),
    ),
    "contacts": (
        _ID,
        ColumnSpec("date", "datetime", True, description="date of the call or visit"),
        ColumnSpec("channel", "text", description="call, visit, email, ..."),
    ),
}

#: Tables whose ``date``-like column is checked against ``as_of``.
_EVENT_DATE = {
    "transactions": "date",
    "invoices": "invoice_date",
    "complaints": "date",
    "contacts": "date",
    "customers": "acquisition_date",
}

_PARQUET_SUFFIXES = {".parquet", ".pq"}
# A UTC offset after a clock time: "...T10:00Z", "... 10:00:00+01:00".
_TZ_SUFFIX = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")
_NA_SPELLINGS = {"nan", "na", "n/a", "null", "none", "nat", "#n/a"}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


# --------------------------------------------------------------------------- shipped data


@dataclass(frozen=True)
class Dataset:
    """A dataset shipped with the package (``src/analysis/datasets``, ``data/raw`` in a checkout)."""

    name: str
    file: str
    sha256: str
    rows: int
    description: str


DATASETS: dict[str, Dataset] = {
    "cdnow": Dataset(
        "cdnow",
        "cdnow_master.txt",
        "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
        69_659,
        "CDNOW purchases of the 1997-Q1 cohort, 1997-01-01..1998-06-30 (transactions)",
    ),
    "telco": Dataset(
        "telco",
        "telco_customer_churn.csv",
        "a0ea74c48c1063be89a73ce3fb868593604c0129f2bf581934f04983d728b3b5",
        7_043,
        "IBM Telco Customer Churn sample (customers with churn flag)",
    ),
}

#: The shipped datasets, inside the package (``data/raw`` in a checkout links here).
_DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "datasets"


def sha256_file(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Path of a shipped dataset, after checking that it is unchanged.

    Parameters
    ----------
    name : {"cdnow", "telco"}
        The dataset.
    data_dir : path, optional
        Folder holding the raw files (default: the shipped ``analysis/datasets``).

    Raises
    ------
    DataError
        If the file is missing or its SHA-256 differs from the recorded one.
    """
    check_option("name", name, DATASETS)
    spec = DATASETS[name]
    path = Path(data_dir or _DEFAULT_DATA_DIR) / spec.file
    if not path.is_file():
        raise DataError("shipped dataset not found", file=str(path))
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise DataError(
            f"checksum mismatch: SHA-256 is {actual}, expected {spec.sha256}",
            file=str(path),
            hint="The shipped file was modified; reinstall the package (in a checkout: git checkout data/raw)",
        )
    return path


def load_dataset(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Load a shipped dataset by name, verified against its checksum.

    Parameters
    ----------
    name : {"cdnow", "telco"}
        ``"cdnow"`` gives a transactions table (``customer_id``, ``date``,
        ``amount``, ``quantity``); ``"telco"`` a customers table
        (``customer_id``, ``churned``, ``tenure_months``, the services and
        account attributes in snake_case, ``total_charges`` with NaN for the
        11 customers of tenure 0 whose value is blank in the file).
    data_dir : path, optional
        Folder holding the raw files.

    Returns
    -------
    pandas.DataFrame
    """
    path = dataset_path(name, data_dir)
    if name == "cdnow":
        # Whitespace-separated with a header line (customer_id date number_of_cds dollar_value).
        raw = pd.read_csv(path, sep=r"\s+", dtype=str, engine="c")
        return _validate(
            raw,
            "transactions",
            file=str(path),
            rows=_csv_lines(raw.index),
            row_label="line",
            columns={"quantity": "number_of_cds", "amount": "dollar_value"},
            date_format="%Y%m%d",
        )
    customers = read_customers(path, columns={"customer_id": "customerID", "churned": "Churn"})
    renamed = customers.rename(columns=_snake_case).rename(columns={"tenure": "tenure_months"})
    blank = renamed["total_charges"].str.strip() == ""
    return renamed.assign(
        senior_citizen=renamed["senior_citizen"].map({"1": True, "0": False}).astype(bool),
        tenure_months=pd.to_numeric(renamed["tenure_months"]).astype("int64"),
        monthly_charges=pd.to_numeric(renamed["monthly_charges"]),
        total_charges=pd.to_numeric(renamed["total_charges"].where(~blank)),
    )


def _snake_case(name: str) -> str:
    if name == "customerID":
        return "customer_id"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


# --------------------------------------------------------------------------- readers


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
) -> pd.DataFrame:
    """Read a table of the data contract from a file or DataFrame and validate it.

    Parameters
    ----------
    source : path or DataFrame
        A CSV or Parquet file, or a DataFrame (which is not modified).
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
    if isinstance(source, pd.DataFrame):
        raw, file, rows, row_label = source, "<DataFrame>", np.asarray(source.index), "index"
    else:
        raw, file, rows, row_label = _read_raw(Path(source), encoding=encoding, delimiter=delimiter)
    return _validate(
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
    )


#: What to do with rows dated after the analysis date.
LATER_ROWS = ("refuse", "drop")


def rows_up_to(
    table: pd.DataFrame,
    as_of: str | pd.Timestamp,
    *,
    later_rows: str = "refuse",
    date_column: str = "date",
    file: str | None = None,
    rows: Any = None,
    row_label: str = "row",
    shown: pd.Series | None = None,
    column: str | None = None,
    after: str = "the analysis date",
) -> pd.DataFrame:
    """The rows of ``table`` dated on or before ``as_of`` (the whole day); later rows refused or dropped.

    Parameters
    ----------
    table : DataFrame
        A validated table with ``date_column``; not modified.
    as_of : date
        The last day the data may hold.
    later_rows : {"refuse", "drop"}
        ``"refuse"``: later rows raise :class:`DataError` with their count
        and first rows. ``"drop"``: they are left out; the result's
        ``attrs["rows_after_as_of"]`` counts them.
    date_column : str
        The date column of ``table``.
    file, rows, row_label, shown, column
        How the message names the source: the file, each row's line (default:
        the index), the raw values to quote and the column in the user's naming.
    after : str
        What ``as_of`` is, in the message (``"the analysis date"``, ``"today"``).

    Returns
    -------
    pandas.DataFrame
        A fresh ``RangeIndex``; ``attrs`` kept, with ``rows_after_as_of``.
    """
    check_option("later_rows", later_rows, LATER_ROWS)
    cutoff = check_date(as_of, "as_of").normalize()
    late = (table[date_column] >= cutoff + pd.Timedelta(days=1)).to_numpy()
    n_late = int(late.sum())
    if n_late and later_rows == "refuse":
        raise DataError(
            f"dates after {after} {cutoff.date()}",
            file=file or table.attrs.get("source", "<DataFrame>"),
            column=column or date_column,
            n_bad=n_late,
            n_rows=len(table),
            examples=first_examples(
                np.asarray(table.index) if rows is None else rows,
                table[date_column].dt.strftime("%Y-%m-%d") if shown is None else shown,
                late,
            ),
            row_label=row_label,
            hint="Leave them out with later_rows='drop' (--drop-later-rows on the command line), or move the date",
        )
    kept = table[~late].reset_index(drop=True) if n_late else table.reset_index(drop=True)
    kept.attrs = dict(table.attrs) | {"rows_after_as_of": n_late}
    if n_late:
        log.info("%s: left out %d rows dated after %s", file or table.attrs.get("source"), n_late, cutoff.date())
    return kept


def _csv_lines(index: pd.Index) -> np.ndarray:
    """File line of each data row of a CSV read with one header line."""
    return np.arange(len(index)) + 2


def _read_raw(path: Path, *, encoding: str, delimiter: str) -> tuple[pd.DataFrame, str, Any, str]:
    """Read a file as all-text columns; return (frame, file label, row labels, row word)."""
    file = str(path)
    if not path.exists():
        raise DataError("file not found", file=file)
    if path.is_dir():
        raise DataError("is a folder, not a file", file=file)
    if path.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", file=file)
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        if not head.startswith(b"PAR1"):
            raise DataError("not a Parquet file (no PAR1 magic bytes)", file=file)
        try:
            frame = pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"unreadable Parquet file ({exc})", file=file) from exc
        if frame.empty:
            raise DataError("no data rows", file=file)
        return frame, file, np.arange(len(frame)) + 1, "row"
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
    return frame, file, _csv_lines(frame.index), "line"


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
    return DataError(
        f"text is not valid {encoding}",
        file=str(path),
        n_bad=None,
        examples=[(line_no, text)] if line_no else (),
        row_label="line",
        hint="Pass the file's encoding, e.g. encoding='gb18030' or encoding='latin-1'",
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


# --------------------------------------------------------------------------- validation


def _validate(
    raw: pd.DataFrame,
    table: str,
    *,
    file: str,
    rows: Any,
    row_label: str,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    timezone: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    later_rows: str = "refuse",
    returns: str = "keep",
    duplicates: str = "keep",
) -> pd.DataFrame:
    specs = CONTRACT[table]
    mapping = {spec.name: spec.name for spec in specs} | dict(columns or {})
    unknown = set(columns or {}) - {spec.name for spec in specs}
    if unknown:
        raise ParameterError("columns", dict(columns or {}), f"keys among {[s.name for s in specs]}")
    rows = np.asarray(rows)
    n_rows = len(raw)
    if n_rows == 0:
        raise DataError("no data rows", file=file)
    missing = [s for s in specs if s.required and mapping[s.name] not in raw.columns]
    if missing:
        raise _missing_columns_error(raw, missing, mapping, file=file, delimiter_hint=True)

    context = dict(file=file, n_rows=n_rows, row_label=row_label)
    out: dict[str, pd.Series] = {}
    for spec in specs:
        name = mapping[spec.name]
        if name not in raw.columns:
            continue
        values = raw[name]
        if values.ndim != 1:
            raise DataError("column name appears more than once", file=file, column=name)
        out[spec.name] = _parse_column(
            values,
            spec,
            column=name,
            rows=rows,
            date_format=date_format,
            timezone=timezone,
            **context,
        )
    result = pd.DataFrame(out)
    if table == "customers":
        used = {mapping[s.name] for s in specs}
        extra = [c for c in raw.columns if c not in used]
        result = pd.concat([result, raw[extra].astype("str").set_axis(result.index)], axis=1)
    result = result.reset_index(drop=True)
    rows = rows.copy()

    dropped_later = 0
    if as_of is not None and _EVENT_DATE[table] in result:
        date_col = _EVENT_DATE[table]
        late = (result[date_col] >= check_date(as_of, "as_of").normalize() + pd.Timedelta(days=1)).to_numpy()
        result = rows_up_to(
            result,
            as_of,
            later_rows=later_rows,
            date_column=date_col,
            file=file,
            rows=rows,
            row_label=row_label,
            shown=raw[mapping[date_col]],
            column=mapping[date_col],
        )
        dropped_later, rows = int(late.sum()), rows[~late]
        raw = raw.iloc[np.flatnonzero(~late)]  # later messages quote the kept rows by position
        if result.empty:
            raise DataError(
                f"no rows dated on or before {pd.Timestamp(as_of).date()} ({dropped_later:,} after it left out)",
                column=mapping[date_col],
                **context,
            )

    if table == "transactions":
        negative = (result["amount"] < 0).to_numpy()
        if negative.any() and returns == "error":
            raise DataError(
                "negative amounts (returns) with returns='error'",
                column=mapping["amount"],
                n_bad=int(negative.sum()),
                examples=first_examples(rows, raw[mapping["amount"]], negative),
                **context,
            )
        if negative.any() and returns == "drop":
            log.info("%s: dropped %d return rows (negative amounts)", file, negative.sum())
            result, rows = result[~negative].reset_index(drop=True), rows[~negative]
        if not (result["amount"] > 0).any():
            raise DataError(
                "no positive amount at all: nothing was bought",
                column=mapping["amount"],
                **context,
            )

    duplicated = result.duplicated(keep="first").to_numpy()
    if duplicated.any():
        if duplicates == "error":
            raise DataError(
                "exact duplicate rows with duplicates='error'",
                n_bad=int(duplicated.sum()),
                examples=[(r, "duplicate of an earlier row") for r in rows[duplicated][:5]],
                **context,
            )
        if duplicates == "drop":
            log.info("%s: dropped %d exact duplicate rows", file, duplicated.sum())
            result = result[~duplicated].reset_index(drop=True)
    result.attrs["source"] = file
    result.attrs["rows_after_as_of"] = dropped_later
    return result


def _missing_columns_error(
    raw: pd.DataFrame,
    missing: list[ColumnSpec],
    mapping: Mapping[str, str],
    *,
    file: str,
    delimiter_hint: bool,
) -> DataError:
    names = ", ".join(repr(mapping[s.name]) + (f" ({s.name})" if mapping[s.name] != s.name else "") for s in missing)
    found = [str(c) for c in raw.columns]
    hint = f"Found columns {found[:12]}; map yours with columns={{contract name: your name}}"
    if delimiter_hint and len(found) == 1:
        for candidate in (";", "\t", "|", ","):
            if candidate in found[0]:
                hint = (
                    f"The header was read as one column {found[0]!r}: the file looks "
                    f"{candidate!r}-delimited; pass delimiter={candidate!r}"
                )
                break
    return DataError(f"missing required column(s) {names}", file=file, hint=hint)




def _blank(values: pd.Series, kind: Kind) -> tuple[pd.Series, np.ndarray]:
    """Strip text and return it with a mask of missing entries.

    Missing: null, empty or blank; for numbers, dates and flags also the usual
    spellings of "not available" (``NaN``, ``NA``, ``N/A``, ``null``...). Ids
    and text are never guessed to be missing from their spelling.
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values, values.isna().to_numpy()
    text = values.astype("str").str.strip()
    missing = values.isna().to_numpy() | (text == "").to_numpy()
    if kind not in ("id", "text"):
        missing |= text.str.lower().isin(_NA_SPELLINGS).to_numpy()
    return text, missing


def _parse_column(
    values: pd.Series,
    spec: ColumnSpec,
    *,
    column: str,
    rows: np.ndarray,
    date_format: str | None,
    timezone: str | None,
    **context: Any,
) -> pd.Series:
    text, missing = _blank(values, spec.kind)
    index = pd.RangeIndex(len(values))

    def fail(problem: str, mask: np.ndarray, hint: str | None = None) -> DataError:
        return DataError(
            problem,
            column=column,
            n_bad=int(mask.sum()),
            examples=first_examples(rows, values, mask),
            hint=hint,
            **context,
        )

    if missing.any() and not spec.nullable and spec.kind != "text":
        what = "customer ids" if spec.kind == "id" else "values"
        raise fail(f"missing {what}", missing)

    if spec.kind in ("id", "text"):
        return pd.Series(text.to_numpy(), index=index, dtype="str").where(~missing, None)

    if spec.kind == "number":
        if pd.api.types.is_bool_dtype(values):
            raise fail("true/false values where numbers are expected", np.ones(len(values), bool))
        numbers = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
        not_numeric = np.isnan(numbers) & ~missing
        if not_numeric.any():
            raise fail("non-numeric values", not_numeric, "Use plain numbers with '.' decimals")
        infinite = np.isinf(numbers)
        if infinite.any():
            raise fail("infinite values", infinite)
        if spec.name in MONEY_COLUMNS:
            too_large = np.abs(numbers) >= MAX_MONEY
            if too_large.any():
                raise fail(
                    "amounts too large (money must stay below 1e14 in absolute value, the limit of every engine)",
                    too_large,
                    "Check the unit and the decimal separator of the column",
                )
        return pd.Series(numbers, index=index)

    if spec.kind == "bool":
        if pd.api.types.is_bool_dtype(values):
            return pd.Series(values.to_numpy(), index=index)
        lowered = text.str.lower()
        flags = lowered.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
        unknown = flags.isna().to_numpy() & ~missing
        if unknown.any():
            raise fail("values that are not yes/no, true/false or 1/0", unknown)
        return pd.Series(flags.fillna(False).to_numpy(dtype=bool), index=index)

    return pd.Series(
        _parse_dates(values, text, missing, fail=fail, date_format=date_format, timezone=timezone),
        index=index,
    )


def _parse_dates(
    values: pd.Series,
    text: pd.Series,
    missing: np.ndarray,
    *,
    fail: Callable[..., DataError],
    date_format: str | None,
    timezone: str | None,
) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.Series(values.to_numpy() if values.dt.tz is None else values)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert(timezone or stamps.dt.tz).dt.tz_localize(None)
        return stamps.to_numpy(dtype="datetime64[ns]")
    text = text.where(~missing, None)
    offsets = text.str.extract(_TZ_SUFFIX, expand=False)
    aware = offsets.notna().to_numpy() & (date_format is None)
    if aware.any():
        naive = ~aware & ~missing
        if naive.any():
            smaller = naive if naive.sum() <= aware.sum() else aware
            raise fail(
                "timestamps mixing a UTC offset with none",
                smaller,
                "Give every timestamp the same form",
            )
        offsets = offsets[aware]
        distinct = offsets.unique()
        if len(distinct) > 1 and timezone is None:
            first = offsets != offsets.iloc[0]
            mask = np.zeros(len(text), bool)
            mask[np.flatnonzero(aware)[first.to_numpy()]] = True
            raise fail(
                f"mixed time zones ({', '.join(map(str, distinct[:4]))})",
                mask,
                "Pass timezone='Europe/Berlin' (say) to convert all timestamps to one zone",
            )
        stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        zone = timezone or _fixed_offset(distinct[0])
        parsed = stamps.dt.tz_convert(zone).dt.tz_localize(None)
    else:
        fmt = date_format or "ISO8601"
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if timezone is not None:
            parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
            parsed = parsed.dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    bad = parsed.isna().to_numpy() & ~missing
    if bad.any():
        expected = f"format {date_format!r}" if date_format else "ISO 8601 (YYYY-MM-DD)"
        raise fail(
            "unparseable dates",
            bad,
            f"Expected {expected}; pass date_format='%d.%m.%Y' (say) for other forms",
        )
    return parsed.to_numpy()


def _fixed_offset(suffix: str) -> dt_timezone:
    if suffix == "Z":
        return UTC
    sign = -1 if suffix[0] == "-" else 1
    digits = suffix[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt_timezone(sign * timedelta(hours=hours, minutes=minutes))


# --------------------------------------------------------------------------- profile


def profile_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """Describe a validated transactions table in one row per measure.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount`` (as returned by
        :func:`read_transactions`); ``margin`` is used when present.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure`` and ``value``: rows, customers, first and last
        date, purchase occasions (customer-days with a purchase), repeat
        customers' share, total and median amount, return rows, zero-amount
        rows, exact duplicate rows, total margin (if present), and the rows
        left out for being dated after the analysis date
        (``attrs["rows_after_as_of"]``, when there were any).
    """
    t = transactions
    purchases = t[t["amount"] >= 0]
    occasions = purchases.groupby(["customer_id", purchases["date"].dt.normalize()]).ngroups
    per_customer = purchases.groupby("customer_id")["date"].agg(lambda d: d.dt.normalize().nunique())
    measures: list[tuple[str, Any]] = [
        ("rows", len(t)),
        ("customers", t["customer_id"].nunique()),
        ("first date", t["date"].min().date().isoformat()),
        ("last date", t["date"].max().date().isoformat()),
        ("purchase occasions", occasions),
        ("share of customers who bought again", round(float((per_customer > 1).mean()), 4)),
        ("total amount", round(float(t["amount"].sum()), 2)),
        ("median amount", round(float(t["amount"].median()), 2)),
        ("return rows (negative amount)", int((t["amount"] < 0).sum())),
        ("zero-amount rows", int((t["amount"] == 0).sum())),
        ("exact duplicate rows", int(t.duplicated().sum())),
    ]
    if "margin" in t:
        measures.append(("total margin", round(float(t["margin"].sum()), 2)))
    if t.attrs.get("rows_after_as_of"):
        measures.append(("rows dated after the analysis date, left out", int(t.attrs["rows_after_as_of"])))
    return pd.DataFrame(measures, columns=["measure", "value"]).astype({"value": "str"})
