"""The data profile: what a transactions table holds, one measure per row, counted where the data lives."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.engines.prepared import Engine, Prepared, Source
from analysis.engines.returns import check_return_window, customer_days, return_matches
from analysis.engines.select import open_source

__all__ = ["profile_transactions"]


#: How many customer ids the profile lists for a kind of customer.
LISTED_IDS = 5


def profile_transactions(
    transactions: Source, *, return_window_days: int = 30, memory_limit: str | None = None, engine: Engine = "duckdb"
) -> pd.DataFrame:
    """Describe a validated transactions table in one row per measure; the counting runs on the engine.

    Parameters
    ----------
    transactions : DataFrame, path or table name
        Columns ``customer_id``, ``date``, ``amount`` (as returned by
        :func:`analysis.data.readers.read_transactions`); ``margin`` is used
        when present. Anything the engine reads (:mod:`analysis.engines`).
    return_window_days, memory_limit, engine
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
    window = check_return_window(return_window_days)
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
        days = customer_days(src, False, has_order=source.has_order, return_window_days=window)
        bought = days.filter(days.spend.notnull())
        per_customer = bought.group_by("customer_id").aggregate(days=bought.count())
        repeat = per_customer.aggregate(
            occasions=per_customer.days.sum(), buyers=per_customer.count(), repeaters=(per_customer.days > 1).sum()
        )
        counts = source.fetch(repeat).iloc[0]
        matching = returns_measures(source, window) if int(row["returns"]) else []
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
        *matching,
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


def returns_measures(source: Prepared, window: int) -> list[tuple[str, Any]]:
    """What matching returns to their purchases changed (:mod:`analysis.engines.returns`), as profile rows.

    Return rows matched by order id, by window and unmatched (netted in value
    only); purchase days fully returned (no occasion) and partly returned
    (counted net); the customers whose occasions changed; the spend of the
    purchase days before and after the matching (net value is unchanged);
    and the customers left out of every summary: those with only returns,
    and those whose every purchase was returned (counted, the first ids
    listed).
    """
    src = source.table
    matches = return_matches(src, False, source.has_order, window)
    by = {
        "order": matches.order_day.notnull(),
        "window": matches.order_day.isnull() & matches.window_day.notnull(),
        "none": matches.matched_day.isnull(),
    }
    sums: dict[str, Any] = {}
    for name, where in by.items():
        sums[f"rows_{name}"] = matches.rows.sum(where=where)
        sums[f"value_{name}"] = matches.returned.sum(where=where).cast("float64")
    matched = source.fetch(matches.aggregate(**sums)).iloc[0].fillna(0)
    days = customer_days(src, False, has_order=source.has_order, return_window_days=window)
    changed = days.gross.notnull() & (days.spend.isnull() | (days.spend != days.gross))
    effect = source.fetch(
        days.aggregate(
            full=(days.gross.notnull() & days.spend.isnull()).sum(),
            partly=(days.spend < days.gross).sum(),
            customers=days.customer_id.nunique(where=changed),
            gross=days.gross.sum().cast("float64"),
            spend=days.spend.sum().cast("float64"),
        )
    ).iloc[0]
    per_customer = days.group_by("customer_id").aggregate(bought=days.gross.count(), occasions=days.spend.count())
    only_returns = per_customer.filter(per_customer.bought == 0).customer_id
    all_returned = per_customer.filter((per_customer.bought > 0) & (per_customer.occasions == 0)).customer_id
    rule = f"by order id, else the latest purchase within {window} days"
    measures: list[tuple[str, Any]] = [
        ("returns matching rule", rule),
        ("return rows matched by order id", int(matched["rows_order"])),
        (f"return rows matched within {window} days", int(matched["rows_window"])),
        ("return rows matched to no purchase (netted in value only)", int(matched["rows_none"])),
        ("value of the unmatched returns", round(float(matched["value_none"]), 2)),
        ("purchase days fully returned (no occasion, no spend)", int(effect["full"] or 0)),
        ("purchase days partly returned (spend counted net)", int(effect["partly"] or 0)),
        ("customers whose purchases returns changed", int(effect["customers"] or 0)),
        ("spend of purchase days before matching returns", round(float(effect["gross"] or 0), 2)),
        ("spend of purchase occasions after matching returns", round(float(effect["spend"] or 0), 2)),
    ]
    for label, ids in (
        ("customers with only returns (in no summary)", only_returns),
        ("customers whose every purchase was returned (in no summary)", all_returned),
    ):
        found = source.fetch(ids.as_table().order_by("customer_id"))["customer_id"].astype("str").tolist()
        measures.append((label, len(found)))
        if found:
            shown = ", ".join(found[:LISTED_IDS]) + (", ..." if len(found) > LISTED_IDS else "")
            measures.append((f"{label}: ids", shown))
    return measures
