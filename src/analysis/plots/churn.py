"""Figures of study 2: survival curves, ratio (forest) plots, calibration and gains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from analysis.plots.common import diagonal, finish_axes, interval_errors, new_axes, nothing_to_show

__all__ = ["calibration_plot", "gains_plot", "ratio_plot", "retention_plot", "survival_plot"]


def survival_plot(
    curves: pd.DataFrame, *, group: str | None = None, time_label: str = "time", ax: Axes | None = None
) -> Axes:
    """Kaplan-Meier curves (steps) with their 95% confidence bands, one per group.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`analysis.churn.survival.kaplan_meier` (``time``, ``survival``,
        ``lower_95``, ``upper_95`` and the ``group`` column when grouped).
    group : str, optional
        Name of the group column.
    time_label : str
        Axis label of the time, with its unit.
    """
    ax = new_axes(ax)
    labels = {"xlabel": time_label, "ylabel": "share not yet churned (Kaplan-Meier, 95% band)"}
    if curves.empty:
        return nothing_to_show(ax, "no customers to follow", title="Survival", **labels)
    parts = curves.groupby(group, observed=True, sort=True) if group else [("all customers", curves)]
    for (name, part), color in zip(parts, sns.color_palette(), strict=False):
        label = name[0] if isinstance(name, tuple) else name
        ax.step(part["time"], part["survival"], where="post", color=color, label=str(label))
        ax.fill_between(part["time"], part["lower_95"], part["upper_95"], step="post", color=color, alpha=0.15)
    ax.legend(title=group, loc="lower left")
    return finish_axes(
        ax,
        percent="y",
        ylim=(0, 1.02),
        xlabel=time_label,
        ylabel="share not yet churned (Kaplan-Meier, 95% band)",
        title="Survival by group" if group else "Survival",
    )


def retention_plot(
    curves: pd.DataFrame,
    *,
    km: pd.DataFrame | None = None,
    group: str | None = None,
    time_label: str = "tenure (months)",
    ax: Axes | None = None,
) -> Axes:
    """Retention curves of the sBG model with their 95% bands, beside the Kaplan-Meier curves, one colour per group.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`analysis.churn.retention.curves_by_group` (``period``,
        ``survival``, ``survival_lower_95``, ``survival_upper_95``, ``usable``
        and the ``group`` column) or of ``ShiftedBetaGeometric.retention_curve``
        (one curve). A group whose fit is not usable gets no sBG curve; its
        legend entry says so.
    km : DataFrame, optional
        Output of :func:`analysis.churn.survival.kaplan_meier` with the same ``group`` column, drawn as steps.
    group : str, optional
        Name of the group column.
    time_label : str
        Axis label of the period, with its unit.
    """
    ax = new_axes(ax, (8.5, 4.5))
    labels = {"xlabel": time_label, "ylabel": "share still subscribed"}
    title = "Retention" + (f" by {group}" if group else "") + ": sBG (95% band) and Kaplan-Meier"
    if curves.empty:
        return nothing_to_show(ax, "no retention curve to show", title=title, **labels)
    names = sorted(curves[group].unique()) if group else [None]
    for name, color in zip(names, sns.color_palette(n_colors=max(len(names), 1)), strict=False):
        part = curves if name is None else curves.loc[curves[group] == name]
        usable = bool(part["usable"].all()) if "usable" in part else True
        label = "all customers" if name is None else str(name)
        if usable:
            ax.plot(part["period"], part["survival"], color=color, label=f"{label}: sBG")
            ax.fill_between(
                part["period"], part["survival_lower_95"], part["survival_upper_95"], color=color, alpha=0.2
            )
        if km is not None:
            steps = km if name is None else km.loc[km[group] == name]
            ax.step(
                steps["time"],
                steps["survival"],
                where="post",
                color=color,
                linestyle="--",
                linewidth=1,
                label=f"{label}: Kaplan-Meier" + ("" if usable else " (sBG not usable)"),
            )
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize="small")
    return finish_axes(ax, percent="y", ylim=(0, 1.02), title=title, **labels)


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
    ax = new_axes(ax, (7, 0.5 * len(table) + 1.5))
    pretty = ratio.replace("_", " ")
    settings = {"xlabel": f"{pretty} (log scale; 1 = no effect)", "ylabel": label}
    shown = np.isfinite(table[ratio].to_numpy(dtype=float)) & (table[ratio].to_numpy(dtype=float) > 0)
    if not shown.any():
        return nothing_to_show(ax, "no ratio to show", title=f"{pretty.capitalize()}s with 95% intervals", **settings)
    table = table[shown]
    names = table[label] if label in table.columns else table.index
    positions = np.arange(len(table))[::-1]
    estimate = table[ratio].to_numpy(dtype=float)
    bounds = table[[lower, upper]].to_numpy(dtype=float)
    bounds = np.where((bounds > 0) & np.isfinite(bounds), bounds, np.nan)  # an unbounded arm draws no bar
    errors = interval_errors(estimate, bounds[:, 0], bounds[:, 1])
    ax.errorbar(estimate, positions, xerr=errors, fmt="o", color=sns.color_palette()[0], capsize=3, label="95% CI")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(positions, [str(n) for n in names])
    return finish_axes(ax, legend="lower right", title=f"{pretty.capitalize()}s with 95% intervals", **settings)


def calibration_plot(table: pd.DataFrame, *, title: str = "Calibration by risk bin", ax: Axes | None = None) -> Axes:
    """Observed churn rate against mean predicted probability, per risk bin.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.churn.validation.calibration_table`.
    title : str
        The figure's title (e.g. which model and which customers were scored).
    """
    ax = new_axes(ax, (5.5, 5))
    labels = {"xlabel": "mean predicted churn probability", "ylabel": "observed churn rate"}
    if table.empty:
        return nothing_to_show(ax, "no scored customers", title=title, **labels)
    observed = table["observed_rate"].to_numpy(dtype=float)
    errors = interval_errors(observed, table["observed_lower_95"], table["observed_upper_95"])
    ax.errorbar(table["mean_predicted"], observed, yerr=errors, fmt="o", capsize=3, label="bins (observed, 95% CI)")
    top = float(np.nanmax([table["mean_predicted"].max(), table["observed_upper_95"].max(), 0.05])) * 1.05
    diagonal(ax, "perfect calibration", top)
    return finish_axes(
        ax,
        percent="xy",
        legend="upper left",
        xlim=(0, top),
        ylim=(0, top),
        title=title,
        **labels,
    )


def gains_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Cumulative gains: share of all churners found when calling the riskiest customers first.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`analysis.churn.validation.gains_table`.
    """
    ax = new_axes(ax, (5.5, 5))
    x = np.concatenate([[0.0], table["cumulative_share_customers"].to_numpy(dtype=float)])
    y = np.concatenate([[0.0], table["cumulative_share_churners"].to_numpy(dtype=float)])
    ax.plot(x, y, marker="o", label="model ranking")
    diagonal(ax, "random calls")
    return finish_axes(
        ax,
        shares=True,
        legend="lower right",
        xlabel="customers called, riskiest first (share)",
        ylabel="churners reached (share of all churners)",
        title="Cumulative gains",
    )
