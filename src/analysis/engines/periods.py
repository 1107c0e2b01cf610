"""One row per customer and period (week, month, quarter, year), as an Ibis expression run where the data lives."""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from analysis.checks import check_date
from analysis.engines.aggregates import as_double, query, tidy_types
from analysis.engines.prepared import Engine, Prepared, Source
from analysis.engines.returns import check_return_window, customer_days
from analysis.errors import ParameterError, check_option

__all__ = ["period_table"]


#: Period name -> (Ibis truncation unit, pandas period alias whose periods start on the same days).
_FREQS = {"week": ("W", "W-SUN"), "month": ("M", "M"), "quarter": ("Q", "Q"), "year": ("Y", "Y")}


def period_table(
    transactions: Source,
    *,
    freq: str = "month",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    dense: bool = False,
    customers: Sequence[str] | None = None,
    return_window_days: int = 30,
    memory_limit: str | None = None,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """One row per customer and period: occasions, value and margin.

    Parameters
    ----------
    transactions, return_window_days, memory_limit, engine
        As for :func:`analysis.engines.summaries.customer_summary` (a fully
        returned purchase is no occasion; returns are matched among the rows
        up to ``end``).
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
    customers : sequence of str, optional
        Only these customers (a cohort), selected on the engine.

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

    cohort = None if customers is None else sorted({str(c) for c in customers})
    matching = check_return_window(return_window_days)

    def build(source: Prepared) -> ir.Table:
        src = source.table
        if high is not None:
            src = src.filter(src.day <= high)
        if cohort is not None:
            keep = source.upload(pa.table({"cohort_id": pa.array(cohort, pa.string())}))
            src = src.semi_join(keep, src.customer_id == keep.cohort_id)
        # Returns are matched on every row up to ``end``: a purchase before ``start`` can be what they return.
        days = customer_days(src, source.has_margin, has_order=source.has_order, return_window_days=matching)
        if low is not None:
            src = src.filter(src.day >= low)
            days = days.filter(days.day >= low)
        days = days.mutate(period=days.day.truncate(unit).cast("date"))
        sums = {"occasions": days.spend.count(), "value": as_double(days.net.sum())}
        if source.has_margin:
            sums["margin"] = as_double(days.margin.sum())
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

    frame = query(transactions, build, engine, memory_limit)
    return tidy_types(frame.astype({"occasions": "int64"}))
