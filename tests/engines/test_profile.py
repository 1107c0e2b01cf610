"""The data profile runs on the engine and equals a plain pandas reference on the same data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.engines.profile import profile_transactions


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
    purchases = t[t["amount"] >= 0]
    occasions = purchases.groupby(["customer_id", purchases["date"].dt.normalize()]).ngroups
    per_customer = purchases.assign(day=purchases["date"].dt.normalize()).groupby("customer_id")["day"].nunique()
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
