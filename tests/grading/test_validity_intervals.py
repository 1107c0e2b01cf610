"""Per-grade mean intervals (bootstrap-t, seeded) and paired intervals of the schemes' capture gains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.grading.grades import grade_customers
from analysis.grading.validity import capture_gains, future_value_by_grade

SCHEMES = ("value_share_75_20_5", "rank_share_5_15_80")


def base(seed=0, n=600):
    """Customers whose later value follows their current value (lognormal, a third buy nothing later)."""
    rng = np.random.default_rng(seed)
    now = rng.lognormal(3, 1.2, n)
    later = now * rng.lognormal(0, 0.8, n) * (rng.random(n) > 1 / 3)
    summary = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "trailing_value": now})
    return summary, pd.DataFrame({"customer_id": summary["customer_id"], "value_holdout": later})


def gradings(summary):
    return {name: grade_customers(summary, name) for name in SCHEMES}


def test_per_grade_means_use_the_seeded_bootstrap():
    summary, future = base()
    grading = grade_customers(summary, SCHEMES[0])
    table = future_value_by_grade(grading, future, seed=4)
    assert table.equals(future_value_by_grade(grading, future, seed=4))
    a = table.iloc[0]
    assert a["mean_upper"] - a["mean_future_value"] > a["mean_future_value"] - a["mean_lower"]  # skew followed


def test_capture_gains_match_the_capture_rate_and_pair_the_schemes():
    summary, future = base()
    grades = gradings(summary)
    gains = capture_gains(grades, future, seed=1).set_index("scheme")
    for name, grading in grades.items():  # the capture rate as future_value_by_grade computes it
        assert gains.loc[name, "capture_rate"] == pytest.approx(
            future_value_by_grade(grading, future)["share_of_future_value"].iloc[0]
        )
    leader = gains["capture_gain"].idxmax()
    assert gains.loc[leader, ["gain_vs_leader", "gain_vs_leader_lower_95", "gain_vs_leader_upper_95"]].eq(0).all()
    other = gains.drop(index=leader).iloc[0]
    assert other["gain_vs_leader_lower_95"] <= other["gain_vs_leader"] <= other["gain_vs_leader_upper_95"] <= 0
    # Paired: the difference's interval is narrower than the two gains' intervals side by side would suggest.
    width = other["gain_vs_leader_upper_95"] - other["gain_vs_leader_lower_95"]
    spread = lambda s: s["capture_gain_upper_95"] - s["capture_gain_lower_95"]  # noqa: E731
    assert width < np.hypot(spread(other), spread(gains.loc[leader]))
    same = capture_gains({"a": grades[SCHEMES[0]], "b": grades[SCHEMES[0]]}, future, seed=1)
    assert (same[["gain_vs_leader_lower_95", "gain_vs_leader_upper_95"]] == 0).all().all()


def test_the_difference_interval_covers_the_population_difference():
    # Population difference of the two schemes' capture gains, from one very large sample.
    summary, future = base(seed=99, n=200_000)
    truth = capture_gains(gradings(summary), future, n_boot=99).set_index("scheme")["capture_gain"]
    true_difference = truth[SCHEMES[1]] - truth[SCHEMES[0]]
    hits, repeats = 0, 120
    for r in range(repeats):
        summary, future = base(seed=r, n=400)
        gains = capture_gains(gradings(summary), future, n_boot=499, seed=r).set_index("scheme")
        other = gains.index[gains["gain_vs_leader"] != 0][0]  # its interval is of (other - leader)
        sign = 1 if other == SCHEMES[1] else -1  # as (SCHEMES[1] - SCHEMES[0])
        bounds = sorted(sign * gains.loc[other, ["gain_vs_leader_lower_95", "gain_vs_leader_upper_95"]])
        hits += bounds[0] <= true_difference <= bounds[1]
    assert 0.88 <= hits / repeats <= 0.99, hits / repeats
