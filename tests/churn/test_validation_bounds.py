"""Calibration bins whose observed rate is 0 or 1 keep the rate inside their interval (no negative error bars)."""

import numpy as np

from analysis.churn.validation import calibration_table
from analysis.plots.churn import calibration_plot


def test_bins_with_no_or_all_churners_hold_their_rate_and_plot():
    outcome = np.r_[np.zeros(50), np.ones(50)]
    probability = np.linspace(0.01, 0.99, 100)
    table = calibration_table(outcome, probability, n_bins=10)
    assert set(table["observed_rate"]) == {0.0, 1.0}
    assert (table["observed_lower_95"] <= table["observed_rate"]).all()
    assert (table["observed_upper_95"] >= table["observed_rate"]).all()
    assert (table["observed_lower_95"] >= 0).all() and (table["observed_upper_95"] <= 1).all()
    calibration_plot(table)  # raised "yerr must not contain negative values" before
