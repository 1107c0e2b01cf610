"""Facts about the raw rows, counted where the data lives: dates, later rows, next purchases, the profile."""

from __future__ import annotations

import pandas as pd

from analysis.checks import check_date
from analysis.engines.prepared import Engine, Source
from analysis.engines.returns import check_return_window, customer_days
from analysis.engines.select import open_source

__all__ = ["active_customers", "date_range", "next_purchases", "rows_after"]


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


def date_range(
    transactions: Source, *, memory_limit: str | None = None, engine: Engine = "duckdb"
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day of the data (``NaT`` for both when it has no rows), counted on the engine.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-05 09:00", "2024-03-02 17:30"]),
    ...                   "amount": [10.0, 5.0]})
    >>> [str(d.date()) for d in date_range(t)]
    ['2024-01-05', '2024-03-02']
    """
    with open_source(transactions, engine, memory_limit) as source:
        src = source.table
        bounds = source.fetch(src.aggregate(first=src.day.min(), last=src.day.max())).iloc[0]
    return pd.Timestamp(bounds["first"]), pd.Timestamp(bounds["last"])


def next_purchases(
    transactions: Source,
    after: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    return_window_days: int = 30,
    memory_limit: str | None = None,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """Each customer's first purchase day in ``(after, end]``, counted on the engine.

    A purchase is a purchase occasion, as in the summaries: a day with a
    non-negative amount not fully returned (returns matched as in
    :mod:`analysis.engines.returns`, among the rows up to ``end``, with
    ``return_window_days``); a day with returns only is none.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``next_purchase`` (datetime64), one row per customer
        who bought in the window, sorted by ``customer_id``.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                   "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03", "2024-04-01"]),
    ...                   "amount": [10.0, 5.0, -7.0, 1.0]})
    >>> next_purchases(t, "2024-01-31", "2024-03-31")
      customer_id next_purchase
    0           a    2024-02-01
    """
    low = check_date(after, "after").date()
    high = check_date(end, "end").date()
    matching = check_return_window(return_window_days)
    with open_source(transactions, engine, memory_limit) as source:
        src = source.table
        days = customer_days(
            src.filter(src.day <= high), False, has_order=source.has_order, return_window_days=matching
        )
        bought = days.filter(days.spend.notnull() & (days.day > low))
        expr = bought.group_by("customer_id").aggregate(next_purchase=bought.day.min()).order_by("customer_id")
        frame = source.fetch(expr)
    return frame.astype({"customer_id": "str", "next_purchase": "datetime64[ns]"}).reset_index(drop=True)


def active_customers(
    transactions: Source,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    memory_limit: str | None = None,
    engine: Engine = "duckdb",
) -> int:
    """How many customers bought (a positive amount) after ``start`` and on or before ``end``, on the engine.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "b", "b", "c"], "amount": [10.0, 5.0, 1.0, -3.0],
    ...                   "date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-02", "2024-03-03"])})
    >>> active_customers(t, "2024-01-05", "2024-03-31")
    1
    """
    first, last = check_date(start, "start").date(), check_date(end, "end").date()
    with open_source(transactions, engine, memory_limit) as source:
        src = source.table
        window = src.filter((src.day > first) & (src.day <= last) & (src.amount > 0))
        return int(source.fetch(window.aggregate(customers=window.customer_id.nunique()))["customers"].iloc[0])
