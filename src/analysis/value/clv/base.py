"""CLV models, shared ground: fit results, input checks, grouped histories."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import check_rows, require_columns
from analysis.errors import DataError, ParameterError

__all__ = [
    "CONVERGENCE_CHECKS",
    "DATAFRAME_LABEL",
    "GRADIENT_TOLERANCE",
    "LOG_BOUND",
    "NEAR_BOUND",
    "RFM_COLUMNS",
    "VANISHING_DROPOUT",
    "Z95",
    "Convergence",
    "Estimate",
    "Histories",
    "check_number",
    "check_params",
    "check_times",
    "frequency_column",
    "grouped_histories",
    "numeric_column",
    "require_repeat_purchases",
    "require_summary_columns",
    "rfm_columns",
]


DATAFRAME_LABEL = "<DataFrame>"


RFM_COLUMNS = ("frequency", "recency", "T")


#: Log-parameters are searched in [-LOG_BOUND, LOG_BOUND], i.e. parameters in [1e-8, 1e8].
LOG_BOUND = math.log(1e8)


Z95 = 1.959963984540054  # standard normal 97.5% quantile


#: A parameter within a factor of 10 of a search bound (below 1e-7 or above 1e7) is "at the bound".
NEAR_BOUND = math.log(1e7)


#: Largest absolute gradient of the mean negative log-likelihood per customer (log-parameters) called "small".
GRADIENT_TOLERANCE = 1e-5


#: Dropout has vanished (a boundary of the models) when fewer than this share of customers is expected to drop out.
VANISHING_DROPOUT = 1e-6


#: The checks of a converged fit, in words (keys of :meth:`Convergence.checks`).
CONVERGENCE_CHECKS = {
    "optimiser": "the optimiser reports success (or cannot improve further at a gradient under 1e-8)",
    "gradient": f"the gradient is small (largest component at most {GRADIENT_TOLERANCE:g} per customer)",
    "hessian": "the Hessian is positive definite (a strict maximum: standard errors exist)",
    "bounds": "no parameter is at a search bound (within a factor of 10 of 1e-8 or 1e8) and dropout has not vanished",
}


@dataclass(frozen=True)
class Convergence:
    """How the fit ended, and whether it is a maximum to trust: four checks.

    A fit is converged (``success``) only if the optimiser reported success,
    the gradient is small (:data:`GRADIENT_TOLERANCE`), the Hessian of the
    negative log-likelihood is positive definite and no parameter is at a
    search bound (below 1e-7 or above 1e7, :data:`NEAR_BOUND`);
    :meth:`checks` lists each with its figure, :meth:`describe` says which failed.

    Attributes
    ----------
    success : bool
        All four checks pass.
    message : str
        The optimiser's message, plus a note on parameters at a bound.
    iterations : int
        Optimiser iterations.
    gradient_max_abs : float
        Largest absolute component of the gradient of the *mean* negative
        log-likelihood per customer, with respect to the log-parameters, at
        the estimate.
    optimiser_success : bool
        What the optimiser reported.
    hessian_positive_definite : bool
        The Hessian at the estimate has a Cholesky factor.
    at_bound : tuple of str
        Parameters at a search bound.
    stopped_at_bound : bool
        The search was stopped early because a parameter reached the bound.
    """

    success: bool
    message: str
    iterations: int
    gradient_max_abs: float
    optimiser_success: bool = True
    hessian_positive_definite: bool = True
    at_bound: tuple[str, ...] = ()
    stopped_at_bound: bool = False

    @classmethod
    def from_checks(
        cls,
        *,
        optimiser_success: bool,
        message: str,
        iterations: int,
        gradient_max_abs: float,
        hessian_positive_definite: bool,
        at_bound: tuple[str, ...],
        stopped_at_bound: bool = False,
    ) -> Convergence:
        """The convergence of a fit from its four checks (``success`` is their conjunction)."""
        passed = (
            optimiser_success and gradient_max_abs <= GRADIENT_TOLERANCE and hessian_positive_definite and not at_bound
        )
        return cls(
            bool(passed),
            message,
            iterations,
            gradient_max_abs,
            bool(optimiser_success),
            bool(hessian_positive_definite),
            tuple(at_bound),
            bool(stopped_at_bound),
        )

    def checks(self) -> pd.DataFrame:
        """One row per check: ``check`` (key), ``condition`` (in words), ``passed`` and ``detail`` (the figure)."""
        optimiser = self.message.split(";")[0].strip() or "no message"
        if self.stopped_at_bound:
            optimiser = "stopped early: a parameter reached the search bound"
        rows = [
            ("optimiser", self.optimiser_success, optimiser),
            (
                "gradient",
                bool(self.gradient_max_abs <= GRADIENT_TOLERANCE),
                f"largest gradient component {self.gradient_max_abs:.2g}",
            ),
            (
                "hessian",
                self.hessian_positive_definite,
                "positive definite" if self.hessian_positive_definite else "not positive definite: standard errors NaN",
            ),
            ("bounds", not self.at_bound, ", ".join(self.at_bound) if self.at_bound else "none at a bound"),
        ]
        return pd.DataFrame(
            {
                "check": [row[0] for row in rows],
                "condition": [CONVERGENCE_CHECKS[row[0]] for row in rows],
                "passed": [bool(row[1]) for row in rows],
                "detail": [row[2] for row in rows],
            }
        )

    @property
    def failed(self) -> list[str]:
        """Keys of the failed checks (empty when converged)."""
        table = self.checks()
        return table.loc[~table["passed"], "check"].tolist()

    def describe(self) -> str:
        """One sentence: converged, or which checks failed and with what figure."""
        if self.success:
            return (
                f"converged: the optimiser succeeded in {self.iterations} iterations, the largest gradient component "
                f"is {self.gradient_max_abs:.1g}, the Hessian is positive definite and no parameter is at a bound"
            )
        failures = {
            "optimiser": "the optimiser did not report success"
            + (" (stopped early at a bound)" if self.stopped_at_bound else ""),
            "gradient": (
                f"the gradient is not small ({self.gradient_max_abs:.2g} > {GRADIENT_TOLERANCE:g} per customer)"
            ),
            "hessian": "the Hessian is not positive definite (no standard errors)",
            "bounds": f"at a bound: {', '.join(self.at_bound)}",
        }
        return "not converged: " + "; ".join(failures[key] for key in self.failed)


@dataclass(frozen=True)
class Histories:
    """Distinct customer histories, their counts and the map back to customers."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray  # customer i has history inverse[i]
    x_values: np.ndarray = field(init=False)  # distinct frequencies, for functions of x alone
    x_code: np.ndarray = field(init=False)  # x == x_values[x_code]

    def __post_init__(self) -> None:
        values, code = np.unique(self.x, return_inverse=True)
        object.__setattr__(self, "x_values", values)
        object.__setattr__(self, "x_code", code)

    @property
    def n_customers(self) -> int:
        """Number of customers (rows before grouping)."""
        return int(self.inverse.size)


@dataclass(frozen=True)
class Estimate:
    """A maximum-likelihood estimate: log-parameters, their Hessian and the optimiser's report."""

    theta: np.ndarray  # log-parameters
    hessian: np.ndarray  # of the total negative log-likelihood, w.r.t. theta
    log_likelihood: float
    convergence: Convergence


def check_params(value: Any, names: tuple[str, ...], parameter: str) -> np.ndarray:
    """Positive finite values for exactly ``names`` from a mapping, in that order."""
    expected = "a mapping with a positive finite value for each of " + ", ".join(names)
    if not isinstance(value, Mapping | pd.Series) or set(value.keys()) != set(names):
        raise ParameterError(parameter, value, expected)
    try:
        values = np.array([float(value[name]) for name in names])
    except (TypeError, ValueError):
        raise ParameterError(parameter, value, expected) from None
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ParameterError(parameter, value, expected)
    return values


def check_number(parameter: str, value: Any, *, low: float, strict: bool, what: str) -> float:
    """A finite real number above ``low`` (or at least ``low``), else ``ParameterError``."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if strict else value >= low)
    if not ok:
        raise ParameterError(parameter, value, what)
    return float(value)


def check_times(parameter: str, values: Any) -> np.ndarray:
    """Non-negative finite times as a float array, else ``ParameterError``."""
    try:
        times = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError(parameter, values, "non-negative finite numbers") from None
    if times.ndim != 1 or not times.size or not (np.isfinite(times).all() and (times >= 0).all()):
        raise ParameterError(parameter, values, "non-negative finite numbers")
    return times


def require_summary_columns(data: Any, columns: tuple[str, ...], who: str) -> None:
    """Raise ``DataError`` unless ``data`` is a non-empty customer summary with ``columns``."""
    require_columns(
        data,
        columns,
        who,
        hint=f"{who} needs {', '.join(columns)}; analysis.engines.summaries.customer_summary computes them",
    )
    if not len(data):
        raise DataError("no customers", file=DATAFRAME_LABEL)


def numeric_column(data: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as a float array, else ``DataError``."""
    if not pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(data[column]):
        raise DataError("column is not numeric", file=DATAFRAME_LABEL, column=column)
    return data[column].to_numpy(dtype=float, na_value=np.nan)


def frequency_column(data: pd.DataFrame) -> np.ndarray:
    """The ``frequency`` column: finite non-negative whole numbers, else ``DataError`` naming the rows."""
    x = numeric_column(data, "frequency")
    check_rows(data, "frequency", ~np.isfinite(x), "missing or infinite values")
    check_rows(data, "frequency", x < 0, "negative values")
    check_rows(data, "frequency", x != np.floor(x), "non-integer values", hint="frequency counts repeat purchases")
    return x


def rfm_columns(data: Any, who: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``frequency``, ``recency`` and ``T`` as float arrays."""
    require_summary_columns(data, RFM_COLUMNS, who)
    x = frequency_column(data)
    arrays = [x]
    for column in ("recency", "T"):
        values = numeric_column(data, column)
        check_rows(data, column, ~np.isfinite(values), "missing or infinite values")
        check_rows(data, column, values < 0, "negative values")
        arrays.append(values)
    _, t_x, T = arrays
    check_rows(data, "recency", t_x > T, "recency greater than T", hint="recency and T must be in the same time unit")
    check_rows(data, "recency", (x == 0) & (t_x > 0), "recency > 0 with frequency 0")
    return x, t_x, T


def require_repeat_purchases(x: np.ndarray, who: str) -> None:
    """Raise ``DataError`` unless some customer has a repeat purchase (the models need one)."""
    if not (x > 0).any():
        raise DataError(
            "no repeat purchases (every frequency is 0)",
            file=DATAFRAME_LABEL,
            column="frequency",
            hint=f"{who} cannot estimate purchase rates without repeat purchases",
        )


def _group(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``columns``: (first row of each group, inverse map, counts).

    Equivalent to ``numpy.unique(..., axis=0, return_index, return_inverse,
    return_counts)``, but through one ``lexsort`` (10x faster for a million rows).
    """
    if not columns[0].size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    order = np.lexsort(columns[::-1])
    new = np.zeros(order.size, dtype=bool)
    new[0] = True
    for column in columns:
        ordered = column[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    group = np.cumsum(new) - 1
    inverse = np.empty(order.size, dtype=np.int64)
    inverse[order] = group
    return order[new], inverse, np.bincount(group).astype(float)


def grouped_histories(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, *, deduplicate: bool = True) -> Histories:
    """Customers with identical ``(frequency, recency, T)`` grouped once, with their counts (or one row each)."""
    if not deduplicate:
        return Histories(x, t_x, T, np.ones(x.size), np.arange(x.size))
    first, inverse, counts = _group(x, t_x, T)
    return Histories(x[first], t_x[first], T[first], counts, inverse)
