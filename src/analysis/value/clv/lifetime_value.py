"""Customer lifetime value from a transaction model and a spend model, and expected cumulative purchases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.value.clv.base import RFM_COLUMNS, check_number, check_times, require_summary_columns
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.clv.pareto_nbd import ParetoNBDModel

__all__ = ["customer_lifetime_value", "expected_cumulative_repeat_purchases"]


_MAX_CLV_STEPS = 10_000


def customer_lifetime_value(
    transaction_model: BetaGeoModel | ParetoNBDModel,
    spend_model: GammaGammaModel,
    data: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    step: float = 1,
) -> pd.DataFrame:
    """Discounted expected value of each customer's purchases over the next ``horizon``.

    The horizon is cut into ``K = horizon / step`` steps; the expected
    purchases in step ``k``, ``E[Y(k step)] - E[Y((k-1) step)]`` given the
    customer's history, are valued at the expected spend per purchase and
    discounted by ``(1 + discount_rate) ** (k * step)`` (end of the step)::

        clv = expected_spend * sum_k (E[Y(k step)] - E[Y((k-1) step)]) / (1 + discount_rate)^(k step)

    Parameters
    ----------
    transaction_model : BetaGeoModel or ParetoNBDModel
        A fitted transaction model.
    spend_model : GammaGammaModel
        A fitted spend model.
    data : pandas.DataFrame
        Customers with ``customer_id``, ``frequency``, ``recency``, ``T`` and
        ``monetary_value`` (NaN allowed where ``frequency`` is 0). Not modified.
    horizon : float
        Length of the valuation period, in the data's time unit.
    discount_rate : float
        Discount rate **per time unit of the data** (per week for data in
        weeks: a 10% annual rate is ``1.10 ** (1 / 52) - 1``), at least 0.
    step : float
        Length of the discounting steps; ``horizon`` must be a whole number of steps.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``customer_id``, ``p_alive``,
        ``expected_purchases`` (undiscounted, over the horizon),
        ``expected_spend`` and ``clv``.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV:
       using iso-value curves for customer base analysis. *Journal of
       Marketing Research* 42(4), 415-430.
    """
    if not isinstance(transaction_model, BetaGeoModel | ParetoNBDModel) or transaction_model.params_ is None:
        raise ParameterError("transaction_model", transaction_model, "a fitted BetaGeoModel or ParetoNBDModel")
    if not isinstance(spend_model, GammaGammaModel) or spend_model.params_ is None:
        raise ParameterError("spend_model", spend_model, "a fitted GammaGammaModel")
    length = check_number("horizon", horizon, low=0.0, strict=True, what="a positive finite number")
    width = check_number("step", step, low=0.0, strict=True, what="a positive finite number")
    rate = check_number("discount_rate", discount_rate, low=0.0, strict=False, what="a finite number >= 0")
    n_steps = round(length / width)
    if n_steps < 1 or not math.isclose(n_steps * width, length, rel_tol=1e-9):
        raise ParameterError("step", step, f"a step that divides horizon = {horizon!r} into whole steps")
    if n_steps > _MAX_CLV_STEPS:
        raise ParameterError("step", step, f"at most {_MAX_CLV_STEPS:,} steps over horizon = {horizon!r}")
    require_summary_columns(data, ("customer_id", *RFM_COLUMNS, "monetary_value"), "customer_lifetime_value")
    params = transaction_model.params_.to_numpy()
    h, _ = transaction_model._prepare(data, "customer_lifetime_value")
    p_alive = transaction_model._p_alive(params, h)
    cumulative = [np.zeros(h.x.size)]
    for k in range(1, n_steps + 1):
        cumulative.append(p_alive * transaction_model._expected_if_alive(params, h, k * width))
    increments = np.diff(np.column_stack(cumulative), axis=1)
    discount = (1.0 + rate) ** -(width * np.arange(1, n_steps + 1))
    spend = spend_model.expected_spend(data).to_numpy()
    return pd.DataFrame(
        {
            "customer_id": data["customer_id"].to_numpy(),
            "p_alive": p_alive[h.inverse],
            "expected_purchases": cumulative[-1][h.inverse],
            "expected_spend": spend,
            "clv": spend * (increments @ discount)[h.inverse],
        },
        index=data.index,
    )


def expected_cumulative_repeat_purchases(
    model: BetaGeoModel | ParetoNBDModel, first_purchase_times: Any, times: Any
) -> pd.Series:
    """Expected cumulative repeat purchases of a cohort over calendar time.

    A customer whose first purchase is at time ``t_i`` has made, by calendar
    time ``t``, ``E[X(t - t_i)]`` repeat purchases in expectation (0 before
    ``t_i``); the cohort's total is the sum over customers. Compare with the
    actual cumulative repeat purchases in a tracking plot.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        A fitted transaction model.
    first_purchase_times : array-like
        Each customer's first-purchase time, in the data's time unit from a
        common origin (e.g. weeks since the cohort's first day).
    times : array-like
        Calendar times (same unit and origin) at which to evaluate.

    Returns
    -------
    pandas.Series
        ``expected_cumulative_repeat_purchases``, indexed by ``time``.
    """
    if not isinstance(model, BetaGeoModel | ParetoNBDModel) or model.params_ is None:
        raise ParameterError("model", model, "a fitted BetaGeoModel or ParetoNBDModel")
    trial = check_times("first_purchase_times", first_purchase_times)
    at = check_times("times", times)
    trial_times, counts = np.unique(trial, return_counts=True)
    elapsed = np.clip(at[:, None] - trial_times[None, :], 0.0, None)
    distinct, inverse = np.unique(elapsed, return_inverse=True)
    expected = model._population_expected(model.params_.to_numpy(), distinct)[inverse].reshape(elapsed.shape)
    return pd.Series(expected @ counts, index=pd.Index(at, name="time"), name="expected_cumulative_repeat_purchases")
