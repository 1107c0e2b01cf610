"""The Pareto/NBD model (Schmittlein, Morrison and Colombo 1987)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from analysis.value.clv.base import VANISHING_DROPOUT, Histories
from analysis.value.clv.estimation import TransactionModel
from analysis.value.clv.hypergeometric import expm1_ratio, hyp2f1_one
from analysis.value.clv.purchase_counts import pnbd_count_log_pmf

__all__ = ["ParetoNBDModel"]


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD model of repeat purchases (Schmittlein, Morrison & Colombo 1987).

    While active, a customer buys at Poisson rate ``lambda``; their lifetime
    is exponential with rate ``mu``. Across customers ``lambda ~ Gamma(r, rate
    alpha)`` and ``mu ~ Gamma(s, rate beta)``.

    Parameters
    ----------
    initial_params : mapping, optional
        Starting values for ``r``, ``alpha``, ``s``, ``beta`` (default: ``r = s = 1``,
        ``alpha`` matching the mean purchase rate, ``beta`` the mean of ``T``).
    max_iter : int
        Optimiser iterations.
    tol : float
        Optimiser tolerance on the gradient of the mean log-likelihood
        (the gradient is by central differences).
    deduplicate : bool
        As for :class:`BetaGeoModel`.

    Notes
    -----
    With ``m(y) = (alpha+y)^-(r+x) (beta+y)^-s`` and ``F(y) = int_y^inf
    (alpha+u)^-(r+x) (beta+u)^-(s+1) du``, the likelihood (Fader & Hardie 2005,
    eq. 19 and the case split of eqs. 20-23) is::

        L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ m(T) + s (F(t_x) - F(T)) ]

    and ``F(y) = m(y) h(y) / (r+s+x)`` where, by Euler's transformation,
    ``h(y) = 2F1(1, r+x; r+s+x+1; (alpha-beta)/(alpha+y))`` if ``alpha >= beta``
    and ``h(y) = (alpha+y)/(beta+y) 2F1(1, s+1; r+s+x+1; (beta-alpha)/(beta+y))``
    otherwise, both with arguments in ``[0, 1)``; ``0 < h <= (r+s+x)/s``.

    References
    ----------
    .. [1] Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987).
       Counting your customers: who are they and what will they do next?
       *Management Science* 33(1), 1-24.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2005). A note on deriving the
       Pareto/NBD model and related expressions. http://brucehardie.com/notes/009/
    """

    _names = ("r", "alpha", "s", "beta")
    _gradient_available = False
    _count_log_pmf = staticmethod(pnbd_count_log_pmf)

    @staticmethod
    def _start(h: Histories) -> np.ndarray:
        rate = max(float(h.weight @ h.x), 1.0) / max(float(h.weight @ h.T), 1e-8)
        mean_T = max(float(h.weight @ h.T) / float(h.weight.sum()), 1e-8)
        return np.array([1.0, 1.0 / rate, 1.0, mean_T])

    @staticmethod
    def _boundary(params: np.ndarray, h: Histories) -> tuple[str, ...]:
        """Dropout vanished: under 1e-6 of customers expected to drop out within the longest history."""
        _, _, s, beta = params
        share = -math.expm1(-s * math.log1p(float(h.T.max()) / beta))
        if share >= VANISHING_DROPOUT:
            return ()
        return (f"dropout (s/beta -> 0: a share {share:.1g} of customers drops out within the longest history)",)

    @staticmethod
    def _log_likelihood(params: np.ndarray, h: Histories) -> np.ndarray:
        return _pnbd_terms(params, h)[0]

    @staticmethod
    def _p_alive(params: np.ndarray, h: Histories) -> np.ndarray:
        return special.expit(-_pnbd_terms(params, h)[1])

    @staticmethod
    def _expected_if_alive(params: np.ndarray, h: Histories, t: float) -> np.ndarray:
        """``E[lambda] int_0^t E[exp(-mu u)] du`` under the posteriors given activity at ``T``."""
        r, alpha, s, beta = params
        L = np.log1p(t / (beta + h.T))
        return (r + h.x) * (beta + h.T) / (alpha + h.T) * L * expm1_ratio(-(s - 1) * L)

    @staticmethod
    def _updated_if_alive(params: np.ndarray, h: Histories) -> tuple[np.ndarray, ...]:
        """A customer active at ``T`` starts afresh with ``lambda ~ Gamma(r+x, alpha+T)``, ``mu ~ Gamma(s, beta+T)``."""
        r, alpha, s, beta = params
        return r + h.x, alpha + h.T, np.full(h.x.size, s), beta + h.T

    @staticmethod
    def _population_expected(params: np.ndarray, t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = params
        L = np.log1p(t / beta)
        return r * beta / alpha * L * expm1_ratio(-(s - 1) * L)


def _pnbd_terms(params: np.ndarray, h: Histories) -> tuple[np.ndarray, np.ndarray]:
    """Pareto/NBD log-likelihood per history and ``log D``, where ``P(alive) = 1 / (1 + D)``.

    ``L = K m(T) (1 + D)`` with ``D = s (F(t_x) - F(T)) / m(T) >= 0``; ``log D`` is
    computed as ``log s + [log m(t_x) - log m(T)] + log G(t_x) + log1p(-G(T)/G(t_x) ...)``
    with ``G = h / (r+s+x)``, so it is exact in log space and ``-inf`` when ``t_x = T``.
    """
    r, alpha, s, beta = params
    m = r + h.x
    log_m_T = -m * np.log(alpha + h.T) - s * np.log(beta + h.T)
    log_m_tx = -m * np.log(alpha + h.t_x) - s * np.log(beta + h.t_x)
    log_g = _pnbd_log_h(r, alpha, s, beta, np.concatenate([h.x, h.x]), np.concatenate([h.t_x, h.T]))
    log_g -= np.log(r + s + np.concatenate([h.x, h.x]))
    log_g_tx, log_g_T = log_g[: h.x.size], log_g[h.x.size :]
    gap = log_m_tx - log_m_T
    with np.errstate(divide="ignore"):
        log_d = math.log(s) + gap + log_g_tx + np.log1p(-np.exp(np.minimum(log_g_T - log_g_tx - gap, 0.0)))
    const = special.gammaln(m) - special.gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    return const + log_m_T + np.logaddexp(0.0, log_d), log_d


def _pnbd_log_h(r: float, alpha: float, s: float, beta: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``log h(y)`` of :class:`ParetoNBDModel` (the ``alpha >= beta`` / ``alpha < beta`` case split)."""
    c = r + s + x + 1
    if alpha >= beta:  # argument z = (alpha - beta) / (alpha + y), passed as 1 - z
        return np.log(hyp2f1_one(r + x, c, (beta + y) / (alpha + y)))
    ratio = (alpha + y) / (beta + y)  # 1 - z for z = (beta - alpha) / (beta + y)
    return np.log(ratio) + np.log(hyp2f1_one(s + 1, c, ratio))
