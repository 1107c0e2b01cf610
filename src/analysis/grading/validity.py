"""Predictive validity of grades: do today's grades predict next period's value.

Out of time by construction: grades come from data up to ``as_of`` and the
future value from the holdout period after it (e.g.
:func:`analysis.engines.summaries.calibration_holdout`'s ``value_holdout``).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.grading.grades import Grading
from analysis.stats import StatisticalResult, mean_interval, share_intervals

__all__ = ["future_value_by_grade", "grade_separation"]


def _joined(grading: Grading, future: pd.DataFrame, column: str) -> pd.DataFrame:
    merged = grading.customers.merge(
        future[["customer_id", column]], on="customer_id", how="left", validate="one_to_one"
    )
    return merged.assign(future_value=merged[column].fillna(0.0).clip(lower=0.0))


def future_value_by_grade(
    grading: Grading,
    future: pd.DataFrame,
    *,
    column: str = "value_holdout",
    level: float = 0.95,
) -> pd.DataFrame:
    """Next-period value per grade: mean and share, with confidence intervals.

    Parameters
    ----------
    grading : Grading
        Grades at ``as_of``.
    future : DataFrame
        ``customer_id`` and the future value ``column`` (customers missing
        from it count as 0; net-negative future value counts as 0).
    column : str
        Column of ``future`` holding the value after ``as_of``.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per grade, then ``provisional`` and ``no positive value``:
        ``grade``, ``customers``, ``mean_future_value`` with ``mean_lower`` /
        ``mean_upper`` (Student t), ``share_of_future_value`` with
        ``share_lower`` / ``share_upper`` (delta method; shares of the future
        value of *all* customers known at ``as_of``, so the A row's share is
        the **capture rate**), and ``active_share`` (share of customers with
        any future value).
    """
    data = _joined(grading, future, column)
    group = data["grade"].astype("object").where(data["status"] == "graded", data["status"].astype("object"))
    shares = share_intervals(data["future_value"], group, level=level)
    order = [*grading.scheme.labels, "provisional", "no positive value"]
    rows = []
    for label in order:
        members = data.loc[group == label, "future_value"]
        if label not in grading.scheme.labels and members.empty:
            continue
        mean, lower, upper = mean_interval(members, level)
        share = shares.loc[label] if label in shares.index else None
        rows.append(
            {
                "grade": label,
                "customers": len(members),
                "mean_future_value": mean,
                "mean_lower": lower,
                "mean_upper": upper,
                "share_of_future_value": share["share"] if share is not None else 0.0,
                "share_lower": share["lower"] if share is not None else np.nan,
                "share_upper": share["upper"] if share is not None else np.nan,
                "active_share": float((members > 0).mean()) if len(members) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def grade_separation(
    grading: Grading, future: pd.DataFrame, *, column: str = "value_holdout"
) -> dict[str, StatisticalResult]:
    """Tests that grades separate future value (graded customers only).

    Returns
    -------
    dict of StatisticalResult
        ``spearman``: Spearman rank correlation between grade (best grade =
        highest rank) and future value, with its p-value; ``kruskal``:
        Kruskal-Wallis H test that future value has the same distribution in
        every grade (``degrees_of_freedom`` = grades - 1); ``adjacent_<X>_<Y>``:
        one-sided Mann-Whitney U tests that grade X's future value is
        stochastically larger than the next grade Y's.
    """
    data = _joined(grading, future, column)
    data = data[data["status"] == "graded"]
    labels = list(grading.scheme.labels)
    order = len(labels) - data["grade"].cat.codes  # best grade -> largest number
    rho, p_rho = sps.spearmanr(order, data["future_value"])
    groups = [data.loc[data["grade"] == g, "future_value"].to_numpy() for g in labels]
    nonempty = [g for g in groups if len(g)]
    results = {"spearman": StatisticalResult("Spearman rho", float(rho), float(p_rho))}
    if len(nonempty) >= 2:
        h, p_h = sps.kruskal(*nonempty)
        results["kruskal"] = StatisticalResult("Kruskal-Wallis H", float(h), float(p_h), len(nonempty) - 1)
    for (upper, a), (lower, b) in pairwise(zip(labels, groups, strict=True)):
        if len(a) and len(b):
            u, p_u = sps.mannwhitneyu(a, b, alternative="greater")
            results[f"adjacent_{upper}_{lower}"] = StatisticalResult(
                f"Mann-Whitney U ({upper} > {lower})", float(u), float(p_u)
            )
    return results
