"""Study 3: parameters, model comparison, tracking, spend checks, customer values, notebook runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import papermill
import pytest

from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import DataError, ParameterError
from analysis.studies import value as study
from analysis.studies.dates import dated

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_value_tiers.ipynb"


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"as_of": "1997-01-01", "calibration_end": "1997-09-30"}, "'as_of'.*after calibration_end"),
        ({"transaction_model": "lifetimes"}, "'transaction_model' = 'lifetimes'"),
        ({"pyramid_cuts": [0.2, 0.05]}, "'pyramid_cuts'"),
        ({"risk_cuts": [0.6, 0.3]}, "'risk_cuts'"),
        ({"annual_discount_rate": 1.5}, "'annual_discount_rate' = 1.5"),
        ({"clv_horizon_weeks": 0}, "'clv_horizon_weeks' = 0"),
        ({"rfm_bins": 10}, "'rfm_bins' = 10.*scores 1-5"),
    ],
)
def test_invalid_parameters_are_refused(changes, pattern):
    with pytest.raises(ParameterError, match=pattern):
        study.ValueParameters(**changes)


@pytest.fixture(scope="module")
def value_models(cdnow):
    """The CDNOW summary at the default as_of and the value models fitted on it (read, never changed, by the tests)."""
    params = dated(study.ValueParameters(transaction_model="pareto_nbd"), cdnow)
    summary = customer_summary(cdnow, params.as_of, time_unit="weeks")
    return params, summary, *study.fit_value_models(summary, params)


def test_non_finite_predictions_are_refused_with_the_reason(value_models, monkeypatch):
    """A model whose predictions overflow (e.g. estimates at a boundary) stops the study with a reason."""
    params, summary, model, spend = value_models
    real = study.customer_lifetime_value

    def overflowing(*args, **kwargs):
        frame = real(*args, **kwargs)
        return frame.assign(clv=frame["clv"].where(frame.index % 2 == 0))

    monkeypatch.setattr(study, "customer_lifetime_value", overflowing)
    with pytest.raises(DataError, match=r"non-finite predictions for [0-9,]+ customers.*other transaction_model"):
        study.customer_values(summary, model, spend, params)


def test_weekly_discount_rate_compounds_to_the_annual_rate():
    params = study.ValueParameters(annual_discount_rate=0.1)
    assert (1 + params.weekly_discount_rate) ** 52 == pytest.approx(1.1)


@pytest.fixture(scope="module")
def cdnow_case(cdnow):
    params = dated(study.ValueParameters(), cdnow)
    holdout = calibration_holdout(cdnow, params.calibration_end, params.as_of, time_unit="weeks")
    return params, holdout, study.fit_transaction_models(holdout)


def test_tracking_actuals_agree_with_the_summaries(cdnow, cdnow_case):
    params, holdout, models = cdnow_case
    table = study.tracking_table(cdnow, holdout, models["BG/NBD"], params)
    calibration = table[table["period"] == "calibration"]
    # The cohort's calibration repeat purchases lie between the cumulative count of the
    # last week that ends before calibration_end and that of the week containing it.
    assert calibration["actual"].iloc[-2] <= holdout["frequency"].sum() <= calibration["actual"].iloc[-1]
    # ... and at the end, calibration plus holdout repeat purchases.
    assert table["actual"].iloc[-1] == holdout["frequency"].sum() + holdout["frequency_holdout"].sum()
    assert table["actual"].is_monotonic_increasing and table["expected"].is_monotonic_increasing


def test_model_comparison_and_conditional_expectations(cdnow_case):
    _, holdout, models = cdnow_case
    comparison = study.model_comparison(models, holdout)
    assert comparison["converged"].all()
    assert (comparison["actual_holdout_purchases"] == holdout["frequency_holdout"].sum()).all()
    by_frequency = study.holdout_by_frequency(models["Pareto/NBD"], holdout)
    assert by_frequency["customers"].sum() == len(holdout)
    # Customers who bought more in calibration buy more in the holdout, in the data and the model.
    assert by_frequency["actual"].is_monotonic_increasing and by_frequency["predicted"].is_monotonic_increasing


def test_spend_checks_and_customer_values(value_models):
    params, summary, model, spend = value_models
    checks = study.spend_checks(summary, spend, seed=1)
    assert checks["distribution"]["observed"].is_monotonic_increasing
    assert "Spearman" in study.describe_spend(checks)
    values = study.customer_values(summary, model, spend, params)
    assert len(values) == len(summary)
    valued = values["clv"].notna()
    assert (~valued).sum() == checks["set_aside"]  # only customers the spend model cannot value
    assert (values.loc[valued, "clv"] >= 0).all()
    np.testing.assert_allclose(values["churn_probability"], 1 - values["p_alive"])
    top = values["tier"] == values["tier"].cat.categories[0]
    assert values.loc[top, "clv"].min() >= values.loc[~top, "clv"].max()


@pytest.mark.e2e
@pytest.mark.slow
def test_notebook_runs_on_the_synthetic_source(tmp_path):
    metrics_path = tmp_path / "metrics.json"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        parameters={
            "data_source": "synthetic_b2b",
            "calibration_end": "2024-06-30",
            "as_of": "2024-12-31",
            "absolute_scale": 0.01,
            "synthetic_customers": 800,
            "metrics_path": str(metrics_path),
        },
        kernel_name="python3",
        progress_bar=False,
    )
    metrics = json.loads(metrics_path.read_text())
    assert metrics["transaction_model"] in {"pareto_nbd", "bgnbd"} and metrics["customers"] > 0
    assert metrics["transaction_model_rule"] in {"lower holdout error", "lower AIC (holdout errors within 1%)"}
    assert metrics["total_clv"] > 0
