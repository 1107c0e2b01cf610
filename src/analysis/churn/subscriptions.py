"""Contractual retention: the shifted-beta-geometric (sBG) model of Fader and Hardie (2007).

A subscriber renews at the end of every period until they leave. Each
subscriber has a constant churn probability ``theta`` per renewal decision,
and ``theta`` varies across subscribers as Beta(alpha, beta). ``T``, the
period at whose end a subscriber leaves (1, 2, ...), then has

- ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``,
- survival ``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)``,
  ``S(0) = 1``: the share of a cohort still subscribed after ``t`` renewals,
- retention rate ``r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``,
  which rises with ``t``: the subscribers most likely to leave leave first.

Data, in periods (the unit of ``tenure``):

- a cohort's **survivors** ``n_0, n_1, ..., n_k`` (alive at period 0..k):
  ``n_{t-1} - n_t`` left at the end of period ``t``, ``n_k`` are still there
  (right-censored at ``k``);
- **individual tenures** with a churn flag: a churner with tenure ``t``
  (``t >= 1``) left at the end of period ``t``, a subscriber still there has
  survived ``t`` renewals (right-censored; tenure 0 carries no information).

Both reduce to counts of customers by ``(period, churned)``
(:func:`survivor_counts`, :func:`tenure_counts`), and the log-likelihood is
``sum churned log P(T = t) + sum alive log S(t)``. Alpha and beta are fitted by
maximum likelihood on the log scale with the CLV models' optimiser
(:func:`analysis.value.clv.optimiser.maximise`: analytic gradient, Hessian,
the four convergence checks of :class:`analysis.value.clv.base.Convergence`).
Intervals of alpha and beta are Wald intervals on the log scale; those of
``S(t)``, ``r(t)`` and the lifetimes are **delta-method** intervals from the
estimated covariance of the log-parameters, on the logit scale for ``S`` and
``r`` and on the log scale for lifetimes (they stay in range).

Identification: with no customer observed beyond period 1 only
``P(T = 1) = alpha / (alpha + beta)`` is estimable; with no spread in churn
probabilities (every subscriber alike) alpha and beta grow without bound at
a fixed ratio (the geometric model, a boundary of the sBG). Both are reported
as not converged (``usable_`` False, ``status_`` says why), never used silently.

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention.
*Journal of Interactive Marketing* 21(1), 76-90.
Fader, P. S. and Hardie, B. G. S. (2010). Customer-base valuation in a
contractual setting: the perils of ignoring heterogeneity. *Marketing
Science* 29(1), 85-93.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from analysis.checks import check_rows, require_columns
from analysis.churn.measures import outcome_values
from analysis.errors import DataError, ParameterError

__all__ = [
    "PARAMETERS",
    "churn_probability",
    "discounted_expected_residual_lifetime",
    "log_likelihood_terms",
    "median_remaining_lifetime",
    "retention_rate",
    "survival_probability",
    "survivor_counts",
    "tenure_counts",
]

PARAMETERS = ("alpha", "beta")

#: Periods searched for the median remaining lifetime.
MEDIAN_SEARCH = 100_000


def survival_probability(alpha: float, beta: float, periods: Any) -> np.ndarray:
    """``S(t) = B(alpha, beta + t) / B(alpha, beta)``: share still subscribed after ``t`` renewals."""
    t = np.asarray(periods, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def churn_probability(alpha: float, beta: float, periods: Any) -> np.ndarray:
    """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``: share leaving at the end of period ``t >= 1``."""
    t = np.asarray(periods, dtype=float)
    return np.exp(special.betaln(alpha + 1, beta + t - 1) - special.betaln(alpha, beta))


def retention_rate(alpha: float, beta: float, periods: Any) -> np.ndarray:
    """``r(t) = (beta + t - 1) / (alpha + beta + t - 1)``: share of those in period ``t >= 1`` who renew at its end.

    Examples
    --------
    Fader and Hardie's (2007) "regular" segment: retention rises as the likeliest leavers leave.

    >>> [round(float(r), 3) for r in retention_rate(0.704, 1.182, [1, 2, 7])]
    [0.627, 0.756, 0.911]
    """
    t = np.asarray(periods, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def discounted_expected_residual_lifetime(alpha: float, beta: float, *, renewals: Any, discount_rate: float) -> Any:
    """DERL: the expected discounted number of payments still to come from a customer with ``n`` renewals.

    The customer has renewed ``n`` times (``n = 0``: just acquired, first
    period paid) and stands at the end of the current period, just before the
    next renewal decision; the next renewal's payment falls there
    (undiscounted), each later one a period further, discounted at
    ``discount_rate`` per period:
    ``sum_{k >= 0} S(n + 1 + k) / S(n) / (1 + d)^k``
    ``= (beta + n) / (alpha + beta + n) * 2F1(1, beta + n + 1; alpha + beta + n + 1; 1 / (1 + d))``
    (Fader and Hardie 2010, eq. 6, whose ``n`` counts the current period, ``n - 1`` renewals).
    With ``d = 0`` it is the expected number of further renewals,
    ``(beta + n) / (alpha - 1)``, infinite when ``alpha <= 1``.
    """
    n = np.asarray(renewals, dtype=float)
    first = (beta + n) / (alpha + beta + n)
    if discount_rate == 0:
        return np.where(alpha > 1, (beta + n) / max(alpha - 1, 1e-300), np.inf) + 0 * n
    return first * special.hyp2f1(1.0, beta + n + 1, alpha + beta + n + 1, 1.0 / (1.0 + discount_rate))


def median_remaining_lifetime(alpha: float, beta: float, *, renewals: int) -> float:
    """Periods until half of the customers with ``n`` renewals have left: least ``m`` with ``S(n+m) / S(n) <= 1/2``.

    Infinite when more than half are still there after :data:`MEDIAN_SEARCH` periods.
    """
    m = np.arange(1, MEDIAN_SEARCH + 1, dtype=float)
    log_ratio = special.betaln(alpha, beta + renewals + m) - special.betaln(alpha, beta + renewals)
    reached = np.flatnonzero(log_ratio <= math.log(0.5))
    return float(m[reached[0]]) if reached.size else math.inf


def _counts(period: np.ndarray, churned: np.ndarray, customers: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame({"period": period.astype("int64"), "churned": churned.astype("int64"), "customers": customers})
    table = table.groupby(["period", "churned"], as_index=False)["customers"].sum()
    return table.loc[(table["customers"] > 0) & (table["period"] >= 1)].reset_index(drop=True)


def survivor_counts(survivors: Any) -> pd.DataFrame:
    """A cohort's survivors by period as customer counts by ``(period, churned)``.

    Parameters
    ----------
    survivors : sequence of int
        Customers still subscribed at period 0, 1, ..., k (not increasing),
        e.g. ``[1000, 631, 468, 382]``.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``churned`` (1: left at the end of ``period``; 0: still
        there after ``period`` renewals), ``customers``.

    Examples
    --------
    >>> survivor_counts([1000, 631, 468])
       period  churned  customers
    0       1        1      369.0
    1       2        0      468.0
    2       2        1      163.0
    """
    values = np.asarray(survivors, dtype=float)
    expected = "customers alive at periods 0, 1, ..., k: at least two whole numbers, not increasing, the first > 0"
    ok = values.ndim == 1 and values.size >= 2 and np.isfinite(values).all() and (values == np.round(values)).all()
    if not ok or values[0] <= 0 or (values < 0).any() or (np.diff(values) > 0).any():
        raise ParameterError("survivors", survivors, expected)
    k = values.size - 1
    periods = np.concatenate([np.arange(1, k + 1), [k]])
    churned = np.concatenate([np.ones(k), [0]])
    return _counts(periods, churned, np.concatenate([-np.diff(values), [values[-1]]]))


def tenure_counts(data: pd.DataFrame, *, tenure: str, churned: str) -> pd.DataFrame:
    """Individual tenures with a churn flag as customer counts by ``(period, churned)``.

    Parameters
    ----------
    data : DataFrame
        One row per customer: ``tenure`` (whole periods, >= 0; >= 1 for a
        churner) and ``churned`` (0/1 or bool).
    tenure, churned : str
        The column names.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``churned``, ``customers`` (customers with tenure 0 who
        are still there carry no information and are left out).
    """
    require_columns(data, [tenure, churned], "the shifted-beta-geometric fit")
    flag = outcome_values(data, churned)
    if not pd.api.types.is_numeric_dtype(data[tenure]) or pd.api.types.is_bool_dtype(data[tenure]):
        raise DataError("column is not numeric", column=tenure)
    t = data[tenure].to_numpy(dtype=float, na_value=np.nan)
    check_rows(data, tenure, ~np.isfinite(t), "missing or infinite tenures")
    check_rows(data, tenure, (t < 0) | (t != np.floor(t)), "tenures must be whole numbers of periods >= 0")
    check_rows(data, tenure, (flag == 1) & (t < 1), "a churner must have a tenure of at least one period")
    return _counts(t, flag, np.ones(t.size))


def log_likelihood_terms(params: np.ndarray, counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``counts``: the log-likelihood of one customer and its derivatives in (alpha, beta) (2 x rows)."""
    a, b = params
    t = counts["period"].to_numpy(dtype=float)
    left = counts["churned"].to_numpy() == 1
    psi_ab = special.digamma(a + b)
    ll = np.where(
        left,
        special.betaln(a + 1, b + t - 1) - special.betaln(a, b),
        special.betaln(a, b + t) - special.betaln(a, b),
    )
    d_a = np.where(left, special.digamma(a + 1) - special.digamma(a), 0.0) - special.digamma(a + b + t) + psi_ab
    d_b = special.digamma(b + t - left) - special.digamma(a + b + t) - special.digamma(b) + psi_ab
    return ll, np.vstack([d_a, d_b])
