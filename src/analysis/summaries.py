"""Customer summaries: the base tables of every study, computed on DuckDB.

This is the only module that aggregates raw transactions. It runs SQL on an
embedded DuckDB database, either over an in-memory DataFrame (as returned by
:func:`analysis.data.read_transactions`) or directly over Parquet / CSV files,
which DuckDB streams, so files larger than memory work.

Conventions (BTYD, after Fader, Hardie & Lee 2005)
--------------------------------------------------
- Time is counted in whole days; ``time_unit="weeks"`` divides by 7.
- A **purchase occasion** is a customer-day with at least one row of
  non-negative amount (several purchases on one day are one occasion).
- ``frequency`` = occasions - 1 (repeat occasions); ``recency`` = time from
  first to last occasion; ``T`` = time from the first occasion to ``as_of``.
- ``monetary_value`` = mean spend of the *repeat* occasions (the first is
  left out); NaN for customers without a repeat occasion.
- **Returns** (negative amounts) never make an occasion and never enter
  ``monetary_value`` (spend per occasion is gross); they are netted in the
  value totals (``total_value``, ``trailing_value``, ``value_holdout``,
  per-period ``value``) on the day they occur.
- Amounts are summed as DECIMAL(18, 4): exact, so sums do not depend on the
  order DuckDB's threads add them (the results are deterministic).
- Everything for ``as_of`` uses only rows dated on or before ``as_of``;
  holdout figures use only rows after the calibration end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis.data import _as_timestamp
from analysis.errors import DataError, ParameterError, check_option

__all__ = ["calibration_holdout", "customer_summary", "period_table"]

Source = pd.DataFrame | str | Path

_UNITS = {"days": 1.0, "weeks": 7.0}
_FREQS = ["week", "month", "quarter", "year"]
_MONEY = "DECIMAL(18, 4)"


@contextmanager
def _connect(source: Source, memory_limit: str | None) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
    """Open a private DuckDB connection with a view ``src`` over the transactions.

    Yields the connection and whether the source has a ``margin`` column.
    """
    with tempfile.TemporaryDirectory(prefix="analysis-duckdb-") as spill:
        con = duckdb.connect(config={"temp_directory": spill})
        try:
            if memory_limit:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            yield con, _register(con, source)
        finally:
            con.close()


def _register(con: duckdb.DuckDBPyConnection, source: Source) -> bool:
    if isinstance(source, pd.DataFrame):
        missing = [c for c in ("customer_id", "date", "amount") if c not in source.columns]
        if missing:
            raise DataError(
                f"missing required column(s) {missing}",
                file="<DataFrame>",
                hint="Read the data with analysis.data.read_transactions first",
            )
        if not pd.api.types.is_datetime64_any_dtype(source["date"]):
            raise DataError("column is not a date", file="<DataFrame>", column="date")
        if not pd.api.types.is_numeric_dtype(source["amount"]):
            raise DataError("column is not numeric", file="<DataFrame>", column="amount")
        has_margin = "margin" in source.columns
        columns = ["customer_id", "date", "amount"] + (["margin"] if has_margin else [])
        con.register("raw", source[columns])
        margin = "CAST(margin AS DOUBLE)" if has_margin else "NULL::DOUBLE"
        con.execute(
            f"""CREATE VIEW src AS SELECT CAST(customer_id AS VARCHAR) AS customer_id,
                CAST(date AS DATE) AS day, CAST(amount AS {_MONEY}) AS amount,
                CAST({margin} AS {_MONEY}) AS margin FROM raw"""
        )
        return has_margin
    return _register_file(con, Path(source))


def _register_file(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """View over a Parquet/CSV file (or folder/glob of Parquet files), checked in SQL."""
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
        names = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    except duckdb.Error as exc:
        raise DataError(f"unreadable file ({exc})", file=file) from exc
    missing = [c for c in ("customer_id", "date", "amount") if c not in names]
    if missing:
        raise DataError(
            f"missing required column(s) {missing}",
            file=file,
            hint=f"Found {names[:12]}; name the columns as in the data contract",
        )
    has_margin = "margin" in names
    margin = "TRY_CAST(margin AS DOUBLE)" if has_margin else "NULL::DOUBLE"
    con.execute(
        f"""CREATE VIEW typed AS SELECT customer_id AS raw_id, date AS raw_date,
            amount AS raw_amount, trim(CAST(customer_id AS VARCHAR)) AS customer_id,
            TRY_CAST(date AS TIMESTAMP) AS ts, TRY_CAST(amount AS DOUBLE) AS value,
            {margin} AS margin FROM {scan}"""
    )
    checks = {
        "customer_id": (
            "missing customer ids",
            "customer_id IS NULL OR customer_id = ''",
            "raw_id",
        ),
        "date": ("unparseable or missing dates", "ts IS NULL", "raw_date"),
        "amount": (
            "non-numeric, missing or infinite amounts",
            "value IS NULL OR NOT isfinite(value)",
            "raw_amount",
        ),
    }
    counts = con.execute(
        "SELECT count(*), "
        + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond, _ in checks.values())
        + " FROM typed"
    ).fetchone()
    if counts[0] == 0:
        raise DataError("no data rows", file=file)
    for (column, (problem, cond, raw)), n_bad in zip(checks.items(), counts[1:], strict=True):
        if n_bad:
            values = con.execute(f"SELECT {raw} FROM typed WHERE {cond} LIMIT 5").fetchall()
            raise DataError(
                problem,
                file=file,
                column=column,
                n_bad=n_bad,
                n_rows=counts[0],
                examples=[("?", v[0]) for v in values],
                hint="Row numbers: read the file with analysis.data.read_transactions",
            )
    con.execute(
        f"""CREATE VIEW src AS SELECT customer_id, CAST(ts AS DATE) AS day,
            CAST(value AS {_MONEY}) AS amount, CAST(margin AS {_MONEY}) AS margin FROM typed"""
    )
    return has_margin


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _unit(time_unit: str) -> float:
    return _UNITS[check_option("time_unit", time_unit, _UNITS)]


def _positive_int(name: str, value: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ParameterError(name, value, "a positive whole number of days")
    return int(value)


_SUMMARY_SQL = """
WITH upto AS (
    SELECT * FROM src WHERE day <= $as_of
),
occasions AS (
    SELECT customer_id, day, SUM(amount) FILTER (WHERE amount >= 0) AS spend
    FROM upto GROUP BY customer_id, day
    HAVING count(*) FILTER (WHERE amount >= 0) > 0
),
buyers AS (
    SELECT customer_id,
           MIN(day) AS first_purchase,
           MAX(day) AS last_purchase,
           count(*) AS occasions,
           SUM(spend) - arg_min(spend, day) AS repeat_spend,
           count(*) FILTER (WHERE day > $window_start) AS trailing_occasions
    FROM occasions GROUP BY customer_id
),
money AS (
    SELECT customer_id,
           SUM(amount) AS total_value,
           COALESCE(SUM(amount) FILTER (WHERE day > $window_start), 0) AS trailing_value,
           SUM(margin) AS total_margin,
           COALESCE(SUM(margin) FILTER (WHERE day > $window_start), 0) AS trailing_margin
    FROM upto GROUP BY customer_id
)
SELECT b.customer_id,
       b.first_purchase,
       b.last_purchase,
       b.occasions,
       b.occasions - 1 AS frequency,
       date_diff('day', b.first_purchase, b.last_purchase) / $unit AS recency,
       date_diff('day', b.first_purchase, $as_of) / $unit AS "T",
       CASE WHEN b.occasions > 1
            THEN CAST(b.repeat_spend AS DOUBLE) / (b.occasions - 1) END AS monetary_value,
       CAST(m.total_value AS DOUBLE) AS total_value,
       b.trailing_occasions,
       CAST(m.trailing_value AS DOUBLE) AS trailing_value,
       CAST(m.total_margin AS DOUBLE) AS total_margin,
       CAST(m.trailing_margin AS DOUBLE) AS trailing_margin
FROM buyers b JOIN money m USING (customer_id)
ORDER BY b.customer_id
"""


def customer_summary(
    transactions: Source,
    as_of: str | pd.Timestamp,
    *,
    time_unit: str = "days",
    trailing_days: int = 365,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """One row per customer who bought on or before ``as_of``.

    Parameters
    ----------
    transactions : DataFrame or path
        A validated transactions table (``customer_id``, ``date``, ``amount``,
        optional ``margin``), or a Parquet file / folder of Parquet files / CSV
        file with those column names, scanned in place by DuckDB.
    as_of : date
        Analysis date (inclusive). Later rows are ignored.
    time_unit : {"days", "weeks"}
        Unit of ``recency`` and ``T``.
    trailing_days : int
        Length of the trailing window ``(as_of - trailing_days, as_of]`` for the
        ``trailing_*`` columns (365: the last 12 months).
    memory_limit : str, optional
        DuckDB memory limit such as ``"2GB"``; beyond it DuckDB spills to disk.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``, with columns ``customer_id``,
        ``first_purchase``, ``last_purchase`` (dates), ``occasions``,
        ``frequency`` (repeat occasions), ``recency``, ``T``,
        ``monetary_value`` (mean repeat-occasion spend, NaN without repeats),
        ``total_value`` (net of returns, all history to ``as_of``),
        ``trailing_occasions``, ``trailing_value``; plus ``total_margin`` and
        ``trailing_margin`` when the data has a margin.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                   "date": pd.to_datetime(["2024-01-01", "2024-01-01",
    ...                                           "2024-01-11", "2024-01-05"]),
    ...                   "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> customer_summary(t, "2024-01-31")[["customer_id", "frequency", "recency", "T",
    ...                                    "monetary_value", "total_value"]]
      customer_id  frequency  recency     T  monetary_value  total_value
    0           a          1     10.0  30.0            20.0         35.0
    1           b          0      0.0  26.0             NaN          7.0
    """
    unit = _unit(time_unit)
    stamp = _as_timestamp(as_of, "as_of").normalize()
    days = _positive_int("trailing_days", trailing_days)
    with _connect(transactions, memory_limit) as (con, has_margin):
        frame = con.execute(
            _SUMMARY_SQL,
            {
                "as_of": stamp.date(),
                "window_start": (stamp - pd.Timedelta(days=days)).date(),
                "unit": unit,
            },
        ).df()
    if not has_margin:
        frame = frame.drop(columns=["total_margin", "trailing_margin"])
    return _tidy(frame)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Package dtypes: ids as text, dates as datetime64[ns], counts as int64."""
    types: dict[str, str] = {"customer_id": "str"}
    for column in frame.columns:
        if column in ("first_purchase", "last_purchase", "period"):
            types[column] = "datetime64[ns]"
        elif column in ("occasions", "frequency", "trailing_occasions", "frequency_holdout"):
            types[column] = "int64"
    return frame.astype(types)


def calibration_holdout(
    transactions: Source,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp,
    *,
    time_unit: str = "days",
    trailing_days: int = 365,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """Summary at ``calibration_end`` plus what each customer did afterwards.

    Customers whose first purchase is after ``calibration_end`` are not in
    the table (they are unknown at calibration time).

    Parameters
    ----------
    transactions : DataFrame or path
        As for :func:`customer_summary`.
    calibration_end, holdout_end : date
        The calibration period ends on ``calibration_end`` (inclusive); the
        holdout period is ``(calibration_end, holdout_end]``.
    time_unit, trailing_days, memory_limit
        As for :func:`customer_summary`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`customer_summary` at ``calibration_end``, plus
        ``frequency_holdout`` (purchase occasions in the holdout period),
        ``value_holdout`` (net value in the holdout period) and
        ``duration_holdout`` (its length in ``time_unit``).
    """
    unit = _unit(time_unit)
    start = _as_timestamp(calibration_end, "calibration_end").normalize()
    end = _as_timestamp(holdout_end, "holdout_end").normalize()
    if end <= start:
        raise ParameterError("holdout_end", str(end.date()), f"a date after {start.date()}")
    days = _positive_int("trailing_days", trailing_days)
    sql = f"""
    WITH calibration AS ({_SUMMARY_SQL}),
    later AS (
        SELECT customer_id,
               count(DISTINCT day) FILTER (WHERE amount >= 0) AS frequency_holdout,
               SUM(amount) AS value_holdout
        FROM src WHERE day > $as_of AND day <= $holdout_end GROUP BY customer_id
    )
    SELECT c.*, COALESCE(l.frequency_holdout, 0) AS frequency_holdout,
           CAST(COALESCE(l.value_holdout, 0) AS DOUBLE) AS value_holdout,
           date_diff('day', $as_of, $holdout_end) / $unit AS duration_holdout
    FROM calibration c LEFT JOIN later l USING (customer_id)
    ORDER BY c.customer_id
    """
    with _connect(transactions, memory_limit) as (con, has_margin):
        frame = con.execute(
            sql,
            {
                "as_of": start.date(),
                "holdout_end": end.date(),
                "window_start": (start - pd.Timedelta(days=days)).date(),
                "unit": unit,
            },
        ).df()
    if not has_margin:
        frame = frame.drop(columns=["total_margin", "trailing_margin"])
    return _tidy(frame)


def period_table(
    transactions: Source,
    *,
    freq: str = "month",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    dense: bool = False,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """One row per customer and period: occasions, value and margin.

    Parameters
    ----------
    transactions : DataFrame or path
        As for :func:`customer_summary`.
    freq : {"week", "month", "quarter", "year"}
        Period length; weeks start on Monday.
    start, end : date, optional
        Only rows dated in ``[start, end]`` (default: all).
    dense : bool
        If true, every customer has a row for every period from the period of
        their first purchase (within ``[start, end]``) to the period of ``end``
        (default: the last date in the data), with zeros where nothing
        happened; the stability and churn studies need that. If false, only
        periods with activity appear.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id`` and ``period``; columns ``customer_id``,
        ``period`` (first day of the period), ``occasions`` (purchase days),
        ``value`` (net of returns), and ``margin`` when the data has one.
    """
    check_option("freq", freq, _FREQS)
    if not isinstance(dense, bool):
        raise ParameterError("dense", dense, "True or False")
    low = _as_timestamp(start, "start").date() if start is not None else None
    high = _as_timestamp(end, "end").date() if end is not None else None
    where = " AND ".join(cond for cond, bound in (("day >= $low", low), ("day <= $high", high)) if bound is not None)
    params = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
    sparse = f"""
        SELECT customer_id, CAST(date_trunc('{freq}', day) AS DATE) AS period,
               count(DISTINCT day) FILTER (WHERE amount >= 0) AS occasions,
               CAST(SUM(amount) AS DOUBLE) AS value,
               CAST(SUM(margin) AS DOUBLE) AS margin
        FROM src {"WHERE " + where if where else ""}
        GROUP BY ALL
    """
    if dense:
        last = "$high" if high is not None else "(SELECT MAX(day) FROM src)"
        sql = f"""
        WITH active AS ({sparse}),
        firsts AS (
            SELECT customer_id, MIN(period) AS first_period FROM active GROUP BY customer_id
        ),
        grid AS (
            SELECT customer_id, CAST(unnest(generate_series(
                first_period, CAST(date_trunc('{freq}', {last}) AS DATE),
                INTERVAL 1 {freq})) AS DATE) AS period
            FROM firsts
        )
        SELECT g.customer_id, g.period, COALESCE(a.occasions, 0) AS occasions,
               COALESCE(a.value, 0.0) AS value, COALESCE(a.margin, 0.0) AS margin
        FROM grid g LEFT JOIN active a USING (customer_id, period)
        ORDER BY g.customer_id, g.period
        """
    else:
        sql = sparse + " ORDER BY customer_id, period"
    with _connect(transactions, memory_limit) as (con, has_margin):
        frame = con.execute(sql, params).df()
    if not has_margin:
        frame = frame.drop(columns=["margin"])
    frame = frame.astype({"occasions": "int64"})
    return _tidy(frame)
