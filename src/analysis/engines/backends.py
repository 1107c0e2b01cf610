"""Every other Ibis backend (Spark, warehouses by URL): tables, uploads and the same checks in the engine's own SQL."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from analysis.data.contract import MAX_MONEY
from analysis.engines.embedded import checked_frame
from analysis.engines.prepared import (
    MONEY_TYPE,
    REQUIRED_COLUMNS,
    TOO_LARGE,
    Prepared,
    Source,
    arrow_table,
    drop_table,
    upload_table,
)
from analysis.errors import DataError

__all__ = ["backend_source"]


@contextlib.contextmanager
def backend_source(backend: BaseBackend, source: Source) -> Iterator[Prepared]:
    """Make ``source`` a table on ``backend``, check it in one pass, and type it."""
    temporary: list[str] = []
    try:
        if isinstance(source, pd.DataFrame):
            frame, has_margin = checked_frame(source)
            raw = upload_table(backend, arrow_table(frame), temporary)
            label = "<DataFrame>"
        else:
            raw, label = _backend_table(backend, source, temporary)
            missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
            if missing:
                raise DataError(
                    f"missing required column(s) {missing}",
                    file=label,
                    hint=f"Found {list(raw.columns)[:12]}; name the columns as in the data contract",
                )
            has_margin = "margin" in raw.columns
            date_type = raw.date.type()
            if date_type.is_timestamp() and date_type.timezone is not None:
                raise DataError(
                    "time-zone-aware timestamps cannot be summarised in place (their calendar day depends on the zone)",
                    file=label,
                    column="date",
                    hint="Give the engine a view with local dates or timestamps, or read the data with"
                    " analysis.data.read_transactions(..., timezone=...) and pass the DataFrame",
                )
            _validate_table(backend, raw, label, has_margin)
        table = _typed_table(raw, has_margin)
        has_order = "order_id" in table.columns

        def validate() -> None:
            _validate_table(backend, raw, label, has_margin)

        yield Prepared(table, backend, label, has_margin, validate, temporary=temporary, has_order=has_order)
    finally:
        for name in temporary:
            drop_table(backend, name)


def _backend_table(backend: BaseBackend, source: str | Path, temporary: list[str]) -> tuple[ir.Table, str]:
    """A file the backend reads (Parquet by suffix or folder, else CSV) or a table of its catalog."""
    text = str(source)
    local = Path(text)
    looks_like_file = "://" in text or local.suffix.lower() in {".parquet", ".pq", ".csv"} or local.is_dir()
    try:
        if not looks_like_file:
            return backend.table(text), text
        if "://" not in text and not local.exists() and "*" not in text:
            raise DataError("file not found", file=text)
        name = f"analysis_{uuid.uuid4().hex}"
        temporary.append(name)
        if local.suffix.lower() == ".csv":
            # Every column as text, as the embedded path reads CSV: no engine guesses
            # types (ids such as 007 stay text, ambiguous dates are refused, not guessed).
            text_only = {"pyspark": {"inferSchema": False}, "duckdb": {"all_varchar": True}}
            return backend.read_csv(text, table_name=name, **text_only.get(backend.name, {})), text
        return backend.read_parquet(text, table_name=name), text
    except DataError:
        raise
    except Exception as exc:  # backends raise their own types for a missing or unreadable source
        hint = None
        if backend.name == "pyspark" and "NANOS" in str(exc):
            hint = "Spark reads microsecond timestamps: write the Parquet with coerce_timestamps='us'"
        raise DataError(f"unreadable file or table ({type(exc).__name__}: {exc})", file=text, hint=hint) from exc


def _text(column: ir.Column) -> ir.StringValue:
    return column.cast("string")


def _validate_table(backend: BaseBackend, raw: ir.Table, label: str, has_margin: bool) -> None:
    """The checks of the embedded path, as one Ibis aggregate (then one query for examples)."""
    ids = _text(raw.customer_id)
    date = raw.date if raw.date.type().is_temporal() else raw.date.try_cast("timestamp")
    checks = [
        (
            "customer_id",
            "missing, blank or untrimmed customer ids",
            raw.customer_id.isnull() | (ids.strip() != ids) | (ids.strip() == ""),
        ),
        ("date", "unparseable or missing dates", date.isnull()),
    ]
    for column in ("amount", "margin") if has_margin else ("amount",):
        number = raw[column].try_cast("float64")
        bad = ~(number.abs() < MAX_MONEY).fill_null(False)  # NaN compares greater than every number
        if column == "amount":
            checks.append((column, f"non-numeric, missing, infinite or too large amounts ({TOO_LARGE})", bad))
        else:
            checks.append(
                (column, f"non-numeric, infinite or too large margins ({TOO_LARGE})", raw[column].notnull() & bad)
            )
    # DuckDB folds comparisons with the Parquet min/max statistics, which leave NaN out.
    duckdb_statistics = backend.name == "duckdb"
    if duckdb_statistics:
        backend.raw_sql("SET disabled_optimizers = 'statistics_propagation'")
    try:
        counts = _count_checks(backend, raw, checks, label)
        if not counts["n_rows"]:
            raise DataError("no data rows", file=label)
        for i, (column, problem, cond) in enumerate(checks):
            if counts[f"check_{i}"]:
                values = backend.to_pyarrow(raw.filter(cond).select(column).limit(5)).column(0).to_pylist()
                raise DataError(
                    problem,
                    file=label,
                    column=column,
                    n_bad=int(counts[f"check_{i}"]),
                    n_rows=int(counts["n_rows"]),
                    examples=[("?", v) for v in values],
                    hint="Row numbers: read the file with analysis.data.read_transactions",
                )
    finally:
        if duckdb_statistics:
            backend.raw_sql("RESET disabled_optimizers")


def _count_checks(backend: BaseBackend, raw: ir.Table, checks: list, label: str) -> dict[str, int]:
    """Rows and bad rows per check, in one query.

    An engine without a forgiving cast (PostgreSQL has no TRY_CAST) stops at
    the first value it cannot read; then each check runs alone to name the
    column, and the engine's own message is quoted.
    """
    try:
        return backend.to_pyarrow(
            raw.aggregate(n_rows=raw.count(), **{f"check_{i}": cond.sum() for i, (_, _, cond) in enumerate(checks)})
        ).to_pylist()[0]
    except Exception as exc:  # each driver has its own error types
        for column, problem, cond in checks:
            try:
                backend.to_pyarrow(raw.aggregate(bad=cond.sum()))
            except Exception as inner:
                reason = str(inner).strip().splitlines()[0]
                raise DataError(
                    f"{problem}: {backend.name} stopped at a value it cannot read ({reason})",
                    file=label,
                    column=column,
                    hint="Clean the column in a view, or read the data with analysis.data.read_transactions",
                ) from inner
        raise DataError(f"values that {backend.name} cannot check ({exc})", file=label) from exc


def _typed_table(raw: ir.Table, has_margin: bool) -> ir.Table:
    """``customer_id``, ``day``, ``amount`` (and ``margin``) with the summaries' types."""
    date = raw.date if raw.date.type().is_temporal() else raw.date.cast("timestamp")
    columns = {
        "customer_id": _text(raw.customer_id).strip() if not raw.customer_id.type().is_string() else raw.customer_id,
        "day": date.cast("date") if not date.type().is_date() else date,
        "amount": _money(raw.amount),
    }
    if has_margin:
        columns["margin"] = _money(raw.margin)
    if "order_id" in raw.columns:
        order = _text(raw.order_id).strip()
        columns["order_id"] = ibis.cases((order == "", ibis.null("string")), else_=order)
    return raw.select(**columns)


def _money(column: ir.Column) -> ir.DecimalColumn:
    if column.type().is_string():
        column = column.cast("float64")
    return column.cast(MONEY_TYPE)
