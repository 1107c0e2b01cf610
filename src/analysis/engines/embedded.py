"""The embedded DuckDB engine: DataFrames through Arrow, Parquet and CSV files scanned in place, checked in one pass."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd

from analysis.checks import check_rows
from analysis.data.contract import MAX_MONEY
from analysis.engines.prepared import (
    MONEY,
    REQUIRED_COLUMNS,
    SQL_WHITESPACE,
    TOO_LARGE,
    WHITESPACE,
    Prepared,
    Source,
    arrow_table,
    sql_text,
)
from analysis.errors import DataError, ParameterError

__all__ = ["checked_frame", "duckdb_source", "embedded_duckdb"]


@contextlib.contextmanager
def embedded_duckdb(memory_limit: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-process DuckDB database that spills to a temporary folder, closed on exit."""
    with tempfile.TemporaryDirectory(prefix="analysis-duckdb-") as spill:
        con = duckdb.connect(config={"temp_directory": spill})
        try:
            con.execute("SET TimeZone = 'UTC'")  # timestamp -> date must not depend on the machine
            if memory_limit:
                try:
                    con.execute(f"SET memory_limit = '{sql_text(memory_limit)}'")
                except duckdb.Error as exc:
                    raise ParameterError("memory_limit", memory_limit, "a size such as '2GB' or '500MB'") from exc
            yield con
        finally:
            con.close()


def duckdb_source(con: duckdb.DuckDBPyConnection, source: Source) -> Prepared:
    """Register ``source`` as the view ``src`` and wrap the connection for Ibis.

    Validation is optimistic for typed Parquet data: nulls are counted from
    the file footers (every value is checked when a footer has no
    statistics), the query runs with strict casts, so a NaN or infinite amount
    stops it, and the result is checked for blank or untrimmed ids; only then
    does the detailed (slower) validation run, to name the column, count and
    example values. DataFrames are checked in pandas before the query.
    """
    if isinstance(source, pd.DataFrame):
        frame, has_margin = checked_frame(source)
        con.register("raw", arrow_table(frame))
        has_order = "order_id" in frame
        con.execute(_typed_view("raw", has_margin, has_order))
        label, optimistic = "<DataFrame>", False

        def validate() -> None:
            _check_frame(frame, label)

    else:
        label, has_margin, validate, optimistic = _register_file(con, Path(source))
        has_order = "order_id" in con.table("src").columns
    backend = ibis.duckdb.from_connection(con)
    return Prepared(backend.table("src"), backend, label, has_margin, validate, optimistic, has_order=has_order)


def checked_frame(source: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The columns the summaries need, checked; local wall time kept for zoned dates."""
    label = "<DataFrame>"
    missing = [c for c in REQUIRED_COLUMNS if c not in source.columns]
    if missing:
        raise DataError(
            f"missing required column(s) {missing}",
            file=label,
            hint="Read the data with analysis.data.read_transactions first",
        )
    if not pd.api.types.is_datetime64_any_dtype(source["date"]):
        raise DataError("column is not a date", file=label, column="date")
    if not pd.api.types.is_numeric_dtype(source["amount"]):
        raise DataError("column is not numeric", file=label, column="amount")
    has_margin = "margin" in source.columns
    optional = [c for c in ("margin", "order_id") if c in source.columns]
    frame = source[list(REQUIRED_COLUMNS) + optional]
    _check_frame(frame, label)
    if frame["date"].dt.tz is not None:
        # Keep the local wall time, as read_transactions does (never UTC days).
        frame = frame.assign(date=frame["date"].dt.tz_localize(None))
    return frame, has_margin


def _check_frame(frame: pd.DataFrame, label: str) -> None:
    """Refuse a DataFrame with rows the SQL would otherwise drop or fail on (names the index labels)."""
    ids = frame["customer_id"]
    text = ids.astype("str")
    problems = [
        (
            "customer_id",
            "missing, blank or untrimmed customer ids",
            ids.isna() | (text.str.strip(WHITESPACE) != text) | (text.str.strip(WHITESPACE) == ""),
        ),
        ("date", "missing dates", frame["date"].isna()),
    ]
    for column in ("amount", "margin"):
        if column in frame:
            values = np.abs(frame[column].to_numpy(dtype=float))
            problems.append((column, f"missing, infinite or too large {column}s ({TOO_LARGE})", ~(values < MAX_MONEY)))
    for column, problem, mask in problems:
        check_rows(
            frame,
            column,
            mask,
            problem,
            table=label,
            hint="Read the data with analysis.data.read_transactions, which validates it",
        )


#: An order id as text, blank as missing (returns are matched to their order by it).
_ORDER = f", nullif(trim(CAST(order_id AS VARCHAR), {SQL_WHITESPACE}), '') AS order_id"


def _typed_view(relation: str, has_margin: bool, has_order: bool) -> str:
    margin = f", CAST(margin AS {MONEY}) AS margin" if has_margin else ""
    order = _ORDER if has_order else ""
    return f"""CREATE VIEW src AS SELECT CAST(customer_id AS VARCHAR) AS customer_id,
        CAST(date AS DATE) AS day, CAST(amount AS {MONEY}) AS amount{margin}{order} FROM {relation}"""


_DATE_TYPES = ("DATE", "TIMESTAMP")


_NUMBER_TYPES = (
    "DOUBLE",
    "FLOAT",
    "DECIMAL",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
)


def _register_file(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, bool, Callable[[], None], bool]:
    """View ``src`` over a Parquet/CSV file (or a folder or glob of Parquet files)."""
    file = str(path)
    is_parquet = path.suffix.lower() in {".parquet", ".pq"} or path.is_dir()
    if not path.exists() and "*" not in file:
        raise DataError("file not found", file=file)
    target = str(path / "**" / "*.parquet") if path.is_dir() else file
    if is_parquet:
        scan = f"read_parquet('{sql_text(target)}', hive_partitioning = true)"
    else:
        scan = f"read_csv('{sql_text(target)}', all_varchar = true, header = true)"
    try:
        types = dict((row[0], row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall())
    except duckdb.Error as exc:
        raise DataError(f"unreadable file ({exc})", file=file) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in types]
    if missing:
        raise DataError(
            f"missing required column(s) {missing}",
            file=file,
            hint=f"Found {list(types)[:12]}; name the columns as in the data contract",
        )
    has_margin = "margin" in types
    con.execute(f"CREATE VIEW raw AS SELECT * FROM {scan}")

    def validate() -> None:
        _validate_file(con, file, has_margin)

    typed = (
        types["customer_id"] == "VARCHAR"
        and types["date"].startswith(_DATE_TYPES)
        and all(types[c].startswith(_NUMBER_TYPES) for c in ("amount", "margin") if c in types)
    )
    if types["date"].startswith("TIMESTAMP WITH TIME ZONE"):
        raise DataError(
            "time-zone-aware timestamps cannot be scanned in place (their calendar day depends on the zone)",
            file=file,
            column="date",
            hint="Read the file with analysis.data.read_transactions(..., timezone=...) and pass the DataFrame",
        )
    if is_parquet and typed:
        # Null counts from the Parquet footers, without a scan; a row group
        # without statistics counts as unknown, and then every value is checked.
        columns = list(REQUIRED_COLUMNS) + (["margin"] if has_margin else [])
        nulls, unknown = con.execute(
            f"""SELECT coalesce(sum(stats_null_count), 0), count(*) FILTER (WHERE stats_null_count IS NULL)
                FROM parquet_metadata('{sql_text(target)}')
                WHERE path_in_schema IN ({", ".join(repr(c) for c in columns)})"""
        ).fetchone()
        if nulls or unknown:
            validate()
        con.execute(_typed_view("raw", has_margin, "order_id" in types))
        return file, has_margin, validate, True
    validate()  # text columns (CSV): check every value once, then cast
    margin = f", CAST(CAST(margin AS DOUBLE) AS {MONEY}) AS margin" if has_margin else ""
    order = _ORDER if "order_id" in types else ""
    con.execute(
        f"""CREATE VIEW src AS SELECT trim(CAST(customer_id AS VARCHAR), {SQL_WHITESPACE}) AS customer_id,
            CAST(CAST(date AS TIMESTAMP) AS DATE) AS day,
            CAST(CAST(amount AS DOUBLE) AS {MONEY}) AS amount{margin}{order} FROM raw"""
    )
    return file, has_margin, validate, False


def _validate_file(con: duckdb.DuckDBPyConnection, file: str, has_margin: bool) -> None:
    """Check every value of the view ``raw`` in SQL; raise a DataError on the first bad column."""
    # Each condition names a cast once: DuckDB 2.0 turns a TRY_CAST used twice over
    # an all-varchar CSV scan into a hard cast inside the reader.
    checks = [
        (
            "customer_id",
            "missing, blank or untrimmed customer ids",
            f"customer_id IS NULL OR trim(CAST(customer_id AS VARCHAR), {SQL_WHITESPACE}) = '' "
            f"OR CAST(customer_id AS VARCHAR) <> trim(CAST(customer_id AS VARCHAR), {SQL_WHITESPACE})",
        ),
        ("date", "unparseable or missing dates", "TRY_CAST(date AS TIMESTAMP) IS NULL"),
        # One cast per column (see above): NaN and infinity compare greater than 1e14, NULL is caught by coalesce.
        (
            "amount",
            f"non-numeric, missing, infinite or too large amounts ({TOO_LARGE})",
            f"coalesce(NOT (abs(TRY_CAST(amount AS DOUBLE)) < {MAX_MONEY}), true)",
        ),
    ]
    if has_margin:
        checks.append(
            (
                "margin",
                f"non-numeric, infinite or too large margins ({TOO_LARGE})",
                f"margin IS NOT NULL AND coalesce(NOT (abs(TRY_CAST(margin AS DOUBLE)) < {MAX_MONEY}), true)",
            )
        )
    counts = con.execute(
        "SELECT count(*), " + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond in checks) + " FROM raw"
    ).fetchone()
    if counts[0] == 0:
        raise DataError("no data rows", file=file)
    for (column, problem, cond), n_bad in zip(checks, counts[1:], strict=True):
        if n_bad:
            values = con.execute(f"SELECT {column} FROM raw WHERE {cond} LIMIT 5").fetchall()
            raise DataError(
                problem,
                file=file,
                column=column,
                n_bad=n_bad,
                n_rows=counts[0],
                examples=[("?", v[0]) for v in values],
                hint="Row numbers: read the file with analysis.data.read_transactions",
            )
