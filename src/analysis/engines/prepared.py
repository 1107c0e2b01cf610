"""A transactions source made ready on an engine: its typed table, fetching results, the shared money type."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from analysis.errors import DataError, ParameterError

__all__ = [
    "MONEY_TYPE",
    "REQUIRED_COLUMNS",
    "SQL_WHITESPACE",
    "TOO_LARGE",
    "Prepared",
    "Source",
    "arrow_table",
    "drop_table",
    "sql_text",
    "upload_table",
]

_log = logging.getLogger(__name__)


Source = pd.DataFrame | str | Path


Engine = str | BaseBackend


MONEY = "DECIMAL(18, 4)"


TOO_LARGE = "DECIMAL(18, 4) holds less than 1e14 in absolute value"


MONEY_TYPE = "decimal(18, 4)"


REQUIRED_COLUMNS = ("customer_id", "date", "amount")


#: What "untrimmed" means on every engine (Ibis' ``strip()``): ASCII spaces, tabs and line breaks.
WHITESPACE = " \t\n\r\v\f"


SQL_WHITESPACE = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)


@dataclass
class Prepared:
    """A source made ready on an engine.

    Attributes
    ----------
    table : ibis.Table
        ``customer_id`` (string), ``day`` (date), ``amount`` (decimal(18, 4)),
        ``margin`` when ``has_margin`` and ``order_id`` (string) when ``has_order``.
    backend : ibis backend
        Where ``table`` lives.
    label : str
        The file, table or ``"<DataFrame>"``, for messages.
    has_margin : bool
        Whether the data has a margin column.
    has_order : bool
        Whether the data has an order id column (returns are matched to their order by it).
    validate : callable
        Checks every value and raises :class:`DataError` on the first bad column.
    optimistic : bool
        True when ``validate`` has not run yet (embedded DuckDB on typed data):
        results are checked after the query and ``validate`` runs on doubt.
    memory_limit : str, optional
        The embedded DuckDB's memory limit, named when a query runs out of it.
    """

    table: ir.Table
    backend: BaseBackend
    label: str
    has_margin: bool
    validate: Callable[[], None]
    optimistic: bool = False
    has_order: bool = False
    memory_limit: str | None = None
    temporary: list[str] = field(default_factory=list)

    def upload(self, data: pa.Table) -> ir.Table:
        """A small Arrow table (such as a calendar) as a table beside ``table``, dropped on exit."""
        return upload_table(self.backend, data, self.temporary)

    def fetch(self, expr: ir.Table) -> pd.DataFrame:
        """Run ``expr`` and return it as a DataFrame (dates as ``datetime64``)."""
        try:
            table = self.backend.to_pyarrow(expr)
        except duckdb.ConversionException as exc:
            # Strict casts stopped the query: find and name the bad values.
            self.validate()
            raise DataError(f"values that cannot be read ({exc})", file=self.label) from exc
        except duckdb.OutOfMemoryException as exc:
            reason = str(exc).splitlines()[0]
            raise ParameterError(
                "memory_limit",
                self.memory_limit or "DuckDB's default (80% of RAM)",
                f"a larger limit: the summary of {self.label} ran out of memory even spilling to disk ({reason})",
            ) from exc
        frame = table.to_pandas(date_as_object=False)
        if self.optimistic and "customer_id" in frame and len(frame):
            ids = frame["customer_id"]
            if ((ids == "") | (ids != ids.str.strip(WHITESPACE))).any():
                self.validate()
        return frame


def sql_text(text: str) -> str:
    """``text`` with single quotes doubled, for a SQL string literal."""
    return text.replace("'", "''")


def drop_table(backend: BaseBackend, name: str) -> None:
    """Drop a temporary view or table of ours; say so (without raising) if it stays."""
    try:
        if backend.name == "pyspark":
            backend._session.catalog.dropTempView(name)
            return
        try:
            backend.drop_view(name, force=True)
        except Exception:  # some backends register files as tables
            backend.drop_table(name, force=True)
    except Exception as exc:  # cleanup must not hide the summary's own outcome
        _log.warning("could not drop the temporary %s on %s: %s", name, backend.name, exc)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A checked DataFrame as Arrow: days as dates, money as DECIMAL(18, 4).

    Every engine gets the same decimals: Arrow rounds each double correctly
    (to the nearest 0.0001 of its exact binary value), where engines' own
    casts differ in the fourth decimal for amounts with more places.
    """
    money = pa.decimal128(18, 4)
    ids = frame["customer_id"]
    if not isinstance(ids.dtype, pd.StringDtype):
        ids = ids.astype("str")
    columns = {
        "customer_id": pa.array(ids, type=pa.string()),  # no copy for pandas' Arrow-backed text
        # Whole days in any unit: datetime64[ns] would overflow for dates after 2262.
        "date": pa.array(frame["date"].to_numpy().astype("datetime64[D]"), pa.date32()),
        "amount": pa.array(frame["amount"].to_numpy(dtype=float)).cast(money),
    }
    if "margin" in frame:
        columns["margin"] = pa.array(frame["margin"].to_numpy(dtype=float)).cast(money)
    if "order_id" in frame:
        columns["order_id"] = pa.array(frame["order_id"].astype("str"), pa.string(), from_pandas=True)
    return pa.table(columns)


def upload_table(backend: BaseBackend, data: pa.Table, temporary: list[str]) -> ir.Table:
    """An Arrow table as a table on ``backend``; names to drop afterwards go to ``temporary``."""
    if backend.name == "pyspark":
        name = f"analysis_{uuid.uuid4().hex}"
        # Spark 4 reads an Arrow table directly (Ibis' memtable goes through pandas objects).
        backend._session.createDataFrame(data).createOrReplaceTempView(name)
        temporary.append(name)
        return backend.table(name)
    return ibis.memtable(data)  # uploaded by the backend when a query uses it
