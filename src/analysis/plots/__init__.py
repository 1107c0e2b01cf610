"""Figures: one function per kind, data first, ``ax=`` in, ``ax`` out.

Every function draws on the given axes (or a new figure's), sets a title and
labelled axes with units, and returns the axes. No function here computes a
statistic; they take the DataFrames the analysis modules return.
"""

from analysis.plots.churn import calibration_plot, gains_plot, ratio_plot, retention_plot, survival_plot
from analysis.plots.grading import (
    contact_policy_plot,
    cutoff_sweep_plot,
    future_value_plot,
    lorenz_plot,
    migration_heatmap,
    pareto_chart,
)
from analysis.plots.value import (
    holdout_frequency_plot,
    purchase_count_plot,
    quantile_plot,
    tracking_plot,
    value_risk_heatmap,
)

__all__ = [
    "calibration_plot",
    "contact_policy_plot",
    "cutoff_sweep_plot",
    "future_value_plot",
    "gains_plot",
    "holdout_frequency_plot",
    "lorenz_plot",
    "migration_heatmap",
    "pareto_chart",
    "purchase_count_plot",
    "quantile_plot",
    "ratio_plot",
    "retention_plot",
    "survival_plot",
    "tracking_plot",
    "value_risk_heatmap",
]
