"""The Gauss hypergeometric function 2F1(1, b; c; z) the Pareto/NBD likelihood needs, accurate up to z = 1."""

from __future__ import annotations

import numpy as np

__all__ = ["expm1_ratio", "hyp2f1_one"]


# 2F1(1, b; c; 1 - rho): Gauss's continued fraction (about 13 / sqrt(rho) terms, at most
# _CF_MAX_TERMS) for rho >= _CF_MIN_RHO; below, the trapezoidal rule is faster.
_CF_MAX_TERMS = 1000


_CF_MIN_RHO = 1e-3


_CF_BLOCK = 8  # terms between convergence checks


def expm1_ratio(y: np.ndarray) -> np.ndarray:
    """``expm1(y) / y``, equal to 1 at ``y = 0``."""
    y = np.asarray(y, dtype=float)
    small = np.abs(y) < 1e-8
    safe = np.where(small, 1.0, y)
    return np.where(small, 1.0 + y / 2, np.expm1(safe) / safe)


def hyp2f1_one(b: np.ndarray, c: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Gauss hypergeometric ``2F1(1, b; c; 1 - rho)`` for ``b > 0``, ``c > 1``, ``0 < rho <= 1``.

    Taking ``rho = 1 - z`` rather than ``z`` keeps full precision near
    ``z = 1``. For ``rho >= 1e-3`` Gauss's continued fraction converges in
    fewer than about ``13 / sqrt(rho)`` terms (:func:`_hyp2f1_one_cf`); below,
    where a few hundred quadrature nodes are cheaper, the Euler-type integral
    is summed by the trapezoidal rule on the whole real line
    (:func:`_hyp2f1_one_trapezoid`).
    """
    b, c, rho = (np.asarray(v, dtype=float).ravel() for v in np.broadcast_arrays(b, c, rho))
    out = np.empty(b.size)
    near = rho < _CF_MIN_RHO
    out[~near], converged = _hyp2f1_one_cf(b[~near], c[~near], 1.0 - rho[~near])
    near[np.flatnonzero(~near)[~converged]] = True
    for start in range(0, int(near.sum()), 4096):  # chunks bound the memory of the quadrature grid
        rows = np.flatnonzero(near)[start : start + 4096]
        out[rows] = _hyp2f1_one_trapezoid(b[rows], c[rows], np.log(rho[rows]))
    return out


def _hyp2f1_one_cf(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``2F1(1, b; c; z)`` by Gauss's continued fraction, and which values converged.

    ``2F1(1, b; c; z) = 2F1(0+1, b; (c-1)+1; z) / 2F1(0, b; c-1; z)`` is Gauss's
    ratio with ``a = 0``, evaluated by the modified Lentz method over all
    arguments at once; every partial numerator is negative and below 1 in
    size, so the denominators stay positive.

    References
    ----------
    .. [1] Cuyt, A. et al. (2008). *Handbook of Continued Fractions for Special
       Functions*, Springer, eq. 15.3.7.
    """
    out = np.empty(b.size)
    converged = np.zeros(b.size, dtype=bool)
    todo = np.arange(b.size)
    f, big_c, d = np.ones(b.size), np.ones(b.size), np.zeros(b.size)
    n = 0
    while todo.size and n < _CF_MAX_TERMS:
        bb, cc, zz = b[todo], c[todo], z[todo]
        delta = np.ones(todo.size)
        for _ in range(_CF_BLOCK):
            n += 1
            j = n // 2
            if n % 2:
                k = (cc - 1 + j) * (bb + j) / ((cc + 2 * j - 1) * (cc + 2 * j))
            else:
                k = (cc - 1 - bb + j) * j / ((cc + 2 * j - 2) * (cc + 2 * j - 1))
            a_n = -k * zz
            d = 1.0 / (1.0 + a_n * d)
            big_c = 1.0 + a_n / big_c
            delta = big_c * d
            f = f * delta
        done = np.abs(delta - 1.0) <= 1e-15
        out[todo[done]] = 1.0 / f[done]
        converged[todo[done]] = True
        keep = ~done
        todo, f, big_c, d = todo[keep], f[keep], big_c[keep], d[keep]
    return out, converged


def _hyp2f1_one_trapezoid(b: np.ndarray, c: np.ndarray, log_rho: np.ndarray, step: float = 0.25) -> np.ndarray:
    """``2F1(1, b; c; 1 - rho)`` by the trapezoidal rule over the whole real line.

    ``2F1(1, b; c; 1 - rho) = (c-1) int_0^inf (1 + rho v)^-b (1 + v)^-(c-b) dv``;
    over ``t = log v`` the integrand ``exp(t - b log1p(rho e^t) - (c-b) log1p(e^t))``
    is log-concave and analytic in the strip ``|Im t| < pi``, so the
    trapezoidal rule on the whole line converges geometrically in ``1/step``
    (``step = 0.25``: relative error below 1e-12). The grid covers the
    integrand down to ``e^-36`` of its tails, which are pure exponentials
    there (``e^t`` on the left, ``e^-(c-1) t`` on the right) and are summed as
    geometric series.
    """
    e = c - b
    t0 = -np.log(b * np.exp(log_rho) + e) - 36.0
    t1 = np.maximum(np.log(b) - log_rho, np.log(e)) + 36.0
    n_steps = np.ceil((t1 - t0) / step).astype(np.int64)
    k = np.arange(int(n_steps.max()) + 1)
    growth = np.exp(step * k)[None, :]
    v = np.exp(t0)[:, None] * growth  # v = e^t on the grid (t <= about 130: no overflow)
    log_f = np.log(v) - b[:, None] * np.log1p(np.exp(t0 + log_rho)[:, None] * growth) - e[:, None] * np.log1p(v)
    f = np.where(k[None, :] <= n_steps[:, None], np.exp(log_f), 0.0)
    last = f[np.arange(b.size), n_steps]
    with np.errstate(over="ignore"):  # a steep right tail (large c) adds nothing
        right_tail = last / np.expm1((c - 1) * step)
    total = f.sum(axis=1) + np.exp(t0) / np.expm1(step) + right_tail
    return (c - 1) * step * total
