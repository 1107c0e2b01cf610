"""What every figure shares: a fresh axes of a given size."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

__all__ = ["new_axes"]


def new_axes(ax: Axes | None, size: tuple[float, float] = (7, 4.5)) -> Axes:
    """``ax``, or the axes of a new figure of ``size`` inches when it is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax
