"""Customers graded by a scheme: grades with their status, grade tables, cut-off sweeps (score: grading.score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError, check_option
from analysis.grading.schemes import STATUSES, Scheme, assign_grades, computed_abc_limits, cutoff_positions, make_scheme
from analysis.grading.score import (
    COMPONENT_SOURCES,
    DEFAULT_SCORE_COMPONENTS,
    SCORE_COMPONENTS,
    composite_score,
    score_components,
)

__all__ = [
    "COMPONENT_SOURCES",
    "DEFAULT_SCORE_COMPONENTS",
    "SCORE_COMPONENTS",
    "Grading",
    "composite_score",
    "cutoff_sweep",
    "grade_customers",
    "grade_frame",
    "grade_table",
    "score_components",
]


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
        Customers whose first purchase (``dealing_start`` when the summary has
        it: the acquisition date where known) is fewer days before ``as_of``
        get a provisional grade, unless the summary's ``left_censored`` flags
        them (:func:`analysis.engines.censoring.flag_left_censored`: their
        history may start before the data, so their tenure is unknown and
        they are graded on their observed value).
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
        start = summary["dealing_start"] if "dealing_start" in summary else summary["first_purchase"]
        young = ((pd.Timestamp(as_of) - start).dt.days < min_tenure_days).to_numpy()
        if "left_censored" in summary:  # tenure unknown: graded on observed value
            young = young & ~summary["left_censored"].to_numpy(dtype=bool)
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
    date by :mod:`analysis.grading.stability`.
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
    cut = cutoff_positions(ranking.to_numpy()[graded], scheme)
    details = {}
    if scheme.kind == "computed_abc" and graded.sum() >= 3:
        details = computed_abc_limits(ranking.to_numpy()[graded])
    grades = _mask(assign_grades(ranking.to_numpy(), cut, scheme.labels), positive)
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
        threshold = cutoff_positions(x, scheme)[0]
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
