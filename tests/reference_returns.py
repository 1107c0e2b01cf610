"""Row-by-row reference of the return rule (``analysis.engines.returns``), shared by the tests of every frame."""

from __future__ import annotations

import pandas as pd

__all__ = ["reference_occasions"]


def reference_occasions(t: pd.DataFrame, window: int = 30) -> pd.DataFrame:
    """Purchase occasions after matching returns, row by row (the rule of ``analysis.engines.returns``).

    One row per (customer, day) that is an occasion: ``spend`` and ``margin_spend``
    (when ``t`` has a margin), net of the returns matched to the day.
    """
    t = t.assign(day=t["date"].dt.normalize())
    has_orders = "order_id" in t
    rows = []
    for customer, g in t.groupby("customer_id", sort=True):
        buys, backs = g[g["amount"] >= 0], g[g["amount"] < 0]
        if buys.empty:
            continue
        spend = buys.groupby("day")["amount"].sum().to_dict()
        margin = buys.groupby("day")["margin"].sum().to_dict() if "margin" in t else {}
        returned = dict.fromkeys(spend, 0.0)
        returned_margin = dict.fromkeys(spend, 0.0)
        hit = set()
        for _, r in backs.iterrows():
            target = None
            if has_orders and isinstance(r["order_id"], str):
                key = r["order_id"][1:] if r["order_id"].startswith("C") else r["order_id"]
                order = buys[buys["order_id"] == key]
                if len(order) and order["day"].min() <= r["day"]:
                    target = order["day"].min()
            if target is None:
                near = [d for d in spend if d <= r["day"] and (r["day"] - d).days <= window]
                target = max(near) if near else None
            if target is not None:
                returned[target] += r["amount"]
                returned_margin[target] += r["margin"] if "margin" in t else 0.0
                hit.add(target)
        for day in sorted(spend):
            if day in hit and spend[day] + returned[day] <= 1e-9:
                continue  # fully returned: no occasion
            row = {"customer_id": customer, "day": day, "spend": spend[day] + returned[day]}
            if "margin" in t:
                row["margin_spend"] = margin[day] + returned_margin[day]
            rows.append(row)
    out = pd.DataFrame(rows, columns=["customer_id", "day", "spend", "margin_spend"])
    return out.astype({"day": "datetime64[ns]", "spend": "float64", "margin_spend": "float64"})
