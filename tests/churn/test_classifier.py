"""Tests of analysis.churn.classifier and calibration_line: planted coefficients recovered, AUC recomputed
independently (Mann-Whitney U), folds complete and disjoint, and no hold-out outcome reaching any fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps

from analysis.churn.classifier import validate_logistic
from analysis.churn.holdout import stratified_folds, stratified_holdout
from analysis.churn.models import LogisticModel
from analysis.churn.validation import calibration_line
from analysis.errors import DataError
from telco_like import TRUTH, telco_like


def _data(n: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    frame, design = telco_like(n, seed)
    return pd.concat([frame[["customer_id", "churned"]], design.matrix], axis=1), design.columns


@pytest.mark.slow
def test_planted_coefficients_are_recovered_within_their_intervals_at_the_nominal_rate():
    reps, n = 40, 3000
    names = list(TRUTH)
    truth = pd.Series(TRUTH)
    covered = pd.Series(0, index=names)
    estimates = []
    for rep in range(reps):
        data, columns = _data(n, seed=100 + rep)
        assert columns == names[1:]  # the aliased "No internet service" and "No phone service" columns left out
        model = LogisticModel("churned ~ " + " + ".join(columns)).fit(data)
        assert model.converged and model.separated.empty
        coefficient, se = model.params_, model.result_.bse
        z = sps.norm.ppf(0.975)
        covered += ((coefficient - z * se <= truth) & (truth <= coefficient + z * se)).astype(int)
        estimates.append(coefficient)
    rate = covered.sum() / (reps * len(names))
    # Wald intervals of a well-specified logistic model at n = 3000: true rate assumed in [0.93, 0.96];
    # bounds at binomial tail probability 1e-4 (fixed seeds: the outcome is the same on every run).
    trials = reps * len(names)
    low, high = sps.binom.ppf(1e-4, trials, 0.93) / trials, sps.binom.isf(1e-4, trials, 0.96) / trials
    assert low <= rate <= high, (rate, covered.to_dict())
    assert (covered / reps).min() >= 0.8, covered.to_dict()  # no single coefficient far off
    bias = pd.DataFrame(estimates).mean() - truth
    spread = pd.DataFrame(estimates).std() / np.sqrt(reps)
    assert (bias.abs() < 4 * spread).all(), bias.to_dict()
    print(f"coefficients: coverage {rate:.3f} over {trials} intervals")


def test_fit_rows_and_holdout_follow_the_stratified_split():
    data, columns = _data(2000, seed=1)
    fit = validate_logistic(data, columns, test_share=0.25, folds=4, seed=7)
    np.testing.assert_array_equal(fit.holdout, stratified_holdout(data["churned"], test_share=0.25, seed=7))
    same = LogisticModel("churned ~ " + " + ".join(columns)).fit(data.loc[~fit.holdout])
    pd.testing.assert_series_equal(fit.model.params_, same.params_)  # fitted on the fit rows, nothing else
    assert fit.model.n == (~fit.holdout).sum() and fit.validation.n == fit.holdout.sum()
    assert fit.scores["customer_id"].tolist() == data.loc[fit.holdout, "customer_id"].tolist()


def test_holdout_auc_is_the_mann_whitney_u_statistic():
    data, columns = _data(2000, seed=2)
    fit = validate_logistic(data, columns, seed=3)
    y, p = fit.scores["churned"].to_numpy(), fit.scores["churn_probability"].to_numpy()
    u = sps.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert fit.validation.auc == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))
    assert fit.validation.auc_lower < fit.validation.auc < fit.validation.auc_upper
    fold = stratified_folds(data.loc[~fit.holdout, "churned"], folds=5, seed=4)
    for f, row in fit.folds.iterrows():
        part = fold == f
        yf, pf = data.loc[~fit.holdout, "churned"].to_numpy()[part], fit.out_of_fold.to_numpy()[part]
        assert row["auc"] == pytest.approx(
            sps.mannwhitneyu(pf[yf == 1], pf[yf == 0]).statistic / (yf.sum() * (1 - yf).sum())
        )
    assert fit.cv_auc_mean == pytest.approx(fit.folds["auc"].mean())


def test_every_fit_row_is_scored_once_by_a_model_that_did_not_see_it():
    data, columns = _data(1500, seed=5)
    fit = validate_logistic(data, columns, folds=5, seed=6)
    fit_rows = data.loc[~fit.holdout]
    assert fit.out_of_fold.index.equals(fit_rows.index) and fit.out_of_fold.notna().all()
    assert fit.folds["n"].sum() == len(fit_rows) and len(fit.folds) == 5
    assert fit.folds["churners"].max() - fit.folds["churners"].min() <= 1
    fold = stratified_folds(fit_rows["churned"], folds=5, seed=7)
    first = fold == 0
    alone = LogisticModel("churned ~ " + " + ".join(columns)).fit(fit_rows.loc[~first])
    np.testing.assert_allclose(fit.out_of_fold[first], alone.predict(fit_rows.loc[first]))


def test_holdout_outcomes_never_enter_a_fit():
    data, columns = _data(2000, seed=8)
    held = stratified_holdout(data["churned"], test_share=0.3, seed=9)
    before = validate_logistic(data, columns, holdout=held, seed=9)
    flipped = data.assign(churned=np.where(held, 1 - data["churned"], data["churned"]))
    after = validate_logistic(flipped, columns, holdout=held, seed=9)
    pd.testing.assert_series_equal(before.model.params_, after.model.params_)
    pd.testing.assert_series_equal(before.out_of_fold, after.out_of_fold)
    pd.testing.assert_frame_equal(before.folds, after.folds)
    assert after.validation.auc == pytest.approx(1 - before.validation.auc)  # the hold-out itself did change
    with pytest.raises(DataError, match="holdout"):
        validate_logistic(data, columns, holdout=np.ones(len(data), dtype=bool))


def test_fold_fits_that_cannot_estimate_a_term_say_so():
    data, columns = _data(800, seed=10)
    separated = data.assign(perfect=data["churned"])  # separates the outcome
    fit = validate_logistic(separated, [*columns, "perfect"], folds=3, seed=0)
    assert "perfect" in fit.model.separated["term"].tolist()
    assert (fit.folds["terms_not_estimable"] >= 1).all()
    assert fit.calibration["fit_warnings"].str.contains("separation").any()  # said, not printed


def _logistic_mle(y, x, offset):
    def loss(b):
        eta = offset + x @ b
        return np.sum(np.logaddexp(0, eta) - y * eta)

    return optimize.minimize(loss, np.zeros(x.shape[1]), method="BFGS", options={"gtol": 1e-10}).x


def test_calibration_line_matches_a_direct_likelihood_fit():
    rng = np.random.default_rng(11)
    p = 1 / (1 + np.exp(-rng.normal(-1, 1.2, size=1500)))
    lp = np.log(p / (1 - p))
    y = (rng.random(1500) < 1 / (1 + np.exp(-(0.2 + 0.8 * lp)))).astype(int)
    table = calibration_line(y, p).set_index("metric")
    one = np.ones((1500, 1))
    assert table.loc["calibration_intercept", "estimate"] == pytest.approx(_logistic_mle(y, one, lp)[0], abs=1e-5)
    slope = _logistic_mle(y, np.column_stack([one, lp]), np.zeros(1500))[1]
    assert table.loc["calibration_slope", "estimate"] == pytest.approx(slope, abs=1e-5)
    assert table["converged"].all() and list(table["target"]) == [0.0, 1.0]
    with pytest.raises(DataError, match="single class"):
        calibration_line(np.zeros(10), np.full(10, 0.3))


@pytest.mark.slow
def test_calibration_slope_and_intercept_recover_a_planted_miscalibration():
    rng = np.random.default_rng(12)
    reps, n = 300, 1000
    hits = {"calibration_slope": 0, "calibration_intercept": 0}
    for _ in range(reps):
        lp = rng.normal(-1, 1.2, size=n)
        p = 1 / (1 + np.exp(-lp))
        too_extreme = (rng.random(n) < 1 / (1 + np.exp(-0.7 * lp))).astype(int)  # slope 0.7
        shifted = (rng.random(n) < 1 / (1 + np.exp(-(lp - 0.4)))).astype(int)  # intercept -0.4, slope 1
        slope = calibration_line(too_extreme, p).set_index("metric").loc["calibration_slope"]
        intercept = calibration_line(shifted, p).set_index("metric").loc["calibration_intercept"]
        hits["calibration_slope"] += slope["lower_95"] <= 0.7 <= slope["upper_95"]
        hits["calibration_intercept"] += intercept["lower_95"] <= -0.4 <= intercept["upper_95"]
    low, high = sps.binom.ppf(1e-4, reps, 0.93) / reps, sps.binom.isf(1e-4, reps, 0.96) / reps
    for name, count in hits.items():
        assert low <= count / reps <= high, (name, count / reps)
    print("calibration coverage:", {k: v / reps for k, v in hits.items()})


def test_validate_logistic_refuses_missing_columns():
    data, columns = _data(300, seed=13)
    with pytest.raises(DataError, match="nowhere"):
        validate_logistic(data, [*columns, "nowhere"])


def test_cross_validated_and_holdout_auc_recover_the_planted_models_auc():
    # The planted model's AUC in the population (a large sample scored with the true probabilities) is what a
    # well-specified fit on 4,000 customers should reach out of sample, up to its estimation loss (small here).
    big, design = telco_like(200_000, seed=14)
    truth = pd.Series(TRUTH)
    logit = truth["Intercept"] + design.matrix[truth.index[1:]].to_numpy() @ truth.iloc[1:].to_numpy()
    y = big["churned"].to_numpy()
    population_auc = sps.mannwhitneyu(logit[y == 1], logit[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum())
    data, columns = _data(4000, seed=15)
    fit = validate_logistic(data, columns, seed=16)
    assert abs(fit.cv_auc_mean - population_auc) < 0.02, (fit.cv_auc_mean, population_auc)
    assert fit.validation.auc_lower - 0.01 <= population_auc <= fit.validation.auc_upper + 0.01
    assert 0 < fit.cv_auc_sd < 0.05
    slope = fit.calibration.set_index("metric").loc["calibration_slope"]
    assert slope["lower_95"] <= 1 <= slope["upper_95"]  # a well-specified model is calibrated out of sample
