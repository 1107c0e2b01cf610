"""Left-censored histories: a log cut from a longer simulated history, where the truth is known.

The history runs four years; the log the study sees starts three years in.
Customers acquired before the cut are old customers the log shows as new.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engines.censoring import censoring_cutoff, flag_left_censored
from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import ParameterError
from analysis.grading.grades import grade_customers
from analysis.grading.validity import future_value_by_grade
from analysis.studies.churn import transaction_formula, with_left_censoring
from analysis.studies.parameters import ChurnParameters
from analysis.value.tiers import rfm_segments

START, CUT, AS_OF = pd.Timestamp("2008-01-01"), pd.Timestamp("2010-12-01"), pd.Timestamp("2011-12-09")


def cut_history(seed: int = 0, customers: int = 3000) -> tuple[pd.DataFrame, pd.Series]:
    """Poisson buyers (gamma rates, mean gap 60 days), acquired uniformly over four years, dropping out.

    Returns the log from ``CUT`` to ``AS_OF`` and every customer's true acquisition date.
    """
    rng = np.random.default_rng(seed)
    days = (AS_OF - START).days + 1
    acquired = rng.uniform(0, days, customers)
    rate = rng.gamma(1.0, 1 / 60, customers)
    life = rng.exponential(3 * 365, customers)
    spend = rng.lognormal(3, 0.8, customers)
    rows = []
    for c in range(customers):
        t = acquired[c]
        while t < min(days, acquired[c] + life[c]):
            rows.append((f"C{c:05d}", int(t), round(spend[c] * rng.lognormal(0, 0.3), 2)))
            t += rng.exponential(1 / rate[c])
    log = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    log["date"] = START + pd.to_timedelta(log["day"], unit="D")
    truth = pd.Series(
        START + pd.to_timedelta(acquired.astype(int), unit="D"), index=[f"C{c:05d}" for c in range(customers)]
    )
    return log.loc[log["date"] >= CUT, ["customer_id", "date", "amount"]].reset_index(drop=True), truth


@pytest.fixture(scope="module")
def cut():
    return cut_history()


@pytest.fixture(scope="module")
def backtest(cut):
    """The grading study's backtest on the cut log: graded 124 days before as_of, 8-month window, 4-month tenure."""
    log, truth = cut
    validation = AS_OF - pd.Timedelta(days=124)
    table = calibration_holdout(log, validation, AS_OF, trailing_days=243)
    return table, validation, truth


def test_a_cohort_log_flags_nobody():
    # Every customer's first purchase in the first 12 weeks of 78 (CDNOW's shape): a cohort.
    rng = np.random.default_rng(1)
    first = pd.Timestamp("1997-01-01") + pd.to_timedelta(rng.integers(0, 84, 500), unit="D")
    summary = pd.DataFrame({"first_purchase": first, "frequency": rng.integers(0, 5, 500), "recency": 100.0})
    until, rule = censoring_cutoff(summary, "1997-01-01", "1998-06-30")
    assert until == pd.Timestamp("1997-01-01") and "cohort" in rule
    assert not flag_left_censored(summary, until)["left_censored"].any()


def test_cutoff_solves_the_exponential_rule():
    # Gaps of 20 and 80 days: mean(exp(-N/20), exp(-N/80)) = 0.1, solved independently by bisection.
    summary = pd.DataFrame(
        {
            "first_purchase": pd.to_datetime(["2024-01-03", "2024-01-10", "2024-11-01"]),
            "frequency": [5, 2, 0],
            "recency": [100.0, 160.0, 0.0],
        }
    )
    lo, hi = 0.0, 1000.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (np.exp(-mid / 20) + np.exp(-mid / 80)) / 2 > 0.1 else (lo, mid)
    until, _ = censoring_cutoff(summary, "2024-01-01", "2024-12-31")
    assert (until - pd.Timestamp("2024-01-01")).days == int(np.ceil(lo))


def test_share_must_be_a_share():
    summary = pd.DataFrame({"first_purchase": pd.to_datetime(["2024-01-01"]), "frequency": [1], "recency": [5.0]})
    with pytest.raises(ParameterError, match="share"):
        censoring_cutoff(summary, "2024-01-01", "2024-12-31", share=1.0)


def test_a_known_acquisition_date_decides():
    summary = pd.DataFrame(
        {
            "first_purchase": pd.to_datetime(["2024-01-02", "2024-01-02"]),
            "dealing_since": ["acquisition_date", "first purchase"],
        }
    )
    assert flag_left_censored(summary, "2024-02-01")["left_censored"].tolist() == [False, True]


def test_the_flag_finds_old_customers_on_a_cut_log(cut):
    log, truth = cut
    summary = customer_summary(log, AS_OF)
    until, _ = censoring_cutoff(summary, CUT, AS_OF)
    flagged = flag_left_censored(summary, until)["left_censored"].to_numpy()
    old = (truth.reindex(summary["customer_id"]) < CUT).to_numpy()
    # Most customers first seen before the cut-off are old, and most old customers are found.
    assert old[flagged].mean() > 0.7
    assert flagged[old].mean() > 0.75
    # Among customers first seen after the cut-off, old ones are the minority.
    assert old[~flagged].mean() < 0.5


def test_grading_on_observed_value_moves_provisional_counts_and_capture_towards_the_truth(cut, backtest):
    log, _ = cut
    table, validation, truth = backtest
    summary = customer_summary(log, AS_OF)
    until, _ = censoring_cutoff(summary, CUT, AS_OF)

    def graded(frame: pd.DataFrame) -> tuple[int, float]:
        grading = grade_customers(frame, "value_share_75_20_5", as_of=validation, min_tenure_days=121)
        future = future_value_by_grade(grading, frame)
        return int((grading.customers["status"] == "provisional").sum()), future["share_of_future_value"].iloc[0]

    before = graded(table)
    after = graded(flag_left_censored(table, until))
    # The truth: tenure from the true acquisition date (what an acquisition_date column would give).
    known = table.assign(dealing_start=truth.reindex(table["customer_id"]).to_numpy())
    true = graded(known)
    assert true[0] < after[0] < before[0]
    assert abs(after[1] - true[1]) < abs(before[1] - true[1])
    assert before[1] < after[1]


def test_churn_tenure_leaves_out_censored_customers_and_no_one_leaves_the_model():
    frame = pd.DataFrame(
        {
            "first_purchase": pd.to_datetime(["2024-01-02", "2024-03-01", "2024-05-01", "2024-01-05"]),
            "tenure_days": [200.0, 140.0, 80.0, 197.0],
            "recency_days": [3.0, 10.0, 40.0, 2.0],
            "churned": [0, 1, 1, 0],
        }
    )
    params = ChurnParameters(left_censored_until="2024-02-01")
    out = with_left_censoring(frame, params)
    assert out["left_censored"].tolist() == [1, 0, 0, 1]
    assert out["tenure_days"].isna().tolist() == [True, False, False, True]
    formula = transaction_formula(out)
    assert "np.log1p(tenure_days.fillna(0))" in formula and "left_censored" in formula
    # Nobody censored: the formula is the one without the rule.
    plain = with_left_censoring(frame, ChurnParameters(left_censored_until="2024-01-01"))
    assert transaction_formula(plain) == transaction_formula(frame)


def test_a_censored_customer_is_never_new():
    scores = pd.DataFrame({"r_score": [5, 5], "f_score": [1, 1], "m_score": [3, 3], "rfm": ["513", "513"]})
    segments = rfm_segments(scores, left_censored=[False, True])["segment"].astype(str).tolist()
    assert segments[0] == "new" and segments[1] != "new"
