"""The shifted-beta-geometric retention model: published estimates, closed forms, identification, simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

from analysis.churn.retention import ShiftedBetaGeometric, curves_by_group, fit_by_group, summary_by_group
from analysis.churn.subscriptions import (
    churn_probability,
    discounted_expected_residual_lifetime,
    median_remaining_lifetime,
    retention_rate,
    survival_probability,
    survivor_counts,
    tenure_counts,
)
from analysis.errors import DataError, ParameterError

#: Fader and Hardie (2007), Table 1: customers still subscribed at years 0-7 of a 1,000-customer cohort.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
#: Their published maximum-likelihood estimates (three decimals).
PUBLISHED = {"regular": (REGULAR, 0.704, 1.182), "high_end": (HIGH_END, 0.668, 3.806)}


def independent_log_likelihood(alpha: float, beta: float, survivors: list[int]) -> float:
    """The paper's likelihood through its recursion (eqs. 5-6): P(T=1) = a/(a+b), P(T=t) = P(T=t-1)(b+t-2)/(a+b+t-1)."""
    n = np.asarray(survivors, dtype=float)
    p, s, total = alpha / (alpha + beta), 1.0, 0.0
    for t in range(1, n.size):
        if t > 1:
            p *= (beta + t - 2) / (alpha + beta + t - 1)
        s -= p
        total += (n[t - 1] - n[t]) * math.log(p)
    return total + n[-1] * math.log(s)


@pytest.mark.parametrize("cohort", sorted(PUBLISHED))
def test_the_papers_estimates_are_recovered(cohort):
    survivors, alpha, beta = PUBLISHED[cohort]
    model = ShiftedBetaGeometric().fit_survivors(survivors)
    assert model.usable_ and model.status_ == "converged"
    assert round(model.params_["alpha"], 3) == alpha
    assert round(model.params_["beta"], 3) == beta
    assert model.log_likelihood_ == pytest.approx(independent_log_likelihood(alpha, beta, survivors), abs=0.05)


@pytest.mark.parametrize("cohort", sorted(PUBLISHED))
def test_the_maximum_agrees_with_an_independent_optimiser_and_a_grid(cohort):
    survivors = PUBLISHED[cohort][0]
    model = ShiftedBetaGeometric().fit_survivors(survivors)
    found = optimize.minimize(
        lambda ab: -independent_log_likelihood(ab[0], ab[1], survivors),
        [1.0, 1.0],
        method="Nelder-Mead",
        bounds=[(1e-3, 50), (1e-3, 50)],
        options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 5000},
    )
    np.testing.assert_allclose(model.params_.to_numpy(), found.x, rtol=1e-5)
    assert model.log_likelihood_ == pytest.approx(-found.fun, abs=1e-7)
    a, b = model.params_.to_numpy()
    grid = [(a * (1 + da), b * (1 + db)) for da in (-0.01, 0, 0.01) for db in (-0.01, 0, 0.01) if da or db]
    assert all(independent_log_likelihood(x, y, survivors) < model.log_likelihood_ for x, y in grid)


def test_closed_forms_agree_with_the_recursion():
    alpha, beta = 0.704, 1.182
    t = np.arange(1, 30)
    survival = survival_probability(alpha, beta, t)
    np.testing.assert_allclose(survival[1:] / survival[:-1], retention_rate(alpha, beta, t[1:]), rtol=1e-12)
    np.testing.assert_allclose(1 - np.cumsum(churn_probability(alpha, beta, t)), survival, rtol=1e-10)
    assert retention_rate(alpha, beta, 1) == pytest.approx(beta / (alpha + beta))
    assert survival_probability(alpha, beta, 0) == pytest.approx(1.0)
    # Each customer's churn probability theta ~ Beta(a, b): S(t) = E[(1 - theta)^t], by numerical integration.
    for k in (1, 5, 12):
        value, _ = integrate.quad(lambda x, k=k: (1 - x) ** k * stats.beta.pdf(x, alpha, beta), 0, 1, limit=200)
        assert float(survival_probability(alpha, beta, k)) == pytest.approx(value, rel=1e-7)


def direct_derl(alpha, beta, renewals, d, terms=400_000):
    """sum_{k>=0} S(n+1+k)/S(n) / (1+d)^k, summed term by term."""
    k = np.arange(terms, dtype=float)
    log_ratio = special.betaln(alpha, beta + renewals + 1 + k) - special.betaln(alpha, beta + renewals)
    return float(np.sum(np.exp(log_ratio - k * np.log1p(d))))


@pytest.mark.parametrize(
    ("alpha", "beta", "renewals", "d"),
    [(0.704, 1.182, 0, 0.1), (0.668, 3.806, 4, 0.1), (0.42, 7.4, 0, 1.1 ** (1 / 12) - 1), (2.5, 3.0, 12, 0.02)],
)
def test_derl_equals_the_sum_of_discounted_survival(alpha, beta, renewals, d):
    closed = discounted_expected_residual_lifetime(alpha, beta, renewals=renewals, discount_rate=d)
    assert float(closed) == pytest.approx(direct_derl(alpha, beta, renewals, d), rel=1e-9)


def test_derl_of_a_new_customer_agrees_with_fader_hardies_del():
    # Fader and Hardie (2010), eq. 4: DEL = 2F1(1, beta; alpha + beta; 1 / (1 + d)) values a customer at acquisition,
    # paying now and at each renewal, one period apart: DEL = 1 + DERL(0) / (1 + d), whose first renewal is a period on.
    alpha, beta, d = 0.668, 3.806, 0.1
    derl = float(discounted_expected_residual_lifetime(alpha, beta, renewals=0, discount_rate=d))
    assert 1 + derl / (1 + d) == pytest.approx(special.hyp2f1(1, beta, alpha + beta, 1 / (1 + d)), rel=1e-12)


def test_undiscounted_remaining_lifetime_is_finite_only_when_alpha_exceeds_one():
    assert float(discounted_expected_residual_lifetime(2.5, 3.0, renewals=2, discount_rate=0)) == pytest.approx(
        (3.0 + 2) / 1.5
    )
    assert direct_derl(2.5, 3.0, 2, 0.0, terms=2_000_000) == pytest.approx((3.0 + 2) / 1.5, rel=1e-3)
    assert math.isinf(float(discounted_expected_residual_lifetime(0.7, 1.2, renewals=0, discount_rate=0)))


def test_median_remaining_lifetime_is_where_conditional_survival_halves():
    alpha, beta, n = 0.704, 1.182, 3
    m = median_remaining_lifetime(alpha, beta, renewals=n)
    ratio = survival_probability(alpha, beta, [n + m - 1, n + m]) / survival_probability(alpha, beta, n)
    assert ratio[0] > 0.5 >= ratio[1]


def test_residual_value_is_the_margin_times_derl_with_its_interval():
    model = ShiftedBetaGeometric().fit_survivors(REGULAR)
    table = model.residual_lifetime(renewals=2, discount_rate=0.1, margin=50.0).set_index("quantity")
    derl = discounted_expected_residual_lifetime(*model.params_.to_numpy(), renewals=2, discount_rate=0.1)
    assert table.loc["derl", "estimate"] == pytest.approx(float(derl))
    np.testing.assert_allclose(table.loc["residual_value"].to_numpy(), 50 * table.loc["derl"].to_numpy())
    assert table.loc["derl", "lower_95"] < table.loc["derl", "estimate"] < table.loc["derl", "upper_95"]


def test_delta_method_intervals_agree_with_a_parametric_bootstrap():
    model = ShiftedBetaGeometric().fit_survivors(HIGH_END)
    curve = model.retention_curve(periods=[3, 12]).set_index("period")
    draws = np.exp(np.random.default_rng(7).multivariate_normal(model.theta_, model.covariance_log_.to_numpy(), 20000))
    for t in (3, 12):
        s = survival_probability(draws[:, 0], draws[:, 1], t)
        lower, upper = np.quantile(s, [0.025, 0.975])
        assert curve.loc[t, "survival_lower_95"] == pytest.approx(lower, abs=0.004)
        assert curve.loc[t, "survival_upper_95"] == pytest.approx(upper, abs=0.004)


def test_survivors_and_tenures_are_the_same_data():
    individual = pd.DataFrame(
        {
            "tenure": np.repeat([1, 2, 3, 3], [369, 163, 86, 382]),
            "churned": np.repeat([1, 1, 1, 0], [369, 163, 86, 382]),
        }
    )
    pd.testing.assert_frame_equal(
        survivor_counts([1000, 631, 468, 382]), tenure_counts(individual, tenure="tenure", churned="churned")
    )
    a = ShiftedBetaGeometric().fit_survivors([1000, 631, 468, 382])
    b = ShiftedBetaGeometric().fit(individual, tenure="tenure", churned="churned")
    np.testing.assert_allclose(a.params_.to_numpy(), b.params_.to_numpy(), rtol=1e-8)


@pytest.mark.parametrize(
    ("survivors", "status"),
    [
        ([4096, 2048, 1024, 512, 256, 128, 64, 32], "no spread in churn probabilities"),  # exactly geometric
        ([1000, 1000, 1000], "not identified: no customer churned"),
        ([1000, 600], "not identified: no customer observed beyond period 1"),
    ],
)
def test_fits_that_cannot_be_used_say_so(survivors, status):
    model = ShiftedBetaGeometric().fit_survivors(survivors)
    assert not model.usable_
    assert model.status_.startswith(status)
    assert not model.summary()["usable"].any()


def test_bad_data_is_refused():
    with pytest.raises(DataError, match="at least one period"):
        tenure_counts(pd.DataFrame({"t": [0, 3], "c": [1, 0]}), tenure="t", churned="c")
    with pytest.raises(DataError, match="whole numbers"):
        tenure_counts(pd.DataFrame({"t": [1.5, 3], "c": [1, 0]}), tenure="t", churned="c")
    with pytest.raises(DataError, match="0/1"):
        tenure_counts(pd.DataFrame({"t": [1, 3], "c": [2, 0]}), tenure="t", churned="c")
    with pytest.raises(ParameterError, match="survivors"):
        survivor_counts([100, 120, 90])
    with pytest.raises(DataError, match="full period"):
        ShiftedBetaGeometric().fit(pd.DataFrame({"tenure_months": [0, 0], "churned": [0, 0]}))
    with pytest.raises(ParameterError, match="not fitted"):
        ShiftedBetaGeometric().summary()


def simulate(alpha, beta, n, rng, horizon=24):
    """Customers acquired 1..horizon periods ago, theta ~ Beta(alpha, beta), geometric lifetimes, censored today."""
    theta = rng.beta(alpha, beta, n)
    lifetime = rng.geometric(theta)  # the period at whose end the customer leaves
    observed = rng.integers(1, horizon + 1, n)
    churned = lifetime <= observed
    return pd.DataFrame({"tenure_months": np.where(churned, lifetime, observed), "churned": churned.astype(int)})


def test_planted_parameters_are_recovered_by_group():
    rng = np.random.default_rng(11)
    data = pd.concat(
        [simulate(0.5, 6.0, 20_000, rng).assign(plan="a"), simulate(2.0, 3.0, 20_000, rng).assign(plan="b")]
    )
    fits = fit_by_group(data, group="plan")
    table = summary_by_group(fits, group="plan").set_index(["plan", "parameter"])
    truth = {("a", "alpha"): 0.5, ("a", "beta"): 6.0, ("b", "alpha"): 2.0, ("b", "beta"): 3.0}
    for key, value in truth.items():
        assert table.loc[key, "usable"]
        assert table.loc[key, "estimate"] == pytest.approx(value, rel=0.15)
    curves = curves_by_group(fits, periods=[0, 12], group="plan")
    assert list(curves.columns[:3]) == ["plan", "usable", "period"]
    assert (curves.loc[curves["period"] == 0, "survival"] == 1).all()


@pytest.mark.slow
def test_intervals_cover_the_truth_at_about_the_nominal_rate():
    alpha, beta, repeats = 0.7, 4.0, 200
    rng = np.random.default_rng(2007)
    s12 = float(survival_probability(alpha, beta, 12))
    hits = {"alpha": 0, "beta": 0, "survival_12": 0}
    usable = 0
    for _ in range(repeats):
        model = ShiftedBetaGeometric().fit(simulate(alpha, beta, 1500, rng))
        usable += model.usable_
        ci = model.confidence_intervals_
        hits["alpha"] += ci.loc["alpha", "lower_95"] <= alpha <= ci.loc["alpha", "upper_95"]
        hits["beta"] += ci.loc["beta", "lower_95"] <= beta <= ci.loc["beta", "upper_95"]
        row = model.retention_curve(periods=[12]).iloc[0]
        hits["survival_12"] += row["survival_lower_95"] <= s12 <= row["survival_upper_95"]
    assert usable == repeats
    for name, count in hits.items():
        # 95% nominal; binomial sd over 200 repeats is 1.5 points, so 89%-99% is 4 sd wide (the seed is fixed).
        assert 0.89 <= count / repeats <= 0.99, (name, count)
