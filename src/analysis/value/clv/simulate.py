"""Simulated customer bases from known parameters, for the models' coverage checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import check_whole_number
from analysis.errors import ParameterError
from analysis.value.clv.base import check_number, check_params
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.clv.pareto_nbd import ParetoNBDModel

__all__ = ["simulate_bgnbd", "simulate_gamma_gamma", "simulate_pareto_nbd"]


def _simulation_setup(n: Any, T: Any, holdout: Any) -> tuple[int, np.ndarray, float]:
    n = check_whole_number("n", n)
    try:
        times = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    except (TypeError, ValueError):
        raise ParameterError("T", T, "a positive finite number, or one per customer") from None
    if not (np.isfinite(times).all() and (times > 0).all()):
        raise ParameterError("T", T, "a positive finite number, or one per customer")
    span = check_number("holdout", holdout, low=0.0, strict=False, what="a non-negative finite number")
    return n, times, span


def simulate_bgnbd(n: int, params: Mapping[str, float], T: Any, *, seed: Any, holdout: float = 0.0) -> pd.DataFrame:
    """Simulate customers from the BG/NBD model.

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``r``, ``alpha``, ``a``, ``b``.
    T : float or array-like
        Calibration length per customer (time from the first purchase).
    seed : int or numpy Generator
        Passed to ``numpy.random.default_rng``.
    holdout : float
        Length of a holdout period after ``T``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (0..n-1), ``frequency``, ``recency``, ``T``,
        ``frequency_holdout``, ``duration_holdout``, and the latent
        ``purchase_rate`` (lambda), ``dropout_probability`` (p) and ``alive``
        (still active at ``T``).
    """
    r, alpha, a, b = check_params(params, BetaGeoModel._names, "params")
    n, times, span = _simulation_setup(n, T, holdout)
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.maximum(rng.beta(a, b, n), 1e-12)
    last = rng.geometric(p)  # the repeat purchase after which the customer drops out
    in_calibration = rng.poisson(lam * times)
    x = np.minimum(in_calibration, last)
    # The x-th of in_calibration uniform purchase times on (0, T] is T * Beta(x, in_calibration - x + 1).
    recency = np.where(x > 0, times * rng.beta(np.maximum(x, 1), in_calibration - x + 1), 0.0)
    later = rng.poisson(lam * span)
    holdout_purchases = np.minimum(in_calibration + later, last) - x
    return _simulated_frame(
        x, recency, times, holdout_purchases, span, lam, "dropout_probability", p, last > in_calibration
    )


def simulate_pareto_nbd(
    n: int, params: Mapping[str, float], T: Any, *, seed: Any, holdout: float = 0.0
) -> pd.DataFrame:
    """Simulate customers from the Pareto/NBD model.

    Parameters
    ----------
    n, T, seed, holdout
        As for :func:`simulate_bgnbd`.
    params : mapping
        ``r``, ``alpha``, ``s``, ``beta``.

    Returns
    -------
    pandas.DataFrame
        As :func:`simulate_bgnbd`, with the latent ``dropout_rate`` (mu)
        instead of ``dropout_probability``.
    """
    r, alpha, s, beta = check_params(params, ParetoNBDModel._names, "params")
    n, times, span = _simulation_setup(n, T, holdout)
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = np.maximum(rng.gamma(s, 1.0 / beta, n), 1e-300)
    lifetime = rng.exponential(1.0 / mu)
    active = np.minimum(lifetime, times)
    x = rng.poisson(lam * active)
    # The last of x uniform purchase times on (0, active] is active * U^(1/x).
    recency = np.where(x > 0, active * rng.uniform(size=n) ** (1.0 / np.maximum(x, 1)), 0.0)
    holdout_purchases = rng.poisson(lam * (np.minimum(lifetime, times + span) - active))
    return _simulated_frame(x, recency, times, holdout_purchases, span, lam, "dropout_rate", mu, lifetime > times)


def _simulated_frame(
    x: np.ndarray,
    recency: np.ndarray,
    times: np.ndarray,
    holdout_purchases: np.ndarray,
    span: float,
    lam: np.ndarray,
    dropout_name: str,
    dropout: np.ndarray,
    alive: np.ndarray,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(x.size),
            "frequency": x.astype(np.int64),
            "recency": recency,
            "T": times,
            "frequency_holdout": holdout_purchases.astype(np.int64),
            "duration_holdout": np.full(x.size, span),
            "purchase_rate": lam,
            dropout_name: dropout,
            "alive": alive,
        }
    )


def simulate_gamma_gamma(frequency: Any, params: Mapping[str, float], *, seed: Any) -> pd.DataFrame:
    """Simulate mean spends from the Gamma-Gamma model.

    Parameters
    ----------
    frequency : array-like or pandas.Series
        Number of repeat purchases per customer (whole numbers >= 0).
    params : mapping
        ``p``, ``q``, ``gamma``.
    seed : int or numpy Generator
        Passed to ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``monetary_value`` (mean of ``frequency`` spends; NaN
        when ``frequency`` is 0) and the latent ``mean_spend`` (``p / nu``);
        indexed like ``frequency`` when it is a Series.
    """
    p, q, gamma = check_params(params, GammaGammaModel._names, "params")
    index = frequency.index if isinstance(frequency, pd.Series) else None
    try:
        x = np.asarray(frequency, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("frequency", frequency, "whole numbers >= 0") from None
    if x.ndim != 1 or not (np.isfinite(x).all() and (x >= 0).all() and (x == np.floor(x)).all()):
        raise ParameterError("frequency", frequency, "whole numbers >= 0")
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / gamma, x.size)
    x1 = np.maximum(x, 1.0)
    spend = rng.gamma(p * x1, 1.0 / (nu * x1))
    return pd.DataFrame(
        {"frequency": x.astype(np.int64), "monetary_value": np.where(x > 0, spend, np.nan), "mean_spend": p / nu},
        index=index,
    )
