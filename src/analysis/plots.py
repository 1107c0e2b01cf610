"""Figures: one function per kind, data first, ``ax=`` in, ``ax`` out.

Every function draws on the given axes (or a new figure's), sets a title and
labelled axes with units, and returns the axes. No function here computes a
statistic; they take the DataFrames the analysis modules return.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

__all__ = [
    "calibration_plot",
    "cutoff_sweep_plot",
    "future_value_plot",
    "gains_plot",
    "holdout_frequency_plot",
    "lorenz_plot",
    "migration_heatmap",
    "pareto_chart",
    "quantile_plot",
    "ratio_plot",
    "survival_plot",
    "tracking_plot",
    "value_risk_heatmap",
]


def _axes(ax: Axes | None, size: tuple[float, float] = (7, 4.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def pareto_chart(
    pareto: pd.DataFrame, *, buckets: int = 20, value_label: str = "value", ax: Axes | None = None
) -> Axes:
    """Pareto chart: value share of each customer bucket (bars) and cumulative share (line).

    Parameters
    ----------
    pareto : DataFrame
        Output of :func:`analysis.concentration.pareto_curve`.
    buckets : int
        Number of equal-size customer buckets (20: 5% of customers each).
    value_label : str
        What the value is, for the axis label.
    """
    ax = _axes(ax)
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
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel="customers, best first (share of customers)",
        ylabel=f"share of {value_label}",
        title=f"Pareto chart of customer {value_label}",
    )
    ax.legend(loc="center right")
    return ax


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
        Output of :func:`analysis.concentration.lorenz_curve`.
    gini : float, optional
        Shown in the legend.
    """
    ax = _axes(ax, (5, 5))
    label = "Lorenz curve" + (f" (Gini {gini:.2f})" if gini is not None else "")
    ax.plot(lorenz["share_of_customers"], lorenz["share_of_value"], label=label)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect equality")
    ax.fill_between(
        lorenz["share_of_customers"],
        lorenz["share_of_value"],
        lorenz["share_of_customers"],
        alpha=0.15,
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        aspect="equal",
        xlabel="customers, lowest value first (cumulative share)",
        ylabel=f"cumulative share of {value_label}",
        title=f"Lorenz curve of customer {value_label}",
    )
    ax.legend(loc="upper left")
    return ax


def cutoff_sweep_plot(sweep: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """What each A cut-off buys: share of value held by A against A's share of customers.

    Parameters
    ----------
    sweep : DataFrame
        Output of :func:`analysis.grading.cutoff_sweep`; each point is one cut-off.
    """
    ax = _axes(ax)
    ax.plot(sweep["share_of_customers"], sweep["share_of_value"], marker=".", label="A at each cut-off")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="no concentration")
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
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel="grade A's share of customers",
        ylabel="grade A's share of value",
        title="What moving the A cut-off buys",
    )
    ax.legend(loc="lower right")
    return ax


def migration_heatmap(probabilities: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Heatmap of grade-to-grade transition probabilities between regradings.

    Parameters
    ----------
    probabilities : DataFrame
        Row probabilities of :func:`analysis.stability.migration_matrix`.
    """
    ax = _axes(ax, (6, 4.5))
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
    ax.set(
        xlabel="grade at the next regrading",
        ylabel="grade at this regrading",
        title="Grade migration between consecutive regradings",
    )
    return ax


def future_value_plot(
    table: pd.DataFrame, *, value_label: str = "value", horizon_days: int | None = None, ax: Axes | None = None
) -> Axes:
    """Mean next-period value per grade with its confidence interval.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.validity.future_value_by_grade`.
    """
    ax = _axes(ax)
    positions = np.arange(len(table))
    means = table["mean_future_value"].to_numpy()
    errors = np.vstack([means - table["mean_lower"].to_numpy(), table["mean_upper"].to_numpy() - means])
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
    ax.set(
        xlabel="grade at the start of the backtest",
        ylabel=f"mean {value_label} per customer in the next {horizon_days} days"
        if horizon_days
        else f"mean {value_label} per customer afterwards",
        title="Do grades predict the value that follows?",
    )
    ax.legend(loc="upper right")
    return ax


def survival_plot(
    curves: pd.DataFrame, *, group: str | None = None, time_label: str = "time", ax: Axes | None = None
) -> Axes:
    """Kaplan-Meier curves (steps) with their 95% confidence bands, one per group.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`analysis.churn.kaplan_meier` (``time``, ``survival``,
        ``lower_95``, ``upper_95`` and the ``group`` column when grouped).
    group : str, optional
        Name of the group column.
    time_label : str
        Axis label of the time, with its unit.
    """
    ax = _axes(ax)
    parts = curves.groupby(group, observed=True, sort=True) if group else [("all customers", curves)]
    for (name, part), color in zip(parts, sns.color_palette(), strict=False):
        label = name[0] if isinstance(name, tuple) else name
        ax.step(part["time"], part["survival"], where="post", color=color, label=str(label))
        ax.fill_between(part["time"], part["lower_95"], part["upper_95"], step="post", color=color, alpha=0.15)
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(
        ylim=(0, 1.02),
        xlabel=time_label,
        ylabel="share not yet churned (Kaplan-Meier, 95% band)",
        title="Survival by group" if group else "Survival",
    )
    ax.legend(title=group, loc="lower left")
    return ax


def ratio_plot(
    table: pd.DataFrame, *, ratio: str, lower: str, upper: str, label: str = "term", ax: Axes | None = None
) -> Axes:
    """Forest plot of odds or hazard ratios with their confidence intervals (log scale).

    Parameters
    ----------
    table : DataFrame
        One row per term with the ``ratio``, ``lower`` and ``upper`` columns;
        the terms are the index, or the ``label`` column.
    ratio, lower, upper : str
        Column names of the estimate and its interval.
    """
    ax = _axes(ax, (7, 0.5 * len(table) + 1.5))
    names = table[label] if label in table.columns else table.index
    positions = np.arange(len(table))[::-1]
    estimate = table[ratio].to_numpy(dtype=float)
    errors = np.vstack([estimate - table[lower].to_numpy(dtype=float), table[upper].to_numpy(dtype=float) - estimate])
    ax.errorbar(estimate, positions, xerr=errors, fmt="o", color=sns.color_palette()[0], capsize=3, label="95% CI")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(positions, [str(n) for n in names])
    pretty = ratio.replace("_", " ")
    ax.set(
        xlabel=f"{pretty} (log scale; 1 = no effect)", ylabel=label, title=f"{pretty.capitalize()}s with 95% intervals"
    )
    ax.legend(loc="lower right")
    return ax


def calibration_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Observed churn rate against mean predicted probability, per risk bin.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.churn_models.calibration_table`.
    """
    ax = _axes(ax, (5.5, 5))
    observed = table["observed_rate"].to_numpy(dtype=float)
    errors = np.vstack(
        [
            observed - table["observed_lower_95"].to_numpy(dtype=float),
            table["observed_upper_95"].to_numpy(dtype=float) - observed,
        ]
    )
    ax.errorbar(table["mean_predicted"], observed, yerr=errors, fmt="o", capsize=3, label="bins (observed, 95% CI)")
    top = float(max(table["mean_predicted"].max(), table["observed_upper_95"].max(), 0.05)) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect calibration")
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(
        xlim=(0, top),
        ylim=(0, top),
        xlabel="mean predicted churn probability",
        ylabel="observed churn rate",
        title="Calibration by risk bin",
    )
    ax.legend(loc="upper left")
    return ax


def gains_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Cumulative gains: share of all churners found when calling the riskiest customers first.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.churn_models.gains_table`.
    """
    ax = _axes(ax, (5.5, 5))
    x = np.concatenate([[0.0], table["cumulative_share_customers"].to_numpy(dtype=float)])
    y = np.concatenate([[0.0], table["cumulative_share_churners"].to_numpy(dtype=float)])
    ax.plot(x, y, marker="o", label="model ranking")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random calls")
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel="customers called, riskiest first (share)",
        ylabel="churners reached (share of all churners)",
        title="Cumulative gains",
    )
    ax.legend(loc="lower right")
    return ax


def tracking_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Weekly cumulative repeat purchases, actual vs model, across calibration and holdout.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.value_study.tracking_table`.
    """
    ax = _axes(ax, (8, 4.5))
    ax.plot(table["date"], table["actual"], label="actual")
    ax.plot(table["date"], table["expected"], linestyle="--", label="model")
    holdout = table[table["period"] == "holdout"]
    if not holdout.empty:
        ax.axvline(holdout["date"].iloc[0], color="grey", linestyle=":", linewidth=1, label="holdout starts")
    ax.set(xlabel="week", ylabel="cumulative repeat purchases", title="Tracking: cumulative repeat purchases")
    ax.legend(loc="upper left")
    return ax


def holdout_frequency_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases by calibration frequency: actual vs model.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.value_study.holdout_by_frequency`.
    """
    ax = _axes(ax)
    ax.plot(table["frequency"], table["actual"], marker="o", label="actual")
    ax.plot(table["frequency"], table["predicted"], marker="s", linestyle="--", label="model")
    ax.set(
        xlabel="repeat purchases in the calibration period",
        ylabel="mean purchases in the holdout period",
        title="Conditional expectations: holdout purchases by calibration frequency",
    )
    ax.legend(loc="upper left")
    return ax


def quantile_plot(distribution: pd.DataFrame, *, value_label: str = "mean spend", ax: Axes | None = None) -> Axes:
    """Observed against model quantiles (a Q-Q plot of a few quantiles).

    Parameters
    ----------
    distribution : DataFrame
        ``quantile``, ``observed`` and ``model`` columns (e.g. the
        ``distribution`` of :func:`analysis.value_study.spend_checks`).
    """
    ax = _axes(ax, (5, 5))
    ax.plot(distribution["model"], distribution["observed"], "o")
    for row in distribution.itertuples():
        ax.annotate(f"{row.quantile:.0%}", (row.model, row.observed), xytext=(4, -10), textcoords="offset points")
    top = float(max(distribution["model"].max(), distribution["observed"].max())) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect fit")
    ax.set(
        xlim=(0, top),
        ylim=(0, top),
        xlabel=f"{value_label} quantile, model",
        ylabel=f"{value_label} quantile, observed",
        title=f"Observed vs model distribution of {value_label}",
    )
    ax.legend(loc="upper left")
    return ax


def value_risk_heatmap(cells: pd.DataFrame, *, value: str = "value_at_risk", ax: Axes | None = None) -> Axes:
    """Heatmap of value tier x churn-risk band (expected value at risk by default).

    Parameters
    ----------
    cells : DataFrame
        Output of :func:`analysis.value.value_risk_matrix`.
    """
    ax = _axes(ax, (6.5, 4.5))
    grid = cells.pivot_table(index="tier", columns="risk", values=value, observed=False, aggfunc="sum")
    sns.heatmap(grid, annot=True, fmt=",.0f", cmap="Reds", cbar_kws={"label": value.replace("_", " ")}, ax=ax)
    ax.set(
        xlabel="churn-risk band", ylabel="value tier", title=f"{value.replace('_', ' ').capitalize()} by tier and risk"
    )
    return ax
