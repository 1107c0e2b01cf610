"""A logistic churn classifier validated out of sample: a stratified hold-out and cross-validation on the rest.

The frame is split once (:func:`analysis.churn.holdout.stratified_holdout`):
the model is fitted on the fit rows only and scored on the hold-out, whose
outcomes enter nothing but the scores (AUC with its DeLong interval, Brier
score, calibration by decile, calibration slope and intercept). Stratified
k-fold cross-validation on the fit rows
(:func:`analysis.churn.holdout.stratified_folds`) measures how much the AUC
moves from one sample to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.checks import level_name, level_z, require_columns
from analysis.churn.holdout import stratified_folds, stratified_holdout
from analysis.churn.measures import auc_standard_error, outcome_values
from analysis.churn.models import LogisticModel
from analysis.churn.validation import Validation, calibration_line, validate_predictions
from analysis.errors import DataError

__all__ = ["ClassifierValidation", "validate_logistic"]


@dataclass(frozen=True)
class ClassifierValidation:
    """A logistic model fitted on the fit rows, its hold-out scores and its cross-validation.

    Attributes
    ----------
    model : LogisticModel
        Fitted on the fit rows only (``~holdout``).
    holdout : numpy.ndarray of bool
        True for the hold-out rows of the frame, in its order.
    scores : DataFrame
        The hold-out rows: ``customer_id`` (when the frame has it), the
        outcome, ``churn_probability`` (NaN where a term is missing).
    validation : Validation
        Hold-out AUC (DeLong interval), Brier score, calibration and gains
        tables, Hosmer-Lemeshow (:func:`analysis.churn.validation.validate_predictions`).
    calibration : DataFrame
        Hold-out calibration intercept and slope (:func:`analysis.churn.validation.calibration_line`).
    folds : DataFrame
        One row per cross-validation fold: ``fold``, ``n`` (scored),
        ``churners``, ``auc``, ``auc_lower_95``, ``auc_upper_95`` (DeLong),
        ``converged``, ``terms_not_estimable``.
    out_of_fold : Series
        Each fit row's probability from the fold model that did not see it
        (the fit rows' index).
    test_share, seed : float, int
        The split's settings (the folds are seeded with ``seed + 1``).
    level : float
        Confidence level.
    """

    model: LogisticModel
    holdout: np.ndarray = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    validation: Validation
    calibration: pd.DataFrame = field(repr=False)
    folds: pd.DataFrame = field(repr=False)
    out_of_fold: pd.Series = field(repr=False)
    test_share: float = 0.3
    seed: int = 0
    level: float = 0.95

    @property
    def cv_auc_mean(self) -> float:
        """Mean AUC over the folds."""
        return float(self.folds["auc"].mean())

    @property
    def cv_auc_sd(self) -> float:
        """Standard deviation of the AUC over the folds (the spread from one sample to the next)."""
        return float(self.folds["auc"].std(ddof=1))


def validate_logistic(
    frame: pd.DataFrame,
    terms: Sequence[str],
    *,
    outcome: str = "churned",
    test_share: float = 0.3,
    folds: int = 5,
    seed: int = 0,
    n_bins: int = 10,
    level: float = 0.95,
    holdout: np.ndarray | None = None,
) -> ClassifierValidation:
    """Fit ``outcome ~ terms`` on a stratified fit share of ``frame``; score the hold-out; cross-validate the fit rows.

    Parameters
    ----------
    frame : DataFrame
        The ``terms`` columns (numbers, e.g. a design's columns:
        :func:`analysis.churn.design.one_hot_design`) and the 0/1 ``outcome``.
    terms : sequence of str
        The model's columns (formula names).
    outcome : str
        The 0/1 outcome column (stratified on).
    test_share : float
        Share of churners and of stayers held out.
    folds : int
        Cross-validation folds on the fit rows (at least 2).
    seed : int
        Seed of the split (the folds use ``seed + 1``).
    n_bins : int
        Bins of the hold-out calibration table (10: deciles).
    level : float
        Confidence level of every interval.
    holdout : array of bool, optional
        A given split (True = held out) instead of
        :func:`analysis.churn.holdout.stratified_holdout` of the outcome with
        ``test_share`` and ``seed``; e.g. to score two models on one hold-out
        or to check that the hold-out's outcomes reach no fit.

    Returns
    -------
    ClassifierValidation

    Raises
    ------
    DataError
        A missing column, or a hold-out or fold with a single class.
    """
    z = level_z(level)
    require_columns(frame, [*terms, outcome], "validate_logistic")
    if not terms:
        raise DataError("a classifier needs at least one term", column="terms")
    y = outcome_values(frame, outcome)
    if holdout is None:
        held = stratified_holdout(y, test_share=test_share, seed=seed)
    else:
        held = np.asarray(holdout)
        if held.dtype != bool or held.shape != y.shape or held.all() or not held.any():
            raise DataError("holdout must be one bool per row, with rows on both sides", column="holdout")
    formula = f"{outcome} ~ " + " + ".join(terms)
    fit_rows, test_rows = frame.loc[~held], frame.loc[held]
    model = LogisticModel(formula, level=level).fit(fit_rows)
    probability = model.predict(test_rows)
    keep = [c for c in ("customer_id",) if c in frame]
    scores = test_rows[keep].assign(**{outcome: y[held], "churn_probability": probability.to_numpy()})
    validation = validate_predictions(y[held], probability.to_numpy(), n_bins=n_bins, level=level)
    fold = stratified_folds(y[~held], folds=folds, seed=seed + 1)
    out_of_fold = pd.Series(np.nan, index=fit_rows.index, name="churn_probability")
    rows = []
    lv = level_name(level)
    for f in range(int(fold.max()) + 1):
        part = fold == f
        fold_model = LogisticModel(formula, level=level).fit(fit_rows.loc[~part])
        p = fold_model.predict(fit_rows.loc[part]).to_numpy()
        out_of_fold.iloc[np.flatnonzero(part)] = p
        scored = ~np.isnan(p)
        auc, se = auc_standard_error(y[~held][part][scored], p[scored])
        rows.append(
            {
                "fold": f + 1,
                "n": int(scored.sum()),
                "churners": int(y[~held][part][scored].sum()),
                "auc": auc,
                f"auc_lower_{lv}": max(0.0, auc - z * se),
                f"auc_upper_{lv}": min(1.0, auc + z * se),
                "converged": fold_model.converged,
                "terms_not_estimable": len(fold_model.separated),
            }
        )
    return ClassifierValidation(
        model=model,
        holdout=held,
        scores=scores,
        validation=validation,
        calibration=calibration_line(y[held], probability.to_numpy(), level=level),
        folds=pd.DataFrame(rows),
        out_of_fold=out_of_fold,
        test_share=float(test_share),
        seed=int(seed),
        level=level,
    )
