"""The churn study's sentences on its models, their validation and the alert list.

Split from :mod:`analysis.studies.churn` (which re-exports every function);
each sentence states what the numbers cannot carry: terms that cannot be
estimated, customers a model left out, a failed calibration test, a
capacity that reaches the whole base.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.churn.models import CoxModel, LogisticModel
from analysis.churn.validation import Validation
from analysis.studies.parameters import ChurnParameters
from analysis.studies.text import p_value_text, percent

__all__ = [
    "HOSMER_LEMESHOW_ALPHA",
    "capacity_covers_base",
    "describe_alerts",
    "describe_cox",
    "describe_model",
    "describe_strongest",
    "describe_validation",
    "separation_auc",
]


def describe_cox(model: CoxModel) -> str:
    """One sentence on the Cox model: strongest hazard ratios and the proportional-hazards check."""
    hr = model.hazard_ratios
    significant = hr[(hr["lower_95"] > 1) | (hr["upper_95"] < 1)]
    strongest = significant.reindex(significant["coefficient"].abs().sort_values(ascending=False).index).head(3)
    listed = ", ".join(
        f"{term} {row.hazard_ratio:.2f} ({row.lower_95:.2f}-{row.upper_95:.2f})" for term, row in strongest.iterrows()
    )
    ph = model.ph_test
    violated = [t for t, row in ph.iterrows() if t != "GLOBAL" and row["p_value"] < 0.05]
    check = (
        f"the proportional-hazards check flags {', '.join(violated)}: for those the hazard ratio is an average over "
        "time, not a constant"
        if violated
        else "the proportional-hazards check flags no covariate"
    )
    if not listed:
        return f"No hazard ratio is clearly different from 1 (every 95% interval includes 1); {check}."
    return f"Strongest hazard ratios: {listed}; {check}."


def separation_auc(auc: float, lower: float = np.nan, upper: float = np.nan) -> tuple[float, float, float]:
    """An AUC and its interval oriented so that 0.5 is chance and 1 perfect, whatever the signal's direction.

    The signal table's ``auc`` is that of the raw values (higher value, more
    churn): below 0.5 when *lower* values go with churn. Every sentence and
    the metrics use this one orientation: ``max(auc, 1 - auc)``, the interval
    mirrored with it.
    """
    if pd.isna(auc) or auc >= 0.5:
        return (auc, lower, upper)
    return (1 - auc, 1 - upper, 1 - lower)


def describe_model(model: LogisticModel, *, id_col: str = "customer_id", named: int = 10) -> str:
    """Sentences on the adjusted odds ratios of the logistic model, and on what it could not use or estimate.

    Terms whose odds ratio is not estimable (separation, ``model.separated``)
    are named apart, never listed as an effect; customers the model left out
    are counted and the first ``named`` named; non-convergence and any other
    warning of the fit become a sentence.
    """
    separated = model.separated.set_index("term") if len(model.separated) else pd.DataFrame(columns=["reason"])
    table = model.odds_ratios.drop(index=[t for t in separated.index if t in model.odds_ratios.index])
    significant = table[(table["lower_95"] > 1) | (table["upper_95"] < 1)]
    up = significant[significant["odds_ratio"] > 1].sort_values("odds_ratio", ascending=False)
    down = significant[significant["odds_ratio"] < 1].sort_values("odds_ratio")

    def listed(rows: pd.DataFrame) -> str:
        return ", ".join(f"{t} ({r.odds_ratio:.2f})" for t, r in rows.head(3).iterrows()) or "none"

    unclear = [t for t in table.index if t not in significant.index]
    parts = [
        f"Adjusted for each other ({model.n:,} customers), churn odds rise with {listed(up)} and fall with "
        f"{listed(down)}" + (f"; no clear effect of {', '.join(unclear)}" if unclear else "") + "."
    ]
    for term, row in separated.iterrows():
        shown = model.odds_ratios.loc[term, "odds_ratio"] if term in model.odds_ratios.index else np.nan
        who = (
            f" ({row.customers_with:,.0f} customers with it, {row.churners_with:,.0f} churned)"
            if not pd.isna(row.get("customers_with", np.nan))
            else ""
        )
        parts.append(
            f"The odds ratio of {term} cannot be estimated: {row.reason}{who}; the fitted {shown:.3g} is where "
            "the optimiser stopped, not an effect size."
        )
    if len(model.left_out):
        ids = model.left_out[id_col].astype(str).head(named).tolist() if id_col in model.left_out else []
        more = f" and {len(model.left_out) - named:,} more" if len(model.left_out) > named else ""
        parts.append(
            f"{len(model.left_out):,} customers are left out of the model for a missing or invalid value"
            + (f" ({', '.join(ids)}{more})" if ids else "")
            + "."
        )
    if not model.converged:
        parts.append(
            "The fit did not converge (the optimiser stopped before the likelihood settled): read the odds "
            "ratios as indicative only."
        )
    other = [
        w
        for w in model.fit_warnings
        if not w.startswith(("ConvergenceWarning", "PerfectSeparationWarning"))
        and not (w.startswith("RuntimeWarning") and len(model.left_out))
    ]
    if other:
        kinds = sorted({w.split(":", 1)[0] for w in other})
        parts.append(
            f"The fit met numerical trouble ({', '.join(kinds)}): standard errors and intervals may be unreliable."
        )
    return " ".join(parts)


def describe_strongest(table: pd.DataFrame, *, top: int = 3) -> str:
    """One sentence naming the strongest signals of a signal table, with AUC and (binary) relative risk."""
    parts = []
    for row in table.head(top).itertuples():
        text = f"{row.signal} ({row.direction} values, more churn; AUC {separation_auc(row.auc)[0]:.2f}"
        if row.kind == "binary" and not pd.isna(row.relative_risk):
            text += f", relative risk {row.relative_risk:.2f}"
        parts.append(text + ")")
    return f"Strongest signals: {', '.join(parts)}."


#: Significance level at which the Hosmer-Lemeshow test's rejection of calibration is stated.
HOSMER_LEMESHOW_ALPHA = 0.05


def describe_validation(validation: Validation, params: ChurnParameters) -> str:
    """Sentences on out-of-time performance, stating a Hosmer-Lemeshow rejection of calibration (p < 0.05)."""
    hl = validation.hosmer_lemeshow
    text = (
        f"Fitted at {params.as_of} and scored at {params.validation_as_of}, the model ranks churners with AUC "
        f"{validation.auc:.2f} ({validation.auc_lower:.2f}-{validation.auc_upper:.2f}); its Brier score "
        f"{validation.brier:.3f} compares with {validation.brier_no_skill:.3f} for predicting the average rate "
        f"for everyone, and it predicts {percent(validation.mean_predicted)} churn against "
        f"{percent(validation.churn_rate)} observed."
    )
    if hl.p_value < HOSMER_LEMESHOW_ALPHA:
        text += (
            f" The Hosmer-Lemeshow test rejects calibration (chi-square {hl.statistic:,.1f} on "
            f"{hl.degrees_of_freedom:g} degrees of freedom, {p_value_text(hl.p_value)}): the predicted "
            "probabilities are off in some risk bins (see the calibration figure), so use them to rank customers "
            "rather than as churn rates."
        )
    return text


def capacity_covers_base(coverage: pd.Series) -> bool:
    """Whether an alert list's capacity reaches every ranked customer (``share_alerted`` 1)."""
    share = coverage.get("share_alerted", np.nan)
    return bool(not pd.isna(share) and share >= 1)


def describe_alerts(coverage: pd.Series, capacity: int, churn_rate: float | None = None) -> str:
    """One sentence on what calling K customers covers (``churn_rate``: the base rate, for comparison).

    A capacity that reaches every ranked customer is said so: calling
    everybody finds every churner, so its recall (100%) says nothing of the ranking.
    """
    if capacity_covers_base(coverage):
        return (
            f"The capacity ({capacity:,}) reaches all {coverage['alerted']:,.0f} ranked customers: calling every one "
            "finds every churner by construction, so precision is the churn rate and recall (100%) says nothing "
            "about the ranking; set a capacity below the number of customers to measure it."
        )
    parts = [f"Calling the {capacity:,} customers with the most value at risk"]
    if "precision" in coverage and not pd.isna(coverage["precision"]):
        base = f" against {percent(churn_rate)} among all customers" if churn_rate is not None else ""
        parts.append(
            f" reaches {percent(coverage['precision'])} churners among those called (precision{base}) and "
            f"{percent(coverage['recall'])} of all churners (recall)"
        )
    share = coverage.get("expected_value_at_risk_share", np.nan)
    if not pd.isna(share):
        parts.append(f", covering {percent(share)} of the expected value at risk")
    parts.append(
        ". Ranking by value at risk favours valuable customers, who churn less often than the rest: precision"
        " measures churn, the value share measures what the calls protect"
    )
    return "".join(parts) + "."
