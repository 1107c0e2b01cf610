"""Every figure function draws valid small data (empty, one row, constant columns) without an error or a warning."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import plots
from analysis.churn.validation import calibration_table, gains_table
from analysis.grading.concentration import lorenz_curve, pareto_curve
from analysis.grading.grades import cutoff_sweep

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shares = st.floats(0, 1, allow_nan=False)
amounts = st.floats(0, 1e6, allow_nan=False)


def small(elements, min_size=0, max_size=5):
    return st.lists(elements, min_size=min_size, max_size=max_size)


def drawn(figure):
    """Run ``figure(ax)`` with warnings as errors; the axes come back labelled."""
    fig, ax = plt.subplots()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            returned = figure(ax)
            fig.canvas.draw()  # limits, ticks and error bars are checked when drawn
        assert returned is ax and ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    finally:
        plt.close(fig)


@SETTINGS
@given(small(st.integers(0, 1), min_size=1, max_size=12), small(shares, min_size=1, max_size=12), st.integers(1, 4))
def test_calibration_and_gains_of_small_bases(outcomes, probabilities, bins):
    n = min(len(outcomes), len(probabilities))
    y, p = np.array(outcomes[:n]), np.array(probabilities[:n])
    if n < bins:
        return
    drawn(lambda ax: plots.calibration_plot(calibration_table(y, p, n_bins=bins), ax=ax))
    drawn(lambda ax: plots.calibration_plot(calibration_table(y, p, n_bins=bins).round(3), ax=ax))
    drawn(lambda ax: plots.gains_plot(gains_table(y, p, n_bins=bins), ax=ax))


def test_calibration_and_gains_of_empty_tables():
    empty = calibration_table([0, 1], [0.2, 0.4], n_bins=1).iloc[0:0]
    drawn(lambda ax: plots.calibration_plot(empty, ax=ax))
    drawn(lambda ax: plots.gains_plot(gains_table([0, 1], [0.2, 0.4], n_bins=1).iloc[0:0], ax=ax))


@SETTINGS
@given(small(amounts, min_size=1))
def test_concentration_figures_of_few_customers(values):
    x = np.array(values)
    if x.sum() <= 0:
        return
    drawn(lambda ax: plots.pareto_chart(pareto_curve(x), ax=ax))
    drawn(lambda ax: plots.lorenz_plot(lorenz_curve(x), gini=0.0, ax=ax))
    drawn(lambda ax: plots.cutoff_sweep_plot(cutoff_sweep(x), ax=ax))


@SETTINGS
@given(small(st.tuples(amounts, amounts, amounts)), st.booleans())
def test_future_value_plot(rows, missing):
    table = pd.DataFrame(
        {
            "grade": [f"G{i}" for i in range(len(rows))],
            "mean_future_value": [sorted(r)[1] for r in rows],
            "mean_lower": [np.nan if missing else sorted(r)[0] for r in rows],
            "mean_upper": [np.nan if missing else sorted(r)[2] for r in rows],
        }
    )
    drawn(lambda ax: plots.future_value_plot(table, horizon_days=90, ax=ax))


ratios = st.floats(1e-6, 1e9, allow_nan=False)


@SETTINGS
@given(small(st.tuples(ratios, ratios, ratios)), st.booleans())
def test_ratio_plot_with_unbounded_intervals(rows, unbounded):
    table = pd.DataFrame(
        [sorted(r) for r in rows],
        columns=["lower_95", "odds_ratio", "upper_95"],
        index=[f"t{i}" for i in range(len(rows))],
    )
    if unbounded and len(table):
        table.iloc[0, 2] = np.inf  # a separated term
    drawn(lambda ax: plots.ratio_plot(table, ratio="odds_ratio", lower="lower_95", upper="upper_95", ax=ax))


@SETTINGS
@given(small(shares, max_size=4), st.sampled_from([None, "group"]))
def test_survival_plot(survival, group):
    s = np.sort(np.array(survival, dtype=float))[::-1]
    curves = pd.DataFrame({"time": np.arange(len(s), dtype=float), "survival": s, "lower_95": s, "upper_95": s})
    if group:
        curves["group"] = "a"
    drawn(lambda ax: plots.survival_plot(curves, group=group, time_label="days", ax=ax))


@SETTINGS
@given(st.integers(0, 3))
def test_heatmaps_of_small_and_empty_grids(k):
    labels = [f"G{i}" for i in range(k)]
    drawn(lambda ax: plots.migration_heatmap(pd.DataFrame(np.eye(k), index=labels, columns=labels), ax=ax))
    cells = pd.DataFrame(
        {"tier": pd.Categorical(labels), "risk": pd.Categorical(["low"] * k), "value_at_risk": np.zeros(k)}
    )
    drawn(lambda ax: plots.value_risk_heatmap(cells, ax=ax))


@SETTINGS
@given(small(st.tuples(amounts, amounts, amounts)))
def test_value_figures(rows):
    table = pd.DataFrame(rows, columns=["a", "b", "c"])
    quantiles = pd.DataFrame(
        {"quantile": np.linspace(0.1, 0.9, len(rows)), "observed": table["a"], "model": table["b"]}
    )
    drawn(lambda ax: plots.quantile_plot(quantiles, ax=ax))
    frequency = pd.DataFrame({"frequency": range(len(rows)), "actual": table["a"], "predicted": table["b"]})
    drawn(lambda ax: plots.holdout_frequency_plot(frequency, ax=ax))
    tracking = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=len(rows), freq="W"),
            "actual": table["a"],
            "expected": table["b"],
            "period": ["holdout"] * len(rows),
        }
    )
    drawn(lambda ax: plots.tracking_plot(tracking, ax=ax))


@SETTINGS
@given(small(st.tuples(amounts, amounts, amounts)))
def test_contact_policy_plot(rows):
    table = pd.DataFrame(rows, columns=["policy_contacts_per_month", "actual_median", "actual_mean"])
    table.insert(0, "grade", [f"G{i}" for i in range(len(rows))])
    drawn(lambda ax: plots.contact_policy_plot(table, ax=ax))
