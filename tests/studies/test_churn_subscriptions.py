"""The churn study's subscriptions reference: sBG by contract beside Kaplan-Meier, lifetimes, the sentence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.churn.frames import telco_churn_frame
from analysis.churn.subscriptions import discounted_expected_residual_lifetime, survival_probability
from analysis.churn.survival import kaplan_meier, survival_at
from analysis.studies.churn_subscriptions import (
    describe_subscriptions,
    retention_comparison,
    subscription_curves,
    subscription_models,
    subscription_table,
)

SBG_COLUMNS = ["alpha", "beta", "mean_churn_probability", "median_remaining_months", "derl_months", "residual_revenue"]


@pytest.fixture(scope="module")
def reference(telco):
    frame = telco_churn_frame(telco)
    curves = kaplan_meier(frame, time="tenure_months", event="churned", group="contract")
    models = subscription_models(frame)
    return frame, curves, models


def planted_frame(seed: int = 5) -> pd.DataFrame:
    """Two contract types whose tenures follow known sBG models, observed 1-72 months after sign-up."""
    rng = np.random.default_rng(seed)
    parts = []
    for contract, (alpha, beta, n) in {"monthly": (0.5, 6.0, 6000), "yearly": (1.5, 20.0, 4000)}.items():
        lifetime = rng.geometric(rng.beta(alpha, beta, n))
        observed = rng.integers(1, 73, n)
        churned = (lifetime <= observed).astype(int)
        parts.append(
            pd.DataFrame(
                {
                    "contract": contract,
                    "tenure_months": np.where(churned == 1, lifetime, observed).astype(float),
                    "churned": churned,
                    "monthly_charges": 50.0,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_on_planted_sbg_data_the_table_recovers_the_truth_and_meets_kaplan_meier():
    frame = planted_frame()
    models = subscription_models(frame)
    table = subscription_table(frame, models).set_index("contract")
    assert table["usable"].all()
    for contract, (alpha, beta) in {"monthly": (0.5, 6.0), "yearly": (1.5, 20.0)}.items():
        assert table.loc[contract, "alpha_lower_95"] <= alpha <= table.loc[contract, "alpha_upper_95"]
        assert table.loc[contract, "beta_lower_95"] <= beta <= table.loc[contract, "beta_upper_95"]
    curves = kaplan_meier(frame, time="tenure_months", event="churned", group="contract")
    comparison = retention_comparison(models, curves)
    assert comparison["sbg_in_km_band"].all()
    assert table.loc["yearly", "expected_remaining_months"] == pytest.approx(
        table.loc["yearly", "beta"] / (table.loc["yearly", "alpha"] - 1)
    )
    assert math.isinf(table.loc["monthly", "expected_remaining_months"])  # alpha < 1


def test_the_table_holds_each_contracts_fit_and_lifetimes(reference):
    frame, _, models = reference
    table = subscription_table(frame, models)
    assert list(table["contract"]) == sorted(frame["contract"].unique())
    assert table["customers"].sum() == len(frame) and table["churners"].sum() == frame["churned"].sum()
    monthly = 1.1 ** (1 / 12) - 1
    for row in table.itertuples(index=False):
        model = models[row.contract]
        assert row.usable == model.usable_ and row.status == model.status_
        if not row.usable:
            assert table.loc[table["contract"] == row.contract, SBG_COLUMNS].isna().all(axis=None)
            continue
        derl = discounted_expected_residual_lifetime(*model.params_.to_numpy(), renewals=0, discount_rate=monthly)
        assert row.derl_months == pytest.approx(float(derl))
        assert row.residual_revenue == pytest.approx(row.monthly_charges * row.derl_months)
        assert row.derl_lower_95 < row.derl_months < row.derl_upper_95
    assert table.loc[table["contract"] == "Month-to-month", "usable"].item()  # the sBG fits month-to-month


def test_the_comparison_reads_both_curves_at_the_same_months(reference):
    _, curves, models = reference
    comparison = retention_comparison(models, curves, months=[12, 24, 48])
    km = survival_at(curves, [12, 24, 48], group="contract")
    np.testing.assert_allclose(comparison["km_survival"], km["survival"])
    for row in comparison.itertuples(index=False):
        model = models[row.contract]
        if model.usable_:
            expected = survival_probability(*model.params_.to_numpy(), row.month)
            assert row.sbg_survival == pytest.approx(float(expected))
            assert row.sbg_lower_95 < row.sbg_survival < row.sbg_upper_95
            assert row.sbg_in_km_band == (row.km_lower_95 <= row.sbg_survival <= row.km_upper_95)
        else:
            assert math.isnan(row.sbg_survival) and not row.sbg_in_km_band


def test_the_sentence_states_each_contracts_numbers(reference):
    frame, curves, models = reference
    table = subscription_table(frame, models)
    comparison = retention_comparison(models, curves)
    text = describe_subscriptions(table, comparison, curves)
    for row in table.itertuples(index=False):
        assert f"**{row.contract}**" in text
        if row.usable:
            assert f"median remaining lifetime of {row.median_remaining_months:,.0f} months" in text
            assert f"{row.derl_months:,.1f} discounted months" in text
        else:
            assert f"{row.contract}**: the sBG is not used" in text


def test_the_curves_run_from_month_0_to_72_for_every_contract(reference):
    _, _, models = reference
    curves = subscription_curves(models)
    assert curves.groupby("contract")["period"].agg(["min", "max", "size"]).eq([0, 72, 73]).all(axis=None)
    assert (curves.loc[curves["period"] == 0, "survival"] == 1).all()
