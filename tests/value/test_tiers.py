"""RFM scores and segments, pyramids, risk bands, value x risk with actions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import DataError, ParameterError
from analysis.grading.policy import VALUE_RISK_ACTIONS
from analysis.value.tiers import (
    DEFAULT_SEGMENT_RULES,
    absolute_tiers,
    rfm_scores,
    rfm_segments,
    risk_bands,
    tier_profile,
    value_pyramid,
    value_risk_matrix,
)


def summary_of(recency_gap, occasions, value):
    n = len(value)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "T": np.full(n, 400.0),
            "recency": 400.0 - np.asarray(recency_gap, float),
            "occasions": np.asarray(occasions, int),
            "total_value": np.asarray(value, float),
        }
    )


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.integers(0, 20), min_size=5, max_size=200),
    bins=st.sampled_from([3, 4, 5]),
)
def test_scores_are_monotone_share_ties_and_fill_quantiles_up_to_ties(values, bins):
    n = len(values)
    summary = summary_of(values, np.asarray(values) + 1, values)
    scores = rfm_scores(summary, bins=bins)
    x = np.asarray(values)
    for column, key in (("m_score", x), ("f_score", x), ("r_score", -x)):
        s = scores[column].to_numpy()
        assert s.min() >= 1 and s.max() <= bins
        order = np.argsort(key, kind="stable")
        assert np.all(np.diff(s[order]) >= 0)  # higher value never gets a lower score
        for v in np.unique(key):
            assert len(set(s[key == v])) == 1  # ties share a score
        # Without ties each score holds n / bins customers (to rounding).
    if len(set(values)) == n:
        counts = np.bincount(scores["m_score"], minlength=bins + 1)[1:]
        assert counts.max() - counts.min() <= 1


def test_recent_buyers_get_high_recency_scores():
    scores = rfm_scores(summary_of([1, 50, 100, 200, 300], [1, 1, 1, 1, 1], [5, 5, 5, 5, 5]))
    assert scores["r_score"].tolist() == [5, 4, 3, 2, 1]
    assert scores["rfm"].iloc[0] == "511"


def test_segments_follow_rule_order_and_default_rules_cover_everyone():
    grid = np.array(np.meshgrid(*[range(1, 6)] * 3)).reshape(3, -1).T
    scores = pd.DataFrame(grid, columns=["r_score", "f_score", "m_score"]).assign(rfm="x")
    segmented = rfm_segments(scores)
    assert segmented["segment"].notna().all()
    top = segmented[(segmented["r_score"] == 5) & (segmented["f_score"] == 5) & (segmented["m_score"] == 5)]
    assert top["segment"].iloc[0] == "VIP"
    # A customer matching several rules gets the first one.
    vip_and_loyal = segmented[(segmented["r_score"] >= 4) & (segmented["f_score"] >= 4) & (segmented["m_score"] >= 4)]
    assert (vip_and_loyal["segment"] == "VIP").all()
    with pytest.raises(DataError, match="match no segment rule"):
        rfm_segments(scores, DEFAULT_SEGMENT_RULES.iloc[:2])


def test_pyramid_cuts_by_share_of_customers():
    frame = pd.DataFrame({"clv": np.random.default_rng(0).permutation(np.arange(1, 1001)).astype(float)})
    tiers = value_pyramid(frame)
    assert tiers.value_counts(sort=False).tolist() == [10, 40, 150, 800]
    assert list(tiers.cat.categories) == ["top 1%", "next 4%", "next 15%", "rest"]
    assert frame.loc[tiers == "top 1%", "clv"].min() > frame.loc[tiers == "next 4%", "clv"].max()


def test_pyramid_puts_customers_without_value_in_the_last_tier():
    frame = pd.DataFrame({"clv": [100.0, 50.0, 0.0, -3.0, 20.0]})
    tiers = value_pyramid(frame, cuts=(0.2, 0.6), labels=["top", "mid", "base"])
    assert tiers.tolist() == ["top", "mid", "base", "base", "base"]


def test_absolute_tiers_scale_and_coefficient():
    frame = pd.DataFrame({"trailing_value": [600.0, 250.0, 25.0, 2.0, 0.5]})
    tiers = absolute_tiers(frame, scale=1e-4)
    assert tiers.tolist() == ["Diamond", "Platinum", "Gold", "VIP", "not key"]
    smaller_region = absolute_tiers(frame, scale=1e-4, coefficient=0.8)
    assert smaller_region.tolist()[2] == "Gold"


def test_risk_bands_and_validation():
    p = pd.Series([0.0, 0.29, 0.3, 0.59, 0.6, 1.0], name="churn_probability")
    assert risk_bands(p).tolist() == ["low", "low", "medium", "medium", "high", "high"]
    with pytest.raises(ParameterError, match="risk_cuts"):
        risk_bands(p, cuts=(0.6, 0.3))
    with pytest.raises(DataError, match="outside"):
        risk_bands(pd.Series([1.2], name="p"))


@pytest.fixture
def customers():
    rng = np.random.default_rng(1)
    n = 2_000
    clv = rng.lognormal(3, 1, n)
    p = rng.uniform(0, 1, n)
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "clv": clv, "churn_probability": p})
    frame["trailing_value"] = clv * rng.uniform(0.5, 1.5, n)
    frame["p_alive"] = 1 - p
    frame["tier"] = value_pyramid(frame)
    frame["risk"] = risk_bands(frame["churn_probability"])
    return frame


def test_value_risk_matrix_adds_up_and_has_an_action_for_each_cell(customers):
    cells = value_risk_matrix(customers)
    assert len(cells) == 4 * 3
    assert cells["customers"].sum() == len(customers)
    expected_at_risk = (customers["clv"] * customers["churn_probability"]).sum()
    assert cells["value_at_risk"].sum() == pytest.approx(expected_at_risk)
    assert cells["value_at_risk"].is_monotonic_decreasing
    top_high = cells[(cells["tier"] == "top 1%") & (cells["risk"] == "high")]
    assert top_high["action"].iloc[0].startswith("protect first")
    bottom_low = cells[(cells["tier"] == "rest") & (cells["risk"] == "low")]
    assert "low cost" in bottom_low["action"].iloc[0]
    with pytest.raises(ParameterError, match="actions"):
        value_risk_matrix(customers, actions=VALUE_RISK_ACTIONS.iloc[:3])


def test_tier_profile_shares(customers):
    profile = tier_profile(customers)
    assert profile["customers"].sum() == len(customers)
    assert profile["share_of_predicted_value"].sum() == pytest.approx(1.0)
    assert profile["mean_predicted_value"].is_monotonic_decreasing
    assert "mean_p_alive" in profile
