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
  left out); NaN for customers without a repeat occasion. With a margin,
  ``monetary_margin`` is the same mean of the occasions' gross margin.
- **Returns** (negative amounts) are matched to the purchase they return
  (:mod:`analysis.engines.returns`: by order id, else the customer's latest
  purchase within ``return_window_days``): a fully returned purchase is no
  occasion and no spend, a partly returned one counts net in
  ``monetary_value``; a return never makes an occasion. The value totals
  (``total_value``, ``trailing_value``, ``value_holdout``, per-period
  ``value``) net every return on the day it occurs, whatever it matched.
  A return dated after ``as_of`` changes no occasion on or before it.
- Amounts are summed as DECIMAL(18, 4): exact, so sums do not depend on the
  order an engine's threads add them; results are deterministic and the
  same on every engine (amounts with more than 4 decimals are rounded to 4).
- Everything for ``as_of`` uses only rows dated on or before ``as_of``;
  holdout figures use only rows after the calibration end.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from analysis.checks import check_date
from analysis.engines.aggregates import as_double, positive_days, query, tidy_types, time_unit_length
from analysis.engines.prepared import Engine, Prepared, Source
from analysis.engines.returns import check_return_window, customer_days
from analysis.errors import ParameterError

__all__ = ["calibration_holdout", "customer_summary"]


def _customer_expr(
    source: Prepared,
    as_of: dt.date,
    end: dt.date,
    window_start: dt.date,
    unit: float,
    return_window_days: int,
    *,
    holdout: bool,
) -> ir.Table:
    """Per-customer expression: one (customer, day) aggregation, then filtered aggregates of it."""
    src = source.table
    days = customer_days(
        src.filter(src.day <= end),
        source.has_margin,
        has_order=source.has_order,
        return_window_days=return_window_days,
        known_by=as_of,
    )
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
        sums |= {
            "total_margin": days.margin.sum(where=upto),
            "trailing_margin": days.margin.sum(where=window),
            "margin_spend": days.margin_spend.sum(where=bought),
            "first_margin": days.margin_spend.argmin(days.day, where=bought),
        }
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
        "recency": as_double(c.last_purchase.delta(c.first_purchase, unit="day")) / unit,
        "T": as_double(as_of_day.delta(c.first_purchase, unit="day")) / unit,
        "monetary_value": ibis.cases(
            (c.occasions > 1, as_double(c.spend - c.first_spend) / as_double(c.occasions - 1)),
            else_=ibis.null("float64"),
        ),
        "total_value": as_double(c.total_value),
        "trailing_occasions": c.trailing_occasions,
        "trailing_value": as_double(c.trailing_value.fill_null(0)),
    }
    if source.has_margin:
        columns |= {
            "total_margin": as_double(c.total_margin),
            "trailing_margin": as_double(c.trailing_margin.fill_null(0)),
            "monetary_margin": ibis.cases(
                (
                    c.occasions > 1,
                    as_double(c.margin_spend.fill_null(0) - c.first_margin.fill_null(0)) / as_double(c.occasions - 1),
                ),
                else_=ibis.null("float64"),
            ),
        }
    if holdout:
        columns |= {
            "frequency_holdout": c.frequency_holdout,
            "value_holdout": as_double(c.value_holdout.fill_null(0)),
            "duration_holdout": as_double(ibis.literal((end - as_of).days)) / unit,
        }
    return c.select(**columns).order_by("customer_id")


def customer_summary(
    transactions: Source,
    as_of: str | pd.Timestamp,
    *,
    time_unit: str = "days",
    trailing_days: int = 365,
    return_window_days: int = 30,
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
    return_window_days : int
        A return without a matching order id is matched to the customer's
        latest purchase at most this many days before it (0: the same day);
        see :mod:`analysis.engines.returns`.
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
        ``trailing_occasions``, ``trailing_value``; plus ``total_margin``,
        ``trailing_margin`` and ``monetary_margin`` (mean repeat-occasion
        gross margin, NaN without repeats) when the data has a margin.

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
    return _customers(
        transactions, stamp, stamp, time_unit, trailing_days, return_window_days, memory_limit, engine, holdout=False
    )


def _customers(
    transactions: Source,
    as_of: pd.Timestamp,
    end: pd.Timestamp,
    time_unit: str,
    trailing_days: int,
    return_window_days: int,
    memory_limit: str | None,
    engine: Engine,
    *,
    holdout: bool,
) -> pd.DataFrame:
    """Summarise data up to ``end`` at ``as_of`` (with holdout columns after it if ``holdout``)."""
    unit = time_unit_length(time_unit)
    days = positive_days("trailing_days", trailing_days)
    window_start = (as_of - pd.Timedelta(days=days)).date()
    matching = check_return_window(return_window_days)

    def build(source: Prepared) -> ir.Table:
        return _customer_expr(source, as_of.date(), end.date(), window_start, unit, matching, holdout=holdout)

    return tidy_types(query(transactions, build, engine, memory_limit))


def calibration_holdout(
    transactions: Source,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp,
    *,
    time_unit: str = "days",
    trailing_days: int = 365,
    return_window_days: int = 30,
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
    time_unit, trailing_days, return_window_days, memory_limit, engine
        As for :func:`customer_summary`. A return in the holdout period
        changes no calibration occasion.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`customer_summary` at ``calibration_end``, plus
        ``frequency_holdout`` (purchase occasions in the holdout period),
        ``value_holdout`` (net value in the holdout period) and
        ``duration_holdout`` (its length in ``time_unit``).
    """
    time_unit_length(time_unit)  # a bad unit is refused before the dates are checked
    start = check_date(calibration_end, "calibration_end").normalize()
    end = check_date(holdout_end, "holdout_end").normalize()
    if end <= start:
        raise ParameterError("holdout_end", str(end.date()), f"a date after {start.date()}")
    return _customers(
        transactions, start, end, time_unit, trailing_days, return_window_days, memory_limit, engine, holdout=True
    )
