"""Grading schemes (value share, rank share, quotas, absolute tiers, computed ABC) and where they cut."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import PPoly
from scipy.linalg import solve_banded

from analysis.checks import check_increasing
from analysis.errors import ParameterError, check_option

__all__ = [
    "SCHEMES",
    "VALUE_METRICS",
    "Scheme",
    "assign_grades",
    "computed_abc_limits",
    "cutoff_positions",
    "make_scheme",
]


#: Value metrics an analyst can grade on, and the summary column holding each.
VALUE_METRICS = {
    "revenue": "trailing_value",
    "margin": "trailing_margin",
    "occasions": "trailing_occasions",
}


KINDS = ("value_share", "rank_share", "quota", "absolute", "computed_abc")


STATUSES = ("graded", "provisional", "no positive value")


#: DOMAIN.md's absolute annual-revenue tiers (lower bounds).
ABSOLUTE_TIERS = {
    "Diamond": 5_000_000.0,
    "Platinum": 2_000_000.0,
    "Gold": 200_000.0,
    "VIP": 10_000.0,
}


@dataclass(frozen=True)
class Scheme:
    """A grading scheme, validated on creation.

    Parameters
    ----------
    name : str
        Name shown in tables.
    kind : {"value_share", "rank_share", "quota", "absolute", "computed_abc"}
        The rule (see the module docstring).
    cuts : tuple of float
        ``value_share`` / ``rank_share``: increasing cumulative shares in
        (0, 1), one fewer than labels. ``quota``: the per-grade quotas, one
        per label, summing to 1.
    labels : tuple of str
        Grade names, best first.
    thresholds : tuple of float
        ``absolute``: decreasing value thresholds, one fewer than labels (the
        last label is "below the last threshold").
    coefficient, scale : float
        ``absolute``: thresholds are multiplied by both.
    """

    name: str
    kind: str
    cuts: tuple[float, ...] = ()
    labels: tuple[str, ...] = ("A", "B", "C")
    thresholds: tuple[float, ...] = ()
    coefficient: float = 1.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        check_option("kind", self.kind, KINDS)
        labels, cuts = tuple(self.labels), tuple(float(c) for c in self.cuts)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "cuts", cuts)
        object.__setattr__(self, "thresholds", tuple(float(t) for t in self.thresholds))
        if len(set(labels)) != len(labels) or len(labels) < 2:
            raise ParameterError("labels", labels, "at least two distinct grade names")
        if self.kind in ("value_share", "rank_share"):
            if len(cuts) != len(labels) - 1:
                raise ParameterError("cuts", cuts, f"{len(labels) - 1} cumulative shares")
            if not all(0 < c < 1 for c in cuts):
                raise ParameterError("cuts", cuts, "strictly increasing shares inside (0, 1)")
            check_increasing("cuts", cuts, what="shares inside (0, 1)")
        elif self.kind == "quota":
            if len(cuts) != len(labels):
                raise ParameterError("cuts", cuts, f"{len(labels)} quotas, one per grade")
            if not all(0 < c < 1 for c in cuts) or not math.isclose(sum(cuts), 1.0, abs_tol=1e-9):
                raise ParameterError("cuts", cuts, "quotas inside (0, 1) that sum to 1")
        elif self.kind == "absolute":
            t = self.thresholds
            if len(t) != len(labels) - 1:
                raise ParameterError("thresholds", t, f"{len(labels) - 1} thresholds")
            if not all(x > 0 for x in t) or any(b >= a for a, b in pairwise(t)):
                raise ParameterError("thresholds", t, "positive, strictly decreasing thresholds")
            for name in ("coefficient", "scale"):
                value = getattr(self, name)
                if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
                    raise ParameterError(name, value, "a positive number")
        elif len(labels) != 3:
            raise ParameterError("labels", labels, "three grade names (A, B, C)")

    @property
    def ranks_on_score(self) -> bool:
        """Whether the scheme ranks on the composite score rather than on value."""
        return self.kind == "quota"


#: The schemes the studies compare by default (DOMAIN.md's numbers).
SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("value_share_75_20_5", "value_share", cuts=(0.75, 0.95)),
        Scheme("value_share_80_15_5", "value_share", cuts=(0.80, 0.95)),
        Scheme("rank_share_5_15_80", "rank_share", cuts=(0.05, 0.20)),
        Scheme("quota_20_30_40_10", "quota", cuts=(0.2, 0.3, 0.4, 0.1), labels=("A", "B", "C", "D")),
        Scheme(
            "absolute_tiers",
            "absolute",
            labels=(*ABSOLUTE_TIERS, "not key"),
            thresholds=tuple(ABSOLUTE_TIERS.values()),
        ),
        Scheme("computed_abc", "computed_abc"),
    )
}


def make_scheme(name: str, **changes: Any) -> Scheme:
    """A default scheme by name, optionally with changed settings.

    Examples
    --------
    >>> make_scheme("absolute_tiers", scale=0.001, coefficient=0.85).thresholds[0]
    5000000.0
    >>> make_scheme("value_share_75_20_5", cuts=(0.95, 0.75))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'cuts' = (0.95, 0.75): expected strictly ...
    """
    check_option("scheme", name, SCHEMES)
    return replace(SCHEMES[name], **changes) if changes else SCHEMES[name]


def cutoff_positions(ranking: np.ndarray, scheme: Scheme) -> np.ndarray:
    """Cut-off per grade but the last, from the graded customers' ranking values."""
    if scheme.kind == "absolute":
        return np.array(scheme.thresholds) * scheme.coefficient * scheme.scale
    x = np.sort(ranking)[::-1]
    n = len(x)
    if n == 0 or (scheme.kind == "computed_abc" and n < 3):
        return np.full(len(scheme.labels) - 1, np.inf)
    if scheme.kind == "computed_abc":
        limits = computed_abc_limits(x)
        return np.array([limits["a_cutoff"], limits["b_cutoff"]])
    if scheme.kind == "value_share":
        before = (np.cumsum(x) - x) / x.sum()
        last = [np.flatnonzero(before < cut)[-1] for cut in scheme.cuts]
    else:
        cumulative = np.cumsum(scheme.cuts)[:-1] if scheme.kind == "quota" else scheme.cuts
        # Guard the float sum (0.2 + 0.3 + 0.4) before the ceiling.
        last = [max(1, math.ceil(round(c * n, 9))) - 1 for c in cumulative]
    return x[np.minimum(last, n - 1)]


def assign_grades(ranking: np.ndarray, cutoffs: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
    """Best grade whose cut-off the value reaches (ties share a grade)."""
    position = (ranking[:, None] < cutoffs[None, :]).sum(axis=1)
    return pd.Categorical.from_codes(position, categories=list(labels), ordered=True)


def computed_abc_limits(values: np.ndarray | Sequence[float]) -> dict[str, float]:
    """Ultsch & Lötsch's computed ABC analysis limits.

    Follows the published definition and its reference implementation (R
    package ``ABCanalysis``, ``ABCanalysis.R`` of the authors' repository,
    2014-2017: ``ABLimit = sorted[round(A_x n)]``, A = values above it, B =
    values from it down to ``BCLimit = sorted[round(C_x n)]``; other
    versions may place the single item at a limit differently): the ABC curve (share of customers, sorted by
    value descending, against cumulative share of value, through (0, 0)) is
    interpolated by a cubic spline on a grid of step 0.01 (n < 101) or 0.001;
    the **Pareto point** is the grid point nearest to (0, 1), the
    **break-even point** the one where the curve's slope is nearest to 1.
    The A/B limit is whichever of the two has the smaller effort; the B/C
    limit (the "submarginal point") is the grid point nearest to (x, 1),
    where x is the effort of the other one. A: values above the value at
    the A/B limit; C: values below the value at the B/C limit.

    Parameters
    ----------
    values : array-like
        Positive values (at least 3).

    Returns
    -------
    dict
        ``pareto_point``, ``break_even_point``, ``submarginal_point`` (each an
        (effort, yield) tuple), ``a_limit_value``, ``b_limit_value`` (the
        values at the limits), and ``a_cutoff``/``b_cutoff``: the lowest value
        in A and in B (so A = ``value >= a_cutoff``).

    References
    ----------
    Ultsch A., Lötsch J. (2015) Computed ABC Analysis for Rational Selection
    of Most Informative Variables in Multivariate Data. PLoS ONE 10(6):
    e0129767. doi:10.1371/journal.pone.0129767
    """
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    n = len(x)
    if n < 3 or np.any(x <= 0):
        raise ParameterError("values", f"{n} values", "at least 3 positive values")
    effort = np.concatenate([[0.0], np.arange(1, n + 1) / n])
    yield_ = np.concatenate([[0.0], np.cumsum(x) / x.sum()])
    step = 0.01 if n < 101 else 0.001
    grid = np.round(np.arange(0, 1 + step / 2, step), 10)
    spline = _fmm_spline(effort, yield_)
    curve = spline(grid)
    reached = np.flatnonzero(curve >= 1)
    if len(reached):
        curve[reached[0] :] = 1.0
    slope = _fmm_spline(grid, curve).derivative()(np.arange(1, len(grid) + 1) / len(grid))
    pareto = int(np.argmin(grid**2 + (curve - 1) ** 2))
    break_even = int(np.argmin(np.abs(slope - 1)))
    if grid[break_even] < grid[pareto]:
        a_index, other = break_even, pareto
    else:
        a_index, other = pareto, break_even
    c_index = int(np.argmin((grid - grid[other]) ** 2 + (curve - 1) ** 2))

    def value_at(effort_share: float) -> float:
        position = int(np.round(effort_share * n))  # R's round(): half to even, as numpy's
        return float(x[max(position, 1) - 1])

    a_value, b_value = value_at(grid[a_index]), value_at(grid[c_index])
    above = x[x > a_value]
    return {
        "pareto_point": (float(grid[pareto]), float(curve[pareto])),
        "break_even_point": (float(grid[break_even]), float(curve[break_even])),
        "submarginal_point": (float(grid[c_index]), float(curve[c_index])),
        "a_limit_value": a_value,
        "b_limit_value": b_value,
        "a_cutoff": float(above.min()) if len(above) else np.inf,
        "b_cutoff": b_value,
    }


def _fmm_spline(x: np.ndarray, y: np.ndarray) -> PPoly:
    """Cubic spline with Forsythe-Malcolm-Moler end conditions (R's ``spline()`` default).

    The spline's third derivative at each end equals that of the cubic through
    the four points nearest that end (Forsythe, Malcolm & Moler 1977,
    *Computer Methods for Mathematical Computations*, the ``spline`` routine;
    R's ``splines.c``). Needs at least four points.
    """
    n = len(x)
    h = np.diff(x)
    slopes = np.diff(y) / h
    # Tridiagonal system for sigma (a third of the second derivative).
    diagonal = np.empty(n)
    rhs = np.zeros(n)
    diagonal[1:-1] = 2 * (h[:-1] + h[1:])
    rhs[1:-1] = slopes[1:] - slopes[:-1]
    diagonal[0], diagonal[-1] = -h[0], -h[-1]
    # End conditions from third divided differences.
    start = rhs[2] / (x[3] - x[1]) - rhs[1] / (x[2] - x[0])
    end = rhs[-2] / (x[-1] - x[-3]) - rhs[-3] / (x[-2] - x[-4])
    rhs[0] = start * h[0] ** 2 / (x[3] - x[0])
    rhs[-1] = -end * h[-1] ** 2 / (x[-1] - x[-4])
    banded = np.zeros((3, n))
    banded[0, 1:] = h  # super-diagonal
    banded[1] = diagonal
    banded[2, :-1] = h  # sub-diagonal
    sigma = solve_banded((1, 1), banded, rhs)
    b = slopes - h * (sigma[1:] + 2 * sigma[:-1])
    c = 3 * sigma[:-1]
    d = (sigma[1:] - sigma[:-1]) / h
    return PPoly(np.vstack([d, c, b, y[:-1]]), x)
