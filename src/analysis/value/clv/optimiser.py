"""CLV models, maximum likelihood: the optimiser on log-parameters, the Hessian and its inverse (standard errors)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from analysis.value.clv.base import GRADIENT_TOLERANCE, LOG_BOUND, NEAR_BOUND, Convergence, Estimate

__all__ = ["STOP_AFTER_AT_BOUND", "inverse_hessian", "maximise", "positive_definite"]

#: Consecutive iterates with a parameter at a search bound after which the search stops.
STOP_AFTER_AT_BOUND = 3


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
    boundary: Callable[[np.ndarray], tuple[str, ...]] | None = None,
) -> Estimate:
    """Minimise the total negative log-likelihood ``nll`` over log-parameters.

    The optimiser sees the mean per customer (values of order 1 whatever the
    sample size); ``value_and_gradient`` (analytic) is used when given, else
    central differences of ``nll``. ``boundary`` (of the parameters) names the
    boundaries of the model's parameter space the estimate has reached beyond
    the search bounds (e.g. a vanishing dropout rate); the search stops once
    the estimate has stayed at a bound or boundary for :data:`STOP_AFTER_AT_BOUND`
    iterates.
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
    stop = _StopAtBound(boundary)
    result = optimize.minimize(
        mean_objective,
        np.clip(theta0, -LOG_BOUND + 1, LOG_BOUND - 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * k,
        options={"maxiter": max_iter, "maxfun": 20 * max_iter, "ftol": 1e-15, "gtol": tol, "maxcor": 10},
        callback=stop,
    )
    theta = result.x
    hessian = _hessian(nll, theta, gradient)
    if not stop.stopped:
        polished = _newton_polish(nll, total_grad, theta, hessian)
        if np.abs(polished - theta).max() > 1e-4:
            hessian = _hessian(nll, polished, gradient)
        theta = polished
    grad_max = float(np.abs(total_grad(theta) / n).max())
    at_bound = tuple(name for name, value in zip(names, theta, strict=True) if abs(value) >= NEAR_BOUND)
    at_bound += () if boundary is None else boundary(np.exp(theta))
    message = "stopped early: a parameter stayed at the search bound" if stop.stopped else str(result.message)
    if at_bound:
        message += f"; at a bound: {', '.join(at_bound)}"
    convergence = Convergence.from_checks(
        # A line search that cannot improve further at a gradient of rounding size has converged too.
        optimiser_success=not stop.stopped and (bool(result.success) or grad_max <= 1e-3 * GRADIENT_TOLERANCE),
        message=message,
        iterations=int(result.nit),
        gradient_max_abs=grad_max,
        hessian_positive_definite=positive_definite(hessian),
        at_bound=at_bound,
        stopped_at_bound=stop.stopped,
    )
    return Estimate(theta, hessian, -float(nll(theta)), convergence)


class _StopAtBound:
    """L-BFGS-B callback: stop once a parameter has been at a search bound for :data:`STOP_AFTER_AT_BOUND` iterates.

    A parameter there (below 1e-7 or above 1e7), or the model at a boundary
    of its parameter space (``boundary``), means the likelihood keeps
    rising towards a boundary: the fit will be reported not converged
    whatever the optimiser does next, and on degenerate Pareto/NBD fits the
    rest of the search costs minutes.
    """

    def __init__(self, boundary: Callable[[np.ndarray], tuple[str, ...]] | None) -> None:
        self.boundary = boundary
        self.run = 0
        self.stopped = False

    def __call__(self, intermediate_result: optimize.OptimizeResult) -> None:
        theta = intermediate_result.x
        boundary = self.boundary is not None and bool(self.boundary(np.exp(theta)))
        there = bool(np.any(np.abs(theta) >= NEAR_BOUND)) or boundary
        self.run = self.run + 1 if there else 0
        if self.run >= STOP_AFTER_AT_BOUND:
            self.stopped = True
            raise StopIteration


def positive_definite(matrix: np.ndarray) -> bool:
    """A finite matrix with a Cholesky factor."""
    if not np.isfinite(matrix).all():
        return False
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def inverse_hessian(hessian: np.ndarray) -> np.ndarray:
    """Inverse of a positive-definite Hessian; NaN otherwise (the fit's convergence says so)."""
    if not positive_definite(hessian):
        return np.full(hessian.shape, np.nan)
    return np.linalg.inv(hessian)
