"""The churn study's Telco classifier on the shipped data: design, split, comparison table, sentences, metrics."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.churn.concordance import concordance_counts
from analysis.churn.frames import telco_churn_frame
from analysis.studies import churn as study
from analysis.studies.churn_telco import telco_classifier_metrics

ADD_ONS = ("online_security", "online_backup", "device_protection", "tech_support", "streaming_tv", "streaming_movies")


@pytest.fixture(scope="module")
def result(telco):
    return study.telco_classifier(telco_churn_frame(telco), seed=0, n_boot=20)


def test_aliased_levels_are_left_out_and_named(result, telco):
    aliased = result.design.aliased.set_index("column")["aliased_with"].to_dict()
    expected = {f"{a}__no_internet_service": "internet_service__no" for a in ADD_ONS}
    assert aliased == expected | {"multiple_lines__no_phone_service": "1 - has_phone_service"}
    assert result.zero_total_charges == telco["total_charges"].isna().sum() == 11
    table = study.telco_odds_ratios(result).set_index("term")
    assert len(table) == len(result.design.terms)
    assert table.loc[list(aliased), "odds_ratio"].isna().all()
    assert table.loc[list(aliased), "note"].str.startswith("left out: equals").all()
    assert table.loc["monthly_charges_per_10", "note"] == "nearly collinear: wide interval"
    assert table.loc["contract__two_year", "upper_95"] < 1  # longer contracts, fewer churners (any sensible fit)
    assert table["attribute"].nunique() == 19  # every Telco attribute but the id and the churn flag


def test_comparison_scores_all_models_on_one_holdout(result, telco):
    held = result.logistic.holdout
    assert held.sum() == round(0.3 * telco["churned"].sum()) + round(0.3 * (~telco["churned"]).sum())
    np.testing.assert_array_equal(result.logistic_no_tenure.holdout, held)
    assert result.cox.n == result.logistic.model.n == (~held).sum()  # Cox fitted on the fit rows too
    table = study.telco_comparison(result).set_index("model")
    assert (table["scored"] == held.sum()).all() and table["uses_tenure"].sum() == 1
    frame = telco_churn_frame(telco)
    y = frame.loc[held, "churned"].to_numpy()
    test = frame.loc[held]
    cox_risk = result.cox.relative_hazard(result.design.matrix.loc[held]).to_numpy()
    concordant, comparable = concordance_counts(test["tenure_months"], test["churned"], cox_risk)
    cox_row = table.loc[table.index.str.startswith("Cox")].iloc[0]
    assert cox_row["holdout_c_index"] == pytest.approx(concordant / comparable)  # the hold-out's times, Cox's risk
    assert cox_row["holdout_auc"] == pytest.approx(
        sps.mannwhitneyu(cox_risk[y == 1], cox_risk[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum())
    )
    c = result.concordance["cox"]
    assert c.lower <= c.c_index <= c.upper
    logistic = table.iloc[0]
    p = result.logistic.scores["churn_probability"].to_numpy()
    assert logistic["holdout_auc"] == pytest.approx(
        sps.mannwhitneyu(p[y == 1], p[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum())
    )
    concordant, comparable = concordance_counts(test["tenure_months"], test["churned"], p)
    assert logistic["holdout_c_index"] == pytest.approx(concordant / comparable)
    assert 0.75 < logistic["holdout_auc"] < 0.95 and 0.75 < cox_row["holdout_c_index"] < 0.95
    assert logistic["cv_auc_sd"] < 0.05 and np.isnan(cox_row["cv_auc_mean"])
    assert result.cox_converged and result.logistic.model.converged


def test_sentence_and_metrics_carry_the_numbers(result):
    text = study.describe_telco_classifier(result)
    check = result.logistic.validation
    assert f"Hold-out AUC {check.auc:.2f} (95% CI {check.auc_lower:.2f} to {check.auc_upper:.2f})" in text
    assert "internet_service__no" in text and "counted as 0" in text and "Warning" not in text
    assert f"{result.logistic.cv_auc_mean:.3f}" in text
    metrics = telco_classifier_metrics(result)
    assert metrics["telco_holdout_auc"] == pytest.approx(check.auc, abs=1e-6)
    assert len(metrics["telco_classifier_aliased_columns"]) == 7
    assert all(v is None for v in telco_classifier_metrics(None).values())
    assert telco_classifier_metrics(None).keys() == metrics.keys()


@pytest.mark.slow  # three classifiers
def test_same_seed_same_split_other_seed_other_split(telco):
    frame = telco_churn_frame(telco)
    a = study.telco_classifier(frame, seed=3, n_boot=0, folds=2)
    b = study.telco_classifier(frame, seed=3, n_boot=0, folds=2)
    c = study.telco_classifier(frame, seed=4, n_boot=0, folds=2)
    np.testing.assert_array_equal(a.logistic.holdout, b.logistic.holdout)
    assert a.logistic.validation.auc == b.logistic.validation.auc
    assert not np.array_equal(a.logistic.holdout, c.logistic.holdout)
    assert np.isnan(a.concordance["cox"].lower)  # no resamples, no interval


def test_a_fit_that_failed_is_said_and_flagged(result):
    model = copy.copy(result.logistic.model)
    model.converged = False
    model.separated = pd.DataFrame(
        {"term": ["tech_support__yes"], "customers_with": [10], "churners_with": [0], "reason": ["separation"]}
    )
    failed = dataclasses.replace(
        result, logistic=dataclasses.replace(result.logistic, model=model), cox_converged=False
    )
    text = study.describe_telco_classifier(failed)
    assert "Warning: the fit did not converge; not estimable: tech_support__yes" in text
    assert "the Cox fit did not reach its maximum" in text
    metrics = telco_classifier_metrics(failed)
    assert metrics["telco_classifier_converged"] is False and metrics["telco_cox_converged"] is False
    note = study.telco_odds_ratios(failed).set_index("term").loc["tech_support__yes", "note"]
    assert note == "not estimable: separation"
