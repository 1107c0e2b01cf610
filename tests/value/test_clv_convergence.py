"""CLV fits: "converged" means the four checks pass; degenerate fits say which failed, and stop early."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis.value.clv.base import CONVERGENCE_CHECKS, GRADIENT_TOLERANCE, Convergence
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.clv.optimiser import positive_definite
from analysis.value.clv.pareto_nbd import ParetoNBDModel
from analysis.value.clv.simulate import simulate_bgnbd, simulate_gamma_gamma, simulate_pareto_nbd

BG = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
PNBD = {"r": 0.5, "alpha": 5.0, "s": 0.7, "beta": 10.0}


def never_dropping_out(n: int, seed: int, weeks: float = 52.0) -> pd.DataFrame:
    """Poisson buyers (Gamma rates) who never stop: the dropout of both models has no support (rate 0)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 4.0, n)
    T = rng.uniform(weeks / 2, weeks, n)
    x = rng.poisson(rate * T)
    recency = np.array([rng.uniform(0, t, k).max() if k else 0.0 for k, t in zip(x, T, strict=True)])
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T})


def assert_all_checks_pass(convergence: Convergence) -> None:
    table = convergence.checks()
    assert list(table["check"]) == list(CONVERGENCE_CHECKS)
    assert table["passed"].all(), table
    assert convergence.success and not convergence.failed
    assert convergence.describe().startswith("converged: ")


@pytest.mark.parametrize(
    ("model", "simulate", "truth"),
    [(BetaGeoModel, simulate_bgnbd, BG), (ParetoNBDModel, simulate_pareto_nbd, PNBD)],
    ids=["bgnbd", "pareto_nbd"],
)
def test_a_well_specified_base_converges_with_every_check_passing(model, simulate, truth):
    T = np.random.default_rng(5).uniform(20, 52, 3000)
    fit = model().fit(simulate(3000, truth, T=T, seed=5))
    assert_all_checks_pass(fit.convergence_)
    assert fit.convergence_.gradient_max_abs <= GRADIENT_TOLERANCE
    assert fit.standard_errors_.notna().all()


def test_the_spend_model_converges_with_every_check_passing():
    x = np.random.default_rng(6).poisson(2.0, 2000) + 1
    fit = GammaGammaModel().fit(simulate_gamma_gamma(x, {"p": 6.0, "q": 4.0, "gamma": 15.0}, seed=6))
    assert_all_checks_pass(fit.convergence_)


@pytest.fixture(scope="module")
def never_dropping_fits():
    """Both models on 2,000 customers who never drop out, with the seconds each fit took."""
    data = never_dropping_out(2000, 1)
    fits = {}
    for model in (BetaGeoModel, ParetoNBDModel):
        start = time.perf_counter()
        fits[model.__name__] = (model().fit(data), time.perf_counter() - start)
    return fits


@pytest.mark.parametrize("model", ["BetaGeoModel", "ParetoNBDModel"])
def test_a_base_that_never_drops_out_is_not_converged_and_names_the_bound(never_dropping_fits, model):
    convergence = never_dropping_fits[model][0].convergence_
    assert not convergence.success
    assert "bounds" in convergence.failed
    assert "dropout" in convergence.describe() and convergence.describe().startswith("not converged: ")
    # The search stopped once dropout had vanished, rather than walking the ridge towards 1e8.
    assert convergence.stopped_at_bound and "optimiser" in convergence.failed
    assert "at a bound: dropout" in convergence.message


def test_the_degenerate_pareto_nbd_stops_early(never_dropping_fits):
    """Unstopped, this fit ran 38 iterations (40 s on 2 shared cores, benchmarks/README.md); stopped, about 25."""
    fit, seconds = never_dropping_fits["ParetoNBDModel"]
    assert fit.convergence_.iterations < 38
    assert seconds < 60


@pytest.mark.parametrize("model", [BetaGeoModel, ParetoNBDModel], ids=["bgnbd", "pareto_nbd"])
def test_one_customer_is_not_converged(model):
    fit = model().fit(pd.DataFrame({"frequency": [3], "recency": [20.0], "T": [30.0]}))
    assert not fit.convergence_.success
    assert fit.convergence_.failed  # which checks fail depends on the path; some must
    assert fit.convergence_.describe().startswith("not converged: ")


def test_each_failed_check_is_named_in_the_sentence():
    convergence = Convergence.from_checks(
        optimiser_success=True,
        message="CONVERGENCE",
        iterations=12,
        gradient_max_abs=3e-4,
        hessian_positive_definite=False,
        at_bound=("beta",),
    )
    assert not convergence.success
    assert convergence.failed == ["gradient", "hessian", "bounds"]
    sentence = convergence.describe()
    assert "gradient is not small (0.0003 > 1e-05" in sentence
    assert "Hessian is not positive definite" in sentence and "at a bound: beta" in sentence
    table = convergence.checks().set_index("check")
    assert table.loc["hessian", "detail"].startswith("not positive definite")


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        (np.array([[2.0, 0.5], [0.5, 1.0]]), True),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), False),  # eigenvalues 3 and -1
        (np.array([[1.0, 0.0], [0.0, 0.0]]), False),  # singular
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), False),
    ],
)
def test_positive_definite(matrix, expected):
    assert positive_definite(matrix) is expected
