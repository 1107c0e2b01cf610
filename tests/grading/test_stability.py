"""Regrading over time, migration matrices, retention; predictive validity; policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engines.periods import period_table
from analysis.engines.summaries import calibration_holdout
from analysis.errors import ParameterError
from analysis.grading.grades import grade_customers, grade_frame
from analysis.grading.policy import CONTACT_CADENCE, SERVICE_POLICY, service_policy, workload
from analysis.grading.schemes import make_scheme
from analysis.grading.stability import grade_history, grade_retention, migration_matrix
from analysis.grading.validity import future_value_by_grade, grade_separation


def random_transactions(seed: int, customers: int = 300, rows: int = 4_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, customers, rows)
    # Customer-level spend scale so grades persist over time.
    scale = rng.lognormal(3, 1, customers)
    return pd.DataFrame(
        {
            "customer_id": pd.Series([f"c{i:03d}" for i in ids], dtype="str"),
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, rows), unit="D"),
            "amount": np.round(rng.gamma(2.0, scale[ids] / 2), 2),
        }
    )


@pytest.fixture(scope="module")
def transactions():
    return random_transactions(0)


@pytest.fixture(scope="module")
def periods(transactions):
    return period_table(transactions, dense=True, end="2024-12-31")


def test_history_at_each_period_equals_grading_a_direct_window_sum(transactions, periods):
    scheme = make_scheme("value_share_75_20_5")
    history = grade_history(periods, scheme, window=6, min_tenure=3, start="2024-01-01")
    sparse = period_table(transactions)
    for period in [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-07-01"),
        pd.Timestamp("2024-12-01"),
    ]:
        window = sparse[(sparse["period"] > period - pd.DateOffset(months=6)) & (sparse["period"] <= period)]
        firsts = sparse.groupby("customer_id")["period"].min()
        present = firsts[firsts <= period].index
        value = window.groupby("customer_id")["value"].sum().reindex(present, fill_value=0.0)
        snapshot = pd.DataFrame({"customer_id": present, "trailing_value": value.to_numpy()})
        months_old = (period.year - firsts[present].dt.year) * 12 + period.month - firsts[present].dt.month
        expected = grade_frame(snapshot, scheme, value="trailing_value", young=(months_old < 3).to_numpy())
        actual = history[history["period"] == period].reset_index(drop=True)
        assert actual["customer_id"].tolist() == expected.customers["customer_id"].tolist()
        np.testing.assert_allclose(actual["value"], expected.customers["value"])
        assert (
            actual["grade"].astype(object).fillna("-").tolist()
            == expected.customers["grade"].astype(object).fillna("-").tolist()
        )
        assert actual["status"].tolist() == expected.customers["status"].tolist()


def test_history_uses_only_data_up_to_each_period(transactions):
    """No leakage: adding later transactions leaves earlier grades unchanged."""
    early = transactions[transactions["date"] < "2024-07-01"]
    later = transactions[transactions["date"] >= "2024-07-01"]
    assert len(later) > 0
    full = grade_history(period_table(transactions, dense=True), "rank_share_5_15_80", end="2024-06-30")
    cut = grade_history(period_table(early, dense=True), "rank_share_5_15_80", end="2024-06-30")
    pd.testing.assert_frame_equal(full, cut)


def test_migration_matrix_counts_every_graded_customer_once(periods):
    history = grade_history(periods, "value_share_75_20_5", start="2024-01-01")
    counts, probabilities = migration_matrix(history)
    graded_before_last = history[(history["status"] == "graded") & (history["period"] < history["period"].max())]
    assert counts.to_numpy().sum() == len(graded_before_last)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert list(counts.columns) == ["A", "B", "C", "inactive"]
    retention = grade_retention(counts)
    shares = retention[["kept", "moved_up", "moved_down", "became_inactive"]]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert retention.loc["A", "moved_up"] == 0 and retention.loc["C", "moved_down"] == 0
    assert retention.loc["all", "customers"] == counts.to_numpy().sum()


def test_migration_of_a_handmade_history():
    cat = pd.CategoricalDtype(["A", "B"], ordered=True)
    history = pd.DataFrame(
        {
            "period": pd.to_datetime(["2024-01-01"] * 3 + ["2024-02-01"] * 3),
            "customer_id": ["x", "y", "z"] * 2,
            "value": [9.0, 5.0, 1.0, 9.0, 0.0, 8.0],
            "status": ["graded", "graded", "graded", "graded", "no positive value", "graded"],
            "grade": pd.Series(["A", "B", "B", "A", None, "A"], dtype=cat),
        }
    )
    counts, probabilities = migration_matrix(history)
    assert counts.loc["A"].tolist() == [1, 0, 0]
    assert counts.loc["B"].tolist() == [1, 0, 1]
    assert probabilities.loc["B", "inactive"] == 0.5
    retention = grade_retention(counts)
    assert retention.loc["B", "moved_up"] == 0.5 and retention.loc["B", "became_inactive"] == 0.5


def test_history_parameters_are_checked(periods):
    with pytest.raises(ParameterError, match="window"):
        grade_history(periods, "value_share_75_20_5", window=0)
    with pytest.raises(ParameterError, match="metric"):
        grade_history(periods, "value_share_75_20_5", metric="profit")


# --------------------------------------------------------------------------- validity


def test_grades_are_unchanged_by_what_happens_after_as_of(transactions):
    """No leakage: future transactions change the outcome, never the grades."""
    as_of, end = "2024-06-30", "2024-12-31"
    holdout = calibration_holdout(transactions, as_of, end)
    shifted = transactions.assign(
        amount=np.where(transactions["date"] > as_of, transactions["amount"] * 7, transactions["amount"])
    )
    holdout_shifted = calibration_holdout(shifted, as_of, end)
    a = grade_customers(holdout, "value_share_75_20_5").customers
    b = grade_customers(holdout_shifted, "value_share_75_20_5").customers
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(holdout["value_holdout"], holdout_shifted["value_holdout"])


def test_persistent_value_gives_separating_grades_and_capture_rate(transactions):
    holdout = calibration_holdout(transactions, "2024-06-30", "2024-12-31")
    grading = grade_customers(holdout, "value_share_75_20_5")
    table = future_value_by_grade(grading, holdout)
    assert table["grade"].tolist()[:3] == ["A", "B", "C"]
    assert table["mean_future_value"].iloc[0] > table["mean_future_value"].iloc[2]
    assert table["share_of_future_value"].sum() == pytest.approx(1.0)
    tests = grade_separation(grading, holdout)
    assert tests["spearman"].statistic > 0.3 and tests["spearman"].p_value < 1e-6
    assert tests["kruskal"].degrees_of_freedom == 2


@pytest.mark.slow  # a size check by simulation: 200 gradings and Kruskal-Wallis tests
def test_grades_without_information_do_not_separate_the_future():
    """Under the null (future independent of grades) the test keeps its size."""
    rng = np.random.default_rng(21)
    p_values = []
    for _ in range(200):
        n = 300
        summary = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "trailing_value": rng.lognormal(3, 1, n)})
        future = summary[["customer_id"]].assign(value_holdout=rng.lognormal(3, 1, n))
        grading = grade_customers(summary, "rank_share_5_15_80")
        p_values.append(grade_separation(grading, future)["kruskal"].p_value)
    rejection = np.mean(np.array(p_values) < 0.05)
    assert 0.01 <= rejection <= 0.10  # nominal 5%; Binomial(200, 0.05) is inside w.p. > 0.99


# --------------------------------------------------------------------------- policy


def test_policy_tables_carry_domain_numbers():
    assert SERVICE_POLICY.set_index("grade").loc["A", "credit_days"] == 90
    assert SERVICE_POLICY.set_index("grade").loc["C", "max_delivery_days"] == 40
    cadence = CONTACT_CADENCE.set_index("cadence_class")
    assert cadence.loc["A1", "visits_per_month"] == 5  # 4 visits + supervisor
    assert cadence.loc["B2", "calls_per_month"] == pytest.approx(52 / 12 / 2)
    assert service_policy(["A", "B"])["grade"].tolist() == ["A", "B"]
    with pytest.raises(ParameterError):
        service_policy(["Z"])


def test_workload_multiplies_customers_by_cadence():
    table = workload(pd.Series({"A": 10, "B": 20, "C": 30}))
    cadence = CONTACT_CADENCE.set_index("cadence_class")["calls_per_month"]
    expected = 10 * cadence["A"] + 20 * cadence["B"] + 30 * cadence["C"]
    assert table.iloc[-1]["calls_per_month"] == pytest.approx(expected)
    tiers = workload(pd.Series({"Diamond": 2, "VIP": 3}))
    assert tiers.iloc[-1]["visits_per_month"] == pytest.approx(2 * 5 + 3 * 2)
    with pytest.raises(ParameterError, match="grade 'Q'"):
        workload(pd.Series({"Q": 1}))
