"""Tests of the purchase-count distributions P(X(t) = x) and P(X(T, T+t) = x* | x, t_x, T).

Every reference is computed here, independently of the code under test: identities
with the models' own expectations (computed by other formulas: hypergeometric
series, closed forms), double integrals of the individual-level models over the
mixing distributions (``scipy.integrate``), the incomplete beta function where the
Pareto/NBD integral has one (``alpha = beta``), and Monte Carlo simulation of the
models (``clv.simulate``). No expected number is copied from the code's output.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special
from scipy import stats as sps

from analysis.errors import ParameterError
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.pareto_nbd import ParetoNBDModel
from analysis.value.clv.purchase_counts import pnbd_count_log_pmf
from analysis.value.clv.simulate import simulate_bgnbd, simulate_pareto_nbd

# The published CDNOW fits (weeks): Fader, Hardie & Lee (2005), Table 1; Fader & Hardie's Pareto/NBD note.
CDNOW_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PNBD = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
BG_SETS = [
    CDNOW_BG,
    {"r": 1.3, "alpha": 2.0, "a": 2.5, "b": 4.0},
    {"r": 0.4, "alpha": 6.0, "a": 1.0, "b": 1.5},
    {"r": 0.4, "alpha": 6.0, "a": 0.3, "b": 0.4},  # a + b < 1
]
PNBD_SETS = [
    CDNOW_PNBD,
    {"r": 0.5, "alpha": 5.0, "s": 0.7, "beta": 10.0},
    {"r": 2.0, "alpha": 30.0, "s": 1.0, "beta": 4.0},  # alpha > beta
    {"r": 0.2, "alpha": 1.0, "s": 2.5, "beta": 50.0},  # s > 1, alpha < beta
]
MODELS = [(BetaGeoModel, p) for p in BG_SETS] + [(ParetoNBDModel, p) for p in PNBD_SETS]
IDS = [f"bg{i}" for i in range(len(BG_SETS))] + [f"pnbd{i}" for i in range(len(PNBD_SETS))]


def weekly(frame):
    """T in whole weeks and purchase times in whole days, as summaries in weeks are (few distinct histories)."""
    return frame.assign(T=np.ceil(frame["T"]), recency=np.ceil(frame["recency"] * 7) / 7)


# --------------------------------------------------------------------------- identities


@pytest.mark.parametrize(("model_class", "params"), MODELS, ids=IDS)
def test_population_probabilities_sum_to_one_and_their_mean_is_expected_purchases(model_class, params):
    model = model_class.from_params(params)
    times = [0.0, 0.5, 39.0, 78.0, 400.0]
    probs = model.purchase_count_probabilities_population(times=times, counts=range(20_000))
    assert probs.index.name == "time" and probs.columns.name == "purchases"
    assert (probs.to_numpy() >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-8)
    mean = probs.to_numpy() @ probs.columns.to_numpy()
    np.testing.assert_allclose(mean, model.expected_purchases_population(times=times).to_numpy(), rtol=1e-8, atol=0)
    assert probs.loc[0.0, 0] == 1.0  # nothing happens in no time


@pytest.mark.parametrize(("model_class", "params"), MODELS, ids=IDS)
def test_conditional_probabilities_sum_to_one_and_their_mean_is_expected_purchases(model_class, params):
    simulate = simulate_bgnbd if model_class is BetaGeoModel else simulate_pareto_nbd
    data = simulate(400, params, T=np.random.default_rng(3).uniform(1, 78, 400), seed=3)
    model = model_class.from_params(params)
    probs = model.purchase_count_probabilities(horizon=39.0, counts=range(800), data=data)
    assert probs.index.equals(data.index) and probs.shape == (400, 800)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-8)
    mean = probs.to_numpy() @ probs.columns.to_numpy()
    expected = model.expected_purchases(horizon=39.0, data=data).to_numpy()
    np.testing.assert_allclose(mean, expected, rtol=1e-8, atol=1e-12)
    # P(no purchase) is at least the probability of having left.
    assert (probs[0].to_numpy() >= 1 - model.probability_alive(data).to_numpy() - 1e-15).all()


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel])
def test_long_periods_reach_large_counts_accurately(model_class):
    """Over 5000 weeks customers make up to thousands of purchases: the tail still sums to 1."""
    params = CDNOW_BG if model_class is BetaGeoModel else CDNOW_PNBD
    model = model_class.from_params(params)
    probs = model.purchase_count_probabilities_population(times=[5000.0], counts=range(40_000)).to_numpy()[0]
    assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-8
    mean = probs @ np.arange(probs.size)
    assert mean == pytest.approx(model.expected_purchases_population(times=5000.0).iloc[0], rel=1e-8)


def test_pareto_nbd_with_equal_rates_is_an_incomplete_beta_function():
    """With alpha = beta the lifetime integral is s B(x+1, r+s) I_w(x+1, r+s): checked up to x = 10,000."""
    worst = 0.0
    for r, alpha, s in [(0.553, 10.58, 0.606), (0.2, 3.0, 0.1), (5.0, 1.0, 3.0), (2.0, 0.01, 0.3)]:
        for t in [0.01, 1.0, 39.0, 1e5]:
            x = np.array([0, 1, 2, 5, 10, 50, 100, 1000, 10_000], dtype=float)
            w = t / (alpha + t)
            nb = special.gammaln(r + x) - special.gammaln(r) - special.gammaln(x + 1)
            alive = nb + r * math.log(alpha / (alpha + t)) + x * math.log(w) - s * math.log1p(t / alpha)
            with np.errstate(divide="ignore"):
                ended = nb + math.log(s) + special.betaln(x + 1, r + s) + np.log(special.betainc(x + 1, r + s, w))
            reference = np.logaddexp(alive, ended)
            got = pnbd_count_log_pmf(x, t, r, alpha, s, alpha)
            # betainc underflows to 0 below 1e-308: compare where the reference keeps both terms.
            keep = np.isfinite(ended)
            worst = max(worst, float(np.max(np.abs(got[keep] - reference[keep]) / np.maximum(1, -reference[keep]))))
    assert worst < 5e-12  # the reference's own gammaln / betaln rounding at x = 10,000 is about 1e-12


# --------------------------------------------------------------------------- double integrals


def over_gamma(f, shape, rate):
    """``E f(lambda)`` for ``lambda ~ Gamma(shape, rate)`` by ``quad``, with ``lambda = u^(1/shape)``
    (which turns the density's ``lambda^(shape-1)`` singularity into ``du / shape``)."""

    def g(u):
        lam = u ** (1 / shape)
        return f(lam) * math.exp(-rate * lam)

    scale = math.exp(shape * math.log(rate) - math.lgamma(shape + 1))
    return scale * integrate.quad(g, 0, math.inf, epsabs=0, epsrel=1e-11, limit=400)[0]


def over_beta(f, a, b):
    """``E f(p)`` for ``p ~ Beta(a, b)`` by ``quad`` with the algebraic weight ``p^(a-1) (1-p)^(b-1)``."""
    value = integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), epsabs=0, epsrel=1e-11, limit=200)[0]
    return value / special.beta(a, b)


def poisson_pmf(x, m):
    return math.exp(x * math.log(m) - m - math.lgamma(x + 1)) if m > 0 else float(x == 0)


def bg_individual(x, t, lam, p):
    """Fader, Hardie & Lee (2005) eq. 3: P(X(t) = x | lambda, p); ``gammainc(x, m) = P(Poisson(m) >= x)``."""
    value = (1 - p) ** x * poisson_pmf(x, lam * t)
    if x > 0:
        value += p * (1 - p) ** (x - 1) * special.gammainc(x, lam * t)
    return value


def pnbd_individual(x, t, lam, mu):
    """P(X(t) = x | lambda, mu): active to t, or the lifetime ended at u < t (integral over u in closed form)."""
    ended = mu * lam**x / (lam + mu) ** (x + 1) * special.gammainc(x + 1, (lam + mu) * t)
    return poisson_pmf(x, lam * t) * math.exp(-mu * t) + ended


def over_mixing(model_class, params, f):
    """``E f(lambda, dropout)`` over the model's two mixing distributions: nested ``quad``."""
    if model_class is BetaGeoModel:
        r, alpha, a, b = params.values()
        return over_gamma(lambda lam: over_beta(lambda p: f(lam, p), a, b), r, alpha)
    r, alpha, s, beta = params.values()
    return over_gamma(lambda lam: over_gamma(lambda mu: f(lam, mu), s, beta), r, alpha)


@pytest.mark.parametrize(("model_class", "params"), [(BetaGeoModel, CDNOW_BG), (ParetoNBDModel, CDNOW_PNBD)])
@pytest.mark.parametrize(("x", "t"), [(0, 39.0), (1, 39.0), (3, 10.0), (6, 78.0)])
def test_population_probabilities_equal_integrals_over_the_mixing_distributions(model_class, params, x, t):
    individual = bg_individual if model_class is BetaGeoModel else pnbd_individual
    reference = over_mixing(model_class, params, lambda lam, other: individual(x, t, lam, other))
    got = model_class.from_params(params).purchase_count_probabilities_population(times=t, counts=[x]).iloc[0, 0]
    assert got == pytest.approx(reference, rel=1e-7)


def bg_history_terms(x, t_x, T, lam, p):
    """The individual BG/NBD likelihood, split into still active at T and dropped out by T."""
    alive = (1 - p) ** x * lam**x * math.exp(-lam * T)
    dead = p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x) if x > 0 else 0.0
    return alive, dead


def pnbd_history_terms(x, t_x, T, lam, mu):
    """The individual Pareto/NBD likelihood, split into still active at T and ended in (t_x, T]."""
    alive = lam**x * math.exp(-(lam + mu) * T)
    dead = lam**x * mu / (lam + mu) * (math.exp(-(lam + mu) * t_x) - math.exp(-(lam + mu) * T))
    return alive, dead


@pytest.mark.parametrize(("model_class", "params"), [(BetaGeoModel, CDNOW_BG), (ParetoNBDModel, CDNOW_PNBD)])
@pytest.mark.parametrize(("x", "t_x", "T", "x_star"), [(0, 0.0, 30.0, 0), (2, 20.0, 38.0, 0), (2, 20.0, 38.0, 2)])
def test_conditional_probabilities_equal_posterior_integrals(model_class, params, x, t_x, T, x_star):
    """Bayes' rule over (lambda, dropout) by double integration: the future of an active customer is the model's."""
    terms = bg_history_terms if model_class is BetaGeoModel else pnbd_history_terms
    individual = bg_individual if model_class is BetaGeoModel else pnbd_individual
    horizon = 39.0

    def joint(lam, other):
        alive, dead = terms(x, t_x, T, lam, other)
        return alive * individual(x_star, horizon, lam, other) + (dead if x_star == 0 else 0.0)

    reference = over_mixing(model_class, params, joint) / over_mixing(
        model_class, params, lambda lam, other: sum(terms(x, t_x, T, lam, other))
    )
    history = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})
    got = model_class.from_params(params).purchase_count_probabilities(horizon=horizon, counts=[x_star], data=history)
    assert got.iloc[0, 0] == pytest.approx(reference, rel=1e-6)


# --------------------------------------------------------------------------- Monte Carlo


def pearson(observed, expected):
    """Pearson's statistic and its chi-square p-value (expected counts over the cells, all >= 5 here)."""
    assert expected.min() >= 5
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(sps.chi2.sf(statistic, observed.size - 1))


def binned(counts, top):
    return np.bincount(np.minimum(counts, top), minlength=top + 1)


@pytest.mark.parametrize(
    ("simulate", "model_class", "params"),
    [(simulate_bgnbd, BetaGeoModel, CDNOW_BG), (simulate_pareto_nbd, ParetoNBDModel, CDNOW_PNBD)],
)
def test_population_probabilities_match_simulated_counts(simulate, model_class, params):
    """Purchases of 100,000 simulated customers in 39 weeks against 100,000 P(X(39) = x) (12+ pooled)."""
    n, top = 100_000, 12
    data = simulate(n, params, T=39.0, seed=21)
    probs = model_class.from_params(params).purchase_count_probabilities_population(times=39.0, counts=range(top))
    expected = n * np.append(probs.to_numpy()[0], 1 - probs.to_numpy().sum())
    # Fixed seed: the p-value is that of this one draw; under the model it is uniform, so 1e-4 fails by chance
    # with probability 1e-4. The largest cell's share must also sit within 4 standard errors.
    _, p_value = pearson(binned(data["frequency"].to_numpy(), top), expected)
    assert p_value > 1e-4
    share, model_share = binned(data["frequency"].to_numpy(), top) / n, expected / n
    assert np.all(np.abs(share - model_share) <= 4 * np.sqrt(model_share * (1 - model_share) / n))


@pytest.mark.parametrize(
    ("simulate", "model_class", "params"),
    [(simulate_bgnbd, BetaGeoModel, CDNOW_BG), (simulate_pareto_nbd, ParetoNBDModel, CDNOW_PNBD)],
)
def test_conditional_probabilities_match_simulated_holdout_counts(simulate, model_class, params):
    """Holdout purchases of 60,000 simulated customers against the sum of their conditional PMFs (8+ pooled)."""
    n, top = 60_000, 8
    data = weekly(simulate(n, params, T=np.random.default_rng(22).uniform(26, 78, n), seed=22, holdout=39.0))
    probs = model_class.from_params(params).purchase_count_probabilities(horizon=39.0, counts=range(top), data=data)
    expected = np.append(probs.sum().to_numpy(), n - probs.to_numpy().sum())
    observed = binned(data["frequency_holdout"].to_numpy(), top)
    # Customers differ, so the Pearson statistic is at most chi-square(top) in distribution (a conservative test).
    _, p_value = pearson(observed, expected)
    assert p_value > 1e-4
    # Each cell: variance sum p(1 - p) over customers.
    cells = np.column_stack([probs.to_numpy(), 1 - probs.to_numpy().sum(axis=1)])
    sd = np.sqrt((cells * (1 - cells)).sum(axis=0))
    assert np.all(np.abs(observed - expected) <= 4 * sd)


# --------------------------------------------------------------------------- vectorised, grouped, checked


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel])
def test_grouped_histories_give_each_customer_their_own_row(model_class):
    params = CDNOW_BG if model_class is BetaGeoModel else CDNOW_PNBD
    simulate = simulate_bgnbd if model_class is BetaGeoModel else simulate_pareto_nbd
    data = weekly(simulate(300, params, T=np.random.default_rng(4).uniform(1, 40, 300), seed=4))
    data.index = pd.Index([f"C{i}" for i in range(300)], name="customer")
    grouped = model_class.from_params(params).purchase_count_probabilities(horizon=10.0, counts=[0, 3, 1], data=data)
    one_by_one = model_class.from_params(params)
    one_by_one.deduplicate = False
    each = one_by_one.purchase_count_probabilities(horizon=10.0, counts=[0, 3, 1], data=data)
    pd.testing.assert_frame_equal(grouped, each, rtol=1e-14)
    assert list(grouped.columns) == [0, 3, 1] and grouped.index.equals(data.index)
    single = one_by_one.purchase_count_probabilities(horizon=10.0, counts=[3], data=data.iloc[[7]])
    assert single.iloc[0, 0] == pytest.approx(grouped.iloc[7][3], rel=1e-14)
    assert (
        (model_class.from_params(params).purchase_count_probabilities(horizon=0.0, counts=[0], data=data) == 1)
        .all()
        .all()
    )


def test_fitted_data_is_the_default(cdnow_calibration_fit):
    model, data = cdnow_calibration_fit
    pd.testing.assert_frame_equal(
        model.purchase_count_probabilities(horizon=39.0, counts=range(3)),
        model.purchase_count_probabilities(horizon=39.0, counts=range(3), data=data),
    )


@pytest.fixture(scope="module")
def cdnow_calibration_fit():
    data = weekly(simulate_bgnbd(500, CDNOW_BG, T=np.random.default_rng(5).uniform(20, 40, 500), seed=5))
    return BetaGeoModel().fit(data), data


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([-1], "counts"),
        ([1.5], "counts"),
        ("many", "counts"),
        ([], "counts"),
        ([[1, 2]], "counts"),
        ([np.nan], "counts"),
    ],
)
def test_bad_counts_raise(counts, message):
    model = BetaGeoModel.from_params(CDNOW_BG)
    with pytest.raises(ParameterError, match=message):
        model.purchase_count_probabilities_population(times=1.0, counts=counts)


def test_bad_horizons_and_unfitted_models_raise():
    model = ParetoNBDModel.from_params(CDNOW_PNBD)
    history = pd.DataFrame({"frequency": [1], "recency": [2.0], "T": [5.0]})
    with pytest.raises(ParameterError, match="horizon"):
        model.purchase_count_probabilities(horizon=-1.0, counts=[0], data=history)
    with pytest.raises(ParameterError, match="times"):
        model.purchase_count_probabilities_population(times=[-1.0], counts=[0])
    with pytest.raises(ParameterError, match="not fitted"):
        ParetoNBDModel().purchase_count_probabilities_population(times=1.0, counts=[0])
    with pytest.raises(ParameterError, match="data"):
        model.purchase_count_probabilities(horizon=1.0, counts=[0])
