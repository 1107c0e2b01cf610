"""Actual contact frequency against the policy cadence: hand counts, channels, served shares."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.grading.contacts import DAYS_PER_MONTH, contact_kind, contact_rates, contact_table, contact_vs_policy
from analysis.grading.policy import CONTACT_CADENCE

AS_OF = pd.Timestamp("2024-06-30")


def contacts(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "date", "channel"]).assign(
        date=lambda f: pd.to_datetime(f["date"])
    )


def test_channels_map_to_calls_and_visits_and_anything_else_is_a_call():
    kinds = contact_kind(pd.Series(["电话", "上门", "拜访", "微信", "email", "Phone", "VISIT", None]))
    assert kinds.tolist() == ["call", "visit", "visit", "call", "call", "call", "visit", "call"]


def test_rates_are_a_hand_count_over_the_months_in_the_window():
    log = contacts(
        [
            ("old", "2024-04-05", "电话"),
            ("old", "2024-05-05", "电话"),
            ("old", "2024-06-30", "微信"),  # the last day counts
            ("old", "2024-06-01", "拜访"),
            ("old", "2024-04-01", "电话"),  # 90 days before as_of: outside the window (as_of - 90, as_of]
            ("old", "2024-07-01", "拜访"),  # after as_of: never seen
            ("new", "2024-06-20", "上门"),
        ]
    )
    since = pd.Series(pd.to_datetime(["2020-01-01", "2024-06-16", "2024-01-01"]), index=["old", "new", "silent"])
    rates = contact_rates(log, since, as_of=AS_OF, window_days=90).set_index("customer_id")
    months = 90 / DAYS_PER_MONTH
    assert rates.loc["old", ["calls", "visits"]].tolist() == [3, 1]
    assert rates.loc["old", "months"] == pytest.approx(months)
    assert rates.loc["old", "calls_per_month"] == pytest.approx(3 / months)
    assert rates.loc["old", "contacts_per_month"] == pytest.approx(4 / months)
    # A customer dealing for 15 days is rated over at least one month.
    assert rates.loc["new", "months"] == 1.0 and rates.loc["new", "visits_per_month"] == 1.0
    assert rates.loc["silent", ["calls", "visits", "contacts_per_month"]].tolist() == [0, 0, 0.0]


def test_under_and_over_served_against_the_grade_cadence():
    cadence = CONTACT_CADENCE.set_index("cadence_class")
    policy_b = cadence.loc["B", "calls_per_month"]  # weekly: 52/12
    rates = pd.DataFrame(
        {
            "customer_id": ["under", "as", "over", "edge"],
            "calls_per_month": [policy_b - 0.1, policy_b, 2 * policy_b + 0.1, 2 * policy_b],
            "visits_per_month": [0.0, 0.0, 0.0, 0.0],
        }
    )
    people = pd.DataFrame({"customer_id": ["under", "as", "over", "edge", "none"], "grade": ["B"] * 5})
    served = contact_vs_policy(people, rates).set_index("customer_id")
    assert served["served"].to_dict() == {
        "under": "under",
        "as": "as policy",
        "over": "over",
        "edge": "as policy",
        "none": "under",
    }
    assert (served["policy_contacts"] == policy_b).all()
    table = contact_table(served.reset_index()).set_index("grade")
    assert table.loc["B", "under_served"] == pytest.approx(2 / 5) and table.loc["B", "over_served"] == pytest.approx(
        1 / 5
    )
    assert table.loc["B", "actual_median"] == pytest.approx(policy_b)
    assert table.loc["all", "customers"] == 5
    three = contact_vs_policy(people, rates, over_factor=3).set_index("customer_id")
    assert (three["served"] == "over").sum() == 0


def test_classes_with_visits_report_visits_below_policy():
    rates = pd.DataFrame({"customer_id": ["d"], "calls_per_month": [20.0], "visits_per_month": [1.0]})
    served = contact_vs_policy(pd.DataFrame({"customer_id": ["d"], "grade": ["Diamond"]}), rates)
    assert served["cadence_class"].iloc[0] == "A1" and served["visits_below"].iloc[0]
    with pytest.raises(ParameterError, match="over_served_factor"):
        contact_vs_policy(pd.DataFrame({"customer_id": ["d"], "grade": ["A"]}), rates, over_factor=0.5)
