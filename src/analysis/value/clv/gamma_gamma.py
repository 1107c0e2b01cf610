"""The Gamma-Gamma spend model (Fader, Hardie and Lee 2005, RFM and CLV)."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import special

from analysis.checks import check_rows
from analysis.errors import DataError
from analysis.value.clv.base import (
    DATAFRAME_LABEL,
    Histories,
    frequency_column,
    grouped_histories,
    numeric_column,
    require_summary_columns,
)
from analysis.value.clv.estimation import FittedModel

__all__ = ["GammaGammaModel"]


class GammaGammaModel(FittedModel):
    """Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, JMR).

    A customer's spends per purchase are ``Gamma(p, rate nu)`` around their
    mean ``p / nu``; across customers ``nu ~ Gamma(q, rate gamma)``. Spend is
    assumed independent of the purchase process. Fitted on customers with
    ``frequency > 0``, from the mean repeat spend ``monetary_value`` over
    ``frequency`` purchases.

    Parameters
    ----------
    initial_params : mapping, optional
        Starting values for ``p``, ``q``, ``gamma`` (default: ``p = 1``,
        ``q = 3``, ``gamma`` matching the mean spend).
    max_iter : int
        Optimiser iterations.
    tol : float
        Optimiser tolerance on the gradient of the mean log-likelihood.
    deduplicate : bool
        Evaluate each distinct ``(frequency, monetary_value)`` once, weighted by its count.

    Notes
    -----
    The density of the mean ``m`` of ``x`` spends is::

        Gamma(p x + q) / (Gamma(p x) Gamma(q)) * gamma^q x^(p x) m^(p x - 1) / (gamma + x m)^(p x + q)

    and ``E[p / nu | m, x] = p (gamma + x m) / (p x + q - 1)``.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV:
       using iso-value curves for customer base analysis. *Journal of
       Marketing Research* 42(4), 415-430.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2013). The Gamma-Gamma model of
       monetary value. http://brucehardie.com/notes/025/
    """

    _names = ("p", "q", "gamma")

    def _prepare(self, data: pd.DataFrame, who: str) -> tuple[Histories, pd.Index]:
        """Histories of the customers with ``frequency > 0`` (``t_x`` holds the mean spend)."""
        x, spend = _spend_columns(data, who)
        repeat = np.flatnonzero(x > 0)
        h = grouped_histories(x[repeat], spend[repeat], np.zeros(repeat.size), deduplicate=self.deduplicate)
        return h, data.index[repeat]

    def fit(self, data: pd.DataFrame) -> Self:
        """Estimate the parameters by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer with ``frequency`` and ``monetary_value``
            (positive where ``frequency > 0``; customers with ``frequency`` 0
            are left out). Not modified.

        Returns
        -------
        self
            With the fitted attributes of :meth:`BetaGeoModel.fit`; ``n_`` counts
            the customers with ``frequency > 0``.
        """
        who = "GammaGammaModel.fit"
        h, _ = self._prepare(data, who)
        if not h.x.size:
            raise DataError("no customers with frequency > 0", file=DATAFRAME_LABEL, column="frequency")
        mean_spend = float(h.weight @ h.t_x) / float(h.weight.sum())
        self._fit_histories(h, np.array([1.0, 3.0, 2.0 * mean_spend]), who, data)
        return self

    @staticmethod
    def _log_likelihood(params: np.ndarray, h: Histories) -> np.ndarray:
        p, q, gamma = params
        x, m = h.x, h.t_x
        px = p * x
        return (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * math.log(gamma)
            + px * np.log(x * m)
            - np.log(m)
            - (px + q) * np.log(gamma + x * m)
        )

    @classmethod
    def _terms(cls, params: np.ndarray, h: Histories) -> tuple[np.ndarray, np.ndarray]:
        return cls._log_likelihood(params, h), cls._score(params, h)

    @staticmethod
    def _score(params: np.ndarray, h: Histories) -> np.ndarray:
        p, q, gamma = params
        x, m = h.x, h.t_x
        psi_pxq = special.digamma(p * x + q)
        log_den = np.log(gamma + x * m)
        d_p = x * (psi_pxq - special.digamma(p * x) + np.log(x * m) - log_den)
        d_q = psi_pxq - special.digamma(q) + math.log(gamma) - log_den
        d_gamma = q / gamma - (p * x + q) / (gamma + x * m)
        return np.stack([d_p, d_q, d_gamma])

    def expected_spend(self, data: pd.DataFrame | None = None) -> pd.Series:
        """Expected mean spend per purchase of each customer, given their purchases so far.

        Customers with ``frequency`` 0 get the population mean ``p gamma / (q - 1)``
        (infinite when ``q <= 1``).

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Customers with ``frequency`` and ``monetary_value``; default: the fitted data.

        Returns
        -------
        pandas.Series
            ``expected_spend``, indexed like ``data``.
        """
        p, q, gamma = self._check_fitted()
        frame = self._data(data)
        x, spend = _spend_columns(frame, "GammaGammaModel.expected_spend")
        total = np.where(x > 0, x * np.nan_to_num(spend), 0.0)
        denominator = p * x + q - 1
        with np.errstate(divide="ignore"):
            values = np.where(
                denominator > 0, p * (gamma + total) / np.where(denominator > 0, denominator, 1.0), np.inf
            )
        return pd.Series(values, index=frame.index, name="expected_spend")


def _spend_columns(data: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    require_summary_columns(data, ("frequency", "monetary_value"), who)
    x = frequency_column(data)
    spend = numeric_column(data, "monetary_value")
    repeat = x > 0
    check_rows(data, "monetary_value", repeat & ~np.isfinite(spend), "missing or infinite values where frequency > 0")
    check_rows(
        data,
        "monetary_value",
        repeat & (spend <= 0),
        "non-positive values where frequency > 0",
        hint="the Gamma-Gamma model needs positive spends: leave these customers out",
    )
    return x, spend
