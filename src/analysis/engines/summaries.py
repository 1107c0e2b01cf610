"""Customer summaries: the base tables of every study, as Ibis expressions.

This is the only module that aggregates raw transactions. Each summary is
written once, as an Ibis expression, and runs where the data lives
(:mod:`analysis.engines`): on an embedded DuckDB database by default, over an
in-memory DataFrame (as returned by :func:`analysis.data.readers.read_transactions`)
or directly over Parquet / CSV files, which DuckDB streams, so files larger
than memory work; or on Spark, or any other Ibis backend, with the same
results. Only one row per customer (or per customer and period) comes back.

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
  order an engine's threads add them; results are deterministic and the
  same on every engine (amounts with more than 4 decimals are rounded to 4).
- Everything for ``as_of`` uses only rows dated on or before ``as_of``;
  holdout figures use only rows after the calibration end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.checks import check_date
from analysis.engines.prepared import Engine, Prepared, Source
from analysis.engines.select import open_source
from analysis.errors import ParameterError, check_option

__all__ = ["calibration_holdout", "customer_summary", "period_table", "rows_after"]

_UNITS = {"days": 1.0, "weeks": 7.0}
#: Period name -> (Ibis truncation unit, pandas period alias whose periods start on the same days).
_FREQS = {"week": ("W", "W-SUN"), "month": ("M", "M"), "quarter": ("Q", "Q"), "year": ("Y", "Y")}


def _unit(time_unit: str) -> float:
    return _UNITS[check_option("time_unit", time_unit, _UNITS)]


def _positive_int(name: str, value: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ParameterError(name, value, "a positive whole number of days")
    return int(value)


def _query(
    transactions: Source, build: Callable[[Prepared], ir.Table], engine: Engine, memory_limit: str | None
) -> pd.DataFrame:
    """Open ``transactions`` on ``engine``, build one expression and fetch it."""
    with open_source(transactions, engine, memory_limit) as source:
        return source.fetch(build(source))


def _days(src: ir.Table, has_margin: bool) -> ir.Table:
    """One row per customer and day: ``spend`` and ``net`` (and ``margin``).

    ``spend`` sums the non-negative amounts and is NULL on a day with returns
    only, so ``spend.count()`` counts purchase occasions; ``net`` sums all.
    """
    amounts = {"spend": src.amount.sum(where=src.amount >= 0), "net": src.amount.sum()}
    if has_margin:
        amounts["margin"] = src.margin.sum()
    return src.group_by(["customer_id", "day"]).aggregate(**amounts)


def _double(value: ir.NumericValue) -> ir.FloatingValue:
    return value.cast("float64")


def _customer_expr(
    source: Prepared, as_of: dt.date, end: dt.date, window_start: dt.date, unit: float, *, holdout: bool
) -> ir.Table:
    """Per-customer expression: one (customer, day) aggregation, then filtered aggregates of it."""
    src = source.table
    days = _days(src.filter(src.day <= end), source.has_margin)
    upto = days.day <= as_of
    window = (days.day > window_start) & upto
    bought = days.spend.notnull() & upto
    sums = {
        "first_purchase": days.day.min(where=bought),
        "last_purchase": days.day.max(where=bought),
        "occasions": days.spend.count(where=upto),
        "spend": days.spend.sum(where=upto),
        "first_spend": days.spend.argmin(days.day, where=bought),
        "trailing_occasions": days.spend.count(where=window),
        "total_value": days.net.sum(where=upto),
        "trailing_value": days.net.sum(where=window),
    }
    if source.has_margin:
        sums |= {"total_margin": days.margin.sum(where=upto), "trailing_margin": days.margin.sum(where=window)}
    if holdout:
        later = days.day > as_of
        sums |= {"frequency_holdout": days.spend.count(where=later), "value_holdout": days.net.sum(where=later)}
    c = days.group_by("customer_id").aggregate(**sums)
    c = c.filter(c.occasions > 0)
    # Day counts become doubles before dividing: an engine may read a bare 7.0 as a decimal.
    as_of_day = ibis.literal(as_of)
    columns = {
        "customer_id": c.customer_id,
        "first_purchase": c.first_purchase,
        "last_purchase": c.last_purchase,
        "occasions": c.occasions,
        "frequency": c.occasions - 1,
        "recency": _double(c.last_purchase.delta(c.first_purchase, unit="day")) / unit,
        "T": _double(as_of_day.delta(c.first_purchase, unit="day")) / unit,
        "monetary_value": ibis.cases(
            (c.occasions > 1, _double(c.spend - c.first_spend) / _double(c.occasions - 1)), else_=ibis.null("float64")
        ),
        "total_value": _double(c.total_value),
        "trailing_occasions": c.trailing_occasions,
        "trailing_value": _double(c.trailing_value.fill_null(0)),
    }
    if source.has_margin:
        columns |= {
            "total_margin": _double(c.total_margin),
            "trailing_margin": _double(c.trailing_margin.fill_null(0)),
        }
    if holdout:
        columns |= {
            "frequency_holdout": c.frequency_holdout,
            "value_holdout": _double(c.value_holdout.fill_null(0)),
            "duration_holdout": _double(ibis.literal((end - as_of).days)) / unit,
        }
    return c.select(**columns).order_by("customer_id")


def customer_summary(
    transactions: Source,
    as_of: str | pd.Timestamp,
    *,
    time_unit: str = "days",
    trailing_days: int = 365,
    memory_limit: str | None = None,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """One row per customer who bought on or before ``as_of``.

    Parameters
    ----------
    transactions : DataFrame, path or table name
        A validated transactions table (``customer_id``, ``date``, ``amount``,
        optional ``margin``), or a Parquet file / folder of Parquet files / CSV
        file with those column names, scanned in place by the engine, or a
        table of the engine's database.
    as_of : date
        Analysis date (inclusive). Later rows are ignored.
    time_unit : {"days", "weeks"}
        Unit of ``recency`` and ``T``.
    trailing_days : int
        Length of the trailing window ``(as_of - trailing_days, as_of]`` for the
        ``trailing_*`` columns (365: the last 12 months).
    memory_limit : str, optional
        DuckDB memory limit such as ``"2GB"``; beyond it DuckDB spills to disk
        (embedded DuckDB only).
    engine : str or ibis backend
        Where the summary runs: ``"duckdb"`` (embedded, the default),
        ``"spark"``, an Ibis connection URL, or an Ibis backend; see
        :mod:`analysis.engines` (with a URL, ``transactions`` may name a table).

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
    stamp = check_date(as_of, "as_of").normalize()
    return _customers(transactions, stamp, stamp, time_unit, trailing_days, memory_limit, engine, holdout=False)


def _customers(
    transactions: Source,
    as_of: pd.Timestamp,
    end: pd.Timestamp,
    time_unit: str,
    trailing_days: int,
    memory_limit: str | None,
    engine: Engine,
    *,
    holdout: bool,
) -> pd.DataFrame:
    """Summarise data up to ``end`` at ``as_of`` (with holdout columns after it if ``holdout``)."""
    unit = _unit(time_unit)
    days = _positive_int("trailing_days", trailing_days)
    window_start = (as_of - pd.Timedelta(days=days)).date()

    def build(source: Prepared) -> ir.Table:
        return _customer_expr(source, as_of.date(), end.date(), window_start, unit, holdout=holdout)

    return _tidy(_query(transactions, build, engine, memory_limit))


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
    engine: Engine = "duckdb",
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
    time_unit, trailing_days, memory_limit, engine
        As for :func:`customer_summary`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`customer_summary` at ``calibration_end``, plus
        ``frequency_holdout`` (purchase occasions in the holdout period),
        ``value_holdout`` (net value in the holdout period) and
        ``duration_holdout`` (its length in ``time_unit``).
    """
    _unit(time_unit)  # a bad unit is refused before the dates are checked
    start = check_date(calibration_end, "calibration_end").normalize()
    end = check_date(holdout_end, "holdout_end").normalize()
    if end <= start:
        raise ParameterError("holdout_end", str(end.date()), f"a date after {start.date()}")
    return _customers(transactions, start, end, time_unit, trailing_days, memory_limit, engine, holdout=True)


def period_table(
    transactions: Source,
    *,
    freq: str = "month",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    dense: bool = False,
    memory_limit: str | None = None,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """One row per customer and period: occasions, value and margin.

    Parameters
    ----------
    transactions : DataFrame, path or table name
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
    memory_limit, engine
        As for :func:`customer_summary`.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id`` and ``period``; columns ``customer_id``,
        ``period`` (first day of the period), ``occasions`` (purchase days),
        ``value`` (net of returns), and ``margin`` when the data has one.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                   "date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-02-10"]),
    ...                   "amount": [10.0, 5.0, 7.0]})
    >>> period_table(t, dense=True)
      customer_id     period  occasions  value
    0           a 2024-01-01          1   10.0
    1           a 2024-02-01          0    0.0
    2           a 2024-03-01          1    5.0
    3           b 2024-02-01          1    7.0
    4           b 2024-03-01          0    0.0
    """
    unit, alias = _FREQS[check_option("freq", freq, _FREQS)]
    if not isinstance(dense, bool):
        raise ParameterError("dense", dense, "True or False")
    low = check_date(start, "start").date() if start is not None else None
    high = check_date(end, "end").date() if end is not None else None

    def build(source: Prepared) -> ir.Table:
        src = source.table
        if low is not None:
            src = src.filter(src.day >= low)
        if high is not None:
            src = src.filter(src.day <= high)
        days = _days(src, source.has_margin)
        days = days.mutate(period=days.day.truncate(unit).cast("date"))
        sums = {"occasions": days.spend.count(), "value": _double(days.net.sum())}
        if source.has_margin:
            sums["margin"] = _double(days.margin.sum())
        active = days.group_by(["customer_id", "period"]).aggregate(**sums)
        if not dense:
            return active.order_by(["customer_id", "period"])
        # The calendar of periods is small: computed here, joined as a table.
        bounds = source.fetch(src.aggregate(first=src.day.min(), last=src.day.max())).iloc[0]
        if pd.isna(bounds["first"]):
            return active.order_by(["customer_id", "period"])
        periods = pd.period_range(bounds["first"], high or bounds["last"], freq=alias).start_time
        calendar = source.upload(pa.table({"calendar_period": pa.array(periods.date, pa.date32())}))
        firsts = active.group_by("customer_id").aggregate(first_period=active.period.min())
        grid = firsts.join(calendar, firsts.first_period <= calendar.calendar_period).select(
            customer_id=firsts.customer_id, period=calendar.calendar_period
        )
        filled = grid.left_join(active, ["customer_id", "period"])
        columns = {
            "customer_id": grid.customer_id,
            "period": grid.period,
            "occasions": active.occasions.fill_null(0),
            "value": active.value.fill_null(0.0),
        }
        if source.has_margin:
            columns["margin"] = active.margin.fill_null(0.0)
        return filled.select(**columns).order_by(["customer_id", "period"])

    frame = _query(transactions, build, engine, memory_limit)
    return _tidy(frame.astype({"occasions": "int64"}))


def rows_after(
    transactions: Source,
    as_of: str | pd.Timestamp,
    *,
    memory_limit: str | None = None,
    engine: Engine = "duckdb",
) -> tuple[int, pd.DataFrame]:
    """Rows dated after ``as_of``, counted where the data lives: the summaries leave them out.

    Parameters
    ----------
    transactions : DataFrame, path or table name
        As for :func:`customer_summary`.
    as_of : date
        The analysis date.
    memory_limit, engine
        As for :func:`customer_summary`.

    Returns
    -------
    (int, pandas.DataFrame)
        How many rows are dated after ``as_of``, and the first five of them
        (``customer_id``, ``day``), earliest first.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-05", "2024-03-02"]),
    ...                   "amount": [10.0, 5.0]})
    >>> count, first = rows_after(t, "2024-01-31")
    >>> count, first["customer_id"].tolist()
    (1, ['b'])
    """
    day = check_date(as_of, "as_of").date()
    with open_source(transactions, engine, memory_limit) as source:
        later = source.table.filter(source.table.day > day)
        count = int(source.fetch(later.aggregate(rows=later.count()))["rows"].iloc[0])
        first = source.fetch(later.select("customer_id", "day").order_by(["day", "customer_id"]).limit(5))
    return count, first
