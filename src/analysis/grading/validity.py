"""Predictive validity of grades: do today's grades predict next period's value.

Out of time by construction: grades come from data up to ``as_of`` and the
future value from the holdout period after it (e.g.
:func:`analysis.engines.summaries.calibration_holdout`'s ``value_holdout``).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.checks import level_name
from analysis.errors import DataError
from analysis.grading.grades import Grading
from analysis.stats import StatisticalResult, bootstrap_mean_interval, bootstrap_samples, share_intervals

__all__ = ["capture_gains", "future_value_by_grade", "grade_separation"]


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
    n_boot: int = 999,
    seed: int = 0,
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
    n_boot, seed : int
        Resamples and seed of the bootstrap-t intervals of the means.

    Returns
    -------
    pandas.DataFrame
        One row per grade, then ``provisional`` and ``no positive value``:
        ``grade``, ``customers``, ``mean_future_value`` with ``mean_lower`` /
        ``mean_upper`` (bootstrap-t, :func:`analysis.stats.bootstrap_mean_interval`:
        Student-t intervals undercover on small skewed grades; NaN for a grade
        of one customer), ``share_of_future_value`` with
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
        mean, lower, upper = bootstrap_mean_interval(members, level, n_boot=n_boot, seed=seed)
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


def capture_gains(
    gradings: Mapping[str, Grading],
    future: pd.DataFrame,
    *,
    column: str = "value_holdout",
    level: float = 0.95,
    n_boot: int = 999,
    seed: int = 0,
) -> pd.DataFrame:
    """Capture gain of each scheme with a paired bootstrap interval, and its difference from the leading scheme.

    A scheme's *capture gain* is its best grade's share of the next-period
    value of all customers known at ``as_of`` (the capture rate) minus that
    grade's share of those customers: how much more value than headcount it
    holds. Every scheme grades the same customers, so the schemes are
    compared on the same bootstrap resamples of customers (paired): the
    interval of a difference reflects only how the schemes differ, not the
    sampling noise they share. Percentile intervals.

    Parameters
    ----------
    gradings : mapping of str to Grading
        Each scheme's grades at the same date, of the same customers.
    future : DataFrame
        ``customer_id`` and the future value ``column`` (as for :func:`future_value_by_grade`).
    column, level
        As for :func:`future_value_by_grade`.
    n_boot, seed : int
        Resamples and seed (the study's ``random_seed``).

    Returns
    -------
    pandas.DataFrame
        One row per scheme: ``scheme``, ``capture_rate``, ``best_grade_share``
        (share of customers in the graded best grade), ``capture_gain`` with
        ``capture_gain_lower_95`` / ``capture_gain_upper_95``, and
        ``gain_vs_leader`` (capture gain minus that of the scheme with the
        highest one; 0 for the leader) with ``gain_vs_leader_lower_95`` /
        ``gain_vs_leader_upper_95``.
    """
    if not gradings:
        raise DataError("no scheme to compare", column="scheme")
    names = list(gradings)
    joined = [_joined(gradings[name], future, column).sort_values("customer_id", kind="stable") for name in names]
    ids = joined[0]["customer_id"].to_numpy()
    if any(len(j) != len(ids) or (j["customer_id"].to_numpy() != ids).any() for j in joined[1:]):
        raise DataError("the schemes grade different customers: capture gains cannot be paired", column="customer_id")
    value = joined[0]["future_value"].to_numpy(dtype="float64")
    best = np.column_stack(
        [
            ((j["status"] == "graded") & (j["grade"].astype("object") == gradings[n].scheme.labels[0])).to_numpy()
            for n, j in zip(names, joined, strict=True)
        ]
    ).astype("float64")

    def gains(rows: np.ndarray) -> np.ndarray:
        v = value[rows]  # resamples x customers
        totals = v.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            captured = np.stack([(v * best[rows, k]).sum(axis=-1) for k in range(len(names))], axis=-1)
            return captured / totals - best[rows].mean(axis=-2)

    estimate = gains(np.arange(len(ids))[None, :])[0]
    replicates = np.concatenate(list(map(gains, bootstrap_samples(len(ids), n_boot, seed, cells=1_000_000))))
    leader = int(np.nanargmax(estimate))
    differences = replicates - replicates[:, [leader]]
    alpha = (1 - level) / 2
    lv = level_name(level)
    low, high = np.nanquantile(replicates, [alpha, 1 - alpha], axis=0)
    d_low, d_high = np.nanquantile(differences, [alpha, 1 - alpha], axis=0)
    capture = estimate + best.mean(axis=0)
    return pd.DataFrame(
        {
            "scheme": names,
            "capture_rate": capture,
            "best_grade_share": best.mean(axis=0),
            "capture_gain": estimate,
            f"capture_gain_lower_{lv}": low,
            f"capture_gain_upper_{lv}": high,
            "gain_vs_leader": estimate - estimate[leader],
            f"gain_vs_leader_lower_{lv}": d_low,
            f"gain_vs_leader_upper_{lv}": d_high,
        }
    )


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
    if order.nunique() < 2 or data["future_value"].nunique() < 2:  # undefined, said so (no warning)
        rho, p_rho = np.nan, np.nan
    else:
        rho, p_rho = sps.spearmanr(order, data["future_value"])
    groups = [data.loc[data["grade"] == g, "future_value"].to_numpy() for g in labels]
    nonempty = [g for g in groups if len(g)]
    results = {"spearman": StatisticalResult("Spearman rho", float(rho), float(p_rho))}
    if len(nonempty) >= 2:  # the same value for everyone: H is undefined (NaN, no warning)
        constant = np.ptp(np.concatenate(nonempty)) == 0
        h, p_h = (np.nan, np.nan) if constant else sps.kruskal(*nonempty)
        results["kruskal"] = StatisticalResult("Kruskal-Wallis H", float(h), float(p_h), len(nonempty) - 1)
    for (upper, a), (lower, b) in pairwise(zip(labels, groups, strict=True)):
        if len(a) and len(b):
            u, p_u = sps.mannwhitneyu(a, b, alternative="greater")
            results[f"adjacent_{upper}_{lower}"] = StatisticalResult(
                f"Mann-Whitney U ({upper} > {lower})", float(u), float(p_u)
            )
    return results
