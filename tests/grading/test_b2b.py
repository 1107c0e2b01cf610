"""The quota score's B2B inputs: point in time, each component on its own, nothing after as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError
from analysis.grading.b2b import DAYS_PER_YEAR, b2b_inputs, with_b2b_inputs
from analysis.grading.grades import grade_customers
from analysis.grading.score import composite_score, score_components

AS_OF = pd.Timestamp("2024-06-30")


def crm(seed: int = 4, customers: int = 60) -> dict[str, pd.DataFrame]:
    """Small seeded CRM tables with rows on both sides of ``AS_OF``."""
    rng = np.random.default_rng(seed)
    ids = [f"K{n:03d}" for n in range(customers)]
    n = customers * 12
    who = rng.choice(ids, n)
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")
    transactions = pd.DataFrame(
        {
            "customer_id": who,
            "date": dates,
            "amount": rng.lognormal(6, 1, n).round(2),
            "quantity": rng.integers(1, 20, n),
        }
    )
    due = dates + pd.Timedelta(days=30)
    paid = dates + pd.to_timedelta(rng.integers(5, 70, n), "D")
    invoices = pd.DataFrame(
        {"customer_id": who, "invoice_date": dates, "due_date": due, "paid_date": paid, "amount": 100.0}
    )
    acquired = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1800, customers), "D")
    people = pd.DataFrame({"customer_id": ids, "acquisition_date": acquired.where(rng.random(customers) < 0.7)})
    visits = pd.DataFrame(
        {"customer_id": rng.choice(ids, n), "date": dates, "channel": rng.choice(["电话", "拜访", "微信"], n)}
    )
    return {"transactions": transactions, "invoices": invoices, "customers": people, "contacts": visits}


def test_years_of_dealing_from_the_acquisition_date_where_given_else_the_first_purchase():
    tables = crm()
    inputs = b2b_inputs(tables, as_of=AS_OF, window_days=365).set_index("customer_id")
    acquired = tables["customers"].set_index("customer_id")["acquisition_date"]
    first = tables["transactions"].query("date <= @AS_OF").groupby("customer_id")["date"].min()
    for customer, row in inputs.iterrows():
        usable = pd.notna(acquired[customer]) and acquired[customer] <= AS_OF
        start = acquired[customer] if usable else first[customer]
        assert row["dealing_since"] == ("acquisition_date" if usable else "first purchase")
        assert row["years_of_dealing"] == pytest.approx((AS_OF - start).days / DAYS_PER_YEAR)


def test_quantity_is_summed_over_the_window_only():
    tables = crm()
    inputs = b2b_inputs(tables, as_of=AS_OF, window_days=90).set_index("customer_id")
    t = tables["transactions"]
    recent = t[(t["date"] > AS_OF - pd.Timedelta(days=90)) & (t["date"] <= AS_OF)]
    expected = recent.groupby("customer_id")["quantity"].sum().reindex(inputs.index, fill_value=0)
    assert inputs["trailing_quantity"].to_numpy() == pytest.approx(expected.to_numpy(dtype=float))
    no_quantity = dict(tables, transactions=t.drop(columns="quantity"))
    assert "trailing_quantity" not in b2b_inputs(no_quantity, as_of=AS_OF, window_days=90)


def test_nothing_after_as_of_changes_the_inputs():
    tables = crm()
    before = b2b_inputs(tables, as_of=AS_OF, window_days=365)
    later = dict(tables)
    inv = tables["invoices"].copy()
    issued_later = inv["invoice_date"] > AS_OF
    inv.loc[issued_later, "amount"] = 1e6
    inv.loc[issued_later, "due_date"] = AS_OF + pd.Timedelta(days=400)
    paid_later = inv["paid_date"] > AS_OF
    assert paid_later.any()
    inv.loc[paid_later, "paid_date"] = inv.loc[paid_later, "paid_date"] + pd.Timedelta(days=200)  # still after
    later["invoices"] = pd.concat([inv, inv.assign(invoice_date=AS_OF + pd.Timedelta(days=1))], ignore_index=True)
    t = tables["transactions"].copy()
    t.loc[t["date"] > AS_OF, "quantity"] = 999
    later["transactions"] = t
    people = tables["customers"].copy()
    people.loc[people["acquisition_date"].isna(), "acquisition_date"] = AS_OF + pd.Timedelta(days=3)
    later["customers"] = people
    pd.testing.assert_frame_equal(before, b2b_inputs(later, as_of=AS_OF, window_days=365))


def summary(rows: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(rows)],
            "trailing_value": [50.0, 40.0, 30.0, 20.0, 10.0],
            "trailing_occasions": [1.0, 1.0, 1.0, 1.0, 1.0],
            "T": [10.0] * rows,
            "on_time_share": [0.2, 0.4, 0.6, 0.8, 1.0],
            "years_of_dealing": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )


def test_each_component_moves_only_its_own_part_of_the_score():
    base = summary()
    weights = {"value": 1.0, "payment_reliability": 1.0}
    score = composite_score(base, weights)
    # Payment reliability alone orders the customers the other way round from value.
    only_payments = composite_score(base, {"payment_reliability": 1.0})
    assert only_payments.is_monotonic_increasing and composite_score(base, {"value": 1.0}).is_monotonic_decreasing
    # Changing a column no weight uses changes nothing; changing reliability changes only its half.
    assert composite_score(base.assign(trailing_occasions=[5.0, 4.0, 3.0, 2.0, 1.0]), weights).equals(score)
    flipped = composite_score(base.assign(on_time_share=base["on_time_share"][::-1].to_numpy()), weights)
    assert flipped.tolist() == pytest.approx(composite_score(base, {"value": 1.0}).tolist())


def test_a_customer_without_invoices_is_scored_on_the_other_components():
    base = summary().assign(on_time_share=[0.2, np.nan, 0.6, 0.8, 1.0])
    score = composite_score(base, {"value": 1.0, "payment_reliability": 1.0})
    value_only = composite_score(base, {"value": 1.0})
    assert score.iloc[1] == pytest.approx(value_only.iloc[1])  # the reliability part is left out for c1
    known = base.drop(index=1)
    value = base["trailing_value"].rank(pct=True).drop(index=1)  # value: all five customers
    percentiles = (known["on_time_share"].rank(pct=True) + value) / 2 * 100  # reliability: the four known
    assert score.drop(index=1).to_numpy() == pytest.approx(percentiles.to_numpy())


def test_default_components_are_those_the_data_measures_and_quota_grades_use_them():
    tables = crm()
    base = pd.DataFrame(
        {"customer_id": sorted(tables["transactions"]["customer_id"].unique()), "trailing_value": 1.0, "T": 1.0}
    )
    base["first_purchase"] = AS_OF
    joined = with_b2b_inputs(base, tables, as_of=AS_OF, window_days=365)
    assert score_components(base) == ["value", "tenure"]
    assert score_components(joined) == ["value", "quantity", "tenure", "payment_reliability"]
    grading = grade_customers(joined.assign(trailing_value=np.arange(len(joined)) + 1.0), "quota_20_30_40_10")
    assert grading.customers["grade"].notna().all()
    with pytest.raises(DataError, match=r"payment_reliability.*on_time_share") as caught:
        composite_score(base, {"payment_reliability": 1.0})
    assert "invoices table" in caught.value.hint
