"""The churn study's Telco reference, subscriptions: the sBG retention model by contract beside Kaplan-Meier.

One shifted-beta-geometric fit (:mod:`analysis.churn.retention`) per contract
type of the shipped Telco subscribers, compared with the Kaplan-Meier curves
of the same data, with each contract's expected remaining lifetime and
discounted residual lifetime (DERL).

**Periods are months for every contract type.** Tenure is given in months,
so the model's period is a month and ``theta`` a monthly churn probability,
for month-to-month, one-year and two-year contracts alike. For month-to-month
customers that is their renewal period. A one- or two-year contract renews
only every 12 or 24 months, so a monthly model smooths churn that the
contract concentrates at its ends (and leaves between them through early
cancellation): its retention "rate" is a monthly average, not the renewal
rate of the contract, and its lifetimes are in months. Fitting on renewal
periods instead (tenure // 12) would throw away most of the data's
resolution and leave two-year contracts with at most three periods.

Two further limits of this data, shared with the Kaplan-Meier curves beside
it: ``contract`` is the contract at the snapshot, not at sign-up (a customer
who moved to a longer contract is counted under it for their whole tenure),
and the snapshot is treated as right-censored tenures, as the survival
section does. The sBG's retention rate can only rise with tenure; where the
Kaplan-Meier curve shows churn *accelerating* with tenure, the best sBG is its
no-spread boundary, and the fit says it is not usable rather than reporting it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.churn.retention import ShiftedBetaGeometric, curves_by_group, fit_by_group
from analysis.churn.survival import survival_at
from analysis.studies.text import percent

__all__ = [
    "ANNUAL_DISCOUNT_RATE",
    "COMPARISON_MONTHS",
    "describe_subscriptions",
    "retention_comparison",
    "subscription_curves",
    "subscription_models",
    "subscription_table",
]

#: Months at which the sBG and Kaplan-Meier survival are compared.
COMPARISON_MONTHS = (12, 24, 48)

#: Yearly discount rate of the DERL (10%, Fader and Hardie's example), applied monthly.
ANNUAL_DISCOUNT_RATE = 0.10


def subscription_models(telco: pd.DataFrame) -> dict[str, ShiftedBetaGeometric]:
    """One sBG fit per contract type of a Telco churn frame (``tenure_months``, ``churned``, ``contract``)."""
    return fit_by_group(telco, group="contract", tenure="tenure_months", churned="churned")


def subscription_curves(models: Mapping[str, ShiftedBetaGeometric], *, months: int = 72) -> pd.DataFrame:
    """The sBG retention curves by contract, months 0 to ``months``, for :func:`analysis.plots.retention_plot`.

    Returns
    -------
    pandas.DataFrame
        ``contract``, ``usable``, then :meth:`ShiftedBetaGeometric.retention_curve`'s columns.
    """
    return curves_by_group(models, periods=months, group="contract")


def subscription_table(
    telco: pd.DataFrame,
    models: Mapping[str, ShiftedBetaGeometric],
    *,
    annual_discount_rate: float = ANNUAL_DISCOUNT_RATE,
    renewals: int = 0,
) -> pd.DataFrame:
    """The sBG fit of each contract type and what it implies for a customer's remaining lifetime, in months.

    Parameters
    ----------
    telco : DataFrame
        The Telco churn frame (``contract``, ``churned``, ``monthly_charges``).
    models : mapping
        Output of :func:`subscription_models`.
    annual_discount_rate : float
        Discount rate a year, applied monthly: ``(1 + rate) ** (1 / 12) - 1``.
    renewals : int
        Monthly renewals the customer has made (0: a new customer who has paid the first month).

    Returns
    -------
    pandas.DataFrame
        One row per contract: ``contract``, ``customers``, ``churners``,
        ``usable`` and ``status`` (the fit's), ``alpha``, ``alpha_lower_95``,
        ``alpha_upper_95``, ``beta``, ``beta_lower_95``, ``beta_upper_95``,
        ``mean_churn_probability`` (``alpha / (alpha + beta)``, monthly),
        ``expected_remaining_months`` (infinite when ``alpha <= 1``),
        ``median_remaining_months``, ``derl_months`` with ``derl_lower_95`` and
        ``derl_upper_95`` (delta method), ``monthly_charges`` (mean of the
        contract's current customers), ``residual_revenue`` with its bounds
        (``monthly_charges * DERL``: revenue, not margin), ``annual_discount_rate`` and
        ``geometric_churn_probability`` (one monthly churn probability for all,
        the fallback when the sBG is not usable). The sBG columns are NaN for a
        fit that is not usable.
    """
    monthly = (1 + annual_discount_rate) ** (1 / 12) - 1
    rows = []
    for contract, model in models.items():
        part = telco.loc[telco["contract"].astype("str") == contract]
        charges = float(part.loc[part["churned"] == 0, "monthly_charges"].mean())
        row: dict[str, object] = {
            "contract": contract,
            "customers": len(part),
            "churners": int(part["churned"].sum()),
            "usable": model.usable_,
            "status": model.status_,
        }
        fit = {}
        for name in ("alpha", "beta"):
            fit[name] = model.params_[name]
            fit[f"{name}_lower_95"] = model.confidence_intervals_.loc[name, "lower_95"]
            fit[f"{name}_upper_95"] = model.confidence_intervals_.loc[name, "upper_95"]
        fit["mean_churn_probability"] = fit["alpha"] / (fit["alpha"] + fit["beta"])
        lifetime = model.residual_lifetime(renewals=renewals, discount_rate=monthly, margin=charges).set_index(
            "quantity"
        )
        fit["expected_remaining_months"] = lifetime.loc["expected_remaining_periods", "estimate"]
        fit["median_remaining_months"] = lifetime.loc["median_remaining_periods", "estimate"]
        for name, quantity in (("derl", "derl"), ("residual_revenue", "residual_value")):
            label = "derl_months" if name == "derl" else name
            fit[label] = lifetime.loc[quantity, "estimate"]
            fit[f"{name}_lower_95"] = lifetime.loc[quantity, "lower_95"]
            fit[f"{name}_upper_95"] = lifetime.loc[quantity, "upper_95"]
        row.update({key: (value if model.usable_ else np.nan) for key, value in fit.items()})
        row["monthly_charges"] = charges
        row["annual_discount_rate"] = annual_discount_rate
        row["geometric_churn_probability"] = model.geometric_churn_probability_
        rows.append(row)
    return pd.DataFrame(rows)


def retention_comparison(
    models: Mapping[str, ShiftedBetaGeometric], km_curves: pd.DataFrame, *, months: Sequence[int] = COMPARISON_MONTHS
) -> pd.DataFrame:
    """The sBG's survival beside the Kaplan-Meier survival, by contract, at given months.

    Parameters
    ----------
    models : mapping
        Output of :func:`subscription_models`.
    km_curves : DataFrame
        :func:`analysis.churn.survival.kaplan_meier` of the same data, grouped by ``contract``.
    months : sequence of int
        Tenures to compare at.

    Returns
    -------
    pandas.DataFrame
        One row per contract and month: ``contract``, ``month``,
        ``km_survival``, ``km_lower_95``, ``km_upper_95``, ``sbg_survival``,
        ``sbg_lower_95``, ``sbg_upper_95`` (NaN when the fit is not usable),
        ``difference`` (sBG minus Kaplan-Meier) and ``sbg_in_km_band``
        (the sBG value inside the Kaplan-Meier 95% band).
    """
    km = survival_at(km_curves, list(months), group="contract").rename(
        columns={"time": "month", "survival": "km_survival", "lower_95": "km_lower_95", "upper_95": "km_upper_95"}
    )
    km["month"] = km["month"].astype("int64")
    sbg = curves_by_group(models, periods=list(months), group="contract").rename(
        columns={
            "period": "month",
            "survival": "sbg_survival",
            "survival_lower_95": "sbg_lower_95",
            "survival_upper_95": "sbg_upper_95",
        }
    )
    for column in ("sbg_survival", "sbg_lower_95", "sbg_upper_95"):
        sbg[column] = sbg[column].where(sbg["usable"])
    table = km.merge(
        sbg[["contract", "month", "sbg_survival", "sbg_lower_95", "sbg_upper_95"]], on=["contract", "month"]
    )
    table["difference"] = table["sbg_survival"] - table["km_survival"]
    table["sbg_in_km_band"] = table["sbg_survival"].between(table["km_lower_95"], table["km_upper_95"])
    return table


def _rate(p: float) -> str:
    """A monthly churn probability: two decimals below 10% (0.27%), else as :func:`percent`."""
    return f"{p:.2%}" if p < 0.1 else percent(p)


def _monthly_churn(km_curves: pd.DataFrame, contract: str, start: float, end: float) -> float:
    """Average monthly churn between two tenures, read off the Kaplan-Meier curve."""
    at = survival_at(km_curves.loc[km_curves["contract"] == contract], [start, end], group="contract")
    s0, s1 = at["survival"].to_numpy()
    return 1 - (s1 / s0) ** (1 / (end - start)) if s0 > 0 and s1 > 0 else math.nan


def describe_subscriptions(table: pd.DataFrame, comparison: pd.DataFrame, km_curves: pd.DataFrame) -> str:
    """A sentence or two per contract: the sBG against Kaplan-Meier, the remaining lifetime, or why no fit is used."""
    parts = []
    horizon = float(km_curves["time"].max())
    for row in table.itertuples(index=False):
        compared = comparison.loc[comparison["contract"] == row.contract]
        early = _monthly_churn(km_curves, row.contract, 0, horizon / 2)
        late = _monthly_churn(km_curves, row.contract, horizon / 2, horizon)
        if not row.usable:
            text = (
                f"**{row.contract}**: the sBG is not used ({row.status.split(':')[0]}): its best fit is one "
                f"monthly churn probability for all, {_rate(row.geometric_churn_probability)}."
            )
            if late > early:
                text += (
                    f" Kaplan-Meier shows churn accelerating with tenure ({_rate(early)} a month over the first "
                    f"{horizon / 2:g} months, {_rate(late)} over the next), which an sBG, whose retention can "
                    "only rise with tenure, cannot represent."
                )
            parts.append(text)
            continue
        at = ", ".join(
            f"{percent(c.sbg_survival)} vs {percent(c.km_survival)} at {c.month} months"
            for c in compared.itertuples(index=False)
        )
        inside = int(compared["sbg_in_km_band"].sum())
        lifetime = (
            "an infinite expected remaining lifetime (alpha <= 1: a long tail of loyal subscribers)"
            if math.isinf(row.expected_remaining_months)
            else f"an expected remaining lifetime of {row.expected_remaining_months:,.0f} months"
        )
        parts.append(
            f"**{row.contract}** (alpha {row.alpha:.2f}, beta {row.beta:.2f}; mean monthly churn probability "
            f"{_rate(row.mean_churn_probability)}): sBG survival {at} (Kaplan-Meier), {inside} of "
            f"{len(compared)} inside the Kaplan-Meier 95% band. A new customer has a median remaining lifetime of "
            f"{row.median_remaining_months:,.0f} months, {lifetime}, and {row.derl_months:,.1f} discounted months "
            f"to come at {percent(row.annual_discount_rate)} a year ({row.derl_lower_95:,.1f}-"
            f"{row.derl_upper_95:,.1f}), about {row.residual_revenue:,.0f} of "
            f"revenue at {row.monthly_charges:,.2f} a month."
            + (
                ""
                if inside == len(compared)
                else " Where the sBG curve leaves the Kaplan-Meier band, its lifetimes are the model's extrapolation."
            )
        )
    return " ".join(parts)
