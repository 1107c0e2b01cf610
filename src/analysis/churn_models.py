"""Churn study, part 2: multivariate models, out-of-time validation and alert lists.

Works on the churn frames of :mod:`analysis.churn`:

- :func:`fit_logistic` (statsmodels ``logit``) gives odds ratios with
  intervals; :func:`fit_cox` (statsmodels ``PHReg``) hazard ratios and a
  proportional-hazards check per covariate (:func:`proportional_hazards_test`,
  Grambsch and Therneau's test on scaled Schoenfeld residuals).
- :func:`validate_out_of_time` scores a model fitted at one ``as_of`` on the
  frame of a later one: AUC, Brier score, calibration and gains tables.
- :func:`alert_list` / :func:`alerts_by_capacity`: whom a team of capacity K
  should call, ranked by expected value at risk, and what that covers;
  :func:`export_alerts_csv` writes the list safely.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.checks import level_name, level_z, require_columns
from analysis.churn import auc_standard_error, outcome_values, survival_data
from analysis.errors import DataError, ParameterError, check_option
from analysis.files import publish_file, write_csv
from analysis.privacy import pseudonymise
from analysis.stats import StatisticalResult, mean_interval, results_table

__all__ = [
    "AlertList",
    "CoxModel",
    "LogisticModel",
    "Validation",
    "alert_list",
    "alerts_by_capacity",
    "calibration_table",
    "export_alerts_csv",
    "fit_cox",
    "fit_logistic",
    "gains_table",
    "proportional_hazards_test",
    "validate_out_of_time",
    "validate_predictions",
]

log = logging.getLogger("analysis")

_TRANSFORMS = ("km", "rank", "identity", "log")


# --------------------------------------------------------------------------- logistic regression


@dataclass(frozen=True)
class LogisticModel:
    """A fitted logistic churn model.

    Attributes
    ----------
    formula : str
        The statsmodels formula (``"churned ~ late_payments + C(region)"``).
    odds_ratios : DataFrame
        One row per term except the intercept, indexed by ``term``:
        ``coefficient`` (log odds ratio), ``standard_error``, ``odds_ratio``,
        ``lower_95`` / ``upper_95`` (Wald interval of the odds ratio),
        ``p_value``.
    n, churners : int
        Rows used (complete cases) and churners among them.
    log_likelihood, aic : float
        Fit statistics.
    level : float
        Confidence level of the intervals.
    result_ : statsmodels results
        The underlying fit.
    """

    formula: str
    odds_ratios: pd.DataFrame
    n: int
    churners: int
    log_likelihood: float
    aic: float
    level: float
    result_: Any = field(repr=False)

    def predict(self, data: pd.DataFrame | None = None) -> pd.Series:
        """Churn probability per row of ``data`` (default: the fitted rows).

        Rows with a missing covariate get NaN; ``data`` is not modified.
        """
        if data is None:
            return pd.Series(self.result_.predict(), name="churn_probability")
        values = self.result_.predict(data)
        return pd.Series(np.asarray(values, dtype="float64"), index=data.index, name="churn_probability")


def _ratio_table(names: Sequence[str], coef: Any, se: Any, p: Any, level: float, ratio: str) -> pd.DataFrame:
    z = level_z(level)
    coef, se = np.asarray(coef, dtype="float64"), np.asarray(se, dtype="float64")
    lv = level_name(level)
    table = pd.DataFrame(
        {
            "coefficient": coef,
            "standard_error": se,
            ratio: np.exp(coef),
            f"lower_{lv}": np.exp(coef - z * se),
            f"upper_{lv}": np.exp(coef + z * se),
            "p_value": np.asarray(p, dtype="float64"),
        },
        index=pd.Index(list(names), name="term", dtype="str"),
    )
    return table


def fit_logistic(frame: pd.DataFrame, formula: str, *, level: float = 0.95) -> LogisticModel:
    """Logistic regression of churn on signals (statsmodels formula ``logit``).

    Parameters
    ----------
    frame : DataFrame
        A churn frame; the formula's outcome must be 0/1 (bool is converted).
    formula : str
        ``"outcome ~ terms"``, e.g.
        ``"churned ~ late_payments + complaint + C(region)"``. Rows with a
        missing value in any term are left out.
    level : float
        Confidence level of the odds-ratio intervals.

    Returns
    -------
    LogisticModel
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise ParameterError("formula", formula, "a formula 'outcome ~ terms'")
    target = formula.split("~", 1)[0].strip()
    data = frame
    if target in frame.columns:
        data = frame.assign(**{target: outcome_values(frame, target)})  # a copy: bool -> 0/1
    result = smf.logit(formula, data=data).fit(disp=0)
    names = list(result.params.index)
    keep = [i for i, name in enumerate(names) if name != "Intercept"]
    table = _ratio_table(
        [names[i] for i in keep],
        result.params.iloc[keep],
        result.bse.iloc[keep],
        result.pvalues.iloc[keep],
        level,
        "odds_ratio",
    )
    endog = np.asarray(result.model.endog)
    return LogisticModel(
        formula=formula,
        odds_ratios=table,
        n=int(result.nobs),
        churners=int(endog.sum()),
        log_likelihood=float(result.llf),
        aic=float(result.aic),
        level=level,
        result_=result,
    )


# --------------------------------------------------------------------------- Cox regression


@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox proportional-hazards churn model.

    Attributes
    ----------
    formula : str
        Right-hand side of the model (``"late_payments + C(region)"``).
    time, event : str
        The frame's follow-up time and 0/1 event columns.
    hazard_ratios : DataFrame
        Indexed by ``term``: ``coefficient`` (log hazard ratio),
        ``standard_error``, ``hazard_ratio``, ``lower_95`` / ``upper_95``,
        ``p_value``.
    ph_test : DataFrame
        :func:`proportional_hazards_test` of the fit.
    n, events : int
        Rows used and events among them.
    log_likelihood : float
        Partial log-likelihood.
    level : float
        Confidence level of the intervals.
    result_ : statsmodels ``PHRegResults``
        The underlying fit.
    """

    formula: str
    time: str
    event: str
    hazard_ratios: pd.DataFrame
    ph_test: pd.DataFrame
    n: int
    events: int
    log_likelihood: float
    level: float
    result_: Any = field(repr=False)

    def relative_hazard(self, data: pd.DataFrame | None = None) -> pd.Series:
        """``exp(x'beta)`` per row of ``data`` (default: the fitted rows); NaN where a covariate is missing."""
        kwargs = {} if data is None else {"exog": data}
        values = np.asarray(self.result_.predict(pred_type="hr", **kwargs).predicted_values, dtype="float64")
        return pd.Series(values, index=None if data is None else data.index, name="relative_hazard")

    def churn_probability(self, data: pd.DataFrame | None = None, *, horizon: float) -> pd.Series:
        """Probability of the event within ``horizon`` time units: ``1 - S0(horizon) ** relative_hazard``.

        ``S0`` is the Breslow baseline survival of the fit (a step function;
        beyond the last event time it stays at its last value).
        """
        times, cumulative, _ = self.result_.baseline_cumulative_hazard[0]
        i = int(np.searchsorted(times, float(horizon), side="right")) - 1
        h0 = float(cumulative[i]) if i >= 0 else 0.0
        risk = self.relative_hazard(data)
        return (1 - np.exp(-h0 * risk)).rename("churn_probability")


def fit_cox(
    frame: pd.DataFrame,
    formula: str,
    *,
    time: str,
    event: str,
    ties: str = "efron",
    level: float = 0.95,
    ph_transform: str = "km",
) -> CoxModel:
    """Cox proportional-hazards regression (statsmodels ``PHReg``) with a PH check.

    Parameters
    ----------
    frame : DataFrame
        A churn frame with the ``time`` and ``event`` columns and the terms.
    formula : str
        Right-hand side only (no ``~``, no intercept): ``"late_payments + C(region)"``.
    time : str
        Follow-up time column (e.g. ``"time_to_churn"``, ``"tenure_months"``).
    event : str
        0/1 event column (1 = churned at ``time``, 0 = censored).
    ties : {"efron", "breslow"}
        Handling of tied event times (day-grouped data: Efron).
    level : float
        Confidence level of the hazard-ratio intervals.
    ph_transform : {"km", "rank", "identity", "log"}
        Time scale of the proportional-hazards test.

    Returns
    -------
    CoxModel
    """
    if not isinstance(formula, str) or "~" in formula or not formula.strip():
        raise ParameterError("formula", formula, "the right-hand side of a formula, e.g. 'x1 + C(group)'")
    check_option("ties", ties, ["efron", "breslow"])
    data = survival_data(frame, time, event, None)
    model_data = frame.assign(**{time: data["time"].to_numpy()})
    result = smf.phreg(f"{time} ~ {formula}", data=model_data, status=data["event"].to_numpy(), ties=ties).fit()
    names = list(result.model.exog_names)
    table = _ratio_table(names, result.params, result.bse, result.pvalues, level, "hazard_ratio")
    return CoxModel(
        formula=formula,
        time=time,
        event=event,
        hazard_ratios=table,
        ph_test=proportional_hazards_test(result, transform=ph_transform),
        n=len(result.model.endog),
        events=int(np.sum(result.model.status)),
        log_likelihood=float(result.llf),
        level=level,
        result_=result,
    )


def proportional_hazards_test(fit: Any, *, transform: str = "km") -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards, per covariate and global.

    Scaled Schoenfeld residuals ``r*_k = d V r_k + beta`` (``r_k`` the
    Schoenfeld residual of the k-th event, ``d`` the number of events, ``V``
    the covariance of ``beta``) drift with time when a covariate's effect
    does. With ``g`` the chosen function of the event times, centred, the
    statistic of covariate j is ``(sum_k g_k (d V r_k)_j)^2 / (d V_jj sum_k
    g_k^2)``, chi-square with 1 degree of freedom under proportional hazards;
    the global statistic ``(g'R) V (g'R)' d / sum g_k^2`` has p degrees of
    freedom (``R`` the Schoenfeld residuals). This is the score-test
    approximation of Grambsch & Therneau (1994) used by R's ``cox.zph``
    before survival 3.0.

    Parameters
    ----------
    fit : CoxModel or statsmodels PHRegResults
        A fitted Cox model (unstratified).
    transform : {"km", "rank", "identity", "log"}
        ``g``: one minus the left-continuous Kaplan-Meier estimate at the event
        time (default, robust to outlying times), the rank of the event time,
        the time itself, or its log.

    Returns
    -------
    pandas.DataFrame
        Indexed by covariate, plus a ``GLOBAL`` row: ``rho`` (correlation of
        the scaled residuals with ``g``; NaN for GLOBAL), ``name``,
        ``statistic`` (chi-square), ``p_value``, ``degrees_of_freedom``.

    References
    ----------
    Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and
    diagnostics based on weighted residuals. *Biometrika* 81, 515-526.
    """
    check_option("transform", transform, _TRANSFORMS)
    result = fit.result_ if isinstance(fit, CoxModel) else fit
    status = np.asarray(result.model.status).astype(bool)
    times = np.asarray(result.model.endog, dtype="float64")
    residuals = np.asarray(result.schoenfeld_residuals)[status]
    event_times = times[status]
    d = int(status.sum())
    cov = np.asarray(result.cov_params())
    names = list(result.model.exog_names)
    if transform == "km":
        curve = SurvfuncRight(times, status.astype("float64"))
        # left-continuous KM at each event time: survival just before it
        before = np.concatenate([[1.0], curve.surv_prob])[np.searchsorted(curve.surv_times, event_times, side="left")]
        g = 1 - before
    elif transform == "rank":
        g = sps.rankdata(event_times)
    elif transform == "identity":
        g = event_times
    else:
        g = np.log(event_times)
    g = g - g.mean()
    ss = float(g @ g)
    scaled = residuals @ cov * d
    score = g @ scaled
    results: dict[str, StatisticalResult] = {}
    rho = []
    for j, name in enumerate(names):
        statistic = score[j] ** 2 / (cov[j, j] * d * ss) if ss > 0 else np.nan
        results[name] = StatisticalResult("Grambsch-Therneau", float(statistic), float(sps.chi2.sf(statistic, 1)), 1.0)
        column = scaled[:, j]
        rho.append(float(np.corrcoef(g, column)[0, 1]) if ss > 0 and column.std() > 0 else np.nan)
    raw = g @ residuals
    overall = float(raw @ cov @ raw * d / ss) if ss > 0 else np.nan
    results["GLOBAL"] = StatisticalResult(
        "Grambsch-Therneau", overall, float(sps.chi2.sf(overall, len(names))), float(len(names))
    )
    table = results_table(results)
    table.insert(0, "rho", [*rho, np.nan])
    table.index.name = "covariate"
    return table


# --------------------------------------------------------------------------- validation


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
    table.insert(3, f"observed_lower_{lv}", centre - half)
    table.insert(4, f"observed_upper_{lv}", centre + half)
    return table.reset_index()


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
    model: Any,
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


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertList:
    """The customers a team of capacity K should contact, and what that covers.

    Attributes
    ----------
    alerts : DataFrame
        The top ``capacity`` customers (see :func:`alert_list`).
    coverage : Series
        The row of :func:`alerts_by_capacity` for this capacity.
    """

    alerts: pd.DataFrame
    coverage: pd.Series


def _ranked(frame: pd.DataFrame, probability: str, value: str, outcome: str | None, id_col: str) -> pd.DataFrame:
    """Customers with a probability and a value, by expected value at risk (descending, then id)."""
    require_columns(frame, [id_col, probability, value] + ([outcome] if outcome else []), "<frame>", "the alert list")
    p = frame[probability].astype("float64")
    if ((p < 0) | (p > 1)).any():
        raise DataError("probabilities must lie in [0, 1]", column=probability)
    v = frame[value].astype("float64").clip(lower=0)
    ranked = pd.DataFrame(
        {
            id_col: frame[id_col].to_numpy(),
            "churn_probability": p.to_numpy(),
            "value": v.to_numpy(),
            "value_at_risk": (p * v).to_numpy(),
        },
        index=frame.index,
    )
    if outcome:
        ranked[outcome] = outcome_values(frame, outcome)
    ranked = ranked.dropna(subset=["churn_probability", "value"])
    return ranked.sort_values(["value_at_risk", id_col], ascending=[False, True], kind="stable")


def _capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ParameterError("capacity", value, "a positive whole number of customers")
    return int(value)


def alerts_by_capacity(
    frame: pd.DataFrame,
    *,
    probability: str = "churn_probability",
    value: str = "trailing_value",
    capacities: Sequence[int] | None = None,
    outcome: str | None = None,
    id_col: str = "customer_id",
) -> pd.DataFrame:
    """What an alert list of each capacity K covers.

    Customers are ranked by expected value at risk, ``probability x value``
    (negative values count as 0; customers with a missing probability or value
    are not ranked); ties are broken by customer id.

    Parameters
    ----------
    frame : DataFrame
        One row per customer: ``id_col``, ``probability``, ``value`` and, to
        evaluate against what happened, ``outcome``.
    probability, value : str
        Columns of the churn probability and the customer value.
    capacities : sequence of int, optional
        The K to tabulate (default: 5%, 10%, ..., 100% of the ranked customers).
    outcome : str, optional
        0/1 churn outcome column; gives precision, recall and realised value.
    id_col : str
        Customer id column.

    Returns
    -------
    pandas.DataFrame
        One row per K: ``capacity``, ``alerted`` (min(K, ranked customers)),
        ``share_alerted``, ``expected_value_at_risk`` (sum of probability x
        value over the alerted) and ``expected_value_at_risk_share`` (of the
        total over all ranked customers); with ``outcome``: ``churners_alerted``,
        ``precision`` (churners among the alerted), ``recall`` (share of all
        churners alerted), ``value_lost_alerted`` (value of the alerted
        churners) and ``value_lost_share`` (of the value of all churners).
    """
    ranked = _ranked(frame, probability, value, outcome, id_col)
    n = len(ranked)
    if capacities is None:
        capacities = sorted({max(1, round(n * share / 20)) for share in range(1, 21)})
    ks = np.array([_capacity(k) for k in capacities], dtype="int64")
    var = np.concatenate([[0.0], np.cumsum(ranked["value_at_risk"].to_numpy())])
    alerted = np.minimum(ks, n)
    table = pd.DataFrame(
        {
            "capacity": ks,
            "alerted": alerted,
            "share_alerted": alerted / n if n else np.nan,
            "expected_value_at_risk": var[alerted],
            "expected_value_at_risk_share": var[alerted] / var[-1] if var[-1] > 0 else np.nan,
        }
    )
    if outcome:
        y = ranked[outcome].to_numpy()
        churners = np.concatenate([[0], np.cumsum(y)])
        lost = np.concatenate([[0.0], np.cumsum(y * ranked["value"].to_numpy())])
        table["churners_alerted"] = churners[alerted]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["precision"] = np.where(alerted > 0, churners[alerted] / alerted, np.nan)
        table["recall"] = churners[alerted] / churners[-1] if churners[-1] > 0 else np.nan
        table["value_lost_alerted"] = lost[alerted]
        table["value_lost_share"] = lost[alerted] / lost[-1] if lost[-1] > 0 else np.nan
    return table


def alert_list(
    frame: pd.DataFrame,
    *,
    capacity: int,
    probability: str = "churn_probability",
    value: str = "trailing_value",
    outcome: str | None = None,
    columns: Sequence[str] = (),
    id_col: str = "customer_id",
) -> AlertList:
    """The ``capacity`` customers with the highest expected value at risk.

    Parameters
    ----------
    frame : DataFrame
        One row per customer (see :func:`alerts_by_capacity`).
    capacity : int
        How many customers the team can contact (K).
    probability, value, outcome, id_col
        As for :func:`alerts_by_capacity`.
    columns : sequence of str
        Extra columns to carry onto the list (e.g. the signals, as reasons).

    Returns
    -------
    AlertList
        ``alerts``: ``rank`` (1 = first to contact), ``id_col``,
        ``churn_probability``, ``value`` (negative counted as 0),
        ``value_at_risk`` (expected: probability x value),
        ``cumulative_value_at_risk``, the ``outcome`` if given, then
        ``columns``. ``coverage``: precision, recall and value covered at K.
    """
    k = _capacity(capacity)
    ranked = _ranked(frame, probability, value, outcome, id_col).head(k)
    alerts = ranked.assign(cumulative_value_at_risk=ranked["value_at_risk"].cumsum())
    alerts.insert(0, "rank", np.arange(1, len(alerts) + 1))
    require_columns(frame, list(columns), "<frame>", "alert_list")
    for column in columns:
        alerts[column] = frame.loc[alerts.index, column].to_numpy()
    coverage = alerts_by_capacity(
        frame, probability=probability, value=value, capacities=[k], outcome=outcome, id_col=id_col
    ).iloc[0]
    return AlertList(alerts=alerts.reset_index(drop=True), coverage=coverage)


def export_alerts_csv(
    alerts: AlertList | pd.DataFrame,
    path: str | os.PathLike,
    *,
    pseudonym_key: bytes | None = None,
    overwrite: bool = False,
    id_col: str = "customer_id",
) -> Path:
    """Write an alert list to CSV, safe to open in a spreadsheet.

    - Written by :func:`analysis.files.write_csv` with ``excel=True``: text
      cells that a spreadsheet would run as a formula get a leading
      apostrophe (the header too), numbers stay numbers, UTF-8 with a
      byte-order mark, CRLF rows, cells with a comma, quote or line break
      quoted.
    - With a ``pseudonym_key`` the ids are replaced by their keyed
      pseudonyms (:func:`analysis.privacy.pseudonym`, HMAC-SHA256); read the
      key with :func:`analysis.privacy.read_pseudonym_key`. The same key
      gives the same pseudonyms across exports.
    - Written atomically by :func:`analysis.files.publish_file`, with
      owner-only permissions; an existing file is never replaced unless
      ``overwrite=True``.

    Parameters
    ----------
    alerts : AlertList or DataFrame
        The list (its ``alerts`` table) to write; not modified.
    path : path
        Target file; its folder must exist.
    pseudonym_key : bytes, optional
        Secret key of the pseudonyms; ``None`` keeps the ids.
    overwrite : bool
        Allow replacing an existing file.
    id_col : str
        The customer id column.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    table = alerts.alerts if isinstance(alerts, AlertList) else alerts
    if not isinstance(table, pd.DataFrame):
        raise ParameterError("alerts", type(alerts).__name__, "an AlertList or a DataFrame")
    if not isinstance(overwrite, bool):
        raise ParameterError("overwrite", overwrite, "True or False")
    target = Path(path)
    if not target.parent.is_dir():
        raise ParameterError("path", str(path), "a file in an existing folder")
    if target.exists() and not overwrite:
        raise ParameterError("path", str(path), "a file that does not exist yet (or overwrite=True)")
    if pseudonym_key is not None:
        table = pseudonymise(table, pseudonym_key, id_col)
    publish_file(target, lambda staging: write_csv(staging, table, excel=True), overwrite=overwrite, mode=0o600)
    log.info("alert list of %d rows written to %s", len(table), target)
    return target
