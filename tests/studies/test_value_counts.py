"""Study 3's purchase-count tables: customers by number of purchases, actual vs model, and their chi-square.

Checked on customers simulated from known parameters (the model's expected counts
must match what the simulation produced, and the indicative chi-square must not
reject the true model more often than its level), and on CDNOW for the table's
bookkeeping and sentences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.engines.summaries import calibration_holdout
from analysis.errors import DataError, ParameterError
from analysis.studies import value as study
from analysis.studies import value_counts as counts
from analysis.value.clv.base import Convergence
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.pareto_nbd import ParetoNBDModel
from analysis.value.clv.simulate import simulate_bgnbd, simulate_pareto_nbd

CDNOW_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PNBD = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
COLUMNS = ["purchases", "actual", "expected", "actual_share", "expected_share", "difference", "contribution"]


def simulated(simulate, params, n, seed):
    """A calibration/holdout summary in weeks (T in whole weeks, times in days): 39 weeks of holdout."""
    T = np.random.default_rng(seed).integers(27, 40, n).astype(float)  # a 12-week acquisition window, as CDNOW
    frame = simulate(n, params, T=T, seed=seed, holdout=39.0)
    return frame.assign(recency=np.ceil(frame["recency"] * 7) / 7)


@pytest.mark.parametrize(
    ("simulate", "model_class", "params"),
    [(simulate_bgnbd, BetaGeoModel, CDNOW_BG), (simulate_pareto_nbd, ParetoNBDModel, CDNOW_PNBD)],
)
def test_tables_add_up_and_match_a_base_simulated_from_the_model(simulate, model_class, params):
    data = simulated(simulate, params, 40_000, seed=31)
    model = model_class.from_params(params)
    for table, column in [
        (counts.holdout_count_table(model, data), "frequency_holdout"),
        (counts.calibration_count_table(model, data), "frequency"),
    ]:
        assert list(table.columns) == COLUMNS
        assert table["purchases"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
        observed = np.bincount(np.minimum(data[column], 7), minlength=8)
        np.testing.assert_array_equal(table["actual"], observed)
        assert table["expected"].sum() == pytest.approx(len(data), rel=1e-10)
        assert table["expected_share"].sum() == pytest.approx(1.0, rel=1e-10)
        np.testing.assert_allclose(table["contribution"], (observed - table["expected"]) ** 2 / table["expected"])
        # The true model: every cell within 4 standard deviations (sum of p (1 - p) < expected), and no rejection.
        assert (np.abs(table["difference"]) <= 4 * np.sqrt(table["expected"])).all(), table
        assert counts.count_fit_test(table).p_value > 1e-3


def test_holdout_chi_square_rejects_the_true_model_at_most_at_its_level():
    """40 bases of 3,000 customers from the BG/NBD: the indicative test (conservative) rejects at 5% at most
    about 5% of the time. Fixed seeds; 6 of 40 would be 2.4 binomial sd above 5%."""
    model = BetaGeoModel.from_params(CDNOW_BG)
    p_values = [
        counts.count_fit_test(
            counts.holdout_count_table(model, simulated(simulate_bgnbd, CDNOW_BG, 3000, seed))
        ).p_value
        for seed in range(100, 140)
    ]
    assert sum(p < 0.05 for p in p_values) <= 6
    assert np.median(p_values) > 0.2  # not degenerate either: the p-values spread over (0, 1)


def test_calibration_chi_square_with_fitted_parameters_holds_its_level():
    """20 bases of 3,000 customers, the BG/NBD refitted on each; 4 degrees of freedom removed for the fit."""
    rejections = 0
    for seed in range(200, 220):
        data = simulated(simulate_bgnbd, CDNOW_BG, 3000, seed)
        model = BetaGeoModel().fit(data)
        assert model.convergence_.success
        test = counts.count_fit_test(counts.calibration_count_table(model, data), period="calibration")
        assert test.degrees_of_freedom == 3
        rejections += test.p_value < 0.05
    assert rejections <= 4  # 5% of 20 is 1; 4 is 2.9 binomial sd above


@pytest.fixture(scope="module")
def cdnow_tables(cdnow):
    holdout = calibration_holdout(cdnow, "1997-09-30", "1998-06-30", time_unit="weeks")
    model = study.fit_transaction_models(holdout)["BG/NBD"]
    return holdout, model, counts.holdout_count_table(model, holdout), counts.calibration_count_table(model, holdout)


def test_cdnow_tables_and_sentences(cdnow_tables):
    holdout, model, in_holdout, in_calibration = cdnow_tables
    n = len(holdout)
    assert in_holdout["actual"].sum() == in_calibration["actual"].sum() == n
    assert in_holdout.loc[0, "actual"] == (holdout["frequency_holdout"] == 0).sum()
    assert in_calibration.loc[7, "actual"] == (holdout["frequency"] >= 7).sum()
    # The expected holdout purchases of cells 1-6 cannot exceed the model's expected total.
    below = (in_holdout["expected"].iloc[1:7] * np.arange(1, 7)).sum()
    assert below <= model.expected_purchases(horizon=39.0, data=holdout).sum()
    test = counts.count_fit_test(in_holdout)
    text = counts.describe_purchase_counts(in_holdout, test, model)
    assert f"Of {n:,} customers" in text and f"{test.statistic:,.1f} on 7 degrees of freedom" in text
    assert "indicative" in text and "fitted to these same customers" not in text
    test = counts.count_fit_test(in_calibration, period="calibration")
    text = counts.describe_purchase_counts(in_calibration, test, model, period="calibration")
    assert "no repeat purchase in the calibration period" in text and "on 3 degrees of freedom" in text
    assert "fitted to these same customers" in text


def test_sentences_warn_of_small_cells_and_unconverged_fits(cdnow_tables):
    holdout, model, *_ = cdnow_tables
    few = holdout.iloc[:40]
    table = counts.holdout_count_table(model, few)
    failed = BetaGeoModel.from_params(model.params_.to_dict())
    failed.convergence_ = Convergence.from_checks(
        optimiser_success=False,
        message="ABNORMAL",
        iterations=3,
        gradient_max_abs=1.0,
        hessian_positive_definite=True,
        at_bound=(),
    )
    text = counts.describe_purchase_counts(table, counts.count_fit_test(table), failed)
    assert "fewer than 5 expected customers" in text
    assert "not converged" in text and "with care" in text


def test_bad_input_is_refused(cdnow_tables):
    holdout, model, in_holdout, _ = cdnow_tables
    with pytest.raises(ParameterError, match="'period'"):
        counts.count_fit_test(in_holdout, period="later")
    with pytest.raises(ParameterError, match="'top' = 0"):
        counts.holdout_count_table(model, holdout, top=0)
    with pytest.raises(DataError, match="frequency_holdout"):
        counts.holdout_count_table(model, holdout.drop(columns="frequency_holdout"))
    with pytest.raises(DataError, match="no customers"):
        counts.calibration_count_table(model, pd.DataFrame({"frequency": [], "T": []}))
