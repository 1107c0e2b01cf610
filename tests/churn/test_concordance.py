"""Tests of analysis.churn.concordance: Harrell's C against brute force, Kendall's tau and a planted truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from analysis.churn.concordance import concordance_counts, harrell_c
from analysis.errors import DataError
from analysis.stats import bootstrap_samples


def _brute_force(t, d, r):
    concordant = comparable = 0.0
    for i in range(len(t)):
        for j in range(len(t)):
            if not d[i] or i == j:
                continue
            if t[i] < t[j] or (t[i] == t[j] and not d[j]):
                comparable += 1
                concordant += 1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0
    return concordant, comparable


def test_counts_match_a_pair_by_pair_count_with_ties_and_censoring():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 12, 150).astype(float)  # tied times
    d = rng.random(150) < 0.4
    r = np.round(rng.normal(size=150), 1)  # tied risks
    assert concordance_counts(t, d, r) == pytest.approx(_brute_force(t, d, r))


def test_without_censoring_or_ties_c_is_kendalls_tau_rescaled():
    # Every pair comparable: C = (1 - tau(risk, time)) / 2 (a high risk goes with a short time).
    rng = np.random.default_rng(2)
    t, r = rng.exponential(size=300), rng.normal(size=300)
    c = harrell_c(t, np.ones(300), r, n_boot=0)
    assert c.comparable_pairs == 300 * 299 / 2
    assert c.c_index == pytest.approx((1 - sps.kendalltau(r, t).statistic) / 2)


def test_orientation_and_missing_rows():
    t = np.array([1.0, 2, 3, 4, 5])
    d = np.array([1, 1, 1, 0, 1])
    assert harrell_c(t, d, -t, n_boot=0).c_index == 1.0
    assert harrell_c(t, d, t, n_boot=0).c_index == 0.0
    assert harrell_c(t, d, np.zeros(5), n_boot=0).c_index == 0.5
    with_gap = harrell_c(np.append(t, 9), np.append(d, 1), np.append(-t, np.nan), n_boot=0)
    assert with_gap.n == 5 and with_gap.c_index == 1.0
    with pytest.raises(DataError, match="no comparable pair"):
        harrell_c(t, np.zeros(5), t, n_boot=0)
    with pytest.raises(DataError, match="0/1"):
        harrell_c(t, [0, 1, 2, 0, 1], t, n_boot=0)


def _true_c(beta: float) -> float:
    # Exponential times with rate exp(beta x), x ~ N(0, 1), no censoring: the riskier of a pair fails first with
    # probability max(rate) / (sum of rates); C is its mean over pairs (a million pairs: error below 1e-3).
    x = np.random.default_rng(99).normal(size=(1_000_000, 2))
    rates = np.exp(beta * x)
    return float((rates.max(axis=1) / rates.sum(axis=1)).mean())


@pytest.mark.slow
def test_bootstrap_interval_covers_the_planted_concordance():
    beta, n, reps = 0.8, 150, 150
    truth = _true_c(beta)
    rng = np.random.default_rng(5)
    covered, estimates = 0, []
    for rep in range(reps):
        x = rng.normal(size=n)
        t = rng.exponential(1 / np.exp(beta * x))
        result = harrell_c(t, np.ones(n), x, n_boot=200, seed=rep)  # no censoring: the truth above is exact
        covered += result.lower <= truth <= result.upper
        estimates.append(result.c_index)
    assert abs(np.mean(estimates) - truth) < 0.01, (np.mean(estimates), truth)
    # percentile bootstrap runs a little below nominal at n = 150: true rate assumed in [0.91, 0.96]
    low, high = sps.binom.ppf(1e-4, reps, 0.91) / reps, sps.binom.isf(1e-4, reps, 0.96) / reps
    assert low <= covered / reps <= high, covered / reps
    print(f"C: truth {truth:.4f}, mean estimate {np.mean(estimates):.4f}, coverage {covered / reps:.3f}")


def test_bootstrap_interval_is_that_of_the_resampled_rows():
    # The interval comes from resampling counts, not recounted pairs: it must equal the long way round.
    rng = np.random.default_rng(6)
    t, d, r = rng.integers(0, 8, 60).astype(float), rng.random(60) < 0.5, np.round(rng.normal(size=60), 1)
    result = harrell_c(t, d, r, n_boot=99, seed=4)
    draws = np.concatenate(list(bootstrap_samples(60, 99, 4)))
    values = [np.divide(*concordance_counts(t[k], d[k], r[k])) for k in draws]
    assert (result.lower, result.upper) == pytest.approx(tuple(np.nanquantile(values, [0.025, 0.975])))
