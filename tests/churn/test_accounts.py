"""The B2B account signs (analysis.churn.accounts), partial payments and the warning-sign table.

Each sign is checked on small hand-built tables whose answer is known, and
for leakage: rows dated after ``as_of`` never change a sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps

from analysis.churn.accounts import complaint_signs, salesperson_signs
from analysis.churn.b2b import known_payments
from analysis.churn.crm import SIGN_NEEDS, WARNING_SIGNS, churn_frame, measurable, unmeasured_signs
from analysis.churn.measures import signal_table
from analysis.studies.churn_signs import churn_by_group, survival_by_sign, warning_sign_table

AS_OF = pd.Timestamp("2024-06-30")


def _rows(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": pd.to_datetime([r[1] for r in rows]),
            "salesperson": [r[2] for r in rows],
        }
    )


def test_salesperson_signs_count_owners_and_see_a_handover_in_the_window():
    orders = _rows(
        ("solo", "2023-05-01", "Li"),
        ("solo", "2024-06-01", "Li"),
        ("handover", "2023-05-01", "Li"),
        ("handover", "2024-05-20", "Wang"),  # new in the window, Li before it: a change
        ("shared", "2023-01-01", "Li"),
        ("shared", "2023-02-01", "Wang"),
        ("shared", "2024-06-10", "Wang"),  # both before the window: no change
        ("newcomer", "2024-05-01", "Li"),
        ("newcomer", "2024-06-01", "Zhao"),  # first served in the window: no change
        ("later", "2023-05-01", "Li"),
        ("later", "2024-07-02", "Zhao"),  # after as_of: ignored
    )
    ids = ["solo", "handover", "shared", "newcomer", "later", "unknown"]
    signs = salesperson_signs(ids, [orders], as_of=AS_OF, window_days=90).set_index("customer_id")
    assert signs["salespeople"].to_dict() == {
        "solo": 1,
        "handover": 2,
        "shared": 2,
        "newcomer": 2,
        "later": 1,
        "unknown": 0,
    }
    assert signs["single_owner"].to_dict() == {
        "solo": 1,
        "handover": 0,
        "shared": 0,
        "newcomer": 0,
        "later": 1,
        "unknown": 0,
    }
    assert signs["owner_change"].to_dict() == {
        "solo": 0,
        "handover": 1,
        "shared": 0,
        "newcomer": 0,
        "later": 0,
        "unknown": 0,
    }


def test_salesperson_signs_join_orders_and_contacts_and_skip_blank_names():
    orders = _rows(("c", "2023-05-01", "Li"), ("c", "2024-06-01", ""))
    contacts = _rows(("c", "2024-06-15", "Wang"))
    signs = salesperson_signs(["c"], [orders, contacts], as_of=AS_OF)
    assert signs.loc[0, "salespeople"] == 2 and signs.loc[0, "owner_change"] == 1


def test_complaint_signs_repeated_in_the_window_and_open_at_as_of():
    complaints = pd.DataFrame(
        {
            "customer_id": ["twice", "twice", "spread", "spread", "open", "closed", "late"],
            "date": pd.to_datetime(
                ["2024-05-01", "2024-06-20", "2024-01-10", "2024-06-20", "2024-03-01", "2024-03-01", "2024-07-05"]
            ),
            "resolved_date": pd.to_datetime(
                ["2024-05-03", "2024-06-21", "2024-01-11", "2024-06-21", "2024-07-15", "2024-04-01", None]
            ),
        }
    )
    ids = ["twice", "spread", "open", "closed", "late"]
    signs = complaint_signs(ids, complaints, as_of=AS_OF).set_index("customer_id")
    assert signs["repeated_complaints"].to_dict() == {"twice": 1, "spread": 0, "open": 0, "closed": 0, "late": 0}
    # resolved after as_of: still open at as_of; a complaint after as_of is not known
    assert signs["unresolved_complaint"].to_dict() == {"twice": 0, "spread": 0, "open": 1, "closed": 0, "late": 0}
    flag_only = complaints.drop(columns="resolved_date").assign(resolved=[True, True, True, True, False, True, False])
    assert complaint_signs(ids, flag_only, as_of=AS_OF).set_index("customer_id")["unresolved_complaint"]["open"] == 1
    assert "unresolved_complaint" not in complaint_signs(ids, complaints.drop(columns="resolved_date"), as_of=AS_OF)


def test_a_partly_paid_invoice_stays_open_for_its_rest_and_is_late_past_due():
    invoices = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "invoice_date": pd.to_datetime(["2024-04-10"] * 3),
            "due_date": pd.to_datetime(["2024-05-01"] * 3),
            "paid_date": pd.to_datetime(["2024-04-20", "2024-04-20", "2024-07-10"]),
            "amount": [1000.0, 1000.0, 1000.0],
            "paid_amount": [np.nan, 400.0, 1000.0],
        }
    )
    known = known_payments(invoices, AS_OF)
    np.testing.assert_allclose(known["collected"], [1000.0, 400.0, 0.0])  # c's payment comes after as_of
    assert known["paid_date"].notna().tolist() == [True, False, False]
    tables = {
        "transactions": pd.DataFrame(
            {"customer_id": ["a", "b", "c"], "date": pd.to_datetime(["2024-04-01"] * 3), "amount": [1000.0] * 3}
        ),
        "invoices": invoices,
    }
    frame = churn_frame(tables, as_of=AS_OF, outcomes=False, data_end=AS_OF).set_index("customer_id")
    np.testing.assert_allclose(frame["overdue_amount"], [0.0, 600.0, 1000.0])
    assert frame["days_overdue"].tolist() == [0.0, 60.0, 60.0]
    np.testing.assert_allclose(frame["overdue_share"].to_numpy(), [np.nan, 1.0, 1.0])
    assert frame["late_invoices"].tolist() == [0, 1, 1]


def test_credit_limit_flags_receivables_above_it():
    tables = {
        "transactions": pd.DataFrame(
            {"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-06-01"] * 2), "amount": [500.0, 500.0]}
        ),
        "customers": pd.DataFrame({"customer_id": ["a", "b"], "credit_limit": [400.0, 600.0]}),
        "invoices": pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "invoice_date": pd.to_datetime(["2024-06-01"] * 2),
                "due_date": pd.to_datetime(["2024-07-01"] * 2),
                "paid_date": pd.to_datetime([None, None]),
                "amount": [500.0, 500.0],
            }
        ),
    }
    frame = churn_frame(tables, as_of=AS_OF, outcomes=False, data_end=AS_OF).set_index("customer_id")
    assert frame["over_credit_limit"].to_dict() == {"a": 1, "b": 0}
    assert frame["overdue_receivables"].sum() == 0  # not yet due


def test_salesperson_signs_need_only_a_salesperson_column():
    transactions = _rows(("a", "2023-05-01", "Li"), ("a", "2024-06-01", "Wang"), ("b", "2024-06-01", "Li"))
    frame = churn_frame({"transactions": transactions.assign(amount=10.0)}, as_of=AS_OF, outcomes=False, data_end=AS_OF)
    assert frame.set_index("customer_id")["owner_change"].to_dict() == {"a": 1, "b": 0}
    assert "late_payments" not in frame and "complaint" not in frame
    assert measurable("owner_change", {"transactions": transactions})
    missing = unmeasured_signs({"transactions": transactions.drop(columns="salesperson")})
    assert "transactions.salesperson or contacts.salesperson" in set(missing["needs"])


def test_every_warning_sign_names_known_signals_and_every_b2b_sign_what_it_needs():
    for _, signals, reason in WARNING_SIGNS:
        assert signals or reason
    assert {s for _, signals, _ in WARNING_SIGNS for s in signals if s in SIGN_NEEDS} <= set(SIGN_NEEDS)


def _frame_with_signs(seed: int = 0, n: int = 4000) -> pd.DataFrame:
    """Churn driven by owner_change (RR ~ 2) and unrelated to single_owner; industries with different churn."""
    rng = np.random.default_rng(seed)
    change = (rng.random(n) < 0.2).astype(int)
    single = (rng.random(n) < 0.5).astype(int)
    industry = rng.choice(["steel", "food", "retail"], n)
    base = np.where(industry == "steel", 0.3, 0.15)
    churned = (rng.random(n) < np.minimum(base * np.where(change == 1, 2.0, 1.0), 1)).astype(int)
    time = np.where(churned == 1, 90, rng.integers(1, 90, n))
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "owner_change": change,
            "single_owner": single,
            "industry": industry,
            "churned": churned,
            "time_to_next_purchase": time.astype(float),
            "bought_again": 1 - churned,
        }
    )


def test_warning_sign_table_reports_strength_or_what_is_missing():
    frame = _frame_with_signs()
    signals = signal_table(frame, ["owner_change", "single_owner"])
    tables = {"transactions": pd.DataFrame({"salesperson": []}), "customers": pd.DataFrame({"industry": []})}
    table = warning_sign_table(signals, frame, tables).set_index("warning_sign")
    assert len(table) == len(WARNING_SIGNS)
    change = table.loc["change of salesperson"]
    assert change["verdict"] == "raises churn" and change["relative_risk_lower_95"] > 1
    assert table.loc["relationship kept by one salesperson", "verdict"] == "no clear effect"
    assert table.loc["late payments (2 or more in a quarter)", "verdict"] == "not measured"
    assert "invoices table" in table.loc["late payments (2 or more in a quarter)", "note"]
    assert table.loc["industry trouble", "verdict"] == "churn differs by industry"


def test_churn_by_group_orders_by_rate_with_wilson_intervals():
    frame = _frame_with_signs()
    table = churn_by_group(frame, "industry")
    assert table.iloc[0]["industry"] == "steel"
    raw = frame.groupby("industry")["churned"].agg(["sum", "size"])
    for row in table.itertuples():
        k, n = raw.loc[row.industry]
        assert row.churn_rate == pytest.approx(k / n)
        assert row.lower_95 < k / n < row.upper_95
    expected = sps.chi2_contingency(pd.crosstab(frame["industry"], frame["churned"]).to_numpy()).pvalue
    assert table.attrs["p_value"] == pytest.approx(expected)


def test_survival_by_sign_reads_the_curves_of_each_flag():
    frame = _frame_with_signs()
    signals = signal_table(frame, ["owner_change", "single_owner"])
    table = survival_by_sign(frame, signals, at=89.5).set_index("signal")
    assert set(table.index) == {"owner_change", "single_owner"}
    # every churner is censored at 90 days, every other customer bought before: survival at 89.5 = churn share
    for sign in table.index:
        with_it = frame[frame[sign] == 1]["churned"].mean()
        without = frame[frame[sign] == 0]["churned"].mean()
        assert table.loc[sign, "not_bought_with"] == pytest.approx(with_it)
        assert table.loc[sign, "not_bought_without"] == pytest.approx(without)
    assert table.loc["owner_change", "p_value"] < 1e-6
