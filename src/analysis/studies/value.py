"""Study 3, value tiers and customer lifetime value: parameters, model checks, values.

``notebooks/03_value_tiers.ipynb`` calls these one step at a time; the models
live in :mod:`analysis.value.clv`, the tiers in :mod:`analysis.value`.
:class:`ValueParameters` is the single declaration of the study's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.engines.censoring import flag_left_censored
from analysis.engines.periods import period_table
from analysis.errors import DataError
from analysis.stats import StatisticalResult
from analysis.studies.parameters import TRANSACTION_MODELS, WEEK, ValueParameters
from analysis.studies.text import censoring_text
from analysis.studies.value_models import DropoutCheck, ModelChoice, transaction_model_key
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.estimation import TransactionModel
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.clv.lifetime_value import customer_lifetime_value, expected_cumulative_repeat_purchases
from analysis.value.clv.pareto_nbd import ParetoNBDModel
from analysis.value.clv.simulate import simulate_gamma_gamma
from analysis.value.tiers import absolute_tiers, rfm_scores, rfm_segments, risk_bands, value_pyramid

__all__ = [
    "customer_values",
    "describe_left_censored",
    "describe_models",
    "describe_spend",
    "describe_value_risk",
    "fit_transaction_models",
    "fit_value_models",
    "headline_metrics",
    "holdout_by_frequency",
    "model_comparison",
    "spend_checks",
    "spend_customers",
    "tracking_table",
]


def fit_transaction_models(calibration: pd.DataFrame) -> dict[str, BetaGeoModel | ParetoNBDModel]:
    """Fit BG/NBD and Pareto/NBD on the calibration summary (weeks)."""
    return {name: model().fit(calibration) for name, model in TRANSACTION_MODELS.values()}


def fit_value_models(
    summary: pd.DataFrame, params: ValueParameters, choice: ModelChoice | None = None
) -> tuple[TransactionModel, GammaGammaModel]:
    """The chosen transaction model and the Gamma-Gamma spend model, fitted on all data up to ``as_of``.

    ``choice`` (:func:`analysis.studies.value_models.choose_transaction_model`) is
    needed when ``transaction_model`` is ``"auto"``. When the model chosen
    automatically does not converge on the data up to ``as_of`` and the other
    one does, the other one is used (:func:`analysis.studies.value_models.dropout_check`
    and :func:`analysis.studies.value_models.describe_dropout` say so).
    """
    key = transaction_model_key(params, choice)
    model = TRANSACTION_MODELS[key][1]().fit(summary)
    if choice is not None and choice.rule != "given" and not model.convergence_.success:
        (other_key,) = set(TRANSACTION_MODELS) - {key}
        other = TRANSACTION_MODELS[other_key][1]().fit(summary)
        model = other if other.convergence_.success else model
    return model, GammaGammaModel().fit(spend_customers(summary))


def model_comparison(models: Mapping[str, TransactionModel], holdout: pd.DataFrame) -> pd.DataFrame:
    """Fit and holdout error of each transaction model.

    Parameters
    ----------
    models : mapping
        Fitted models by name.
    holdout : DataFrame
        :func:`analysis.engines.summaries.calibration_holdout` in weeks.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``log_likelihood``, ``aic``, ``bic``,
        ``converged`` (all four checks of :class:`analysis.value.clv.Convergence`),
        ``failed_checks`` (their keys, comma-separated; "" when converged),
        ``predicted_holdout_purchases``, ``actual_holdout_purchases``,
        ``total_error`` (relative), ``mean_absolute_error`` (per customer) and
        ``rmse`` (per customer).
    """
    horizon = float(holdout["duration_holdout"].iloc[0])
    actual = holdout["frequency_holdout"].to_numpy(dtype=float)
    rows = []
    for name, model in models.items():
        predicted = model.expected_purchases(horizon=horizon, data=holdout).to_numpy()
        rows.append(
            {
                "model": name,
                "log_likelihood": model.log_likelihood_,
                "aic": model.aic_,
                "bic": model.bic_,
                "converged": bool(model.convergence_.success),
                "failed_checks": ", ".join(model.convergence_.failed),
                "predicted_holdout_purchases": predicted.sum(),
                "actual_holdout_purchases": actual.sum(),
                "total_error": predicted.sum() / actual.sum() - 1,
                "mean_absolute_error": np.abs(predicted - actual).mean(),
                "rmse": np.sqrt(((predicted - actual) ** 2).mean()),
            }
        )
    return pd.DataFrame(rows)


def holdout_by_frequency(model: TransactionModel, holdout: pd.DataFrame, *, top: int = 7) -> pd.DataFrame:
    """Actual vs predicted mean holdout purchases by calibration frequency (``top``+ pooled)."""
    horizon = float(holdout["duration_holdout"].iloc[0])
    predicted = model.expected_purchases(horizon=horizon, data=holdout)
    bucket = holdout["frequency"].clip(upper=top)
    table = (
        pd.DataFrame({"frequency": bucket, "actual": holdout["frequency_holdout"], "predicted": predicted})
        .groupby("frequency")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
    )
    table["frequency"] = [f"{f}+" if f == top else str(f) for f in table["frequency"]]
    return table


def tracking_table(
    transactions: pd.DataFrame, calibration: pd.DataFrame, model: TransactionModel, params: ValueParameters
) -> pd.DataFrame:
    """Weekly cumulative repeat purchases of the calibration cohort: actual vs model.

    Repeat purchases are purchase occasions (customer-days) after each
    customer's first one, as the models count them. Weeks are counted from
    the cohort's first purchase day.

    Returns
    -------
    pandas.DataFrame
        ``week`` (end of week, in weeks since the cohort's first day),
        ``date`` (first day of the week), ``actual`` and ``expected``
        cumulative repeat purchases, ``period`` (``calibration`` or ``holdout``).
    """
    cohort = calibration["customer_id"]
    origin = calibration["first_purchase"].min()
    end = pd.Timestamp(params.as_of)
    weeks = period_table(transactions, freq="week", end=end, customers=cohort, **params.summary_options())
    weekly = weeks.groupby("period")["occasions"].sum()
    index = pd.date_range(origin - pd.Timedelta(days=origin.day_of_week), end, freq="W-MON")
    # Each customer's first occasion is a trial, not a repeat purchase.
    repeats = weekly.reindex(index, fill_value=0) - _first_occasions_by_week(calibration, index)
    cumulative = repeats.cumsum()
    week_end = ((index - origin).days + WEEK) / WEEK
    first_times = (calibration["first_purchase"] - origin).dt.days.to_numpy() / WEEK
    expected = expected_cumulative_repeat_purchases(model, first_times, np.clip(week_end, 0, None))
    return pd.DataFrame(
        {
            "week": week_end,
            "date": index,
            "actual": cumulative.to_numpy(),
            "expected": expected.to_numpy(),
            "period": np.where(index <= pd.Timestamp(params.calibration_end), "calibration", "holdout"),
        }
    )


def _first_occasions_by_week(calibration: pd.DataFrame, index: pd.DatetimeIndex) -> pd.Series:
    weeks = calibration["first_purchase"] - pd.to_timedelta(calibration["first_purchase"].dt.day_of_week, unit="D")
    return weeks.value_counts().reindex(index, fill_value=0).sort_index()


def spend_checks(calibration: pd.DataFrame, spend_model: GammaGammaModel, *, seed: int = 0) -> dict[str, Any]:
    """Gamma-Gamma model checks.

    Returns
    -------
    dict
        ``independence``: Spearman correlation between purchase frequency and
        mean spend among repeat customers (the model assumes none);
        ``distribution``: quantiles of the observed mean spend against mean
        spends simulated from the fitted model for the same frequencies
        (``quantile``, ``observed``, ``model``); ``set_aside``: repeat
        customers left out because their mean spend is not positive.
    """
    repeat = calibration[(calibration["frequency"] > 0) & (calibration["monetary_value"] > 0)]
    rho, p = sps.spearmanr(repeat["frequency"], repeat["monetary_value"])
    simulated = simulate_gamma_gamma(repeat["frequency"].to_numpy(), spend_model.params_.to_dict(), seed=seed)
    levels = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
    distribution = pd.DataFrame(
        {
            "quantile": levels,
            "observed": repeat["monetary_value"].quantile(levels).to_numpy(),
            "model": simulated["monetary_value"].quantile(levels).to_numpy(),
        }
    )
    set_aside = int(((calibration["frequency"] > 0) & ~(calibration["monetary_value"] > 0)).sum())
    return {
        "independence": StatisticalResult("Spearman rho (frequency vs mean spend)", float(rho), float(p)),
        "distribution": distribution,
        "set_aside": set_aside,
    }


def spend_customers(summary: pd.DataFrame) -> pd.DataFrame:
    """Repeat customers with a positive mean spend: what the Gamma-Gamma model is fitted on."""
    return summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def customer_values(
    summary: pd.DataFrame,
    transaction_model: TransactionModel,
    spend_model: GammaGammaModel,
    params: ValueParameters,
) -> pd.DataFrame:
    """One row per customer at ``as_of``: RFM, predicted value, risk and tiers.

    Customers whose repeat purchases have no positive mean spend cannot be
    valued by the Gamma-Gamma model: their ``clv`` is NaN (they are counted
    by the notebook, never silently valued), and they fall in the lowest tier.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, RFM columns of :func:`analysis.value.tiers.rfm_scores` and
        ``segment``, ``trailing_value`` (in the value metric, see
        :func:`value_summary`), ``p_alive``, ``churn_probability``
        (``1 - p_alive``), ``expected_purchases``, ``expected_spend``, ``clv``
        (over ``clv_horizon_weeks``, discounted), ``tier`` (pyramid on CLV),
        ``absolute_tier`` (DOMAIN.md tiers on trailing annual revenue,
        ``trailing_revenue`` when the summary has it) and
        ``risk`` (band of the churn probability).
    """
    valued = summary[~((summary["frequency"] > 0) & ~(summary["monetary_value"] > 0))]
    clv = customer_lifetime_value(
        transaction_model,
        spend_model,
        valued,
        horizon=params.clv_horizon_weeks,
        discount_rate=params.weekly_discount_rate,
    )
    if not np.isfinite(clv["clv"]).all():
        convergence = getattr(transaction_model, "convergence_", None)
        state = (
            f"fit converged: {convergence.success}; {convergence.message.strip() or 'no message'}"
            if convergence is not None
            else "parameters given, not fitted"
        )
        raise DataError(
            f"the {type(transaction_model).__name__} gives non-finite predictions for "
            f"{int((~np.isfinite(clv['clv'])).sum()):,} customers ({state})",
            column="clv",
            hint="Its estimates may sit at a boundary (e.g. no dropout in the data); try the other transaction_model",
        )
    censored = _left_censored(summary, params)
    scores = rfm_segments(rfm_scores(summary, bins=params.rfm_bins), left_censored=censored)
    alive = transaction_model.probability_alive(summary).to_numpy()
    frame = scores.assign(trailing_value=summary["trailing_value"].to_numpy(), p_alive=alive, left_censored=censored)
    revenue = summary["trailing_revenue"] if "trailing_revenue" in summary else summary["trailing_value"]
    frame = frame.merge(
        clv[["customer_id", "expected_purchases", "expected_spend", "clv"]], on="customer_id", how="left"
    )
    frame["churn_probability"] = 1 - frame["p_alive"]
    frame["tier"] = value_pyramid(frame.assign(clv=frame["clv"].fillna(0.0)), value="clv", cuts=params.pyramid_cuts)
    frame["absolute_tier"] = absolute_tiers(
        frame.assign(trailing_revenue=revenue.to_numpy()),
        value="trailing_revenue",
        scale=params.absolute_scale,
        coefficient=params.regional_coefficient,
    )
    frame["risk"] = risk_bands(frame["churn_probability"], cuts=params.risk_cuts)
    return frame


def _left_censored(summary: pd.DataFrame, params: ValueParameters) -> np.ndarray:
    if not params.left_censored_until:
        return np.zeros(len(summary), dtype=bool)
    return flag_left_censored(summary, params.left_censored_until)["left_censored"].to_numpy()


def describe_left_censored(summary: pd.DataFrame, params: ValueParameters) -> str:
    """The sentence on customers whose history may start before the data, and how the value study treats them."""
    return censoring_text(
        pd.Series(_left_censored(summary, params)),
        summary["first_purchase"],
        params.left_censored_until,
        'never get the RFM segment "new" (they get the next segment they match); the purchase models take their '
        "first purchase in the data as their start, as the BTYD models do",
    )


def describe_models(comparison: pd.DataFrame) -> str:
    """One sentence comparing the transaction models."""
    best_fit = comparison.loc[comparison["aic"].idxmin()]
    best_holdout = comparison.loc[comparison["mean_absolute_error"].idxmin()]
    parts = [
        f"{row.model} predicts {row.predicted_holdout_purchases:,.0f} holdout purchases against "
        f"{row.actual_holdout_purchases:,.0f} actual ({row.total_error:+.1%})"
        for row in comparison.itertuples()
    ]
    return (
        "; ".join(parts)
        + f". {best_fit['model']} has the lower AIC ({best_fit['aic']:,.0f}); {best_holdout['model']} the lower mean "
        f"absolute holdout error per customer ({best_holdout['mean_absolute_error']:.3f})."
    )


def describe_spend(checks: Mapping[str, Any]) -> str:
    """One sentence on the Gamma-Gamma assumption check of :func:`spend_checks`."""
    rho = checks["independence"]
    if abs(rho.statistic) < 0.1:
        verdict = "close to independence, as the Gamma-Gamma model assumes"
    else:
        more = "more" if rho.statistic > 0 else "less"
        verdict = (
            f"a weak but clear dependence (frequent buyers spend {more} per purchase), which the model ignores: "
            f"expect its spend predictions to be slightly too {'low' if rho.statistic > 0 else 'high'} for frequent "
            "buyers"
        )
    return (
        f"Spearman correlation between purchase frequency and mean spend: {rho.statistic:.2f}, {verdict}. "
        f"{checks['set_aside']:,} repeat customers with no positive mean spend are set aside."
    )


def describe_value_risk(cells: pd.DataFrame) -> str:
    """One sentence on where the value at risk sits and what to do first."""
    first = cells.iloc[0]
    total = cells["value_at_risk"].sum()
    if not total > 0:
        return (
            "No expected value is at risk: no customer with predicted value has a churn probability above 0, "
            "so value x risk sets no priorities on these data."
        )
    return (
        f"The largest value at risk sits in tier {first['tier']} x {first['risk']} risk: "
        f"{int(first['customers']):,} customers holding {first['value_at_risk']:,.0f} of expected value at risk "
        f"({first['value_at_risk'] / total:.0%} of the total); action: {first['action']}."
    )


def headline_metrics(
    params: ValueParameters,
    models: Mapping[str, TransactionModel],
    comparison: pd.DataFrame,
    spend_model: GammaGammaModel,
    values: pd.DataFrame,
    cells: pd.DataFrame,
    risk: Any = None,
    choice: ModelChoice | None = None,
    dropout: DropoutCheck | None = None,
) -> dict[str, Any]:
    """Machine-readable headline numbers for the report runner (rounded, JSON-ready).

    ``risk``: the :class:`analysis.studies.value_risk.RiskComparison` (its source and AUCs are added);
    ``choice`` and ``dropout``: the model chosen and whether it identifies dropout (added when given).
    """

    def r(x: Any) -> float:
        return round(float(x), 6)

    metrics = {
        "study": "value_tiers",
        "data_source": params.data_source,
        "calibration_end": params.calibration_end,
        "as_of": params.as_of,
        "transaction_model": transaction_model_key(params, choice),
        "transaction_model_rule": "given" if choice is None else choice.rule,
        "converged": {row.model: bool(row.converged) for row in comparison.itertuples()},
        "value_metric": params.value_metric,
        "bgnbd_calibration": {k: r(v) for k, v in models["BG/NBD"].params_.items()},
        "pareto_nbd_calibration": {k: r(v) for k, v in models["Pareto/NBD"].params_.items()},
        "gamma_gamma_as_of": {k: r(v) for k, v in spend_model.params_.items()},
        "holdout_total_error": {row.model: r(row.total_error) for row in comparison.itertuples()},
        "customers": len(values),
        "total_clv": r(values["clv"].sum()),
        "mean_p_alive": r(values["p_alive"].mean()),
        "top_tier_share_of_clv": r(
            values.loc[values["tier"] == values["tier"].cat.categories[0], "clv"].sum() / values["clv"].sum()
        ),
        "largest_value_at_risk_cell": f"{cells.iloc[0]['tier']} x {cells.iloc[0]['risk']}",
    }
    identified = {} if dropout is None else {"dropout_identified": dropout.identified}
    return metrics | ({} if risk is None else risk.metrics()) | identified


def customer_tiers(values: pd.DataFrame, cells: pd.DataFrame, params: ValueParameters) -> pd.DataFrame:
    """One row per customer for the run's customer table: RFM segment, tiers, CLV, ``p_alive``, risk and action.

    ``churn_probability`` and ``risk_source`` (when ``values`` has it: which
    measure gave the risk, :func:`analysis.studies.value_risk.value_risk`) follow ``risk``.
    """
    actions = cells.set_index(["tier", "risk"])["action"]
    keys = zip(values["tier"].astype("object"), values["risk"].astype("object"), strict=True)
    columns = ["customer_id", "segment", "tier", "absolute_tier", "p_alive", "clv", "churn_probability", "risk"]
    table = values[columns + (["risk_source"] if "risk_source" in values else [])].astype(
        {"segment": "object", "tier": "object", "absolute_tier": "object", "risk": "object"}
    )
    return table.assign(action=[actions.get(key, "-") for key in keys], as_of=params.as_of).reset_index(drop=True)
