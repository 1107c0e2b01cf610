"""CLV models, estimation: the fitter idiom (``fit`` returns self, ``params_``, ``summary()``) on the optimiser."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Self

import numpy as np
import pandas as pd

from analysis.checks import check_whole_number
from analysis.errors import ParameterError
from analysis.value.clv.base import (
    Z95,
    Convergence,
    Histories,
    check_number,
    check_params,
    check_times,
    grouped_histories,
    require_repeat_purchases,
    rfm_columns,
)
from analysis.value.clv.optimiser import inverse_hessian, maximise
from analysis.value.clv.purchase_counts import check_counts, count_probabilities

__all__ = ["FittedModel", "TransactionModel"]

log = logging.getLogger("analysis")


class FittedModel:
    """Settings, fitted state, summary and printing shared by the three models."""

    _names: tuple[str, ...] = ()
    _gradient_available = True
    #: ``(params, histories) -> names`` of the parameter-space boundaries reached (see :func:`maximise`).
    _boundary: Callable[[np.ndarray, Histories], tuple[str, ...]] | None = None

    def __init__(
        self,
        *,
        initial_params: Mapping[str, float] | None = None,
        max_iter: int = 1000,
        tol: float = 1e-8,
        deduplicate: bool = True,
    ):
        self.initial_params = (
            None if initial_params is None else check_params(initial_params, self._names, "initial_params")
        )
        self.max_iter = check_whole_number("max_iter", max_iter)
        self.tol = check_number("tol", tol, low=0.0, strict=True, what="a positive number below 1")
        if self.tol >= 1:
            raise ParameterError("tol", tol, "a positive number below 1")
        if not isinstance(deduplicate, bool):
            raise ParameterError("deduplicate", deduplicate, "True or False")
        self.deduplicate = deduplicate
        self.params_: pd.Series | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> Self:
        """A model with given parameters and no data (for predictions and simulation studies).

        Standard errors and intervals are NaN; predictions need ``data``.
        """
        model = cls()
        values = check_params(params, cls._names, "params")
        model._set_state(np.log(values), np.full((len(values), len(values)), np.nan), np.nan, None, 0, 0, None)
        return model

    # -- fitting helpers
    def _fit_histories(self, h: Histories, start: np.ndarray, who: str, data: pd.DataFrame) -> None:
        """Fit to the grouped histories ``h`` of ``data`` from ``start`` (unless ``initial_params``), store the fit."""
        theta0 = np.log(self.initial_params if self.initial_params is not None else start)

        def nll(theta: np.ndarray) -> float:
            return -float(np.sum(h.weight * self._log_likelihood(np.exp(theta), h)))

        value_and_gradient = None
        if self._gradient_available:

            def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
                params = np.exp(theta)
                ll, score = self._terms(params, h)
                weighted = np.sum(h.weight * score, axis=1)  # score: one row per parameter
                return -float(np.sum(h.weight * ll)), -weighted * params

        estimate = maximise(
            nll,
            theta0,
            n=h.n_customers,
            names=self._names,
            value_and_gradient=value_and_gradient,
            max_iter=self.max_iter,
            tol=self.tol,
            boundary=None if self._boundary is None else lambda params: self._boundary(params, h),
        )
        level = logging.INFO if estimate.convergence.success else logging.WARNING
        log.log(level, "%s: %s", who, estimate.convergence.describe())
        self._set_state(
            estimate.theta,
            estimate.hessian,
            estimate.log_likelihood,
            estimate.convergence,
            h.n_customers,
            h.x.size,
            data,
        )

    def _set_state(
        self,
        theta: np.ndarray,
        hessian: np.ndarray,
        log_likelihood: float,
        convergence: Convergence | None,
        n: int,
        n_distinct: int,
        data: pd.DataFrame | None,
    ) -> None:
        names = list(self._names)
        params = np.exp(theta)
        cov_log = inverse_hessian(hessian)
        se_log = np.sqrt(np.diag(cov_log))
        self.params_ = pd.Series(params, index=names, name="estimate")
        self.standard_errors_ = pd.Series(params * se_log, index=names, name="standard_error")
        self.covariance_ = pd.DataFrame(cov_log * np.outer(params, params), index=names, columns=names)
        with np.errstate(over="ignore"):  # an interval reaching past 1e308 is infinite
            self.confidence_intervals_ = pd.DataFrame(
                {"lower_95": np.exp(theta - Z95 * se_log), "upper_95": np.exp(theta + Z95 * se_log)}, index=names
            )
        k = len(names)
        self.log_likelihood_ = log_likelihood
        self.aic_ = 2 * k - 2 * log_likelihood
        self.bic_ = k * math.log(n) - 2 * log_likelihood if n else np.nan
        self.n_ = n
        self.n_distinct_ = n_distinct
        self.convergence_ = convergence
        # A shallow copy: under copy-on-write, later edits of the caller's frame do not reach it.
        self.data_ = None if data is None else data.copy(deep=False)

    def _check_fitted(self) -> np.ndarray:
        if self.params_ is None:
            raise ParameterError(
                type(self).__name__, "not fitted", "a fitted model: call .fit(data) or .from_params(params) first"
            )
        return self.params_.to_numpy()

    def _data(self, data: pd.DataFrame | None) -> pd.DataFrame:
        self._check_fitted()
        if data is not None:
            return data
        if self.data_ is None:
            raise ParameterError("data", None, "a DataFrame: this model was not fitted to data")
        return self.data_

    # -- output
    def summary(self) -> pd.DataFrame:
        """Tidy table of the estimates.

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``parameter``, ``estimate``,
            ``standard_error``, ``lower_95``, ``upper_95``.
        """
        self._check_fitted()
        return pd.DataFrame(
            {
                "parameter": list(self._names),
                "estimate": self.params_.to_numpy(),
                "standard_error": self.standard_errors_.to_numpy(),
                "lower_95": self.confidence_intervals_["lower_95"].to_numpy(),
                "upper_95": self.confidence_intervals_["upper_95"].to_numpy(),
            }
        )

    def _headline(self) -> str:
        return f"log-likelihood = {self.log_likelihood_:,.3f}, AIC = {self.aic_:,.3f}, n = {self.n_:,} customers"

    def __repr__(self) -> str:
        name = type(self).__name__
        if self.params_ is None:
            return f"{name}(not fitted)"
        return f"{name}: {self._headline()}\n{self.summary().to_string(index=False)}"

    def _repr_html_(self) -> str:
        name = type(self).__name__
        if self.params_ is None:
            return f"<p><b>{name}</b> (not fitted)</p>"
        return f"<p><b>{name}</b>: {self._headline()}</p>" + self.summary().to_html(index=False)

    def customer_log_likelihood(self, data: pd.DataFrame | None = None) -> pd.Series:
        """Each customer's log-likelihood at the model's parameters.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Customers with the model's input columns; default: the fitted data.

        Returns
        -------
        pandas.Series
            ``log_likelihood``, indexed like ``data``; over the fitted data it
            sums to ``log_likelihood_``.
        """
        frame = self._data(data)
        h, index = self._prepare(frame, f"{type(self).__name__}.customer_log_likelihood")
        values = self._log_likelihood(self.params_.to_numpy(), h)[h.inverse]
        return pd.Series(values, index=index, name="log_likelihood")


class TransactionModel(FittedModel):
    """Fitting and predictions common to the BG/NBD and Pareto/NBD models."""

    #: ``(x, t, *params) -> log P(X(t) = x)`` of a new customer (:mod:`analysis.value.clv.purchase_counts`).
    _count_log_pmf: Callable[..., np.ndarray]
    #: ``(params, histories) -> params`` of the process a customer still active at ``T`` starts afresh.
    _updated_if_alive: Callable[[np.ndarray, Histories], tuple[np.ndarray, ...]]

    def _prepare(self, data: pd.DataFrame, who: str) -> tuple[Histories, pd.Index]:
        x, t_x, T = rfm_columns(data, who)
        return grouped_histories(x, t_x, T, deduplicate=self.deduplicate), data.index

    def fit(self, data: pd.DataFrame) -> Self:
        """Estimate the parameters by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer with ``frequency``, ``recency`` and ``T``
            (see the module notes); other columns are ignored. Not modified.

        Returns
        -------
        self
            With ``params_``, ``standard_errors_``, ``confidence_intervals_``,
            ``covariance_``, ``log_likelihood_``, ``aic_``, ``bic_``, ``n_``,
            ``n_distinct_`` (distinct histories), ``convergence_``, ``data_``.
        """
        who = f"{type(self).__name__}.fit"
        h, _ = self._prepare(data, who)
        require_repeat_purchases(h.x, who)
        self._fit_histories(h, self._start(h), who, data)
        return self

    def probability_alive(self, data: pd.DataFrame | None = None) -> pd.Series:
        """Probability that each customer is still active at the end of their history (at ``T``).

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Customers with ``frequency``, ``recency``, ``T``; default: the fitted data.

        Returns
        -------
        pandas.Series
            ``p_alive``, indexed like ``data``.
        """
        params = self._check_fitted()
        h, index = self._prepare(self._data(data), f"{type(self).__name__}.probability_alive")
        return pd.Series(self._p_alive(params, h)[h.inverse], index=index, name="p_alive")

    def expected_purchases(self, *, horizon: float, data: pd.DataFrame | None = None) -> pd.Series:
        """Expected number of purchases in ``(T, T + horizon]``, given each customer's history.

        Parameters
        ----------
        horizon : float
            Length of the prediction period, in the data's time unit.
        data : pandas.DataFrame, optional
            Customers with ``frequency``, ``recency``, ``T``; default: the fitted data.

        Returns
        -------
        pandas.Series
            ``expected_purchases``, indexed like ``data``.
        """
        params = self._check_fitted()
        t = check_number("horizon", horizon, low=0.0, strict=False, what="a non-negative finite number")
        h, index = self._prepare(self._data(data), f"{type(self).__name__}.expected_purchases")
        values = (self._p_alive(params, h) * self._expected_if_alive(params, h, t))[h.inverse]
        return pd.Series(values, index=index, name="expected_purchases")

    def expected_purchases_population(self, *, times: Any) -> pd.Series:
        """Expected repeat purchases ``E[X(t)]`` of a new customer within ``t`` of the first purchase.

        Parameters
        ----------
        times : float or array-like
            Non-negative times since the first purchase, in the data's time unit.

        Returns
        -------
        pandas.Series
            ``expected_purchases``, indexed by ``time``.
        """
        params = self._check_fitted()
        t = check_times("times", times)
        index = pd.Index(t, name="time")
        return pd.Series(self._population_expected(params, t), index=index, name="expected_purchases")

    def purchase_count_probabilities(
        self, *, horizon: float, counts: Any, data: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Probability that each customer makes exactly ``x*`` purchases in ``(T, T + horizon]``, given their history.

        ``P(X(T, T+t) = x* | x, t_x, T) = P(alive) P'(X(t) = x*) + 1{x* = 0} (1 -
        P(alive))``, with ``P'`` the model's population distribution at the
        parameters updated by the history (see
        :mod:`analysis.value.clv.purchase_counts`). Summed over all ``x*`` it is
        1, and ``sum x* P`` is :meth:`expected_purchases`.

        Parameters
        ----------
        horizon : float
            Length of the prediction period, in the data's time unit.
        counts : array-like of int
            The numbers of purchases ``x*`` (whole numbers ``>= 0``), e.g. ``range(8)``.
        data : pandas.DataFrame, optional
            Customers with ``frequency``, ``recency``, ``T``; default: the fitted data.

        Returns
        -------
        pandas.DataFrame
            One row per customer (indexed like ``data``), one column per count
            (columns named ``purchases``).
        """
        params = self._check_fitted()
        t = check_number("horizon", horizon, low=0.0, strict=False, what="a non-negative finite number")
        k = check_counts(counts)
        h, index = self._prepare(self._data(data), f"{type(self).__name__}.purchase_count_probabilities")
        p_alive = self._p_alive(params, h)
        updated = self._updated_if_alive(params, h)
        probs = count_probabilities(self._count_log_pmf, updated, np.full(h.x.size, t), k) * p_alive[:, None]
        probs[:, k == 0] += (1 - p_alive)[:, None]
        return pd.DataFrame(probs[h.inverse], index=index, columns=pd.Index(k, name="purchases"))

    def purchase_count_probabilities_population(self, *, times: Any, counts: Any) -> pd.DataFrame:
        """Probability ``P(X(t) = x)`` that a new customer makes ``x`` repeat purchases within ``t`` of the first.

        Parameters
        ----------
        times : float or array-like
            Non-negative times since the first purchase, in the data's time unit.
        counts : array-like of int
            The numbers of repeat purchases ``x`` (whole numbers ``>= 0``).

        Returns
        -------
        pandas.DataFrame
            One row per time (indexed by ``time``), one column per count
            (columns named ``purchases``); ``sum x P`` is
            :meth:`expected_purchases_population`.

        References
        ----------
        .. [1] Fader, Hardie & Lee (2005), eq. 8 (BG/NBD); Fader & Hardie (2006),
           http://brucehardie.com/notes/012/ (Pareto/NBD).
        """
        params = self._check_fitted()
        t = check_times("times", times)
        k = check_counts(counts)
        probs = count_probabilities(self._count_log_pmf, tuple(params), t, k)
        return pd.DataFrame(probs, index=pd.Index(t, name="time"), columns=pd.Index(k, name="purchases"))
