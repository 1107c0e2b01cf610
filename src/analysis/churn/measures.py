"""How strongly each signal announces churn: prevalence, rates, lift, relative risk, odds ratio, AUC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.checks import level_name, level_z, require_columns
from analysis.churn.signals import B2B_SIGNALS, TELCO_SIGNALS, TRANSACTION_SIGNALS
from analysis.errors import DataError

__all__ = ["auc_interval", "auc_standard_error", "outcome_values", "signal_table"]


def outcome_values(frame: pd.DataFrame, outcome: str) -> np.ndarray:
    """The 0/1 outcome column as int64, checked."""
    require_columns(frame, [outcome], "the churn analysis", table="<frame>")
    values = frame[outcome]
    if values.isna().any() or not values.isin([0, 1]).all():
        bad = values[values.isna() | ~values.isin([0, 1])]
        raise DataError(
            "outcome must be 0/1 (or bool) without missing values",
            column=outcome,
            n_bad=len(bad),
            n_rows=len(values),
            examples=list(bad.head().items()),
        )
    return values.to_numpy(dtype="int64")


def auc_interval(outcome: Any, score: Any, *, level: float = 0.95) -> tuple[float, float, float]:
    """Area under the ROC curve with DeLong's confidence interval.

    The AUC is the Mann-Whitney probability that a churner scores higher than
    a non-churner (ties count one half), ``U / (n1 n0)``. Its standard error
    comes from the placement values of DeLong et al. (1988); the interval is
    ``AUC +/- z se``, clipped to [0, 1].

    Parameters
    ----------
    outcome : array-like
        0/1 outcomes (1 = churned).
    score : array-like
        Scores (higher = more at risk); no missing values.
    level : float
        Confidence level.

    Returns
    -------
    (auc, lower, upper)
        NaN if either class is empty; the interval is NaN with a single
        member in a class.

    References
    ----------
    DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. (1988). Comparing the
    areas under two or more correlated receiver operating characteristic
    curves: a nonparametric approach. *Biometrics* 44, 837-845.

    Examples
    --------
    >>> auc_interval([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])[0]
    0.75
    """
    z = level_z(level)
    auc, se = auc_standard_error(np.asarray(outcome, dtype="int64"), np.asarray(score, dtype="float64"))
    return (auc, max(0.0, auc - z * se), min(1.0, auc + z * se))


def auc_standard_error(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """The AUC of score ``s`` for outcome ``y`` (0/1) and its standard error (DeLong's structural components)."""
    pos, neg = s[y == 1], s[y == 0]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return (np.nan, np.nan)
    ranks = sps.rankdata(np.concatenate([pos, neg]))
    auc = (ranks[:m].sum() - m * (m + 1) / 2) / (m * n)
    if m < 2 or n < 2:
        return (float(auc), np.nan)
    v10 = (ranks[:m] - sps.rankdata(pos)) / n  # share of non-churners below each churner
    v01 = 1 - (ranks[m:] - sps.rankdata(neg)) / m  # share of churners above each non-churner
    se = np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    return (float(auc), float(se))


def _ratio_ci(a: float, b: float, c: float, d: float, z: float) -> tuple[float, ...]:
    """Relative risk (Katz) and odds ratio (Woolf) of a 2x2 table with log-scale intervals.

    ``a, b`` = churners / stayers with the signal, ``c, d`` without. Any
    zero cell adds 0.5 to all four (Haldane-Anscombe).
    """
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    rr = (a / (a + b)) / (c / (c + d))
    se_rr = np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    odds = (a * d) / (b * c)
    se_or = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return (
        rr,
        rr * np.exp(-z * se_rr),
        rr * np.exp(z * se_rr),
        odds,
        odds * np.exp(-z * se_or),
        odds * np.exp(z * se_or),
    )


def signal_table(
    frame: pd.DataFrame,
    signals: Sequence[str] | None = None,
    *,
    outcome: str = "churned",
    level: float = 0.95,
) -> pd.DataFrame:
    """Univariate strength of each churn signal, strongest first.

    A signal whose values are all 0/1 (or bool) is *binary* and gets the 2x2
    statistics; any other numeric signal is *continuous* and gets only the
    AUC. Rows with a missing signal value are left out of that signal's row.

    Parameters
    ----------
    frame : DataFrame
        A churn frame: the ``outcome`` column (0/1) and the signal columns.
    signals : sequence of str, optional
        Columns to assess (default: the columns of :data:`TRANSACTION_SIGNALS`,
        :data:`B2B_SIGNALS` and :data:`TELCO_SIGNALS` present in ``frame``).
    outcome : str
        The 0/1 outcome column.
    level : float
        Confidence level of the intervals (95 in the column names below).

    Returns
    -------
    pandas.DataFrame
        One row per signal, sorted by ``strength`` (descending): ``signal``,
        ``kind`` (``"binary"``/``"continuous"``), ``n``, ``churn_rate``
        (overall, over the ``n`` rows); for binary signals ``prevalence``
        (share with the signal), ``churn_rate_with``, ``churn_rate_without``,
        ``lift`` (churn rate with the signal over the overall rate),
        ``relative_risk`` with ``relative_risk_lower_95`` /
        ``relative_risk_upper_95`` (Katz log interval), ``odds_ratio`` with
        ``odds_ratio_lower_95`` / ``odds_ratio_upper_95`` (Woolf log
        interval; any zero cell adds 0.5 to all four cells); for all signals
        ``auc`` with ``auc_lower_95`` / ``auc_upper_95`` (DeLong, see
        :func:`auc_interval`; for a binary signal the AUC is the mean of its
        sensitivity and specificity), ``direction`` (``"higher"`` if higher
        values go with more churn, else ``"lower"``), ``p_value`` (two-sided
        Mann-Whitney test, with ties; for a binary signal the chi-square test of
        the 2x2 table) and ``strength`` = ``|2 auc - 1|`` (Somers' D: 0 = no
        association, 1 = perfect separation), which ranks binary and continuous
        signals on one scale. Constant signals get NaN statistics.

    Raises
    ------
    DataError
        If a column is missing or not numeric, or the outcome is not 0/1 or
        has a single class.
    """
    z = level_z(level)
    y_all = outcome_values(frame, outcome)
    if y_all.min() == y_all.max():
        raise DataError("the outcome has a single class: no association can be measured", column=outcome)
    if signals is None:
        known = (*TRANSACTION_SIGNALS, *B2B_SIGNALS, *TELCO_SIGNALS)
        signals = [c for c in dict.fromkeys(known) if c in frame.columns]
    signals = list(signals)
    require_columns(frame, signals, "signal_table", table="<frame>")
    not_numeric = [s for s in signals if not (pd.api.types.is_numeric_dtype(frame[s]) or frame[s].dtype == bool)]
    if not_numeric:
        raise DataError(
            f"signal column(s) {not_numeric} are not numeric",
            hint="Turn a category into 0/1 indicator columns first",
        )
    lv = level_name(level)
    rows = []
    for name in signals:
        values = frame[name].astype("float64")
        keep = values.notna().to_numpy()
        x, y = values.to_numpy()[keep], y_all[keep]
        binary = bool(np.isin(x, [0.0, 1.0]).all())
        row: dict[str, Any] = {"signal": name, "kind": "binary" if binary else "continuous", "n": int(keep.sum())}
        row["churn_rate"] = y.mean() if len(y) else np.nan
        constant = len(x) == 0 or x.min() == x.max() or y.min() == y.max()
        if binary:
            a, b = float(np.sum((x == 1) & (y == 1))), float(np.sum((x == 1) & (y == 0)))
            c, d = float(np.sum((x == 0) & (y == 1))), float(np.sum((x == 0) & (y == 0)))
            row["prevalence"] = (a + b) / len(x) if len(x) else np.nan
            row["churn_rate_with"] = a / (a + b) if a + b else np.nan
            row["churn_rate_without"] = c / (c + d) if c + d else np.nan
            row["lift"] = row["churn_rate_with"] / row["churn_rate"] if row["churn_rate"] else np.nan
            ratios = (np.nan,) * 6 if constant else _ratio_ci(a, b, c, d, z)
            for key, value in zip(
                ("relative_risk", f"relative_risk_lower_{lv}", f"relative_risk_upper_{lv}"), ratios[:3], strict=True
            ):
                row[key] = value
            for key, value in zip(
                ("odds_ratio", f"odds_ratio_lower_{lv}", f"odds_ratio_upper_{lv}"), ratios[3:], strict=True
            ):
                row[key] = value
        if constant:
            row.update({"auc": np.nan, f"auc_lower_{lv}": np.nan, f"auc_upper_{lv}": np.nan, "p_value": np.nan})
        else:
            auc, se = auc_standard_error(y, x)
            row.update(
                {"auc": auc, f"auc_lower_{lv}": max(0.0, auc - z * se), f"auc_upper_{lv}": min(1.0, auc + z * se)}
            )
            row["p_value"] = float(sps.mannwhitneyu(x[y == 1], x[y == 0], method="asymptotic").pvalue)
        row["direction"] = None if constant else ("higher" if row["auc"] >= 0.5 else "lower")
        row["strength"] = abs(2 * row["auc"] - 1)
        rows.append(row)
    columns = ["signal", "kind", "n", "churn_rate", "prevalence", "churn_rate_with", "churn_rate_without", "lift"]
    for name in ("relative_risk", "odds_ratio", "auc"):
        columns += [name, f"{name}_lower_{lv}", f"{name}_upper_{lv}"]
    columns += ["direction", "p_value", "strength"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table = table.astype({"signal": "str", "kind": "str", "n": "int64"})
    return table.sort_values("strength", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
