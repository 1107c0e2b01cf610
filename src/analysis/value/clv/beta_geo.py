"""The BG/NBD model (Fader, Hardie and Lee 2005)."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special

from analysis.value.clv.base import VANISHING_DROPOUT, Histories
from analysis.value.clv.estimation import TransactionModel
from analysis.value.clv.hypergeometric import expm1_ratio
from analysis.value.clv.purchase_counts import bg_count_log_pmf

__all__ = ["BetaGeoModel"]


_SERIES_MAX_TERMS = 4000


class BetaGeoModel(TransactionModel):
    """BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005).

    While active, a customer buys at Poisson rate ``lambda``; after each
    repeat purchase they become inactive with probability ``p``. Across
    customers ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``.

    Parameters
    ----------
    initial_params : mapping, optional
        Starting values for ``r``, ``alpha``, ``a``, ``b`` (default: ``r = 1``,
        ``alpha`` matching the mean purchase rate, ``a = b = 1``).
    max_iter : int
        Optimiser iterations.
    tol : float
        Optimiser tolerance on the gradient of the mean log-likelihood.
    deduplicate : bool
        Evaluate each distinct ``(frequency, recency, T)`` once, weighted by its
        count (default); ``False`` evaluates every customer (same result, slower).

    Notes
    -----
    Log-likelihood of a customer with history ``(x, t_x, T)`` (paper eq. 6)::

        Gamma(r+x) alpha^r / Gamma(r) * [ B(a, b+x)/B(a, b) / (alpha+T)^(r+x)
                                          + 1{x>0} B(a+1, b+x-1)/B(a, b) / (alpha+t_x)^(r+x) ]

    Conditional expectations use Euler's transformation of the paper's
    ``2F1(r+x, b+x; a+b+x-1; z)`` into ``2F1(a+b-1-r, a-1; a+b+x-1; z)``,
    summed as a series that stays finite at ``a = 1`` (see
    :func:`_bg_expected_alive`).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
       customers" the easy way: an alternative to the Pareto/NBD model.
       *Marketing Science* 24(2), 275-284.
    """

    _names = ("r", "alpha", "a", "b")
    _count_log_pmf = staticmethod(bg_count_log_pmf)

    @staticmethod
    def _start(h: Histories) -> np.ndarray:
        rate = max(float(h.weight @ h.x), 1.0) / max(float(h.weight @ h.T), 1e-8)
        return np.array([1.0, 1.0 / rate, 1.0, 1.0])

    @staticmethod
    def _boundary(params: np.ndarray, h: Histories) -> tuple[str, ...]:
        """Dropout vanished: under 1e-6 of customers expected to drop out by the largest frequency."""
        _, _, a, b = params
        share = a / (a + b) * max(float(h.x.max()), 1.0)
        if share >= VANISHING_DROPOUT:
            return ()
        return (f"dropout (a/(a+b) -> 0: a share {share:.1g} of customers drops out by the largest frequency)",)

    @staticmethod
    def _log_likelihood(params: np.ndarray, h: Histories) -> np.ndarray:
        return _bg_terms(params, h)[0]

    @staticmethod
    def _terms(params: np.ndarray, h: Histories) -> tuple[np.ndarray, np.ndarray]:
        return _bg_terms(params, h, score=True)

    @staticmethod
    def _p_alive(params: np.ndarray, h: Histories) -> np.ndarray:
        r, alpha, a, b = params
        repeat = h.x > 0
        x1 = np.where(repeat, h.x, 1.0)
        log_odds = math.log(a) - np.log(b + x1 - 1) + (r + h.x) * (np.log(alpha + h.T) - np.log(alpha + h.t_x))
        return np.where(repeat, special.expit(-log_odds), 1.0)

    @staticmethod
    def _expected_if_alive(params: np.ndarray, h: Histories, t: float) -> np.ndarray:
        r, alpha, a, b = params
        return _bg_expected_alive(r + h.x, alpha + h.T, a, b + h.x, np.full(h.x.size, t), r=r, b0=b)

    @staticmethod
    def _updated_if_alive(params: np.ndarray, h: Histories) -> tuple[np.ndarray, ...]:
        """A customer active at ``T`` starts afresh with ``lambda ~ Gamma(r+x, alpha+T)``, ``p ~ Beta(a, b+x)``."""
        r, alpha, a, b = params
        return r + h.x, alpha + h.T, np.full(h.x.size, a), b + h.x

    @staticmethod
    def _population_expected(params: np.ndarray, t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = params
        n = t.size
        return _bg_expected_alive(np.full(n, r), np.full(n, alpha), a, np.full(n, b), t, r=r, b0=b)


def _bg_terms(params: np.ndarray, h: Histories, *, score: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """BG/NBD log-likelihood per history and, with ``score``, its derivatives (natural scale, one row each)."""
    r, alpha, a, b = params
    xu, code = h.x_values, h.x_code  # functions of x alone: a few hundred values
    repeat = h.x > 0
    x1u = np.maximum(xu, 1.0)
    rx = r + h.x
    log_a_T, log_a_tx = np.log(alpha + h.T), np.log(alpha + h.t_x)
    u1 = special.betaln(a, b + xu)[code] - rx * log_a_T
    u2 = np.where(repeat, special.betaln(a + 1, b + x1u - 1)[code] - rx * log_a_tx, -np.inf)
    lse = np.logaddexp(u1, u2)
    const = (special.gammaln(r + xu) - special.gammaln(r))[code] + r * math.log(alpha) - special.betaln(a, b)
    ll = const + lse
    if not score:
        return ll, None
    w1, w2 = np.exp(u1 - lse), np.exp(u2 - lse)
    psi = special.digamma
    psi_abx = psi(a + b + xu)[code]
    d_r = (psi(r + xu) - psi(r))[code] + math.log(alpha) - w1 * log_a_T - w2 * log_a_tx
    d_alpha = r / alpha - rx * (w1 / (alpha + h.T) + w2 / (alpha + h.t_x))
    d_a = psi(a + b) - psi(a) + w1 * (psi(a) - psi_abx) + w2 * (psi(a + 1) - psi_abx)
    d_b = psi(a + b) - psi(b) + w1 * (psi(b + xu)[code] - psi_abx) + w2 * (psi(b + x1u - 1)[code] - psi_abx)
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


def _bg_expected_alive(
    r1: np.ndarray, alpha1: np.ndarray, a: float, b1: np.ndarray, t: np.ndarray, *, r: float, b0: float
) -> np.ndarray:
    """``E[Y(t)]`` for an active BG/NBD customer with ``lambda ~ Gamma(r1, alpha1)``, ``p ~ Beta(a, b1)``.

    ``E[(1 - exp(-lambda p t)) / p] = c/(a-1) * [1 - (1-z)^(r1) 2F1(r1, b1; c; z)]`` with
    ``c = a + b1 - 1`` and ``z = t / (alpha1 + t)`` (paper eq. 10). Euler's
    transformation gives ``(1-z)^(r1) 2F1(r1, b1; c; z) = (1-z)^(a-1) 2F1(A, a-1; c; z)``
    with ``A = a + b0 - 1 - r`` (the same for every customer), so with
    ``L = -log(1 - z)``::

        E = c * [ (1 - exp(-(a-1) L)) / (a-1) - exp(-(a-1) L) * S ],
        S = (2F1(A, a-1; c; z) - 1) / (a-1) = sum_{k>=1} (A)_k (a)_{k-1} z^k / ((c)_k k!),

    finite and smooth through ``a = 1``. Rows where the series is unreliable
    (``c <= 0``, no convergence, or cancellation) are integrated over ``p``.
    """
    c = a + b1 - 1
    big_a = a + b0 - 1 - r
    L = np.log1p(t / alpha1)
    z = -np.expm1(-L)
    with np.errstate(over="ignore", invalid="ignore"):  # rows where the series fails are integrated below
        series, ok = _bg_series(big_a, a, c, z)
        value = c * (L * expm1_ratio(-(a - 1) * L) - np.exp(-(a - 1) * L) * series)
    for i in np.flatnonzero(~ok & (t > 0)):
        value[i] = _bg_expected_alive_quad(r1[i], alpha1[i], a, b1[i], t[i])
    return np.where(t > 0, value, 0.0)


def _bg_series(big_a: float, a: float, c: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_{k>=1} (A)_k (a)_{k-1} z^k / ((c)_k k!)`` and where it is trustworthy.

    Summed until the tail bound ``|term| q / (1 - q)``, with ``q`` the larger of
    the current term ratio and its limit ``z``, is below 1e-16 of the sum;
    rows are set aside as they converge. Untrustworthy: ``c <= 0``, no
    convergence in ``_SERIES_MAX_TERMS`` terms, or cancellation (the sum of
    absolute terms over 1e8 times the sum).
    """
    total = np.zeros(z.size)
    ok = (c > 0) & (z == 0)
    todo = np.flatnonzero((c > 0) & (z > 0))
    cc, zz = c[todo], z[todo]
    term = big_a * zz / cc
    running, size = term.copy(), np.abs(term)
    k = 1
    while todo.size and k < _SERIES_MAX_TERMS:
        ratio = (big_a + k) * (a - 1 + k) / ((cc + k) * (k + 1)) * zz
        term = term * ratio
        running += term
        size += np.abs(term)
        k += 1
        bound = np.maximum(np.abs(ratio), zz)
        with np.errstate(divide="ignore"):
            tail = np.where(bound < 1, np.abs(term) * bound / (1 - bound), np.inf)
        done = tail <= 1e-16 * np.abs(running)
        if done.any() or k % 64 == 0:
            total[todo[done]] = running[done]
            ok[todo[done]] = size[done] <= 1e8 * np.abs(running[done])
            keep = ~done
            todo, cc, zz, term, running, size = (v[keep] for v in (todo, cc, zz, term, running, size))
    return total, ok


def _bg_expected_alive_quad(r1: float, alpha1: float, a: float, b1: float, t: float) -> float:
    """``E[(1 - (1 + p t / alpha1)^(-r1)) / p]`` over ``p ~ Beta(a, b1)`` by quadrature."""

    def g(p: float) -> float:
        if p < 1e-300:
            return r1 * t / alpha1
        return -math.expm1(-r1 * math.log1p(p * t / alpha1)) / p

    value = integrate.quad(g, 0.0, 1.0, weight="alg", wvar=(a - 1, b1 - 1), epsabs=0.0, epsrel=1e-10, limit=200)[0]
    return value * math.exp(-special.betaln(a, b1))
