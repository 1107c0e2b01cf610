"""Study 2, the manuals' warning signs: each measured on the user's tables, or why it could not be.

``DOMAIN.md`` section 2 lists the warning signs practitioners watch. The
churn report answers for each: its measured strength (relative risk and AUC
with 95% intervals, from the signal table), or the table or column that
would let it be measured. Survival by each B2B sign and churn by industry
complete the picture.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.stats as sps
from statsmodels.stats.proportion import proportion_confint

from analysis.churn.crm import SIGN_NEEDS, WARNING_SIGNS, sign_needs
from analysis.churn.signals import B2B_FLAGS
from analysis.churn.survival import kaplan_meier, logrank, survival_at
from analysis.studies.text import p_value_text, percent

__all__ = [
    "churn_by_group",
    "describe_group_churn",
    "describe_survival_by_sign",
    "describe_warning_signs",
    "survival_by_sign",
    "warning_sign_table",
]


def _verdict(row: pd.Series) -> str:
    """The verdict on a signal-table row, from the relative risk's (or the AUC's) interval."""
    if row["kind"] == "binary":
        if not 0 < row["prevalence"] < 1:
            return "no customer has it" if row["prevalence"] == 0 else "every customer has it"
        low, high = row["relative_risk_lower_95"], row["relative_risk_upper_95"]
        return "raises churn" if low > 1 else "lowers churn" if high < 1 else "no clear effect"
    low, high = row["auc_lower_95"], row["auc_upper_95"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no clear effect"
    return "separates churners" if low > 0.5 or high < 0.5 else "no clear effect"


def warning_sign_table(signals: pd.DataFrame, frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per warning sign of ``DOMAIN.md`` section 2: its measured strength, or why it is not measured.

    Parameters
    ----------
    signals : DataFrame
        The signal table of the study frame (:func:`analysis.churn.measures.signal_table`).
    frame : DataFrame
        The study frame (``industry`` is looked for here).
    tables : mapping
        The loaded tables (to say what is missing).

    Returns
    -------
    pandas.DataFrame
        ``warning_sign``, ``signal`` (the measuring signal, empty if none),
        ``prevalence`` (share of customers with a flag), ``churn_rate_with``,
        ``churn_rate_without``, ``relative_risk`` with ``_lower_95`` /
        ``_upper_95``, ``auc`` with its interval, ``verdict`` ("raises churn",
        "lowers churn", "separates churners", "no clear effect", "no customer
        has it", "not measured") and ``note`` (the missing table or column, or
        the other signals measuring the same sign).
    """
    by_signal = signals.set_index("signal")
    numbers = [
        "prevalence",
        "churn_rate_with",
        "churn_rate_without",
        "relative_risk",
        "relative_risk_lower_95",
        "relative_risk_upper_95",
        "auc",
        "auc_lower_95",
        "auc_upper_95",
    ]
    rows = []
    for sign, candidates, reason in WARNING_SIGNS:
        row: dict[str, object] = {"warning_sign": sign, "signal": ""}
        row.update(dict.fromkeys(numbers, np.nan))
        measured = [c for c in candidates if c in by_signal.index]
        if measured:
            found = by_signal.loc[measured[0]]
            row.update({"signal": measured[0], **{k: found[k] for k in numbers}, "verdict": _verdict(found)})
            row["note"] = ", ".join(f"also {c}" for c in measured[1:])
            if measured[0] == "unresolved_complaint" and "resolved_date" not in tables["complaints"].columns:
                row["note"] = "the export's resolved flag: its status today, which may include later resolutions"
        elif candidates:
            needs = f"needs {sign_needs(candidates[0])}" if candidates[0] in SIGN_NEEDS else "not in the signal table"
            row.update({"verdict": "not measured", "note": needs})
        elif sign == "industry trouble" and "industry" in frame.columns:
            test = _group_test(frame, "industry")
            verdict = "churn differs by industry" if test < 0.05 else "no clear difference by industry"
            row.update({"verdict": verdict, "note": "chi-square test of no difference: see churn by industry"})
        else:
            note = reason if sign != "industry trouble" else "needs customers.industry"
            row.update({"verdict": "not measured", "note": note})
        rows.append(row)
    return pd.DataFrame(rows, columns=["warning_sign", "signal", *numbers, "verdict", "note"])


def describe_warning_signs(table: pd.DataFrame) -> str:
    """Lists: which warning signs raise churn (with relative risks), which show nothing, which are not measured.

    One Markdown list per verdict, one warning sign a line (so that each line
    is a whole sentence for the report's message catalogue).
    """
    raising = table[table["verdict"] == "raises churn"]
    parts = []
    if len(raising):
        listed = "\n".join(
            f"- {row.warning_sign}: {row.signal}, relative risk {row.relative_risk:.2f} "
            f"(95% CI {row.relative_risk_lower_95:.2f}-{row.relative_risk_upper_95:.2f})"
            for row in raising.itertuples()
        )
        parts.append(f"Of the manuals' warning signs, these raise the churn rate on this data:\n{listed}")
    else:
        parts.append("None of the manuals' warning signs measured as a flag clearly raises the churn rate here.")
    flat = table.loc[table["verdict"].isin(["no clear effect", "no customer has it", "lowers churn"]), "warning_sign"]
    if len(flat):
        parts.append("No clear rise in churn with:\n" + "\n".join(f"- {sign}" for sign in flat))
    missing = table[table["verdict"] == "not measured"]
    if len(missing):
        parts.append(
            f"{len(missing)} of {len(table)} signs are not measured:\n"
            + "\n".join(f"- {row.warning_sign} ({row.note})" for row in missing.itertuples())
        )
    return "\n\n".join(parts)


def survival_by_sign(frame: pd.DataFrame, signals: pd.DataFrame, *, at: float) -> pd.DataFrame:
    """Kaplan-Meier time to the next purchase split by each B2B flag that has customers on both sides.

    Parameters
    ----------
    frame : DataFrame
        The study frame with ``time_to_next_purchase`` and ``bought_again``.
    signals : DataFrame
        Its signal table (the flags' order: strongest first).
    at : float
        Days after ``as_of`` at which the curves are read (the horizon).

    Returns
    -------
    pandas.DataFrame
        ``signal``, ``customers_with``, ``not_bought_with`` and
        ``not_bought_without`` (Kaplan-Meier share not yet bought again
        ``at`` days after ``as_of``, with and without the flag),
        ``log_rank_chi2`` and ``p_value``. Empty when no B2B flag splits the
        customers.
    """
    columns = ["signal", "customers_with", "not_bought_with", "not_bought_without", "log_rank_chi2", "p_value"]
    rows = []
    for sign in signals["signal"]:
        if sign not in B2B_FLAGS or sign not in frame or frame[sign].nunique() < 2:
            continue
        curves = kaplan_meier(frame, time="time_to_next_purchase", event="bought_again", group=sign)
        read = survival_at(curves, [at], group=sign).set_index(sign)["survival"]
        test = logrank(frame, time="time_to_next_purchase", event="bought_again", group=sign)
        rows.append(
            {
                "signal": sign,
                "customers_with": int(frame[sign].sum()),
                "not_bought_with": float(read.get(1, np.nan)),
                "not_bought_without": float(read.get(0, np.nan)),
                "log_rank_chi2": test.statistic,
                "p_value": test.p_value,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _group_test(frame: pd.DataFrame, group: str) -> float:
    """p-value of the chi-square test of churn against ``group`` (1.0 with fewer than two groups)."""
    counts = pd.crosstab(frame[group], frame["churned"])
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return 1.0
    return float(sps.chi2_contingency(counts.to_numpy()).pvalue)


def churn_by_group(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """Churn rate by a customer attribute (industry, region) with Wilson 95% intervals.

    Returns
    -------
    pandas.DataFrame
        ``group`` values, ``customers``, ``churned``, ``churn_rate``,
        ``lower_95``, ``upper_95``, highest churn first; ``attrs["p_value"]``
        holds the chi-square test of independence.
    """
    counts = frame.groupby(group, observed=True)["churned"].agg(customers="size", churned="sum").reset_index()
    lower, upper = proportion_confint(counts["churned"].to_numpy(), counts["customers"].to_numpy(), method="wilson")
    table = counts.assign(
        churn_rate=counts["churned"] / counts["customers"], lower_95=lower, upper_95=upper
    ).sort_values("churn_rate", ascending=False, ignore_index=True)
    table.attrs["p_value"] = _group_test(frame, group)
    return table


def describe_group_churn(table: pd.DataFrame, group: str) -> str:
    """One sentence: the highest and lowest churn rate by ``group`` and the test."""
    if len(table) < 2:
        return f"Only one {group} in the data: churn cannot be compared across {group} values."
    high, low = table.iloc[0], table.iloc[-1]
    return (
        f"Churn by {group} ranges from {percent(low['churn_rate'])} ({low[group]}) to "
        f"{percent(high['churn_rate'])} ({high[group]}, {high['lower_95']:.0%}-{high['upper_95']:.0%}); "
        f"chi-square test of no difference: {p_value_text(table.attrs['p_value'])}."
    )


def describe_survival_by_sign(table: pd.DataFrame, horizon: int) -> str:
    """One sentence per B2B flag whose curves differ (log-rank p < 0.05), or why there is nothing to show."""
    if table.empty:
        return "No B2B warning sign splits the customers (the data has no CRM table, or no sign varies)."
    clear = table[table["p_value"] < 0.05]
    if clear.empty:
        return (
            "No B2B warning sign clearly changes the time to the next purchase "
            f"(log-rank p >= 0.05 for all {len(table)})."
        )
    parts = [
        f"{row.signal}: {percent(row.not_bought_with)} with it vs {percent(row.not_bought_without)} without "
        f"have not bought again {horizon} days on ({p_value_text(row.p_value)})"
        for row in clear.itertuples()
    ]
    return "Time to the next purchase differs by " + "; ".join(parts) + "."
