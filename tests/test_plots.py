"""Every figure function draws on the axes it is given, returns them, and labels them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import plots
from analysis.grading.concentration import lorenz_curve, pareto_curve
from analysis.grading.grades import cutoff_sweep

VALUES = np.random.default_rng(0).lognormal(3, 1, 500)


def labelled(ax):
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


CASES = {
    "pareto": lambda ax: plots.pareto_chart(pareto_curve(VALUES), ax=ax),
    "lorenz": lambda ax: plots.lorenz_plot(lorenz_curve(VALUES), gini=0.5, ax=ax),
    "sweep": lambda ax: plots.cutoff_sweep_plot(cutoff_sweep(VALUES), ax=ax),
    "migration": lambda ax: plots.migration_heatmap(
        pd.DataFrame([[0.8, 0.2], [0.1, 0.9]], index=["A", "B"], columns=["A", "B"]), ax=ax
    ),
    "future": lambda ax: plots.future_value_plot(
        pd.DataFrame(
            {"grade": ["A", "B"], "mean_future_value": [5.0, 1.0], "mean_lower": [4.0, 0.5], "mean_upper": [6.0, 1.5]}
        ),
        horizon_days=90,
        ax=ax,
    ),
    "survival": lambda ax: plots.survival_plot(
        pd.DataFrame(
            {
                "contract": ["a", "a", "b", "b"],
                "time": [0, 5, 0, 5],
                "survival": [1.0, 0.8, 1.0, 0.6],
                "lower_95": [1.0, 0.7, 1.0, 0.5],
                "upper_95": [1.0, 0.9, 1.0, 0.7],
            }
        ),
        group="contract",
        time_label="months",
        ax=ax,
    ),
    "retention": lambda ax: plots.retention_plot(
        pd.DataFrame(
            {
                "contract": ["a", "a", "b", "b"],
                "usable": [True, True, False, False],
                "period": [0, 5, 0, 5],
                "survival": [1.0, 0.7, 1.0, 0.9],
                "survival_lower_95": [1.0, 0.6, 1.0, 0.8],
                "survival_upper_95": [1.0, 0.8, 1.0, 0.95],
            }
        ),
        group="contract",
        ax=ax,
    ),
    "ratios": lambda ax: plots.ratio_plot(
        pd.DataFrame({"odds_ratio": [2.0, 0.5], "lower_95": [1.5, 0.3], "upper_95": [2.5, 0.8]}, index=["x", "y"]),
        ratio="odds_ratio",
        lower="lower_95",
        upper="upper_95",
        ax=ax,
    ),
    "calibration": lambda ax: plots.calibration_plot(
        pd.DataFrame(
            {
                "mean_predicted": [0.1, 0.5],
                "observed_rate": [0.12, 0.45],
                "observed_lower_95": [0.08, 0.4],
                "observed_upper_95": [0.16, 0.5],
            }
        ),
        ax=ax,
    ),
    "contacts": lambda ax: plots.contact_policy_plot(
        pd.DataFrame(
            {
                "grade": ["A", "B", "all"],
                "policy_contacts_per_month": [21.7, 4.3, np.nan],
                "actual_median": [0.6, 0.3, 0.4],
                "actual_mean": [0.7, 0.4, 0.5],
            }
        ),
        ax=ax,
    ),
    "gains": lambda ax: plots.gains_plot(
        pd.DataFrame({"cumulative_share_customers": [0.5, 1.0], "cumulative_share_churners": [0.8, 1.0]}), ax=ax
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_draws_on_given_axes_and_is_labelled(name):
    _fig, ax = plt.subplots()
    returned = CASES[name](ax)
    assert returned is ax
    assert labelled(ax), name
    assert ax.has_data() or ax.collections or ax.images


def test_the_contact_figure_without_a_contacts_table_says_so():
    _fig, ax = plt.subplots()
    plots.contact_policy_plot(pd.DataFrame({"grade": ["all"]}), ax=ax)
    assert labelled(ax) and "no contacts table" in ax.texts[0].get_text()


def test_the_retention_figure_draws_usable_fits_beside_kaplan_meier_with_the_legend_outside():
    from analysis.churn.retention import ShiftedBetaGeometric, curves_by_group

    fits = {
        "regular": ShiftedBetaGeometric().fit_survivors([1000, 631, 468, 382, 326, 289, 262, 241]),
        "geometric": ShiftedBetaGeometric().fit_survivors([4096, 2048, 1024, 512, 256, 128]),
    }
    km = pd.DataFrame(
        {"plan": ["regular"] * 2 + ["geometric"] * 2, "time": [0, 7, 0, 5], "survival": [1.0, 0.24, 1.0, 0.03]}
    )
    _fig, ax = plt.subplots()
    plots.retention_plot(curves_by_group(fits, periods=7, group="plan"), km=km, group="plan", ax=ax)
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries == ["geometric: Kaplan-Meier (sBG not usable)", "regular: sBG", "regular: Kaplan-Meier"]
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside the data, on the right
    assert "months" in ax.get_xlabel() and ax.get_title()
