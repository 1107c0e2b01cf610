"""The data profile: what a transactions table holds, one measure per row."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["profile_transactions"]


def profile_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    """Describe a validated transactions table in one row per measure.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``customer_id``, ``date``, ``amount`` (as returned by
        :func:`read_transactions`); ``margin`` is used when present.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure`` and ``value``: rows, customers, first and last
        date, purchase occasions (customer-days with a purchase), repeat
        customers' share, total and median amount, return rows, zero-amount
        rows, exact duplicate rows, total margin (if present), and the rows
        left out for being dated after the analysis date
        (``attrs["rows_after_as_of"]``, when there were any).
    """
    t = transactions
    purchases = t[t["amount"] >= 0]
    occasions = purchases.groupby(["customer_id", purchases["date"].dt.normalize()]).ngroups
    per_customer = purchases.groupby("customer_id")["date"].agg(lambda d: d.dt.normalize().nunique())
    measures: list[tuple[str, Any]] = [
        ("rows", len(t)),
        ("customers", t["customer_id"].nunique()),
        ("first date", t["date"].min().date().isoformat()),
        ("last date", t["date"].max().date().isoformat()),
        ("purchase occasions", occasions),
        ("share of customers who bought again", round(float((per_customer > 1).mean()), 4)),
        ("total amount", round(float(t["amount"].sum()), 2)),
        ("median amount", round(float(t["amount"].median()), 2)),
        ("return rows (negative amount)", int((t["amount"] < 0).sum())),
        ("zero-amount rows", int((t["amount"] == 0).sum())),
        ("exact duplicate rows", int(t.duplicated().sum())),
    ]
    if "margin" in t:
        measures.append(("total margin", round(float(t["margin"].sum()), 2)))
    if t.attrs.get("rows_after_as_of"):
        measures.append(("rows dated after the analysis date, left out", int(t.attrs["rows_after_as_of"])))
    return pd.DataFrame(measures, columns=["measure", "value"]).astype({"value": "str"})
