"""What every figure shares: a fresh axes of a given size, the y = x reference line, the finishing touches."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

__all__ = ["diagonal", "finish_axes", "interval_errors", "new_axes", "nothing_to_show"]


def new_axes(ax: Axes | None, size: tuple[float, float] = (7, 4.5)) -> Axes:
    """``ax``, or the axes of a new figure of ``size`` inches when it is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def diagonal(ax: Axes, label: str, top: float = 1.0) -> None:
    """The grey dashed line y = x from 0 to ``top``: no concentration, perfect calibration or fit, random order."""
    ax.plot([0, top], [0, top], color="grey", linestyle="--", label=label)


def finish_axes(
    ax: Axes, *, percent: str = "", shares: bool = False, legend: str | None = None, **settings: Any
) -> Axes:
    """Percent ticks on the axes named in ``percent`` (``"x"``, ``"y"``, ``"xy"``), ``ax.set(**settings)``, a legend.

    ``shares`` (both axes are shares of a whole) stands for ``percent="xy"``,
    ``xlim=(0, 1)`` and ``ylim=(0, 1.02)`` (room for a line at 100%).
    ``legend`` is the legend's location (none when None). Returns ``ax``.
    """
    if shares:
        percent, settings = "xy", {"xlim": (0, 1), "ylim": (0, 1.02), **settings}
    if "x" in percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1))
    if "y" in percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1))
    ax.set(**settings)
    if legend is not None:
        ax.legend(loc=legend)
    return ax


def interval_errors(estimate: Any, lower: Any, upper: Any) -> np.ndarray:
    """Error-bar lengths ``[estimate - lower, upper - estimate]`` (2 x n) of an interval around each estimate.

    A missing or infinite bound draws no bar on its side (length 0), and a
    bound a rounding error past its estimate (a rate of 0 or 1 with its
    Wilson bound) is clipped to 0, so a valid table never makes matplotlib
    refuse negative error bars.
    """
    estimate = np.asarray(estimate, dtype=float)
    errors = np.vstack([estimate - np.asarray(lower, dtype=float), np.asarray(upper, dtype=float) - estimate])
    return np.clip(np.where(np.isfinite(errors), errors, 0.0), 0.0, None)


def nothing_to_show(ax: Axes, message: str, **settings: Any) -> Axes:
    """Axes that say ``message`` in their middle (an empty table is valid data), with titles and labels set."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set(**settings)
    return ax
