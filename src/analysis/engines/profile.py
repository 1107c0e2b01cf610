"""The data profile: what a transactions table holds, one measure per row, counted where the data lives."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.engines.aggregates import customer_days
from analysis.engines.prepared import Engine, Source
from analysis.engines.select import open_source

__all__ = ["profile_transactions"]


def profile_transactions(
    transactions: Source, *, memory_limit: str | None = None, engine: Engine = "duckdb"
) -> pd.DataFrame:
    """Describe a validated transactions table in one row per measure; the counting runs on the engine.

    Parameters
    ----------
    transactions : DataFrame, path or table name
        Columns ``customer_id``, ``date``, ``amount`` (as returned by
        :func:`analysis.data.readers.read_transactions`); ``margin`` is used
        when present. Anything the engine reads (:mod:`analysis.engines`).
    memory_limit, engine
        As for :func:`analysis.engines.summaries.customer_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure`` and ``value`` (text): rows, customers, first and
        last date, purchase occasions (customer-days with a purchase), repeat
        customers' share, total and median amount, return rows, zero-amount
        rows, exact duplicate rows (identical in every column; counted for a
        DataFrame, whose every column is known), total margin (if present),
        and the rows left out for being dated after the analysis date
        (``attrs["rows_after_as_of"]`` of a DataFrame, when there were any).

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["a", "a", "b"], "date": pd.to_datetime(["2024-01-05", "2024-02-01",
    ...                   "2024-02-03"]), "amount": [10.0, 5.0, -7.0]})
    >>> profile_transactions(t).set_index("measure").loc[["purchase occasions", "total amount"], "value"].tolist()
    ['2', '8.0']
    """
    with open_source(transactions, engine, memory_limit) as source:
        src = source.table
        totals = {
            "rows": src.count(),
            "customers": src.customer_id.nunique(),
            "first": src.day.min(),
            "last": src.day.max(),
            "total": src.amount.sum().cast("float64"),
            "median": src.amount.cast("float64").median(),
            "returns": (src.amount < 0).sum(),
            "zeros": (src.amount == 0).sum(),
        }
        if source.has_margin:
            totals["margin"] = src.margin.sum().cast("float64")
        row = source.fetch(src.aggregate(**totals)).iloc[0]
        days = customer_days(src, False)
        bought = days.filter(days.spend.notnull())
        per_customer = bought.group_by("customer_id").aggregate(days=bought.count())
        repeat = per_customer.aggregate(
            occasions=per_customer.days.sum(), buyers=per_customer.count(), repeaters=(per_customer.days > 1).sum()
        )
        counts = source.fetch(repeat).iloc[0]
    buyers = int(counts["buyers"])
    repeat_share = round(int(counts["repeaters"]) / buyers, 4) if buyers else float("nan")
    measures: list[tuple[str, Any]] = [
        ("rows", int(row["rows"])),
        ("customers", int(row["customers"])),
        ("first date", pd.Timestamp(row["first"]).date().isoformat()),
        ("last date", pd.Timestamp(row["last"]).date().isoformat()),
        ("purchase occasions", int(counts["occasions"]) if buyers else 0),
        ("share of customers who bought again", repeat_share),
        ("total amount", round(float(row["total"]), 2)),
        ("median amount", round(float(row["median"]), 2)),
        ("return rows (negative amount)", int(row["returns"])),
        ("zero-amount rows", int(row["zeros"])),
    ]
    if isinstance(transactions, pd.DataFrame):
        measures.append(("exact duplicate rows", int(transactions.duplicated().sum())))
    if "margin" in totals:
        measures.append(("total margin", round(float(row["margin"]), 2)))
    attrs = transactions.attrs if isinstance(transactions, pd.DataFrame) else {}
    if attrs.get("rows_after_as_of"):
        measures.append(("rows dated after the analysis date, left out", int(attrs["rows_after_as_of"])))
    if attrs.get("rows_without_customer_id"):
        measures.append(("rows without a customer id, left out", int(attrs["rows_without_customer_id"])))
    if attrs.get("amount_from"):
        measures.append(("amount computed as", str(attrs["amount_from"])))
    return pd.DataFrame(measures, columns=["measure", "value"]).astype({"value": "str"})
