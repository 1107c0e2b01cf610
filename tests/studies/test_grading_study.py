"""Study 1: parameters (one declaration for notebook and runner), comparison, notebook runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import papermill
import pytest

from analysis.engines.periods import period_table
from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import ParameterError
from analysis.studies import grading as study
from analysis.studies.dates import dated
from analysis.synthetic.generate import generate_b2b

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_grading_thresholds.ipynb"


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"value_share_cuts": [0.95, 0.75]}, "'value_share_cuts'.*strictly increasing"),
        ({"rank_share_cuts": [0.05, 1.5]}, "'rank_share_cuts'.*inside \\(0, 1\\)"),
        ({"quota_shares": [0.3, 0.3, 0.4, 0.1]}, "'quota_shares'.*sum to 1"),
        ({"scheme": "pareto"}, "'scheme' = 'pareto'"),
        ({"value_metric": "profit"}, "'value_metric' = 'profit'"),
        ({"compare": ["value_share_75_20_5", "abc"]}, "'compare' = 'abc'"),
        ({"value_window_months": "12"}, "'value_window_months' = '12'"),
        ({"as_of": "someday"}, "'as_of' = 'someday'"),
        ({"regional_coefficient": 0}, "'regional_coefficient' = 0"),
    ],
)
def test_invalid_parameters_are_refused(changes, pattern):
    with pytest.raises(ParameterError, match=pattern):
        study.GradingParameters(**changes)


@pytest.mark.e2e
def test_invalid_parameter_stops_the_notebook_in_its_first_cell(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(tmp_path / "out.ipynb"),
            parameters={"quota_shares": [0.5, 0.5, 0.5, 0.1]},
            kernel_name="python3",
            progress_bar=False,
        )
    assert caught.value.ename == "ParameterError"
    assert "quota_shares" in caught.value.evalue
    executed = json.loads((tmp_path / "out.ipynb").read_text())
    ran = [c for c in executed["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
    # The parameters, the injected parameters and the checking cell: nothing after it ran.
    assert len(ran) == 3


def test_dates_derived_from_parameters():
    params = study.GradingParameters(
        as_of="1998-06-30", value_window_months=12, min_tenure_months=6, validation_horizon_days=181
    )
    assert params.window_days == 365
    assert params.min_tenure_days == (pd.Timestamp("1998-06-30") - pd.Timestamp("1997-12-30")).days
    assert params.validation_date == pd.Timestamp("1997-12-31")
    assert params.at("1997-12-31").as_of == "1997-12-31"


def test_rank_schemes_orders_by_mean_rank_then_workload():
    comparison = pd.DataFrame(
        {
            "scheme": ["x", "y", "z"],
            "kept_grade": [0.9, 0.8, 0.7],
            "spearman_rho": [0.1, 0.5, 0.4],
            "capture_gain": [0.2, 0.3, 0.5],
            "calls_per_month": [10.0, 5.0, 1.0],
            "visits_per_month": [0.0, 0.0, 0.0],
            "top_grade_customers": [0.2] * 3,
            "top_grade_value": [0.7] * 3,
            "capture_rate": [0.6] * 3,
        }
    )
    # Ranks: x (1, 3, 3) = 7/3; y (2, 1, 2) = 5/3; z (3, 2, 1) = 2 -> y first.
    assert study.rank_schemes(comparison)["scheme"].tolist() == ["y", "z", "x"]
    text = study.recommendation(comparison)
    assert text.startswith("Recommended: y") and "lightest workload: z" in text
    assert "ties" not in text
    # x (1, 2, 1) and y (2, 1, 1) tie at 4/3; y has the lighter workload (5 vs 10 contacts).
    level = comparison.assign(kept_grade=[0.9, 0.8, 0.1], spearman_rho=[0.4, 0.5, 0.1], capture_gain=[0.3, 0.3, 0.1])
    assert study.rank_schemes(level)["scheme"].tolist()[:2] == ["y", "x"]
    assert "ties on mean rank with x" in study.recommendation(level)
    # A scheme with nearly everybody in its best grade keeps everybody's grade: never "most stable", not ranked.
    everybody = comparison.assign(kept_grade=[0.99, 0.8, 0.7], top_grade_customers=[0.995, 0.2, 0.2])
    text = study.recommendation(everybody)
    assert "Most stable: y" in text and "Not ranked: x (100% in its best grade)" in text
    assert not text.startswith("Recommended: x")


@pytest.fixture(scope="module")
def synthetic_case():
    data = generate_b2b(600, seed=3)
    params = study.GradingParameters(
        data_source="synthetic_b2b",
        as_of="2024-12-31",
        value_metric="margin",
        history_start="2024-01-01",
        absolute_scale=0.01,
    )
    t = data.transactions
    params = dated(params, t)
    summary = customer_summary(t, params.as_of, trailing_days=params.window_days)
    backtest = calibration_holdout(t, params.validation_date, params.as_of, trailing_days=params.window_days)
    periods = period_table(t, end=params.as_of, dense=True)
    return params, summary, backtest, periods


def test_compare_schemes_reports_every_scheme_consistently(synthetic_case):
    params, summary, backtest, periods = synthetic_case
    comparison = study.compare_schemes(summary, backtest, periods, params)
    assert comparison["scheme"].tolist() == params.compare
    assert comparison["top_grade_customers"].between(0, 1).all()
    assert comparison["kept_grade"].between(0, 1).all()
    # Every non-empty best grade holds more of the later value than its share of customers.
    filled = comparison["top_grade_customers"] > 0
    assert (comparison.loc[filled, "capture_gain"] > 0).all()
    assert (comparison.loc[~filled, "capture_gain"] == 0).all()
    # The value-share scheme's best grade holds at least its cut of current value.
    row = comparison.set_index("scheme").loc["value_share_75_20_5"]
    assert row["top_grade_value"] >= 0.75
    # Every grade is better than random at predicting: positive rank correlation.
    assert (comparison["spearman_rho"] > 0).all()


def test_sentences_quote_the_numbers(synthetic_case):
    params, summary, _, _ = synthetic_case
    from analysis.grading.concentration import concentration_table
    from analysis.grading.grades import grade_table

    concentration = concentration_table(study.active_values(summary, params), n_boot=50)
    top20 = concentration.set_index("measure").loc["top 20% share of value", "estimate"]
    assert f"{top20:.0%}" in study.describe_concentration(concentration)
    grades = grade_table(study.grade(summary, params))
    assert f"{grades['share_of_value'].iloc[0]:.0%} of value" in study.describe_grades(grades)


def run_notebook(tmp_path: Path, **parameters) -> dict:
    metrics = tmp_path / "metrics.json"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        parameters={**parameters, "metrics_path": str(metrics)},
        kernel_name="python3",
        progress_bar=False,
    )
    return json.loads(metrics.read_text())


@pytest.mark.e2e
@pytest.mark.slow
def test_notebook_runs_with_non_default_parameters(tmp_path):
    metrics = run_notebook(
        tmp_path,
        scheme="rank_share_5_15_80",
        rank_share_cuts=[0.10, 0.30],
        as_of="1998-03-31",
        later_rows="drop",  # CDNOW goes on to 1998-06-30
        validation_horizon_days=90,
        value_window_months=6,
        regional_coefficient=0.85,
    )
    shares = metrics["grade_share_of_customers"]
    assert metrics["scheme"] == "rank_share_5_15_80"
    assert shares["A"] == pytest.approx(0.10, abs=0.01)
    assert shares["A"] + shares["B"] == pytest.approx(0.30, abs=0.01)


@pytest.mark.e2e
@pytest.mark.slow
def test_notebook_runs_on_synthetic_data_with_margin(tmp_path):
    metrics = run_notebook(
        tmp_path,
        data_source="synthetic_b2b",
        as_of="2024-12-31",
        value_metric="margin",
        history_start="2024-01-01",
        absolute_scale=0.01,
        synthetic_customers=800,
    )
    assert metrics["value_metric"] == "margin"
    assert metrics["grade_share_of_value"]["A"] == pytest.approx(0.75, abs=0.02)
    assert sum(metrics["grade_share_of_customers"].values()) == pytest.approx(1.0)
    assert 0 < metrics["gini"] < 1


@pytest.mark.e2e
def test_default_metrics_are_reproducible(tmp_path):
    """Same parameters and data: byte-identical metrics (the report runner relies on it)."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    a = run_notebook(first)
    b = run_notebook(second)
    assert a == b
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()
    assert np.isclose(a["grade_share_of_value"]["A"], 0.75, atol=0.01)
