"""Figures of study 1: Pareto chart, Lorenz curves, cut-off sweeps, migration heatmaps, future value by grade."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from analysis.plots.common import diagonal, finish_axes, interval_errors, new_axes, nothing_to_show

__all__ = [
    "contact_policy_plot",
    "cutoff_sweep_plot",
    "future_value_plot",
    "lorenz_plot",
    "migration_heatmap",
    "pareto_chart",
]


def pareto_chart(
    pareto: pd.DataFrame, *, buckets: int = 20, value_label: str = "value", ax: Axes | None = None
) -> Axes:
    """Pareto chart: value share of each customer bucket (bars) and cumulative share (line).

    Parameters
    ----------
    pareto : DataFrame
        Output of :func:`analysis.grading.concentration.pareto_curve`.
    buckets : int
        Number of equal-size customer buckets (20: 5% of customers each).
    value_label : str
        What the value is, for the axis label.
    """
    ax = new_axes(ax)
    bucket = np.minimum((pareto["share_of_customers"] * buckets - 1e-9).astype(int), buckets - 1)
    shares = pareto.groupby(bucket)["value"].sum() / pareto["value"].sum()
    width = 1 / buckets
    centers = (shares.index + 0.5) * width
    ax.bar(
        centers,
        shares.to_numpy(),
        width=width * 0.9,
        color=sns.color_palette()[0],
        label="share of value in bucket",
    )
    ax.plot(
        pareto["share_of_customers"],
        pareto["share_of_value"],
        color=sns.color_palette()[3],
        label="cumulative share of value",
    )
    ax.axvline(0.2, color="grey", linestyle=":", linewidth=1)
    at_20 = np.interp(0.2, pareto["share_of_customers"], pareto["share_of_value"])
    ax.plot([0.2], [at_20], marker="o", color="black")
    ax.annotate(f"top 20% hold {at_20:.0%}", (0.2, at_20), xytext=(8, -14), textcoords="offset points")
    return finish_axes(
        ax,
        shares=True,
        legend="center right",
        xlabel="customers, best first (share of customers)",
        ylabel=f"share of {value_label}",
        title=f"Pareto chart of customer {value_label}",
    )


def lorenz_plot(
    lorenz: pd.DataFrame,
    *,
    gini: float | None = None,
    value_label: str = "value",
    ax: Axes | None = None,
) -> Axes:
    """Lorenz curve against the line of equality.

    Parameters
    ----------
    lorenz : DataFrame
        Output of :func:`analysis.grading.concentration.lorenz_curve`.
    gini : float, optional
        Shown in the legend.
    """
    ax = new_axes(ax, (5, 5))
    label = "Lorenz curve" + (f" (Gini {gini:.2f})" if gini is not None else "")
    ax.plot(lorenz["share_of_customers"], lorenz["share_of_value"], label=label)
    diagonal(ax, "perfect equality")
    ax.fill_between(lorenz["share_of_customers"], lorenz["share_of_value"], lorenz["share_of_customers"], alpha=0.15)
    return finish_axes(
        ax,
        percent="xy",
        legend="upper left",
        xlim=(0, 1),
        ylim=(0, 1),
        aspect="equal",
        xlabel="customers, lowest value first (cumulative share)",
        ylabel=f"cumulative share of {value_label}",
        title=f"Lorenz curve of customer {value_label}",
    )


def cutoff_sweep_plot(sweep: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """What each A cut-off buys: share of value held by A against A's share of customers.

    Parameters
    ----------
    sweep : DataFrame
        Output of :func:`analysis.grading.grades.cutoff_sweep`; each point is one cut-off.
    """
    ax = new_axes(ax)
    ax.plot(sweep["share_of_customers"], sweep["share_of_value"], marker=".", label="A at each cut-off")
    diagonal(ax, "no concentration")
    bend = sweep[sweep["bend"]]
    if not bend.empty:
        row = bend.iloc[0]
        ax.plot([row["share_of_customers"]], [row["share_of_value"]], "o", color="black", label="bend")
        ax.annotate(
            f"bend: A = {row['share_of_customers']:.0%} of customers, {row['share_of_value']:.0%} of value",
            (row["share_of_customers"], row["share_of_value"]),
            xytext=(10, -18),
            textcoords="offset points",
        )
    return finish_axes(
        ax,
        shares=True,
        legend="lower right",
        xlabel="grade A's share of customers",
        ylabel="grade A's share of value",
        title="What moving the A cut-off buys",
    )


def migration_heatmap(probabilities: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Heatmap of grade-to-grade transition probabilities between regradings.

    Parameters
    ----------
    probabilities : DataFrame
        Row probabilities of :func:`analysis.grading.stability.migration_matrix`.
    """
    ax = new_axes(ax, (6, 4.5))
    labels = {"xlabel": "grade at the next regrading", "ylabel": "grade at this regrading"}
    title = "Grade migration between consecutive regradings"
    if probabilities.empty:
        return nothing_to_show(ax, "no regrading to compare", title=title, **labels)
    sns.heatmap(
        probabilities.astype(float),
        annot=True,
        fmt=".0%",
        cmap="Blues",
        vmin=0,
        vmax=1,
        cbar_kws={"label": "share of the row's customers", "format": PercentFormatter(1)},
        ax=ax,
        **kwargs,
    )
    ax.set(title=title, **labels)
    return ax


def future_value_plot(
    table: pd.DataFrame, *, value_label: str = "value", horizon_days: int | None = None, ax: Axes | None = None
) -> Axes:
    """Mean next-period value per grade with its confidence interval.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.grading.validity.future_value_by_grade`.
    """
    ax = new_axes(ax)
    positions = np.arange(len(table))
    means = table["mean_future_value"].to_numpy(dtype=float)
    errors = interval_errors(means, table["mean_lower"], table["mean_upper"])
    ax.bar(positions, means, color=sns.color_palette()[0], alpha=0.8)
    ax.errorbar(
        positions,
        means,
        yerr=np.nan_to_num(errors),
        fmt="none",
        color="black",
        capsize=4,
        label="95% confidence interval",
    )
    ax.set_xticks(positions, table["grade"].tolist())
    return finish_axes(
        ax,
        legend="upper right",
        xlabel="grade at the start of the backtest",
        ylabel=f"mean {value_label} per customer in the next {horizon_days} days"
        if horizon_days
        else f"mean {value_label} per customer afterwards",
        title="Do grades predict the value that follows?",
    )


def contact_policy_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Actual contacts a month per grade (mean bar, median dot) against the policy's cadence (black line).

    The contacts axis is logarithmic above 0.1 a month (linear below), as a
    daily cadence and a contact every few months differ a hundredfold.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.grading.contacts.contact_table` (its ``all``
        row is left out). Without grades (no contacts table) the axes say so.
    """
    ax = new_axes(ax)
    grades = table[table["grade"] != "all"] if len(table) else table
    settings = {"xlabel": "grade", "ylabel": "contacts per customer a month", "title": "Actual contact vs policy"}
    if grades.empty:
        ax.text(0.5, 0.5, "no contacts table in the data", ha="center", va="center", transform=ax.transAxes)
        return finish_axes(ax, **settings)
    positions = np.arange(len(grades))
    mean = grades["actual_mean"].to_numpy(dtype=float)
    ax.bar(positions, mean, color=sns.color_palette()[0], alpha=0.8, label="actual, mean")
    ax.scatter(positions, grades["actual_median"], color=sns.color_palette()[1], zorder=3, label="actual, median")
    ax.hlines(
        grades["policy_contacts_per_month"], positions - 0.4, positions + 0.4, color="black", lw=2, label="policy"
    )
    ax.set_xticks(positions, grades["grade"].tolist())
    top = np.nanmax([np.nanmax(mean), np.nanmax(grades["policy_contacts_per_month"].to_numpy(dtype=float))])
    if top > 0:  # policies and actual rates differ by orders of magnitude: a log scale, linear near 0
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(0, top * 2)
    return finish_axes(ax, legend="best", **settings)
