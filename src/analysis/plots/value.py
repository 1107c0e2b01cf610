"""Figures of study 3: tracking, holdout purchases by frequency, customers by purchase count, spend, value x risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from analysis.errors import check_option
from analysis.plots.common import diagonal, finish_axes, new_axes, nothing_to_show

__all__ = ["holdout_frequency_plot", "purchase_count_plot", "quantile_plot", "tracking_plot", "value_risk_heatmap"]


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


def purchase_count_plot(table: pd.DataFrame, *, period: str = "holdout", ax: Axes | None = None) -> Axes:
    """Customers by number of purchases: actual vs model, side by side bars.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.studies.value_counts.holdout_count_table`
        (``period="holdout"``) or :func:`analysis.studies.value_counts.calibration_count_table`
        (``period="calibration"``).
    period : str
        Which period the table counts (axis label and title).
    """
    counted = check_option("period", period, ("holdout", "calibration"))
    what = "purchases in the holdout period" if counted == "holdout" else "repeat purchases in the calibration period"
    ax = new_axes(ax, (8, 4.5))
    position = np.arange(len(table))
    ax.bar(position - 0.2, table["actual"], width=0.4, label="actual")
    ax.bar(position + 0.2, table["expected"], width=0.4, label="model", hatch="//", alpha=0.8)
    ax.set_xticks(position, table["purchases"])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # outside the bars
    return finish_axes(
        ax,
        xlabel=f"number of {what}",
        ylabel="customers",
        title=f"Customers by number of {what}: actual vs model",
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
