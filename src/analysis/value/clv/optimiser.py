"""CLV models, maximum likelihood: the optimiser on log-parameters, the Hessian and its inverse (standard errors)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy import optimize

from analysis.value.clv.base import LOG_BOUND, Convergence, Estimate

__all__ = ["inverse_hessian", "maximise"]

log = logging.getLogger("analysis")


def _numeric_gradient(fun: Callable[[np.ndarray], float], theta: np.ndarray, step: float = 1e-5) -> np.ndarray:
    grad = np.empty(theta.size)
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = step
        grad[i] = (fun(theta + e) - fun(theta - e)) / (2 * step)
    return grad


def _hessian(
    fun: Callable[[np.ndarray], float],
    theta: np.ndarray,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Hessian by central differences, with one Richardson extrapolation step (error O(h^4)).

    With ``gradient``, columns are central differences of the gradient
    (``h = 1e-3``); otherwise second differences of ``fun`` (``h = 4e-3``,
    about ``eps^(1/4)``-optimal after extrapolation for sums of many terms).
    """
    k = theta.size
    eye = np.eye(k)

    def estimate(h: float) -> np.ndarray:
        if gradient is not None:
            hess = np.column_stack(
                [(gradient(theta + h * eye[j]) - gradient(theta - h * eye[j])) / (2 * h) for j in range(k)]
            )
        else:
            f0 = fun(theta)
            hess = np.empty((k, k))
            for i in range(k):
                hess[i, i] = (fun(theta + h * eye[i]) - 2 * f0 + fun(theta - h * eye[i])) / h**2
                for j in range(i):
                    hi, hj = h * eye[i], h * eye[j]
                    cross = fun(theta + hi + hj) - fun(theta + hi - hj) - fun(theta - hi + hj) + fun(theta - hi - hj)
                    hess[i, j] = hess[j, i] = cross / (4 * h**2)
        return (hess + hess.T) / 2

    h = 1e-3 if gradient is not None else 4e-3
    return (4 * estimate(h / 2) - estimate(h)) / 3


def _newton_polish(
    nll: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    theta: np.ndarray,
    hessian: np.ndarray,
) -> np.ndarray:
    """Up to two Newton steps from the optimiser's answer, kept only if they do not worsen the fit."""
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return theta
    value = nll(theta)
    for _ in range(2):
        step = np.linalg.solve(hessian, grad(theta))
        if not np.all(np.isfinite(step)) or np.abs(step).max() > 0.5:
            break
        candidate = np.clip(theta - step, -LOG_BOUND, LOG_BOUND)
        new_value = nll(candidate)
        if not new_value <= value + 1e-12 * abs(value):
            break
        theta, value = candidate, new_value
    return theta


def maximise(
    nll: Callable[[np.ndarray], float],
    theta0: np.ndarray,
    *,
    n: float,
    names: tuple[str, ...],
    value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None,
    max_iter: int,
    tol: float,
) -> Estimate:
    """Minimise the total negative log-likelihood ``nll`` over log-parameters.

    The optimiser sees the mean per customer (values of order 1 whatever the
    sample size); ``value_and_gradient`` (analytic) is used when given, else
    central differences of ``nll``.
    """
    if value_and_gradient is not None:

        def total_grad(theta: np.ndarray) -> np.ndarray:
            return value_and_gradient(theta)[1]

        def mean_objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = value_and_gradient(theta)
            return value / n, grad / n

        gradient: Callable[[np.ndarray], np.ndarray] | None = total_grad
    else:

        def total_grad(theta: np.ndarray) -> np.ndarray:
            return _numeric_gradient(nll, theta)

        def mean_objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            return nll(theta) / n, total_grad(theta) / n

        gradient = None

    k = theta0.size
    result = optimize.minimize(
        mean_objective,
        np.clip(theta0, -LOG_BOUND + 1, LOG_BOUND - 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * k,
        options={"maxiter": max_iter, "maxfun": 20 * max_iter, "ftol": 1e-15, "gtol": tol, "maxcor": 10},
    )
    theta = result.x
    hessian = _hessian(nll, theta, gradient)
    polished = _newton_polish(nll, total_grad, theta, hessian)
    if np.abs(polished - theta).max() > 1e-4:
        hessian = _hessian(nll, polished, gradient)
    theta = polished
    grad_max = float(np.abs(total_grad(theta) / n).max())
    at_bound = np.abs(theta) >= LOG_BOUND - 1e-6
    message = str(result.message)
    if at_bound.any():
        at = ", ".join(name for name, flag in zip(names, at_bound, strict=True) if flag)
        message += f"; at the search bound (1e-8 or 1e8): {at}"
    convergence = Convergence(
        success=bool((result.success or grad_max < 1e-6) and not at_bound.any()),
        message=message,
        iterations=int(result.nit),
        gradient_max_abs=grad_max,
    )
    return Estimate(theta, hessian, -float(nll(theta)), convergence)


def inverse_hessian(hessian: np.ndarray) -> np.ndarray:
    """Inverse of a positive-definite Hessian; NaN (with a warning) otherwise."""
    if not np.isfinite(hessian).all():
        return np.full(hessian.shape, np.nan)
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        log.warning("the Hessian of the negative log-likelihood is not positive definite: standard errors are NaN")
        return np.full(hessian.shape, np.nan)
    return np.linalg.inv(hessian)
