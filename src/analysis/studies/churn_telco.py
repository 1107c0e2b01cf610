"""The churn study's multivariable Telco classifier: a logistic model on every attribute, validated out of sample.

A reference check like the others of :mod:`analysis.studies.churn_reference`:
on the shipped IBM Telco subscriptions, a logistic model on all the
attributes (categories one-hot against a stated reference level, tenure in
years, charges per $10 and per $1,000; aliased columns left out and named)
is fitted on a stratified 70% of the subscribers and scored on the other
30%, with five-fold cross-validation on the 70%. A Cox model on the same
covariates less tenure (its time) and total charges (tenure times the monthly
charge, so the time again) is fitted on the same rows and scored on the
same hold-out, and both are compared on the AUC and Harrell's C.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import level_z
from analysis.churn.classifier import ClassifierValidation, validate_logistic
from analysis.churn.concordance import Concordance, harrell_c
from analysis.churn.design import Design, one_hot_design, variance_inflation
from analysis.churn.measures import auc_standard_error
from analysis.churn.models import CoxModel, fit_cox

__all__ = [
    "COLLINEAR_VIF",
    "COX_STEP_TOLERANCE",
    "TELCO_CATEGORIES",
    "TELCO_FLAGS",
    "TELCO_NUMBERS",
    "TelcoClassifier",
    "describe_telco_classifier",
    "telco_classifier",
    "telco_classifier_metrics",
    "telco_comparison",
    "telco_odds_ratios",
]

#: 0/1 attributes of :func:`analysis.churn.frames.telco_churn_frame`, as they are.
TELCO_FLAGS = ("senior_citizen", "has_partner", "has_dependents", "has_phone_service", "paperless_billing")
#: Categorical attributes and their reference level (the plain or the most common offer).
TELCO_CATEGORIES = {
    "gender": "Female",
    "contract": "Month-to-month",
    "payment_method": "Mailed check",
    "internet_service": "DSL",
    "multiple_lines": "No",
    "online_security": "No",
    "online_backup": "No",
    "device_protection": "No",
    "tech_support": "No",
    "streaming_tv": "No",
    "streaming_movies": "No",
}
#: Numbers in fixed units: (column in the design, unit).
TELCO_NUMBERS = {
    "tenure_months": ("tenure_years", 12.0),
    "monthly_charges": ("monthly_charges_per_10", 10.0),
    "total_charges": ("total_charges_per_1000", 1000.0),
}
#: Design columns that are the Cox model's time (tenure) or carry it (total charges, about tenure x monthly).
_TIME_COLUMNS = ("tenure_years", "total_charges_per_1000")
#: A Cox fit whose next Newton step is below this many standard errors for every coefficient is converged.
COX_STEP_TOLERANCE = 1e-3
#: A variance inflation factor above this: the term is nearly a combination of the others, its interval wide.
COLLINEAR_VIF = 10.0

_MODELS = {
    "logistic": "logistic, all attributes",
    "logistic_no_tenure": "logistic, the Cox covariates (no tenure, no total charges)",
    "cox": "Cox, tenure as time (same covariates)",
}


@dataclass(frozen=True)
class TelcoClassifier:
    """The Telco classifier, its validation and the Cox comparison.

    Attributes
    ----------
    design : Design
        The columns (aliased ones left out, named in ``design.terms``).
    variance_inflation : Series
        Of each kept column, on all rows.
    logistic, logistic_no_tenure : ClassifierValidation
        All attributes; the Cox model's covariates. Same split and folds.
    cox : CoxModel
        Fitted on the same fit rows.
    concordance : dict of str to Concordance
        Harrell's C on the hold-out, by model key (``logistic``,
        ``logistic_no_tenure``, ``cox``).
    holdout_auc : dict of str to tuple
        ``(auc, lower, upper)`` on the hold-out by model key (DeLong).
    zero_total_charges : int
        Subscribers in their first month whose blank total charges count 0.
    cox_converged : bool
        Whether the Cox fit is at its maximum: the Newton step from the
        estimate (``cov @ score``) is below :data:`COX_STEP_TOLERANCE` standard
        errors for every coefficient (statsmodels ``PHReg`` reports no
        convergence flag).
    """

    design: Design = field(repr=False)
    variance_inflation: pd.Series = field(repr=False)
    logistic: ClassifierValidation
    logistic_no_tenure: ClassifierValidation = field(repr=False)
    cox: CoxModel = field(repr=False)
    concordance: dict[str, Concordance] = field(repr=False)
    holdout_auc: dict[str, tuple[float, float, float]] = field(repr=False)
    zero_total_charges: int = 0
    cox_converged: bool = True


def telco_classifier(
    telco: pd.DataFrame, *, seed: int = 0, test_share: float = 0.3, folds: int = 5, n_boot: int = 1000
) -> TelcoClassifier:
    """Fit and validate the Telco classifier and the Cox model on one stratified split.

    Parameters
    ----------
    telco : DataFrame
        :func:`analysis.churn.frames.telco_churn_frame` of the Telco data.
    seed : int
        Seed of the split, the folds and the concordance bootstrap (the
        study's ``random_seed``).
    test_share : float
        Share of churners and of stayers held out.
    folds : int
        Cross-validation folds on the fit rows.
    n_boot : int
        Bootstrap resamples of Harrell's C interval.

    Returns
    -------
    TelcoClassifier
    """
    blank = telco["total_charges"].isna() & (telco["tenure_months"] == 0)  # not billed yet: nothing charged
    frame = telco.assign(total_charges=telco["total_charges"].mask(blank, 0.0))
    design = one_hot_design(frame, TELCO_CATEGORIES, TELCO_NUMBERS, TELCO_FLAGS)
    data = pd.concat([frame[["customer_id", "tenure_months", "churned"]], design.matrix], axis=1)
    columns = design.columns
    reduced = [c for c in columns if c not in _TIME_COLUMNS]
    settings = {"test_share": test_share, "folds": folds, "seed": seed}
    logistic = validate_logistic(data, columns, **settings)
    held = logistic.holdout
    no_tenure = validate_logistic(data, reduced, **settings, holdout=held)  # the same hold-out and folds
    cox = fit_cox(data.loc[~held], " + ".join(reduced), time="tenure_months", event="churned")
    test = data.loc[held]
    risks = {
        "logistic": logistic.scores["churn_probability"].to_numpy(),
        "logistic_no_tenure": no_tenure.scores["churn_probability"].to_numpy(),
        "cox": cox.relative_hazard(test).to_numpy(),
    }
    z = level_z(0.95)
    concordance, auc = {}, {}
    for key, risk in risks.items():
        concordance[key] = harrell_c(test["tenure_months"], test["churned"], risk, n_boot=n_boot, seed=seed)
        scored = ~np.isnan(risk)
        value, se = auc_standard_error(test["churned"].to_numpy()[scored], risk[scored])
        auc[key] = (value, max(0.0, value - z * se), min(1.0, value + z * se))
    return TelcoClassifier(
        design=design,
        variance_inflation=variance_inflation(design.matrix),
        logistic=logistic,
        logistic_no_tenure=no_tenure,
        cox=cox,
        concordance=concordance,
        holdout_auc=auc,
        zero_total_charges=int(blank.sum()),
        cox_converged=_cox_converged(cox),
    )


def _cox_converged(cox: CoxModel) -> bool:
    result = cox.result_
    params = np.asarray(result.params, dtype="float64")
    step = np.asarray(result.cov_params()) @ result.model.score(params)
    se = np.asarray(result.bse, dtype="float64")
    return bool(np.all(np.isfinite(step)) and np.all(np.abs(step) <= COX_STEP_TOLERANCE * se))


def telco_odds_ratios(result: TelcoClassifier) -> pd.DataFrame:
    """The classifier's odds ratios, one row per design column (left-out ones too, with the reason).

    Returns
    -------
    pandas.DataFrame
        ``attribute``, ``level``, ``reference``, ``odds_ratio``, ``lower_95``,
        ``upper_95``, ``p_value``, ``variance_inflation``, ``note``
        (``"left out: equals ..."`` for an aliased column, ``"not estimable: ..."``
        for a separated term, ``"nearly collinear: wide interval"`` above
        :data:`COLLINEAR_VIF`, else empty).
    """
    terms = result.design.terms.set_index("column")
    ratios = result.logistic.model.odds_ratios[["odds_ratio", "lower_95", "upper_95", "p_value"]]
    table = terms[["attribute", "level", "reference"]].join(ratios).join(result.variance_inflation)
    separated = result.logistic.model.separated.set_index("term")["reason"]
    note = pd.Series("", index=table.index, dtype="str")
    note[table["variance_inflation"] > COLLINEAR_VIF] = "nearly collinear: wide interval"
    note[note.index.isin(separated.index)] = "not estimable: " + separated.reindex(note.index).dropna()
    aliased = terms.loc[~terms["kept"], "aliased_with"]
    note[aliased.index] = "left out: equals " + aliased
    return table.assign(note=note.to_numpy()).rename_axis("term").reset_index()


def telco_comparison(result: TelcoClassifier) -> pd.DataFrame:
    """The three models on the same hold-out: AUC (churned or not) and Harrell's C (tenure as time).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``terms``, ``fitted_on``, ``scored``,
        ``holdout_auc``, ``holdout_auc_lower_95``, ``holdout_auc_upper_95``
        (DeLong), ``cv_auc_mean``, ``cv_auc_sd`` (over the folds; NaN for
        Cox), ``holdout_c_index``, ``c_index_lower_95``, ``c_index_upper_95``
        (bootstrap), ``uses_tenure`` (the score contains the time that C
        orders, so its C is not a fair comparison).
    """
    rows = []
    for key, label in _MODELS.items():
        fit = getattr(result, key) if key != "cox" else None
        c, (auc, lower, upper) = result.concordance[key], result.holdout_auc[key]
        rows.append(
            {
                "model": label,
                "terms": len(fit.model.params_) - 1 if fit else len(result.cox.params_),
                "fitted_on": fit.model.n if fit else result.cox.n,
                "scored": c.n,
                "holdout_auc": auc,
                "holdout_auc_lower_95": lower,
                "holdout_auc_upper_95": upper,
                "cv_auc_mean": fit.cv_auc_mean if fit else np.nan,
                "cv_auc_sd": fit.cv_auc_sd if fit else np.nan,
                "holdout_c_index": c.c_index,
                "c_index_lower_95": c.lower,
                "c_index_upper_95": c.upper,
                "uses_tenure": key == "logistic",
            }
        )
    return pd.DataFrame(rows)


def _interval(values: tuple[float, float, float], digits: int = 2) -> str:
    estimate, lower, upper = values
    return f"{estimate:.{digits}f} (95% CI {lower:.{digits}f} to {upper:.{digits}f})"


def _row_interval(row: pd.Series) -> str:
    return _interval((row["estimate"], row["lower_95"], row["upper_95"]))


def describe_telco_classifier(result: TelcoClassifier) -> str:
    """Sentences on the classifier's design, discrimination, calibration and the Cox comparison, with numbers."""
    fit, check = result.logistic, result.logistic.validation
    calibration = fit.calibration.set_index("metric")
    aliased = result.design.aliased
    parts = [
        f"The logistic model on all {result.design.terms['attribute'].nunique()} Telco attributes "
        f"({len(result.design.columns)} terms) was fitted on {fit.model.n:,} subscribers and scored on a stratified "
        f"hold-out of {check.n:,} ({check.churners:,} churners; seed {fit.seed}) it never saw."
    ]
    if len(aliased):
        listed = ", ".join(f"{row.column} (= {row.aliased_with})" for row in aliased.itertuples())
        parts.append(f"{len(aliased)} columns duplicate others exactly and were left out: {listed}.")
    if result.zero_total_charges:
        parts.append(
            f"{result.zero_total_charges} subscribers in their first month have no total charges yet: counted as 0."
        )
    collinear = result.variance_inflation[result.variance_inflation > COLLINEAR_VIF].sort_values(ascending=False)
    if len(collinear):
        listed = ", ".join(f"{name} ({vif:,.0f})" for name, vif in collinear.items())
        parts.append(
            f"Nearly collinear (variance inflation above {COLLINEAR_VIF:g}): {listed}; the monthly charge is close to "
            "the sum of the services' prices, so these odds ratios are imprecise, though the predictions are not."
        )
    problems = [] if fit.model.converged else ["the fit did not converge"]
    if len(fit.model.separated):
        problems.append("not estimable: " + ", ".join(fit.model.separated["term"]))
    if not result.cox_converged:
        problems.append("the Cox fit did not reach its maximum")
    if not fit.folds["converged"].all():
        problems.append(f"{int((~fit.folds['converged']).sum())} fold fits did not converge")
    if problems:
        parts.append("Warning: " + "; ".join(problems) + ".")
    intercept, slope = (_row_interval(calibration.loc[m]) for m in ("calibration_intercept", "calibration_slope"))
    parts.append(
        f"Hold-out AUC {_interval((check.auc, check.auc_lower, check.auc_upper))}; {len(fit.folds)}-fold "
        f"cross-validation on the fit rows gives {fit.cv_auc_mean:.3f} (standard deviation {fit.cv_auc_sd:.3f} "
        f"over folds). Calibration on the hold-out: slope {slope} (1 = ideal), intercept {intercept} (0 = ideal), "
        f"Brier score {check.brier:.3f} against {check.brier_no_skill:.3f} for the churn rate alone."
    )
    cox, reduced = result.concordance["cox"], result.concordance["logistic_no_tenure"]
    parts.append(
        "Without tenure (the Cox model's time), the logistic model has hold-out AUC "
        f"{_interval(result.holdout_auc['logistic_no_tenure'])} and orders churn times with Harrell's C "
        f"{_interval((reduced.c_index, reduced.lower, reduced.upper))}; the Cox model on the same covariates, "
        f"fitted on the same rows: AUC {_interval(result.holdout_auc['cox'])}, "
        f"C {_interval((cox.c_index, cox.lower, cox.upper))}. "
        "The full model's C is not comparable: its score contains tenure, the time C orders."
    )
    return " ".join(parts)


def telco_classifier_metrics(result: TelcoClassifier | None) -> dict[str, Any]:
    """The classifier's headline numbers (rounded; ``None`` each when the reference section did not run)."""

    def r(x: Any) -> float | None:
        return None if x is None or pd.isna(x) else round(float(x), 6)

    keys = (
        "telco_holdout_auc",
        "telco_holdout_auc_lower_95",
        "telco_holdout_auc_upper_95",
        "telco_cv_auc_mean",
        "telco_cv_auc_sd",
        "telco_holdout_brier",
        "telco_calibration_slope",
        "telco_calibration_intercept",
        "telco_cox_holdout_c_index",
        "telco_classifier_aliased_columns",
        "telco_classifier_converged",
        "telco_cox_converged",
    )
    if result is None:
        return dict.fromkeys(keys)
    check, line = result.logistic.validation, result.logistic.calibration.set_index("metric")["estimate"]
    values = (
        r(check.auc),
        r(check.auc_lower),
        r(check.auc_upper),
        r(result.logistic.cv_auc_mean),
        r(result.logistic.cv_auc_sd),
        r(check.brier),
        r(line["calibration_slope"]),
        r(line["calibration_intercept"]),
        r(result.concordance["cox"].c_index),
        result.design.aliased["column"].tolist(),
        bool(result.logistic.model.converged),
        result.cox_converged,
    )
    return dict(zip(keys, values, strict=True))
