"""The data profile runs on the engine and equals a plain pandas reference on the same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.engines.profile import profile_transactions
from reference_returns import reference_occasions


def reference_profile(transactions: pd.DataFrame) -> pd.DataFrame:
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
    matched = reference_occasions(t)  # purchase days left after matching returns (window 30, no order ids)
    occasions = len(matched)
    per_customer = matched.groupby("customer_id")["day"].nunique()
    per_customer = per_customer.reindex(t.loc[t["amount"] >= 0, "customer_id"].unique(), fill_value=0)
    per_customer = per_customer[per_customer > 0]
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
        *(reference_returns(t, matched) if (t["amount"] < 0).any() else []),
        ("exact duplicate rows", int(t.duplicated().sum())),
    ]
    if "margin" in t:
        measures.append(("total margin", round(float(t["margin"].sum()), 2)))
    if t.attrs.get("rows_after_as_of"):
        measures.append(("rows dated after the analysis date, left out", int(t.attrs["rows_after_as_of"])))
    return pd.DataFrame(measures, columns=["measure", "value"]).astype({"value": "str"})


def reference_returns(t: pd.DataFrame, matched: pd.DataFrame) -> list[tuple[str, Any]]:
    """The returns rows of the profile (window 30, no order ids), row by row."""
    t = t.assign(day=t["date"].dt.normalize())
    buys = t[t["amount"] >= 0].groupby(["customer_id", "day"])["amount"].sum()
    hits, unmatched = 0, []
    for _, r in t[t["amount"] < 0].iterrows():
        days = buys.loc[r["customer_id"]].index if r["customer_id"] in buys.index.levels[0] else []
        if any(d <= r["day"] and (r["day"] - d).days <= 30 for d in days):
            hits += 1
        else:
            unmatched.append(r["amount"])
    after = matched.set_index(["customer_id", "day"])["spend"].reindex(buys.index)
    changed = after.isna() | (abs(after - buys) > 1e-9)
    bought = set(buys.index.get_level_values(0))
    only = sorted(set(t["customer_id"]) - bought)
    every = sorted(bought - set(matched["customer_id"]))
    measures: list[tuple[str, Any]] = [
        ("returns matching rule", "by order id, else the latest purchase within 30 days"),
        ("return rows matched by order id", 0),
        ("return rows matched within 30 days", hits),
        ("return rows matched to no purchase (netted in value only)", len(unmatched)),
        ("value of the unmatched returns", round(float(sum(unmatched)), 2)),
        ("purchase days fully returned (no occasion, no spend)", int(after.isna().sum())),
        ("purchase days partly returned (spend counted net)", int((after < buys - 1e-9).sum())),
        ("customers whose purchases returns changed", changed[changed].index.get_level_values(0).nunique()),
        ("spend of purchase days before matching returns", round(float(buys.sum()), 2)),
        ("spend of purchase occasions after matching returns", round(float(matched["spend"].sum()), 2)),
    ]
    for label, ids in (
        ("customers with only returns (in no summary)", only),
        ("customers whose every purchase was returned (in no summary)", every),
    ):
        measures.append((label, len(ids)))
        if ids:
            measures.append((f"{label}: ids", ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")))
    return measures


def test_the_profile_of_cdnow_equals_the_pandas_reference(cdnow):
    pd.testing.assert_frame_equal(profile_transactions(cdnow), reference_profile(cdnow))


@pytest.mark.parametrize("seed", range(5))
def test_random_logs_with_returns_zeros_and_margins_match(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, n).astype(str),
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
            "amount": np.round(rng.choice([-1, 0, 1, 1, 1], n) * rng.lognormal(3, 1, n), 2),
            "margin": np.round(rng.normal(5, 3, n), 2),
        }
    )
    frame = pd.concat([frame, frame.iloc[:25]], ignore_index=True)  # exact duplicates
    pd.testing.assert_frame_equal(profile_transactions(frame), reference_profile(frame))


def test_a_parquet_file_is_profiled_in_place_without_the_duplicate_count(tmp_path, cdnow):
    path = tmp_path / "sales.parquet"
    cdnow[["customer_id", "date", "amount"]].to_parquet(path, index=False)
    in_place = profile_transactions(str(path)).set_index("measure")["value"]
    reference = reference_profile(cdnow[["customer_id", "date", "amount"]]).set_index("measure")["value"]
    assert "exact duplicate rows" not in in_place
    pd.testing.assert_series_equal(in_place, reference.drop("exact duplicate rows"))
