"""Grading schemes: cut customers into grades and report the cut-offs.

Every scheme works the same way: from the graded customers' values it derives
one **cut-off value per grade** (the lowest value that still earns the grade),
and every customer gets the best grade whose cut-off their value reaches. That
single rule gives the package's tie rule at every cut-off: customers with
equal value always share a grade, and a tie straddling a cut-off is resolved
upwards (the whole tie group joins the better grade), so shares and quotas
hold "up to ties".

Schemes (see ``../shared/DOMAIN.md`` section 1)
-----------------------------------------------
``value_share``
    Sort by value, accumulate the share of total value; a customer is in A
    while the value share of the customers *before* them is below the first
    cut (so the customer who crosses 75% is still A), and so on.
``rank_share``
    Sort by value and cut by share of customers: the first
    ``ceil(cut * n)`` customers are A, and so on.
``quota``
    Like ``rank_share``, on a 100-point composite score
    (:func:`composite_score`), with per-grade quotas that sum to 1.
``absolute``
    Fixed value thresholds (DOMAIN.md's Diamond/Platinum/Gold/VIP), times a
    regional ``coefficient`` (0.8-0.9 for smaller regions) and a currency
    ``scale`` that brings them to the data's currency and size.
``computed_abc``
    Data-driven limits of Ultsch & Lötsch (2015): see :func:`computed_abc_limits`.

Customers with no positive value are never graded (status
``"no positive value"``). Customers younger than the minimum tenure get a
**provisional** grade from the same cut-offs, but do not take part in setting
them (status ``"provisional"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import PPoly
from scipy.linalg import solve_banded

from analysis.errors import DataError, ParameterError, check_option

__all__ = [
    "DEFAULT_SCORE_COMPONENTS",
    "SCHEMES",
    "SCORE_COMPONENTS",
    "VALUE_METRICS",
    "Grading",
    "Scheme",
    "composite_score",
    "computed_abc_limits",
    "cutoff_sweep",
    "grade_customers",
    "grade_frame",
    "grade_table",
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
            if not all(0 < c < 1 for c in cuts) or any(b <= a for a, b in pairwise(cuts)):
                raise ParameterError("cuts", cuts, "strictly increasing shares inside (0, 1)")
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


# --------------------------------------------------------------------------- cut-offs


def _cutoffs(ranking: np.ndarray, scheme: Scheme) -> np.ndarray:
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


def _assign(ranking: np.ndarray, cutoffs: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
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


# --------------------------------------------------------------------------- scores


#: Composite-score components: summary column and direction (+1: higher is better).
SCORE_COMPONENTS = {
    "value": ("trailing_value", 1),
    "frequency": ("trailing_occasions", 1),
    "margin": ("trailing_margin", 1),
    "tenure": ("T", 1),
    "recency": ("time_since_last_purchase", -1),
}
#: Components used when no weights are given: those DOMAIN.md names (sales
#: scale, order quantity, margin, years of dealing) that the data has.
#: Recency is not among DOMAIN.md's components; it is available on request.
DEFAULT_SCORE_COMPONENTS = ("value", "frequency", "margin", "tenure")


def composite_score(
    summary: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    *,
    reference: np.ndarray | None = None,
) -> pd.Series:
    """100-point composite score for the quota scheme.

    Each component becomes its percentile among the ``reference`` customers
    (ties get the average rank; other customers are placed on the same
    scale), oriented so that higher is better, and the score is
    ``100 * sum(weight * percentile) / sum(weight)``. DOMAIN.md names the
    components (sales scale, payment reliability, margin, order quantity,
    years of dealing...) but no weights, so the default weights are equal
    and are a parameter.

    Parameters
    ----------
    summary : DataFrame
        Customer summary (:func:`analysis.summaries.customer_summary`).
    weights : mapping, optional
        ``{component: weight}`` with components ``value``
        (``trailing_value``), ``frequency`` (``trailing_occasions``),
        ``margin`` (``trailing_margin``), ``tenure`` (``T``, time since the
        first purchase) and ``recency`` (time since the last purchase,
        ``T - recency``; smaller is better). Default: equal weights on
        :data:`DEFAULT_SCORE_COMPONENTS` that the data has.
    reference : boolean array, optional
        Customers whose distribution defines the percentiles (the graded
        ones); default all. Customers outside it never move anyone's score.

    Returns
    -------
    pandas.Series
        Score in [0, 100], aligned with ``summary``.
    """
    data = summary
    if "recency" in summary and "T" in summary:
        data = summary.assign(time_since_last_purchase=summary["T"] - summary["recency"])
    if weights is None:
        weights = {k: 1.0 for k in DEFAULT_SCORE_COMPONENTS if SCORE_COMPONENTS[k][0] in data}
    unknown = set(weights) - set(SCORE_COMPONENTS)
    if unknown:
        raise ParameterError("score_weights", dict(weights), f"keys among {list(SCORE_COMPONENTS)}")
    if not weights or any(not (w >= 0) for w in weights.values()) or sum(weights.values()) <= 0:
        raise ParameterError("score_weights", dict(weights), "non-negative weights, some positive")
    mask = np.ones(len(data), dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
    total = np.zeros(len(data))
    for name, weight in weights.items():
        column, direction = SCORE_COMPONENTS[name]
        if column not in data:
            raise DataError(f"score component {name!r} needs column {column!r}", column=column)
        values = direction * data[column].to_numpy(dtype=float)
        total += weight * _percentile_against(values, values[mask])
    return pd.Series(100 * total / sum(weights.values()), index=summary.index)


def _percentile_against(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Average-rank percentile of each value within ``reference``.

    For members of ``reference`` this equals pandas' ``rank(method="average",
    pct=True)``; other values are placed on the same scale without entering it.
    """
    if len(reference) == 0:
        return np.zeros(len(values))
    ordered = np.sort(reference)
    below = np.searchsorted(ordered, values, side="left")
    upto = np.searchsorted(ordered, values, side="right")
    return (below + (upto - below + 1) / 2) / len(ordered)


# --------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class Grading:
    """Result of :func:`grade_customers`.

    Attributes
    ----------
    scheme : Scheme
        The scheme applied.
    customers : DataFrame
        One row per customer: ``customer_id``, ``value``, ``ranking`` (the
        value, or the composite score for quota schemes), ``status`` (one of
        ``"graded"``, ``"provisional"``, ``"no positive value"``), ``grade``
        (ordered categorical, best first; missing when not graded), ``rank``
        (1 = best among graded customers; ties share the lower number).
    cutoffs : DataFrame
        One row per grade: ``grade``, ``cutoff`` (lowest ranking value that
        earns the grade; for the last grade, the lowest graded value).
    details : dict
        Scheme-specific extras (the computed ABC points).
    """

    scheme: Scheme
    customers: pd.DataFrame
    cutoffs: pd.DataFrame
    details: dict[str, Any] = field(default_factory=dict)


def grade_customers(
    summary: pd.DataFrame,
    scheme: Scheme | str,
    *,
    value: str = "trailing_value",
    as_of: str | pd.Timestamp | None = None,
    min_tenure_days: int = 0,
    score_weights: Mapping[str, float] | None = None,
) -> Grading:
    """Grade customers under a scheme.

    Parameters
    ----------
    summary : DataFrame
        Customer summary with ``customer_id``, the ``value`` column and, for
        the tenure rule, ``first_purchase``; for quota schemes the score's
        components (see :func:`composite_score`).
    scheme : Scheme or str
        A :class:`Scheme` or the name of a default one (:data:`SCHEMES`).
    value : str
        Column holding the value metric (see :data:`VALUE_METRICS`).
    as_of : date, optional
        Analysis date, needed when ``min_tenure_days > 0``.
    min_tenure_days : int
        Customers whose first purchase is fewer days before ``as_of`` get a
        provisional grade.
    score_weights : mapping, optional
        Weights of the composite score (quota schemes).

    Returns
    -------
    Grading
    """
    if isinstance(scheme, str):
        scheme = make_scheme(scheme)
    young = np.zeros(len(summary), dtype=bool)
    if min_tenure_days > 0:
        if as_of is None:
            raise ParameterError("as_of", None, "a date when min_tenure_days > 0")
        young = ((pd.Timestamp(as_of) - summary["first_purchase"]).dt.days < min_tenure_days).to_numpy()
    return grade_frame(summary, scheme, value=value, young=young, score_weights=score_weights)


def grade_frame(
    summary: pd.DataFrame,
    scheme: Scheme,
    *,
    value: str,
    young: np.ndarray,
    score_weights: Mapping[str, float] | None = None,
) -> Grading:
    """Grade with an explicit mask of provisional (too young) customers.

    The engine behind :func:`grade_customers`, also used at every regrading
    date by :mod:`analysis.stability`.
    """
    if value not in summary.columns:
        raise DataError(
            "value column not in the summary",
            column=value,
            hint=f"Available: {list(summary.columns)}",
        )
    values = summary[value].astype(float)
    positive = values.fillna(0).to_numpy() > 0
    status = np.where(positive, np.where(young, "provisional", "graded"), "no positive value")
    graded = status == "graded"
    # Quota scores are percentiles among the graded customers only, so neither
    # provisional nor inactive customers move anyone's grade.
    ranking = composite_score(summary, score_weights, reference=graded) if scheme.ranks_on_score else values
    cut = _cutoffs(ranking.to_numpy()[graded], scheme)
    details = {}
    if scheme.kind == "computed_abc" and graded.sum() >= 3:
        details = computed_abc_limits(ranking.to_numpy()[graded])
    grades = _mask(_assign(ranking.to_numpy(), cut, scheme.labels), positive)
    rank = ranking.where(graded).rank(method="min", ascending=False)
    customers = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "value": values.to_numpy(),
            "ranking": ranking.to_numpy(),
            "status": pd.Categorical(status, categories=list(STATUSES)),
            "grade": grades,
            "rank": rank.astype("Int64").to_numpy(),
        }
    )
    lowest = ranking[graded].min() if graded.any() else np.nan
    cutoffs = pd.DataFrame({"grade": list(scheme.labels), "cutoff": [*cut.tolist(), lowest]})
    return Grading(scheme, customers, cutoffs, details)


def _mask(grades: pd.Categorical, keep: np.ndarray) -> pd.Categorical:
    codes = np.where(keep, grades.codes, -1)
    return pd.Categorical.from_codes(codes, categories=grades.categories, ordered=True)


def grade_table(grading: Grading) -> pd.DataFrame:
    """Customers and value per grade, with the effective cut-offs.

    Returns
    -------
    pandas.DataFrame
        One row per grade, then one row each for provisional customers and
        customers with no positive value (when there are any). Columns
        ``grade``, ``customers``, ``share_of_customers``, ``value``,
        ``share_of_value`` (both shares among graded customers; blank for
        the extra rows), ``lowest_value``, ``highest_value`` and ``cutoff``
        (the scheme's cut-off on its ranking, value or score).
    """
    c = grading.customers
    graded = c[c["status"] == "graded"]
    n, total = len(graded), graded["value"].sum()
    rows = []
    for label, cutoff in zip(grading.cutoffs["grade"], grading.cutoffs["cutoff"], strict=True):
        members = graded[graded["grade"] == label]
        rows.append(
            {
                "grade": label,
                "customers": len(members),
                "share_of_customers": len(members) / n if n else np.nan,
                "value": members["value"].sum(),
                "share_of_value": members["value"].sum() / total if total else np.nan,
                "lowest_value": members["value"].min(),
                "highest_value": members["value"].max(),
                "cutoff": cutoff,
            }
        )
    for status in STATUSES[1:]:
        members = c[c["status"] == status]
        if len(members):
            rows.append(
                {
                    "grade": status,
                    "customers": len(members),
                    "value": members["value"].fillna(0).sum(),
                    "lowest_value": members["value"].min(),
                    "highest_value": members["value"].max(),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "grade",
            "customers",
            "share_of_customers",
            "value",
            "share_of_value",
            "lowest_value",
            "highest_value",
            "cutoff",
        ],
    )


def cutoff_sweep(
    values: pd.Series | np.ndarray,
    *,
    kind: str = "value_share",
    grid: Sequence[float] | None = None,
) -> pd.DataFrame:
    """How the A grade's size and captured value move with its cut-off.

    Parameters
    ----------
    values : array-like
        Values of the graded customers (positive).
    kind : {"value_share", "rank_share"}
        Which cut-off moves: the cumulative value share or the customer share.
    grid : sequence of float, optional
        Cut-offs to try (default 0.01 .. 0.99 by 0.01).

    Returns
    -------
    pandas.DataFrame
        Columns ``cut``, ``a_customers``, ``share_of_customers``,
        ``share_of_value``, ``cutoff_value``, ``value_per_customer_ratio``
        (A's share of value over its share of customers) and ``bend``: true
        on the cut where adding customers to A stops adding more than an
        average customer's value (the maximum of share of value minus share
        of customers, where the concentration curve's slope falls to 1).
    """
    check_option("kind", kind, ["value_share", "rank_share"])
    x = np.asarray(values, dtype=float)
    x = x[x > 0]
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2) if grid is None else np.asarray(grid, float)
    rows = []
    for cut in grid:
        scheme = Scheme("sweep", kind, cuts=(float(cut),), labels=("A", "rest"))
        threshold = _cutoffs(x, scheme)[0]
        in_a = x >= threshold
        rows.append(
            {
                "cut": float(cut),
                "a_customers": int(in_a.sum()),
                "share_of_customers": in_a.mean(),
                "share_of_value": x[in_a].sum() / x.sum(),
                "cutoff_value": float(threshold),
            }
        )
    sweep = pd.DataFrame(rows)
    sweep["value_per_customer_ratio"] = sweep["share_of_value"] / sweep["share_of_customers"]
    gap = sweep["share_of_value"] - sweep["share_of_customers"]
    sweep["bend"] = gap.index == gap.idxmax()
    return sweep
