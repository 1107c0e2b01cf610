"""Figures of study 3: weekly tracking, holdout purchases by frequency, spend quantiles, the value x risk heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from analysis.plots.common import diagonal, finish_axes, new_axes, nothing_to_show

__all__ = ["holdout_frequency_plot", "quantile_plot", "tracking_plot", "value_risk_heatmap"]


def tracking_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Weekly cumulative repeat purchases, actual vs model, across calibration and holdout.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.studies.value.tracking_table`.
    """
    ax = new_axes(ax, (8, 4.5))
    ax.plot(table["date"], table["actual"], label="actual")
    ax.plot(table["date"], table["expected"], linestyle="--", label="model")
    holdout = table[table["period"] == "holdout"]
    if not holdout.empty:
        ax.axvline(holdout["date"].iloc[0], color="grey", linestyle=":", linewidth=1, label="holdout starts")
    return finish_axes(
        ax,
        legend="upper left",
        xlabel="week",
        ylabel="cumulative repeat purchases",
        title="Tracking: cumulative repeat purchases",
    )


def holdout_frequency_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases by calibration frequency: actual vs model.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.studies.value.holdout_by_frequency`.
    """
    ax = new_axes(ax)
    ax.plot(table["frequency"], table["actual"], marker="o", label="actual")
    ax.plot(table["frequency"], table["predicted"], marker="s", linestyle="--", label="model")
    return finish_axes(
        ax,
        legend="upper left",
        xlabel="repeat purchases in the calibration period",
        ylabel="mean purchases in the holdout period",
        title="Conditional expectations: holdout purchases by calibration frequency",
    )


def quantile_plot(distribution: pd.DataFrame, *, value_label: str = "mean spend", ax: Axes | None = None) -> Axes:
    """Observed against model quantiles (a Q-Q plot of a few quantiles).

    Parameters
    ----------
    distribution : DataFrame
        ``quantile``, ``observed`` and ``model`` columns (e.g. the
        ``distribution`` of :func:`analysis.studies.value.spend_checks`).
    """
    ax = new_axes(ax, (5, 5))
    labels = {"xlabel": f"{value_label} quantile, model", "ylabel": f"{value_label} quantile, observed"}
    title = f"Observed vs model distribution of {value_label}"
    if distribution.empty:
        return nothing_to_show(ax, "no quantiles to compare", title=title, **labels)
    ax.plot(distribution["model"], distribution["observed"], "o")
    for row in distribution.itertuples():
        ax.annotate(f"{row.quantile:.0%}", (row.model, row.observed), xytext=(4, -10), textcoords="offset points")
    top = float(np.nanmax([distribution["model"].max(), distribution["observed"].max(), 0.0])) * 1.05 or 1.0
    diagonal(ax, "perfect fit", top)
    return finish_axes(ax, legend="upper left", xlim=(0, top), ylim=(0, top), title=title, **labels)


def value_risk_heatmap(cells: pd.DataFrame, *, value: str = "value_at_risk", ax: Axes | None = None) -> Axes:
    """Heatmap of value tier x churn-risk band (expected value at risk by default).

    Parameters
    ----------
    cells : DataFrame
        Output of :func:`analysis.value.tiers.value_risk_matrix`.
    """
    ax = new_axes(ax, (6.5, 4.5))
    title = f"{value.replace('_', ' ').capitalize()} by tier and risk"
    labels = {"xlabel": "churn-risk band", "ylabel": "value tier"}
    grid = cells.pivot_table(index="tier", columns="risk", values=value, observed=False, aggfunc="sum")
    if grid.empty:
        return nothing_to_show(ax, "no customers in the grid", title=title, **labels)
    sns.heatmap(grid, annot=True, fmt=",.0f", cmap="Reds", cbar_kws={"label": value.replace("_", " ")}, ax=ax)
    ax.set(title=title, **labels)
    return ax
