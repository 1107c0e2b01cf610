"""Multivariable churn models: logistic (odds ratios) and Cox regression (hazard ratios, PH check)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Self, TypedDict, Unpack

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.checks import level_name, level_z
from analysis.churn.fit_checks import FORMULA_NAMESPACE, left_out_rows, quiet_fit, separated_terms
from analysis.churn.measures import outcome_values
from analysis.churn.survival import survival_data
from analysis.errors import DataError, ParameterError, check_option
from analysis.stats import StatisticalResult, results_table

__all__ = [
    "CoxModel",
    "CoxOptions",
    "LogisticModel",
    "RatioModel",
    "fit_cox",
    "fit_logistic",
    "proportional_hazards_test",
]

log = logging.getLogger("analysis")


_TRANSFORMS = ("km", "rank", "identity", "log")


class RatioModel:
    """What the churn regressions share: a tidy ``summary()`` of their ratios, shown as HTML in a notebook."""

    def summary(self) -> pd.DataFrame:
        """The ratios (odds or hazard) with their intervals and p-values, one row per term."""
        return self.odds_ratios if hasattr(self, "odds_ratios") else self.hazard_ratios

    def _repr_html_(self) -> str:
        return self.summary().to_html()


class LogisticModel(RatioModel):
    """A logistic churn model (statsmodels formula ``logit``), in the fitter idiom of the CLV models.

    ``LogisticModel(formula).fit(frame)`` returns the model itself, fitted.

    Parameters
    ----------
    formula : str
        ``"outcome ~ terms"``, e.g. ``"churned ~ late_payments + C(region)"``.
    level : float
        Confidence level of the odds-ratio intervals.

    Attributes (after :meth:`fit`)
    ------------------------------
    params_ : Series
        Coefficients (log odds ratios) by term, the intercept included.
    odds_ratios : DataFrame
        One row per term except the intercept, indexed by ``term``:
        ``coefficient`` (log odds ratio), ``standard_error``, ``odds_ratio``,
        ``lower_95`` / ``upper_95`` (Wald interval of the odds ratio),
        ``p_value``.
    n, churners : int
        Rows used (complete cases) and churners among them.
    log_likelihood, aic : float
        Fit statistics.
    converged : bool
        Whether the optimiser reported convergence.
    fit_warnings : list of str
        Every warning the fit raised (``"Category: message"``), caught so that
        none reaches a report: the study states them in words.
    left_out : DataFrame
        The rows not used (:func:`analysis.churn.fit_checks.left_out_rows`):
        ``customer_id`` (when present) and the ``missing`` columns.
    separated : DataFrame
        Terms whose odds ratio is not estimable
        (:func:`analysis.churn.fit_checks.separated_terms`).
    result_ : statsmodels results
        The underlying fit.

    Notes
    -----
    The formula sees the frame's columns, numpy as ``np`` and
    :func:`analysis.churn.fit_checks.signed_log1p`.
    """

    def __init__(self, formula: str, *, level: float = 0.95) -> None:
        if not isinstance(formula, str) or "~" not in formula:
            raise ParameterError("formula", formula, "a formula 'outcome ~ terms'")
        level_z(level)
        self.formula = formula
        self.level = level

    def __repr__(self) -> str:
        fitted = f", n={self.n}, churners={self.churners}" if hasattr(self, "result_") else ", not fitted"
        return f"LogisticModel({self.formula!r}{fitted})"

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on a churn frame (the outcome 0/1 or bool; rows with a missing term are left out); return self."""
        target = self.formula.split("~", 1)[0].strip()
        data = frame
        if target in frame.columns:
            data = frame.assign(**{target: outcome_values(frame, target)})  # a copy: bool -> 0/1
        try:
            result, self.fit_warnings = quiet_fit(
                lambda: smf.logit(self.formula, data=data, eval_env=FORMULA_NAMESPACE).fit(disp=0)
            )
        except np.linalg.LinAlgError as error:
            raise DataError(
                f"the logistic model {self.formula!r} cannot be fitted: its terms are collinear among the rows "
                f"it can use ({error})",
                hint="Leave out a term that is constant or duplicates another among these customers",
            ) from error
        names = list(result.params.index)
        keep = [i for i, name in enumerate(names) if name != "Intercept"]
        self.odds_ratios = _ratio_table(
            [names[i] for i in keep],
            result.params.iloc[keep],
            result.bse.iloc[keep],
            result.pvalues.iloc[keep],
            self.level,
            "odds_ratio",
        )
        self.params_ = result.params.rename_axis("term").rename("coefficient")
        self.n = int(result.nobs)
        self.churners = int(np.asarray(result.model.endog).sum())
        self.log_likelihood = float(result.llf)
        self.aic = float(result.aic)
        self.converged = bool(result.mle_retvals.get("converged", True))
        variables = [c for c in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", self.formula)) if c in frame.columns]
        self.left_out = left_out_rows(frame, pd.Index(result.model.data.row_labels), variables)
        self.separated = separated_terms(
            result.model.exog, result.model.endog, names, result.params.to_numpy(), result.bse.to_numpy()
        )
        self.result_ = result
        return self

    def predict(self, data: pd.DataFrame | None = None) -> pd.Series:
        """Churn probability per row of ``data`` (default: the fitted rows).

        Rows with a missing covariate get NaN; ``data`` is not modified.
        """
        if data is None:
            return pd.Series(self.result_.predict(), name="churn_probability")
        values, _ = quiet_fit(lambda: self.result_.predict(data))  # an invalid transform gives NaN, said by the caller
        return pd.Series(np.asarray(values, dtype="float64"), index=data.index, name="churn_probability")


def _ratio_table(names: Sequence[str], coef: Any, se: Any, p: Any, level: float, ratio: str) -> pd.DataFrame:
    z = level_z(level)
    coef, se = np.asarray(coef, dtype="float64"), np.asarray(se, dtype="float64")
    lv = level_name(level)
    with np.errstate(over="ignore"):  # a separated term's bound is infinite: kept so, and named by the study
        ratios, lower, upper = np.exp(coef), np.exp(coef - z * se), np.exp(coef + z * se)
    table = pd.DataFrame(
        {
            "coefficient": coef,
            "standard_error": se,
            ratio: ratios,
            f"lower_{lv}": lower,
            f"upper_{lv}": upper,
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
    return LogisticModel(formula, level=level).fit(frame)


class CoxModel(RatioModel):
    """A Cox proportional-hazards churn model (statsmodels ``PHReg``) with a PH check, in the fitter idiom.

    ``CoxModel(formula, time=..., event=...).fit(frame)`` returns the model itself, fitted.

    Parameters
    ----------
    formula : str
        Right-hand side only, e.g. ``"late_payments + C(region)"``.
    time, event : str
        The frame's follow-up time and 0/1 event columns.
    ties : {"efron", "breslow"}
        Handling of tied event times.
    level : float
        Confidence level of the hazard-ratio intervals.
    ph_transform : {"km", "rank", "identity", "log"}
        Time scale of the proportional-hazards test.

    Attributes (after :meth:`fit`)
    ------------------------------
    params_ : Series
        Coefficients (log hazard ratios) by term.
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
    result_ : statsmodels ``PHRegResults``
        The underlying fit.
    """

    def __init__(
        self,
        formula: str,
        *,
        time: str,
        event: str,
        ties: str = "efron",
        level: float = 0.95,
        ph_transform: str = "km",
    ) -> None:
        if not isinstance(formula, str) or "~" in formula or not formula.strip():
            raise ParameterError("formula", formula, "the right-hand side of a formula, e.g. 'x1 + C(group)'")
        check_option("ties", ties, ["efron", "breslow"])
        check_option("ph_transform", ph_transform, _TRANSFORMS)
        level_z(level)
        self.formula, self.time, self.event = formula, time, event
        self.ties, self.level, self.ph_transform = ties, level, ph_transform

    def __repr__(self) -> str:
        fitted = f", n={self.n}, events={self.events}" if hasattr(self, "result_") else ", not fitted"
        return f"CoxModel({self.formula!r}, time={self.time!r}, event={self.event!r}{fitted})"

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on a frame with the time and event columns; return self."""
        data = survival_data(frame, self.time, self.event, None)
        model_data = frame.assign(**{self.time: data["time"].to_numpy()})
        result = smf.phreg(
            f"{self.time} ~ {self.formula}", data=model_data, status=data["event"].to_numpy(), ties=self.ties
        ).fit()
        names = list(result.model.exog_names)
        self.hazard_ratios = _ratio_table(names, result.params, result.bse, result.pvalues, self.level, "hazard_ratio")
        self.params_ = pd.Series(np.asarray(result.params), index=pd.Index(names, name="term"), name="coefficient")
        self.ph_test = proportional_hazards_test(result, transform=self.ph_transform)
        self.n = len(result.model.endog)
        self.events = int(np.sum(result.model.status))
        self.log_likelihood = float(result.llf)
        self.result_ = result
        return self

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


class CoxOptions(TypedDict, total=False):
    """The optional settings of :class:`CoxModel`, as keywords of :func:`fit_cox`."""

    ties: str
    level: float
    ph_transform: str


def fit_cox(frame: pd.DataFrame, formula: str, *, time: str, event: str, **options: Unpack[CoxOptions]) -> CoxModel:
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
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times (day-grouped data: Efron).
    level : float, default 0.95
        Confidence level of the hazard-ratio intervals.
    ph_transform : {"km", "rank", "identity", "log"}, default "km"
        Time scale of the proportional-hazards test.

    Returns
    -------
    CoxModel
    """
    return CoxModel(formula, time=time, event=event, **options).fit(frame)


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
