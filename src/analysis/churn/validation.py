"""Out-of-time validation of churn probabilities: AUC, Brier score, calibration and gains tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps

from analysis.checks import level_name, level_z
from analysis.churn.fit_checks import quiet_fit
from analysis.churn.measures import auc_standard_error, outcome_values
from analysis.churn.models import CoxModel, LogisticModel
from analysis.errors import DataError, ParameterError
from analysis.stats import StatisticalResult, mean_interval

__all__ = [
    "Predictor",
    "Validation",
    "calibration_line",
    "calibration_table",
    "gains_table",
    "validate_out_of_time",
    "validate_predictions",
]


class Predictor(Protocol):
    """Any model with ``predict(frame)`` returning churn probabilities (one per row)."""

    def predict(self, data: pd.DataFrame) -> Any:
        """Churn probability per row of ``data``."""


def _scored(outcome: Any, probability: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(outcome, dtype="float64")
    p = np.asarray(probability, dtype="float64")
    if y.shape != p.shape:
        raise DataError(f"outcome and probability differ in length ({y.size} vs {p.size})")
    keep = ~np.isnan(p)
    y, p = y[keep], p[keep]
    if np.isnan(y).any() or not np.isin(y, [0, 1]).all():
        raise DataError("outcome must be 0/1 without missing values", column="outcome")
    if ((p < 0) | (p > 1)).any():
        raise DataError("probabilities must lie in [0, 1]", column="probability")
    return y.astype("int64"), p


def _bins(n: int, n_bins: int) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ParameterError("n_bins", n_bins, "a positive whole number")
    if n < n_bins:
        raise DataError(f"{n} scored rows cannot fill {n_bins} bins", hint="Lower n_bins")
    sizes = n // n_bins + (np.arange(n_bins) < n % n_bins)  # as numpy.array_split: larger bins first
    return np.repeat(np.arange(n_bins), sizes)


def calibration_table(outcome: Any, probability: Any, *, n_bins: int = 10, level: float = 0.95) -> pd.DataFrame:
    """Predicted against observed churn by equal-size bins of predicted probability.

    Parameters
    ----------
    outcome : array-like
        0/1 outcomes.
    probability : array-like
        Predicted churn probabilities (rows with NaN are left out).
    n_bins : int
        Number of bins (10: deciles), lowest predicted risk first.
    level : float
        Confidence level of the observed rate (Wilson interval).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (1 = lowest predicted risk), ``n``,
        ``mean_predicted``, ``observed_rate`` with ``observed_lower_95`` /
        ``observed_upper_95``, ``expected_churners`` (sum of probabilities),
        ``churners``, ``min_predicted``, ``max_predicted``.
    """
    z = level_z(level)
    y, p = _scored(outcome, probability)
    order = np.argsort(p, kind="stable")
    frame = pd.DataFrame({"bin": _bins(len(p), n_bins) + 1, "y": y[order], "p": p[order]})
    table = frame.groupby("bin").agg(
        n=("y", "size"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
        expected_churners=("p", "sum"),
        churners=("y", "sum"),
        min_predicted=("p", "min"),
        max_predicted=("p", "max"),
    )
    n, rate = table["n"].to_numpy(dtype="float64"), table["observed_rate"].to_numpy()
    centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    lv = level_name(level)
    # Rounding can put a Wilson bound a hair past the rate when it is 0 or 1: the bounds hold the rate.
    table.insert(3, f"observed_lower_{lv}", np.minimum(np.clip(centre - half, 0, 1), rate))
    table.insert(4, f"observed_upper_{lv}", np.maximum(np.clip(centre + half, 0, 1), rate))
    return table.reset_index()


#: Probabilities are kept this far from 0 and 1 before their log odds are taken.
_LOGIT_EDGE = 1e-12


def calibration_line(outcome: Any, probability: Any, *, level: float = 0.95) -> pd.DataFrame:
    """Calibration intercept and slope of predicted probabilities on new data (logistic recalibration).

    With ``lp = logit(p)``, the slope ``b`` of ``logit P(y = 1) = a + b lp``
    is 1 when the predictions spread as the outcomes do (below 1: too
    extreme, the usual sign of overfitting); the intercept ``a0`` of
    ``logit P(y = 1) = a0 + lp`` (``lp`` an offset, slope held at 1) is 0 when
    they are right on average (calibration in the large; above 0: churn
    under-predicted). Both are maximum-likelihood fits (statsmodels GLM,
    binomial) with Wald intervals. Probabilities are held within 1e-12 of 0
    and 1 before the log odds are taken.

    Parameters
    ----------
    outcome : array-like
        0/1 outcomes.
    probability : array-like
        Predicted probabilities (rows with NaN are left out).
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``metric`` ``"calibration_intercept"`` (target 0) and
        ``"calibration_slope"`` (target 1): ``estimate``, ``standard_error``,
        ``lower_95``, ``upper_95``, ``target``, ``converged``, ``fit_warnings``
        (every warning of the fit, e.g. perfect separation when the
        predictions already split the outcomes; empty when none).

    References
    ----------
    Cox, D. R. (1958). Two further applications of a model for binary
    regression. *Biometrika* 45, 562-565. Steyerberg, E. W. (2019).
    *Clinical Prediction Models*, 2nd ed., chapter 15.
    """
    z = level_z(level)
    y, p = _scored(outcome, probability)
    if y.min() == y.max():
        raise DataError("the outcome has a single class: calibration slope and intercept are undefined")
    clipped = np.clip(p, _LOGIT_EDGE, 1 - _LOGIT_EDGE)
    lp = np.log(clipped / (1 - clipped))
    family = sm.families.Binomial()
    large, large_warnings = quiet_fit(lambda: sm.GLM(y, np.ones((y.size, 1)), family=family, offset=lp).fit())
    line, line_warnings = quiet_fit(lambda: sm.GLM(y, np.column_stack([np.ones(y.size), lp]), family=family).fit())
    rows = [
        ("calibration_intercept", large.params[0], large.bse[0], 0.0, large.converged, "; ".join(large_warnings)),
        ("calibration_slope", line.params[1], line.bse[1], 1.0, line.converged, "; ".join(line_warnings)),
    ]
    lv = level_name(level)
    columns = ["metric", "estimate", "standard_error", "target", "converged", "fit_warnings"]
    table = pd.DataFrame(rows, columns=columns).astype({"estimate": "float64", "standard_error": "float64"})
    table.insert(3, f"lower_{lv}", table["estimate"] - z * table["standard_error"])
    table.insert(4, f"upper_{lv}", table["estimate"] + z * table["standard_error"])
    table["converged"] = table["converged"].astype(bool)
    return table


def gains_table(outcome: Any, score: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Cumulative gains and lift by equal-size groups of customers, highest score first.

    Parameters
    ----------
    outcome : array-like
        0/1 outcomes.
    score : array-like
        Risk scores or probabilities (rows with NaN are left out); ties are
        kept in input order.
    n_bins : int
        Number of groups (10: deciles).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``decile`` (1 = highest scores), ``n``,
        ``churners``, ``churn_rate``, ``lift`` (group churn rate over the
        overall rate), ``cumulative_share_customers``, ``cumulative_churners``,
        ``cumulative_share_churners`` (the gain: share of all churners found
        so far), ``cumulative_lift``, ``min_score``, ``max_score``.
    """
    y, s = _scored(outcome, score)
    order = np.argsort(-s, kind="stable")
    frame = pd.DataFrame({"decile": _bins(len(s), n_bins) + 1, "y": y[order], "s": s[order]})
    table = frame.groupby("decile").agg(
        n=("y", "size"), churners=("y", "sum"), min_score=("s", "min"), max_score=("s", "max")
    )
    overall = y.mean()
    total = max(int(y.sum()), 1)
    table.insert(2, "churn_rate", table["churners"] / table["n"])
    table.insert(3, "lift", table["churn_rate"] / overall if overall > 0 else np.nan)
    table.insert(4, "cumulative_share_customers", table["n"].cumsum() / len(y))
    table.insert(5, "cumulative_churners", table["churners"].cumsum())
    table.insert(6, "cumulative_share_churners", table["cumulative_churners"] / total)
    table.insert(7, "cumulative_lift", table["cumulative_share_churners"] / table["cumulative_share_customers"])
    return table.reset_index()


@dataclass(frozen=True)
class Validation:
    """Out-of-time performance of a churn model.

    Attributes
    ----------
    n, churners : int
        Scored customers and churners among them.
    auc, auc_lower, auc_upper : float
        AUC with its DeLong interval.
    brier, brier_lower, brier_upper : float
        Brier score (mean squared error of the probabilities) with a
        Student-t interval.
    brier_no_skill : float
        Brier score of predicting the observed churn rate for everyone.
    mean_predicted, churn_rate : float
        Calibration in the large.
    hosmer_lemeshow : StatisticalResult
        Hosmer-Lemeshow chi-square over the calibration bins, with ``n_bins``
        degrees of freedom (new data: no parameters estimated on it).
    calibration : DataFrame
        :func:`calibration_table`.
    gains : DataFrame
        :func:`gains_table`.
    level : float
        Confidence level.
    """

    n: int
    churners: int
    auc: float
    auc_lower: float
    auc_upper: float
    brier: float
    brier_lower: float
    brier_upper: float
    brier_no_skill: float
    mean_predicted: float
    churn_rate: float
    hosmer_lemeshow: StatisticalResult
    calibration: pd.DataFrame = field(repr=False)
    gains: pd.DataFrame = field(repr=False)
    level: float = 0.95

    def summary(self) -> pd.DataFrame:
        """Tidy table: ``metric``, ``estimate``, ``lower_95``, ``upper_95``."""
        lv = level_name(self.level)
        rows = [
            ("auc", self.auc, self.auc_lower, self.auc_upper),
            ("brier", self.brier, self.brier_lower, self.brier_upper),
            ("brier_no_skill", self.brier_no_skill, np.nan, np.nan),
            ("mean_predicted", self.mean_predicted, np.nan, np.nan),
            ("churn_rate", self.churn_rate, np.nan, np.nan),
            ("hosmer_lemeshow_p_value", self.hosmer_lemeshow.p_value, np.nan, np.nan),
        ]
        return pd.DataFrame(rows, columns=["metric", "estimate", f"lower_{lv}", f"upper_{lv}"])


def validate_predictions(outcome: Any, probability: Any, *, n_bins: int = 10, level: float = 0.95) -> Validation:
    """Discrimination and calibration of predicted churn probabilities against outcomes.

    Parameters
    ----------
    outcome : array-like
        0/1 outcomes.
    probability : array-like
        Predicted probabilities; rows with NaN (a missing covariate) are left out.
    n_bins : int
        Bins of the calibration and gains tables.
    level : float
        Confidence level.

    Returns
    -------
    Validation
    """
    z = level_z(level)
    y, p = _scored(outcome, probability)
    if y.min() == y.max():
        raise DataError("the outcome has a single class: discrimination cannot be measured")
    auc, se = auc_standard_error(y, p)
    brier, brier_lower, brier_upper = mean_interval((p - y) ** 2, level)
    calibration = calibration_table(y, p, n_bins=n_bins, level=level)
    expected, n = calibration["expected_churners"].to_numpy(), calibration["n"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (calibration["churners"].to_numpy() - expected) ** 2 / (expected * (1 - expected / n))
    statistic = float(np.nansum(terms))
    rate = float(y.mean())
    return Validation(
        n=len(y),
        churners=int(y.sum()),
        auc=auc,
        auc_lower=max(0.0, auc - z * se),
        auc_upper=min(1.0, auc + z * se),
        brier=brier,
        brier_lower=brier_lower,
        brier_upper=brier_upper,
        brier_no_skill=rate * (1 - rate),
        mean_predicted=float(p.mean()),
        churn_rate=rate,
        hosmer_lemeshow=StatisticalResult(
            "Hosmer-Lemeshow", statistic, float(sps.chi2.sf(statistic, len(calibration))), float(len(calibration))
        ),
        calibration=calibration,
        gains=gains_table(y, p, n_bins=n_bins),
        level=level,
    )


def validate_out_of_time(
    model: LogisticModel | CoxModel | Predictor,
    later_frame: pd.DataFrame,
    *,
    outcome: str = "churned",
    horizon: float | None = None,
    n_bins: int = 10,
    level: float = 0.95,
) -> Validation:
    """Score a model fitted at one ``as_of`` on the churn frame of a later ``as_of``.

    Parameters
    ----------
    model : LogisticModel, CoxModel or object with ``predict(frame) -> probabilities``
        Fitted on an earlier frame (whose outcomes were known before the later
        ``as_of``; the caller picks the dates).
    later_frame : DataFrame
        Churn frame at the later date, with its ``outcome`` column.
    outcome : str
        The 0/1 outcome column.
    horizon : float, optional
        For a :class:`CoxModel`: the probabilities are those of churning
        within ``horizon`` time units (:meth:`CoxModel.churn_probability`);
        ``outcome`` should then be the event by that horizon.
    n_bins, level
        As for :func:`validate_predictions`.

    Returns
    -------
    Validation
    """
    y = outcome_values(later_frame, outcome)
    if isinstance(model, CoxModel):
        if horizon is None:
            raise ParameterError("horizon", horizon, "a time horizon when validating a Cox model")
        probability = model.churn_probability(later_frame, horizon=horizon)
    else:
        probability = model.predict(later_frame)
    return validate_predictions(y, np.asarray(probability, dtype="float64"), n_bins=n_bins, level=level)
