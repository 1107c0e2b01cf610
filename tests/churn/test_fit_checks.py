"""No silent loss and no contradiction in the churn model: rows left out, separation, warnings, metrics vs text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.churn.alerts import alerts_by_capacity
from analysis.churn.fit_checks import separated_terms, signed_log1p
from analysis.churn.measures import signal_table
from analysis.churn.models import fit_logistic
from analysis.churn.validation import validate_predictions
from analysis.errors import DataError
from analysis.studies import churn as study


def returners_frame(seed=0, n=300, negative=9):
    """Customers whose churn falls with trailing value; the first ``negative`` returned more than they bought."""
    rng = np.random.default_rng(seed)
    value = rng.lognormal(4, 1, n)
    value[:negative] = -rng.uniform(1, 50, negative)  # net of returns: negative
    churn_p = 1 / (1 + np.exp(-(1.5 - 0.4 * np.log1p(np.abs(value)))))
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "trailing_value": value,
            "recency_days": rng.integers(1, 90, n),
            "churned": (rng.random(n) < churn_p).astype(int),
        }
    )


@pytest.mark.filterwarnings("error")  # no warning may escape the fit
def test_customers_with_negative_value_stay_in_the_model():
    frame = returners_frame()
    model = fit_logistic(frame, study.transaction_formula(frame))
    assert "signed_log1p(trailing_value)" in model.odds_ratios.index
    assert model.n == 300 and model.left_out.empty
    # The signed log is log1p for non-negative values and mirrors it below 0.
    assert signed_log1p(np.array([-3.0]))[0] == pytest.approx(-np.log(4))
    assert model.fit_warnings == [] and model.converged


@pytest.mark.filterwarnings("error")
def test_customers_a_formula_loses_are_counted_and_named_without_a_warning():
    frame = returners_frame()
    model = fit_logistic(frame, "churned ~ np.log1p(trailing_value)")  # the old transform: log1p(-x) is NaN
    assert model.n == 291
    assert model.left_out["customer_id"].tolist() == [f"c{i:03d}" for i in range(9)]
    assert any(w.startswith("RuntimeWarning") for w in model.fit_warnings)  # caught, not printed
    text = study.describe_model(model)
    assert "9 customers are left out of the model for a missing or invalid value (c000, c001" in text
    assert "RuntimeWarning" not in text and "numerical trouble" not in text  # the loss is said in words
    missing = fit_logistic(
        frame.assign(recency_days=frame["recency_days"].where(frame.index != 20)), "churned ~ recency_days"
    )
    assert missing.left_out.to_dict("records") == [{"customer_id": "c020", "missing": "recency_days"}]


@pytest.mark.filterwarnings("error")
def test_a_flag_that_separates_churn_is_named_not_read_as_an_effect():
    frame = returners_frame(negative=0)
    frame["rare_flag"] = 0
    frame.loc[[10, 11, 12], "rare_flag"] = 1
    frame.loc[[10, 11, 12], "churned"] = 1  # its 3 customers all churned: quasi-complete separation
    model = fit_logistic(frame, "churned ~ rare_flag + np.log1p(trailing_value)")
    assert model.odds_ratios.loc["rare_flag", "odds_ratio"] > 1e4  # where the optimiser stopped
    row = model.separated.set_index("term").loc["rare_flag"]
    assert (row["customers_with"], row["churners_with"]) == (3, 3)
    text = study.describe_model(model)
    assert "The odds ratio of rare_flag cannot be estimated: all customers with it churned (separation)" in text
    assert "rise with rare_flag" not in text
    if not model.converged:
        assert "did not converge" in text
    assert "Warning" not in text


def test_separation_is_detected_by_an_independent_count():
    rng = np.random.default_rng(3)
    flag = (rng.random(200) < 0.3).astype(float)
    y = np.where(flag == 1, 0.0, (rng.random(200) < 0.5).astype(float))  # nobody with the flag churns
    design = np.column_stack([np.ones(200), flag, rng.normal(size=200)])
    found = separated_terms(design, y, ["Intercept", "flag", "noise"], [0.0, -25.0, 0.1], [0.1, 1e4, 0.1])
    assert found["term"].tolist() == ["flag"]
    assert found["customers_with"].iloc[0] == flag.sum() and found["churners_with"].iloc[0] == 0
    assert "stayed" in found["reason"].iloc[0]
    assert separated_terms(
        design, (rng.random(200) < 0.5), ["Intercept", "flag", "noise"], [0, 0.2, 0.1], [1] * 3
    ).empty


def test_collinear_terms_are_a_data_error_not_a_linear_algebra_crash():
    frame = returners_frame().assign(twice=lambda f: 2 * f["recency_days"])
    with pytest.raises(DataError, match="collinear"):
        fit_logistic(frame, "churned ~ recency_days + twice")


def test_metrics_and_text_give_the_same_oriented_auc():
    rng = np.random.default_rng(5)
    n = 400
    recency = rng.integers(1, 100, n)
    churned = (rng.random(n) < 0.2 + 0.006 * recency).astype(int)
    frame = pd.DataFrame({"customer_id": range(n), "churned": churned, "loyalty": -recency + rng.normal(0, 5, n)})
    table = signal_table(frame, ["loyalty"])
    assert table.iloc[0]["direction"] == "lower" and table.iloc[0]["auc"] < 0.5  # lower loyalty, more churn
    params = study.ChurnParameters(as_of="1997-06-30", validation_as_of="1997-09-30", capacity=10)
    y, p = churned, np.clip(0.2 + 0.006 * recency, 0, 1)
    validation = validate_predictions(y, p)
    coverage = alerts_by_capacity(
        frame.assign(churn_probability=p, trailing_value=1.0), capacities=[10], outcome="churned"
    ).iloc[0]
    metrics = study.headline_metrics(params, frame, table, validation, coverage)
    oriented = 1 - table.iloc[0]["auc"]
    assert metrics["strongest_signal_auc"] == pytest.approx(oriented, abs=1e-6)
    assert metrics["strongest_signal_auc_raw"] == pytest.approx(table.iloc[0]["auc"], abs=1e-6)
    assert metrics["strongest_signal_direction"] == "lower"
    assert f"(AUC {metrics['strongest_signal_auc']:.2f}," in study.describe_signals(table, frame, params)


def test_capacity_above_the_base_is_flagged_in_the_metrics_not_reported_as_recall():
    frame = returners_frame(negative=0).head(40).assign(churn_probability=0.3)
    params = study.ChurnParameters(as_of="1997-06-30", validation_as_of="1997-09-30", capacity=50)
    table = signal_table(frame, ["recency_days"])
    validation = validate_predictions(frame["churned"], np.full(40, 0.3))
    coverage = alerts_by_capacity(frame, capacities=[50], outcome="churned").iloc[0]
    assert coverage["recall"] == 1.0
    metrics = study.headline_metrics(params, frame, table, validation, coverage)
    assert metrics["alert_recall"] is None and metrics["alert_capacity_covers_base"] is True
    smaller = alerts_by_capacity(frame, capacities=[10], outcome="churned").iloc[0]
    metrics = study.headline_metrics(params, frame, table, validation, smaller)
    assert metrics["alert_recall"] == pytest.approx(smaller["recall"], abs=1e-6)
    assert not metrics["alert_capacity_covers_base"]


def test_a_failed_hosmer_lemeshow_test_is_stated():
    rng = np.random.default_rng(8)
    truth = rng.uniform(0.05, 0.6, 2000)
    y = (rng.random(2000) < truth).astype(int)
    params = study.ChurnParameters(as_of="1997-06-30", validation_as_of="1997-09-30")
    calibrated = validate_predictions(y, truth)
    assert calibrated.hosmer_lemeshow.p_value > 0.05
    assert "Hosmer-Lemeshow" not in study.describe_validation(calibrated, params)
    halved = validate_predictions(y, truth / 2)  # ranks the same, predicts half the churn
    assert halved.hosmer_lemeshow.p_value < 0.05
    text = study.describe_validation(halved, params)
    assert "The Hosmer-Lemeshow test rejects calibration (chi-square" in text and "to rank customers" in text
