"""Fitting the shifted-beta-geometric retention model: the fitter, its intervals, one fit per group.

The model, its formulas and the two forms of data are described in
:mod:`analysis.churn.subscriptions`. :class:`ShiftedBetaGeometric` fits alpha
and beta by maximum likelihood (the CLV models' optimiser,
:func:`analysis.value.clv.optimiser.maximise`, on the log scale with the
analytic gradient) and says whether the fit can be used (``usable_``,
``status_``). Intervals: Wald on the log scale for alpha and beta;
**delta method** from the covariance of the log-parameters for ``S(t)`` and
``r(t)`` (logit scale) and for the lifetimes (log scale).
:func:`fit_by_group` fits one model per group (e.g. contract type) and
:func:`summary_by_group` / :func:`curves_by_group` stack their results.

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention.
*Journal of Interactive Marketing* 21(1), 76-90.
Fader, P. S. and Hardie, B. G. S. (2010). Customer-base valuation in a
contractual setting: the perils of ignoring heterogeneity. *Marketing
Science* 29(1), 85-93.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import special

from analysis.checks import check_whole_number, level_name, level_z, require_columns
from analysis.churn.subscriptions import (
    PARAMETERS,
    discounted_expected_residual_lifetime,
    log_likelihood_terms,
    median_remaining_lifetime,
    retention_rate,
    survival_probability,
    survivor_counts,
    tenure_counts,
)
from analysis.errors import DataError, ParameterError
from analysis.value.clv.base import Z95, Convergence, check_number, check_params
from analysis.value.clv.optimiser import inverse_hessian, maximise

__all__ = ["NO_SPREAD", "SAME_FIT", "ShiftedBetaGeometric", "curves_by_group", "fit_by_group", "summary_by_group"]

log = logging.getLogger("analysis")

#: alpha + beta at or beyond this: churn probabilities no longer vary (the geometric boundary of the model).
NO_SPREAD = 1e6

#: The sBG fits no better than the geometric model when its log-likelihood gains less than this per customer.
SAME_FIT = 1e-6


class ShiftedBetaGeometric:
    """The sBG retention model, fitted by maximum likelihood (``fit`` / ``fit_survivors`` return the model).

    Parameters
    ----------
    initial_params : mapping, optional
        Starting ``alpha`` and ``beta`` (default 1 and 1).
    max_iter : int
        Optimiser iterations.
    tol : float
        Optimiser gradient tolerance.

    Attributes (after fitting)
    --------------------------
    params_, standard_errors_ : Series
        ``alpha``, ``beta`` and their standard errors (delta method from the log scale).
    confidence_intervals_ : DataFrame
        ``lower_95``, ``upper_95`` (Wald on the log scale).
    covariance_log_ : DataFrame
        Covariance of (log alpha, log beta), NaN without a positive-definite Hessian.
    log_likelihood_, aic_ : float
    n_, churners_, max_period_ : int
        Customers, churners and the longest tenure seen.
    convergence_ : Convergence
        The optimiser's four checks.
    identified_ : bool
        Some customer was observed beyond period 1.
    geometric_churn_probability_ : float
        Churners per period of exposure: the churn probability of the geometric
        model (no spread), the sBG's limit as ``alpha + beta`` grows.
    usable_ : bool
        Identified (some churner, some customer beyond period 1), converged,
        and better than the geometric model (churn probabilities spread).
    status_ : str
        ``"converged"`` or what went wrong, in words.
    """

    def __init__(self, *, initial_params: Mapping[str, float] | None = None, max_iter: int = 1000, tol: float = 1e-8):
        self.initial_params = (
            None if initial_params is None else check_params(initial_params, PARAMETERS, "initial_params")
        )
        self.max_iter = check_whole_number("max_iter", max_iter)
        self.tol = check_number("tol", tol, low=0.0, strict=True, what="a positive number below 1")
        if self.tol >= 1:
            raise ParameterError("tol", tol, "a positive number below 1")
        self.params_: pd.Series | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> Self:
        """A model with given ``alpha`` and ``beta`` and no data (intervals NaN)."""
        model = cls()
        theta = np.log(check_params(params, PARAMETERS, "params"))
        model._set_state(theta, np.full((2, 2), np.nan), np.nan, None, (0, 0, 0))
        model.status_, model.usable_ = "given parameters, not fitted", True
        return model

    def fit(self, data: pd.DataFrame, *, tenure: str = "tenure_months", churned: str = "churned") -> Self:
        """Fit to individual tenures with a churn flag (see :func:`tenure_counts`); ``data`` is not modified."""
        return self._fit_counts(tenure_counts(data, tenure=tenure, churned=churned))

    def fit_survivors(self, survivors: Any) -> Self:
        """Fit to a cohort's survivors at periods 0, 1, ..., k (see :func:`survivor_counts`)."""
        return self._fit_counts(survivor_counts(survivors))

    def _fit_counts(self, counts: pd.DataFrame) -> Self:
        if counts.empty:
            raise DataError("no customer was observed for a full period", hint="tenures of 0 carry no information")
        weight = counts["customers"].to_numpy(dtype=float)

        def nll(theta: np.ndarray) -> float:
            return -float(np.sum(weight * log_likelihood_terms(np.exp(theta), counts)[0]))

        def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
            params = np.exp(theta)
            ll, score = log_likelihood_terms(params, counts)
            return -float(np.sum(weight * ll)), -np.sum(weight * score, axis=1) * params

        def boundary(params: np.ndarray) -> tuple[str, ...]:
            return ("alpha + beta (no spread in churn probabilities)",) if params.sum() >= NO_SPREAD else ()

        start = self.initial_params if self.initial_params is not None else np.ones(2)
        estimate = maximise(
            nll,
            np.log(start),
            n=float(weight.sum()),
            names=PARAMETERS,
            value_and_gradient=value_and_gradient,
            max_iter=self.max_iter,
            tol=self.tol,
            boundary=boundary,
        )
        left = counts["churned"].to_numpy() == 1
        churners = int(weight[left].sum())
        sizes = (int(weight.sum()), churners, int(counts["period"].max()))
        self._set_state(estimate.theta, estimate.hessian, estimate.log_likelihood, estimate.convergence, sizes)
        # The geometric model (one churn probability for all) is the sBG's limit as alpha + beta grows.
        exposure = float(np.sum(weight * counts["period"].to_numpy(dtype=float)))
        p = churners / exposure
        with np.errstate(divide="ignore", invalid="ignore"):
            geometric = churners * math.log(p) + (exposure - churners) * math.log1p(-p) if 0 < p < 1 else np.nan
        self.geometric_churn_probability_ = p
        no_spread = (
            bool(estimate.convergence.at_bound and self.params_.sum() >= NO_SPREAD)
            or geometric >= estimate.log_likelihood - SAME_FIT * self.n_
        )
        if churners == 0:
            self.status_ = "not identified: no customer churned, so no churn probability can be estimated"
        elif not self.identified_:
            self.status_ = "not identified: no customer observed beyond period 1 (only alpha / (alpha + beta) is)"
        elif no_spread:
            self.status_ = (
                "no spread in churn probabilities: one churn probability for all (the geometric model, "
                f"{p:.3%} per period) fits as well as any sBG, and alpha and beta grow without bound"
            )
        else:
            self.status_ = "converged" if estimate.convergence.success else estimate.convergence.describe()
        self.usable_ = self.status_ == "converged"
        log.log(logging.INFO if self.usable_ else logging.WARNING, "sBG fit: %s", self.status_)
        return self

    def _set_state(
        self,
        theta: np.ndarray,
        hessian: np.ndarray,
        log_likelihood: float,
        convergence: Convergence | None,
        sizes: tuple[int, int, int],
    ) -> None:
        params = np.exp(theta)
        cov = inverse_hessian(hessian)
        se_log = np.sqrt(np.diag(cov))
        names = list(PARAMETERS)
        self.theta_ = theta
        self.params_ = pd.Series(params, index=names, name="estimate")
        self.standard_errors_ = pd.Series(params * se_log, index=names, name="standard_error")
        with np.errstate(over="ignore"):
            self.confidence_intervals_ = pd.DataFrame(
                {"lower_95": np.exp(theta - Z95 * se_log), "upper_95": np.exp(theta + Z95 * se_log)}, index=names
            )
        self.covariance_log_ = pd.DataFrame(cov, index=names, columns=names)
        self.log_likelihood_ = log_likelihood
        self.aic_ = 4 - 2 * log_likelihood
        self.n_, self.churners_, self.max_period_ = sizes
        self.identified_ = bool(self.max_period_ >= 2)
        self.convergence_ = convergence

    def _check_fitted(self) -> tuple[float, float]:
        if self.params_ is None:
            raise ParameterError("ShiftedBetaGeometric", "not fitted", "a fitted model: call .fit(data) first")
        return float(self.params_["alpha"]), float(self.params_["beta"])

    def summary(self) -> pd.DataFrame:
        """Tidy table of the estimates.

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``parameter``, ``estimate``,
            ``standard_error``, ``lower_95``, ``upper_95``, ``usable``
            (identified and converged) and ``status`` (in words).
        """
        self._check_fitted()
        return pd.DataFrame(
            {
                "parameter": list(PARAMETERS),
                "estimate": self.params_.to_numpy(),
                "standard_error": self.standard_errors_.to_numpy(),
                "lower_95": self.confidence_intervals_["lower_95"].to_numpy(),
                "upper_95": self.confidence_intervals_["upper_95"].to_numpy(),
                "usable": self.usable_,
                "status": self.status_,
            }
        )

    def _interval(self, fun: Callable[[float, float], np.ndarray], scale: str, z: float) -> tuple[np.ndarray, ...]:
        """Estimate and delta-method bounds of ``fun(alpha, beta)`` on the ``"logit"`` or ``"log"`` scale."""
        forward, back = {
            "logit": (special.logit, special.expit),
            "log": (np.log, np.exp),
        }[scale]
        theta = self.theta_
        value = np.atleast_1d(np.asarray(fun(*np.exp(theta)), dtype=float))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h = 1e-5
            grads = [
                (forward(fun(*np.exp(theta + h * e))) - forward(fun(*np.exp(theta - h * e)))) / (2 * h)
                for e in np.eye(2)
            ]
            g = np.vstack(grads)  # 2 x points
            se = np.sqrt(np.einsum("ip,ij,jp->p", g, self.covariance_log_.to_numpy(), g))
            centre = forward(value)
            lower, upper = back(centre - z * se), back(centre + z * se)
        finite = np.isfinite(value)
        return value, np.where(finite, lower, np.nan), np.where(finite, upper, np.nan)

    def retention_curve(self, *, periods: Any, level: float = 0.95) -> pd.DataFrame:
        """Survival ``S(t)`` and retention rate ``r(t)`` with delta-method intervals.

        Parameters
        ----------
        periods : int or array-like of int
            Periods ``t`` (an int ``k`` means ``0, 1, ..., k``).
        level : float
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            ``period``, ``survival``, ``survival_lower_95``, ``survival_upper_95``,
            ``retention_rate``, ``retention_lower_95``, ``retention_upper_95``
            (NaN at period 0; ``95`` follows ``level``).
        """
        self._check_fitted()
        z, lv = level_z(level), level_name(level)
        if isinstance(periods, int | np.integer) and not isinstance(periods, bool):
            periods = np.arange(check_whole_number("periods", periods, 0) + 1)
        t = np.asarray(periods, dtype=float)
        if t.ndim != 1 or not t.size or not (np.isfinite(t).all() and (t >= 0).all() and (t == np.round(t)).all()):
            raise ParameterError("periods", periods, "whole numbers of periods >= 0")
        s, s_low, s_high = self._interval(lambda a, b: survival_probability(a, b, t), "logit", z)
        s, s_low, s_high = (np.where(t == 0, 1.0, x) for x in (s, s_low, s_high))
        r, r_low, r_high = self._interval(lambda a, b: retention_rate(a, b, np.maximum(t, 1)), "logit", z)
        r, r_low, r_high = (np.where(t == 0, np.nan, x) for x in (r, r_low, r_high))
        return pd.DataFrame(
            {
                "period": t.astype("int64"),
                "survival": s,
                f"survival_lower_{lv}": s_low,
                f"survival_upper_{lv}": s_high,
                "retention_rate": r,
                f"retention_lower_{lv}": r_low,
                f"retention_upper_{lv}": r_high,
            }
        )

    def residual_lifetime(
        self, *, renewals: int = 0, discount_rate: float = 0.0, margin: float | None = None, level: float = 0.95
    ) -> pd.DataFrame:
        """Expected remaining lifetime, DERL and discounted residual value of a customer with ``renewals`` renewals.

        Parameters
        ----------
        renewals : int
            Renewals the customer has made (0: just acquired, first period paid).
        discount_rate : float
            Discount rate per period (0 for undiscounted), e.g. ``1.1 ** (1 / 12) - 1`` for 10% a year in months.
        margin : float, optional
            Margin per period; with it, the residual value ``margin * DERL``.
        level : float
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            One row per quantity: ``quantity`` (``"expected_remaining_periods"``:
            further renewals expected, infinite when ``alpha <= 1``;
            ``"median_remaining_periods"``; ``"derl"``; ``"residual_value"``
            with ``margin``), ``estimate``, ``lower_95``, ``upper_95`` (delta
            method on the log scale; NaN where not finite, and for the median).
        """
        alpha, beta = self._check_fitted()
        n = check_whole_number("renewals", renewals, 0)
        d = check_number("discount_rate", discount_rate, low=0.0, strict=False, what="a rate per period >= 0")
        z, lv = level_z(level), level_name(level)
        rows = []
        for name, rate in (("expected_remaining_periods", 0.0), ("derl", d)):
            value, low, high = self._interval(
                lambda a, b, rate=rate: discounted_expected_residual_lifetime(a, b, renewals=n, discount_rate=rate),
                "log",
                z,
            )
            rows.append((name, float(value[0]), float(low[0]), float(high[0])))
        rows.insert(1, ("median_remaining_periods", median_remaining_lifetime(alpha, beta, renewals=n), np.nan, np.nan))
        if margin is not None:
            m = check_number("margin", margin, low=-math.inf, strict=True, what="a finite margin per period")
            _, value, low, high = rows[-1]
            rows.append(("residual_value", m * value, *sorted((m * low, m * high))))
        return pd.DataFrame(rows, columns=["quantity", "estimate", f"lower_{lv}", f"upper_{lv}"])

    def __repr__(self) -> str:
        if self.params_ is None:
            return "ShiftedBetaGeometric(not fitted)"
        head = f"ShiftedBetaGeometric: log-likelihood = {self.log_likelihood_:,.3f}, n = {self.n_:,} customers"
        return f"{head}\n{self.summary().drop(columns='status').to_string(index=False)}\n{self.status_}"

    def _repr_html_(self) -> str:
        return f"<p><b>ShiftedBetaGeometric</b>: {self.status_}</p>" + self.summary().to_html(index=False)


def fit_by_group(
    data: pd.DataFrame, *, group: str, tenure: str = "tenure_months", churned: str = "churned", **settings: Any
) -> dict[str, ShiftedBetaGeometric]:
    """One sBG fit per value of ``group`` (e.g. ``contract``), in sorted order.

    Parameters
    ----------
    data : DataFrame
        One row per customer with ``tenure``, ``churned`` and ``group``.
    group, tenure, churned : str
        Column names.
    **settings
        Passed to :class:`ShiftedBetaGeometric` (``initial_params``, ``max_iter``, ``tol``).

    Returns
    -------
    dict of str to ShiftedBetaGeometric
        Fitted models by group label; a fit that is not usable says so in its ``status_``.
    """
    require_columns(data, [group, tenure, churned], "the shifted-beta-geometric fit by group")
    if data[group].isna().any():
        raise DataError("missing group labels", column=group, n_bad=int(data[group].isna().sum()))
    return {
        str(label): ShiftedBetaGeometric(**settings).fit(part, tenure=tenure, churned=churned)
        for label, part in data.groupby(group, sort=True, observed=True)
    }


def summary_by_group(fits: Mapping[str, ShiftedBetaGeometric], *, group: str = "group") -> pd.DataFrame:
    """The fits of :func:`fit_by_group` in one table.

    Returns
    -------
    pandas.DataFrame
        One row per group and parameter: ``group`` (named as given),
        ``customers``, ``churners``, ``log_likelihood``, then the columns of
        :meth:`ShiftedBetaGeometric.summary` (``parameter``, ``estimate``,
        ``standard_error``, ``lower_95``, ``upper_95``, ``usable``, ``status``).
    """
    parts = []
    for label, model in fits.items():
        table = model.summary()
        table.insert(0, "log_likelihood", model.log_likelihood_)
        table.insert(0, "churners", model.churners_)
        table.insert(0, "customers", model.n_)
        table.insert(0, group, label)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def curves_by_group(
    fits: Mapping[str, ShiftedBetaGeometric], *, periods: Any, group: str = "group", level: float = 0.95
) -> pd.DataFrame:
    """The retention curves (:meth:`ShiftedBetaGeometric.retention_curve`) of every group, stacked.

    Returns
    -------
    pandas.DataFrame
        ``group`` (named as given), ``usable``, then the curve's columns.
    """
    parts = []
    for label, model in fits.items():
        curve = model.retention_curve(periods=periods, level=level)
        curve.insert(0, "usable", model.usable_)
        curve.insert(0, group, label)
        parts.append(curve)
    return pd.concat(parts, ignore_index=True)
