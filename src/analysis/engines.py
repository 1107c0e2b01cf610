"""Where the customer summaries run: embedded DuckDB, Spark, or any Ibis backend.

The summaries of :mod:`analysis.summaries` are Ibis expressions over one
typed table, ``customer_id`` (string), ``day`` (date), ``amount`` (DECIMAL(18,
4)) and, when the data has it, ``margin``. This module opens an engine, turns
the user's source into that table on it, checks the source, and fetches
results as pandas DataFrames. Everything after the summaries (one row per
customer) stays in pandas.

Engines
-------
``"duckdb"`` (default)
    A private in-memory DuckDB database per call, spilling to a temporary
    folder beyond ``memory_limit``. Sources: a DataFrame, or Parquet / CSV
    files scanned in place (files larger than memory work).
``"spark"``
    The active Spark session (``SparkSession.builder.getOrCreate()``: the
    cluster's when run under ``spark-submit`` or on a cluster notebook,
    otherwise a local session on every core). Sources: a DataFrame (shipped
    to Spark through Arrow), a Parquet / CSV path Spark can read (``s3://``,
    ``hdfs://``...), or the name of a table in the session's catalog.
an Ibis connection URL
    Anything :func:`ibis.connect` accepts (``"duckdb:///warehouse.db"``,
    ``"trino://user@host/catalog/schema"``, ``"bigquery://project/dataset"``,
    ``"snowflake://..."``). Sources: a table name in that database, a
    DataFrame (uploaded as a temporary table) or a file the backend reads.
    ``${ENV_VAR}`` anywhere in the URL is replaced by that environment
    variable, so that recorded parameters never hold a password.
an Ibis backend object
    A connection you opened yourself (``ibis.pyspark.connect(session)``),
    used as it is.

Checks
------
The embedded DuckDB path checks optimistically (see :func:`_duckdb_source`).
Every other engine checks the source in one aggregate pass before the
summary, with the same messages: missing, blank or untrimmed ids, missing or
unparseable dates, missing, non-numeric, infinite or too large amounts.
DataFrames are always checked in pandas first, so their messages name index
labels, and their money is made decimal by Arrow, so that every engine sums
the same decimals. CSV files are read as text everywhere. "Untrimmed"
means the same everywhere: spaces, tabs or line breaks around an id
(:data:`WHITESPACE`); other characters, such as a no-break space, are part of
the id.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from analysis.data import MAX_MONEY
from analysis.errors import DataError, ParameterError, first_examples

_log = logging.getLogger(__name__)

__all__ = ["ENGINES", "Source", "check_engine", "engine_label", "open_source", "spark_session"]

#: Engines named by a word; anything else must be an Ibis URL or backend.
ENGINES = ("duckdb", "spark")

Source = pd.DataFrame | str | Path
Engine = str | BaseBackend

MONEY = "DECIMAL(18, 4)"
_TOO_LARGE = "DECIMAL(18, 4) holds less than 1e14 in absolute value"
_MONEY_TYPE = "decimal(18, 4)"
_REQUIRED = ("customer_id", "date", "amount")
#: What "untrimmed" means on every engine (Ibis' ``strip()``): ASCII spaces, tabs and line breaks.
WHITESPACE = " \t\n\r\v\f"
_SQL_WHITESPACE = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)


def check_engine(engine: Any, *, recorded: bool = False) -> Engine:
    """Return ``engine`` if it names an engine, else raise :class:`ParameterError`.

    With ``recorded=True`` (a study's or a run's parameter, written to
    notebooks and manifests) a URL must not hold a literal password: write
    ``${ENV_VAR}`` in its place, which is filled in from the environment when
    the engine is opened.

    Examples
    --------
    >>> check_engine("duckdb"), check_engine("trino://analyst@warehouse/hive/sales")
    ('duckdb', 'trino://analyst@warehouse/hive/sales')
    >>> check_engine("trino://analyst:${TRINO_PASSWORD}@warehouse/hive/sales", recorded=True)
    'trino://analyst:${TRINO_PASSWORD}@warehouse/hive/sales'
    >>> check_engine("postgres")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'engine' = 'postgres': expected 'duckdb', 'spark', an Ibis...
    """
    if isinstance(engine, BaseBackend) or engine in ENGINES:
        return engine
    if not (isinstance(engine, str) and "://" in engine and engine.split("://", 1)[0]):
        raise ParameterError(
            "engine",
            engine,
            "'duckdb', 'spark', an Ibis connection URL such as 'trino://user@host/catalog/schema', or an Ibis backend",
        )
    if recorded and any(not _PLACEHOLDER.fullmatch(secret) for secret in _secrets(engine)):
        raise ParameterError(
            "engine",
            engine_label(engine),
            "a URL without a literal password (runs record their parameters): write ${ENV_VAR} in its place,"
            " e.g. trino://analyst:${TRINO_PASSWORD}@host/hive/sales",
        )
    return engine


_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_SECRET_QUERY = re.compile(r"(?i)((?:password|passwd|pwd|secret|token|private_key)=)([^&]*)")


def _secrets(url: str) -> list[str]:
    """The password of a URL's user info and the values of secret-looking query parameters."""
    rest = url.split("://", 1)[1]
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    found = [m.group(2) for m in _SECRET_QUERY.finditer(rest)]
    if "@" in authority:
        user = authority.rsplit("@", 1)[0]
        if ":" in user:
            found.append(user.split(":", 1)[1])
    return found


def _expand(url: str) -> str:
    """``url`` with each ``${ENV_VAR}`` replaced by that environment variable."""

    def value(match: re.Match[str]) -> str:
        name = match.group(0)[2:-1]
        if name not in os.environ:
            raise ParameterError("engine", engine_label(url), f"the environment variable {name} set (the URL uses it)")
        return os.environ[name]

    return _PLACEHOLDER.sub(value, url)


def engine_label(engine: Engine) -> str:
    """A short name of an engine for reports: a URL without its passwords.

    Examples
    --------
    >>> engine_label("trino://analyst:s3cret@warehouse:8080/hive?password=x&catalog=hive")
    'trino://analyst@warehouse:8080/hive?password=***&catalog=hive'
    """
    if isinstance(engine, BaseBackend):
        return f"ibis:{engine.name}"
    if "://" not in engine:
        return engine
    scheme, rest = engine.split("://", 1)
    rest = _SECRET_QUERY.sub(r"\1***", rest)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        user, host = authority.rsplit("@", 1)
        authority = f"{user.split(':', 1)[0]}@{host}"
    return f"{scheme}://{authority}{slash}{path}"


_SPARK_SETTINGS = (
    "spark.sql.session.timeZone",
    "spark.sql.mapKeyDedupPolicy",
    "spark.sql.execution.arrow.pyspark.enabled",
)


def spark_session(master: str | None = None):
    """The active Spark session, or a new one (``local[*]`` unless a master is configured).

    The session computes in UTC (calendar days must not depend on the
    machine) and moves pandas data through Arrow.
    """
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        builder = SparkSession.builder.appName("analysis")
        if master or not (os.environ.get("MASTER") or os.environ.get("SPARK_MASTER")):
            builder = builder.master(master or "local[*]")
        session = (
            builder.config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    return session


@dataclass
class Prepared:
    """A source made ready on an engine.

    Attributes
    ----------
    table : ibis.Table
        ``customer_id`` (string), ``day`` (date), ``amount`` (decimal(18, 4))
        and ``margin`` when ``has_margin``.
    backend : ibis backend
        Where ``table`` lives.
    label : str
        The file, table or ``"<DataFrame>"``, for messages.
    has_margin : bool
        Whether the data has a margin column.
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
    memory_limit: str | None = None
    temporary: list[str] = field(default_factory=list)

    def upload(self, data: pa.Table) -> ir.Table:
        """A small Arrow table (such as a calendar) as a table beside ``table``, dropped on exit."""
        return _upload(self.backend, data, self.temporary)

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


@contextlib.contextmanager
def open_source(source: Source, engine: Engine = "duckdb", memory_limit: str | None = None) -> Iterator[Prepared]:
    """Open ``engine`` and make ``source`` its typed transactions table.

    Parameters
    ----------
    source : DataFrame, path, or table name
        See the module docstring for what each engine accepts.
    engine : str or ibis backend
        ``"duckdb"``, ``"spark"``, an Ibis connection URL or an Ibis backend.
    memory_limit : str, optional
        DuckDB memory limit such as ``"2GB"`` (embedded DuckDB only).

    Yields
    ------
    Prepared
        The table and how to fetch results; temporary tables and the embedded
        database are dropped on exit.
    """
    engine = check_engine(engine)
    if memory_limit is not None and engine != "duckdb":
        raise ParameterError("memory_limit", memory_limit, "None unless engine='duckdb' (set memory on the engine)")
    if engine == "duckdb":
        with _embedded_duckdb(memory_limit) as con:
            prepared = _duckdb_source(con, source)
            prepared.memory_limit = memory_limit
            yield prepared
        return
    if engine == "spark":
        try:
            session = spark_session()
        except ImportError as exc:
            raise ParameterError(
                "engine", engine, "an installed Spark: pip install 'analysis[spark]' (and Java 17+)"
            ) from exc
        # Ibis sets the session to UTC (calendar days must not depend on the machine);
        # the caller's own settings come back afterwards.
        saved = {key: session.conf.get(key, None) for key in _SPARK_SETTINGS}
        try:
            backend = ibis.pyspark.connect(session)
            session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
            with _backend_source(backend, source) as prepared:
                yield prepared
        finally:
            for key, value in saved.items():
                session.conf.unset(key) if value is None else session.conf.set(key, value)
        return
    if isinstance(engine, str):
        try:
            backend = ibis.connect(_expand(engine))
        except ParameterError:
            raise
        except Exception as exc:  # any driver error means the same to the user
            reason = str(exc).replace(_expand(engine), engine_label(engine))
            raise ParameterError("engine", engine_label(engine), f"a reachable Ibis backend ({reason})") from exc
        try:
            with _backend_source(backend, source) as prepared:
                yield prepared
        finally:
            with contextlib.suppress(Exception):  # a connection we opened; nothing of ours is left in it
                backend.disconnect()
        return
    with _backend_source(engine, source) as prepared:  # the caller's backend stays open
        yield prepared


# --------------------------------------------------------------------------- embedded DuckDB


@contextlib.contextmanager
def _embedded_duckdb(memory_limit: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    with tempfile.TemporaryDirectory(prefix="analysis-duckdb-") as spill:
        con = duckdb.connect(config={"temp_directory": spill})
        try:
            con.execute("SET TimeZone = 'UTC'")  # timestamp -> date must not depend on the machine
            if memory_limit:
                try:
                    con.execute(f"SET memory_limit = '{_quote(memory_limit)}'")
                except duckdb.Error as exc:
                    raise ParameterError("memory_limit", memory_limit, "a size such as '2GB' or '500MB'") from exc
            yield con
        finally:
            con.close()


def _duckdb_source(con: duckdb.DuckDBPyConnection, source: Source) -> Prepared:
    """Register ``source`` as the view ``src`` and wrap the connection for Ibis.

    Validation is optimistic for typed Parquet data: nulls are counted from
    the file footers (every value is checked when a footer has no
    statistics), the query runs with strict casts, so a NaN or infinite amount
    stops it, and the result is checked for blank or untrimmed ids; only then
    does the detailed (slower) validation run, to name the column, count and
    example values. DataFrames are checked in pandas before the query.
    """
    if isinstance(source, pd.DataFrame):
        frame, has_margin = _checked_frame(source)
        con.register("raw", _arrow_table(frame))
        con.execute(_typed_view("raw", has_margin))
        label, optimistic = "<DataFrame>", False

        def validate() -> None:
            _check_frame(frame, label)

    else:
        label, has_margin, validate, optimistic = _register_file(con, Path(source))
    backend = ibis.duckdb.from_connection(con)
    return Prepared(backend.table("src"), backend, label, has_margin, validate, optimistic)


def _checked_frame(source: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The columns the summaries need, checked; local wall time kept for zoned dates."""
    label = "<DataFrame>"
    missing = [c for c in _REQUIRED if c not in source.columns]
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
    frame = source[list(_REQUIRED) + (["margin"] if has_margin else [])]
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
            problems.append((column, f"missing, infinite or too large {column}s ({_TOO_LARGE})", ~(values < MAX_MONEY)))
    for column, problem, mask in problems:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            raise DataError(
                problem,
                file=label,
                column=column,
                n_bad=int(mask.sum()),
                n_rows=len(frame),
                examples=first_examples(frame.index, frame[column], mask),
                row_label="index",
                hint="Read the data with analysis.data.read_transactions, which validates it",
            )


def _typed_view(relation: str, has_margin: bool) -> str:
    margin = f", CAST(margin AS {MONEY}) AS margin" if has_margin else ""
    return f"""CREATE VIEW src AS SELECT CAST(customer_id AS VARCHAR) AS customer_id,
        CAST(date AS DATE) AS day, CAST(amount AS {MONEY}) AS amount{margin} FROM {relation}"""


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
        scan = f"read_parquet('{_quote(target)}', hive_partitioning = true)"
    else:
        scan = f"read_csv('{_quote(target)}', all_varchar = true, header = true)"
    try:
        types = dict((row[0], row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall())
    except duckdb.Error as exc:
        raise DataError(f"unreadable file ({exc})", file=file) from exc
    missing = [c for c in _REQUIRED if c not in types]
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
        columns = list(_REQUIRED) + (["margin"] if has_margin else [])
        nulls, unknown = con.execute(
            f"""SELECT coalesce(sum(stats_null_count), 0), count(*) FILTER (WHERE stats_null_count IS NULL)
                FROM parquet_metadata('{_quote(target)}')
                WHERE path_in_schema IN ({", ".join(repr(c) for c in columns)})"""
        ).fetchone()
        if nulls or unknown:
            validate()
        con.execute(_typed_view("raw", has_margin))
        return file, has_margin, validate, True
    validate()  # text columns (CSV): check every value once, then cast
    margin = f", CAST(CAST(margin AS DOUBLE) AS {MONEY}) AS margin" if has_margin else ""
    con.execute(
        f"""CREATE VIEW src AS SELECT trim(CAST(customer_id AS VARCHAR), {_SQL_WHITESPACE}) AS customer_id,
            CAST(CAST(date AS TIMESTAMP) AS DATE) AS day,
            CAST(CAST(amount AS DOUBLE) AS {MONEY}) AS amount{margin} FROM raw"""
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
            f"customer_id IS NULL OR trim(CAST(customer_id AS VARCHAR), {_SQL_WHITESPACE}) = '' "
            f"OR CAST(customer_id AS VARCHAR) <> trim(CAST(customer_id AS VARCHAR), {_SQL_WHITESPACE})",
        ),
        ("date", "unparseable or missing dates", "TRY_CAST(date AS TIMESTAMP) IS NULL"),
        # One cast per column (see above): NaN and infinity compare greater than 1e14, NULL is caught by coalesce.
        (
            "amount",
            f"non-numeric, missing, infinite or too large amounts ({_TOO_LARGE})",
            f"coalesce(NOT (abs(TRY_CAST(amount AS DOUBLE)) < {MAX_MONEY}), true)",
        ),
    ]
    if has_margin:
        checks.append(
            (
                "margin",
                f"non-numeric, infinite or too large margins ({_TOO_LARGE})",
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


def _quote(text: str) -> str:
    return text.replace("'", "''")


# --------------------------------------------------------------------------- other Ibis backends


@contextlib.contextmanager
def _backend_source(backend: BaseBackend, source: Source) -> Iterator[Prepared]:
    """Make ``source`` a table on ``backend``, check it in one pass, and type it."""
    temporary: list[str] = []
    try:
        if isinstance(source, pd.DataFrame):
            frame, has_margin = _checked_frame(source)
            raw = _upload(backend, _arrow_table(frame), temporary)
            label = "<DataFrame>"
        else:
            raw, label = _backend_table(backend, source, temporary)
            missing = [c for c in _REQUIRED if c not in raw.columns]
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

        def validate() -> None:
            _validate_table(backend, raw, label, has_margin)

        yield Prepared(table, backend, label, has_margin, validate, temporary=temporary)
    finally:
        for name in temporary:
            _drop(backend, name)


def _drop(backend: BaseBackend, name: str) -> None:
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


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
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
    return pa.table(columns)


def _upload(backend: BaseBackend, data: pa.Table, temporary: list[str]) -> ir.Table:
    """An Arrow table as a table on ``backend``; names to drop afterwards go to ``temporary``."""
    if backend.name == "pyspark":
        name = f"analysis_{uuid.uuid4().hex}"
        # Spark 4 reads an Arrow table directly (Ibis' memtable goes through pandas objects).
        backend._session.createDataFrame(data).createOrReplaceTempView(name)
        temporary.append(name)
        return backend.table(name)
    return ibis.memtable(data)  # uploaded by the backend when a query uses it


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
            checks.append((column, f"non-numeric, missing, infinite or too large amounts ({_TOO_LARGE})", bad))
        else:
            checks.append(
                (column, f"non-numeric, infinite or too large margins ({_TOO_LARGE})", raw[column].notnull() & bad)
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
    return raw.select(**columns)


def _money(column: ir.Column) -> ir.DecimalColumn:
    if column.type().is_string():
        column = column.cast("float64")
    return column.cast(_MONEY_TYPE)
