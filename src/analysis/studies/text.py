"""Prose helpers of the studies' sentences, written once: percentages and p-values."""

from __future__ import annotations

__all__ = ["p_value_text", "percent"]


def percent(x: float) -> str:
    """A share as a whole percentage, with one decimal below 1% (so a small share never reads "0%").

    Examples
    --------
    >>> percent(0.3071), percent(0.004)
    ('31%', '0.4%')
    """
    return f"{x:.1%}" if 0 < x < 0.01 else f"{x:.0%}"


def p_value_text(p: float) -> str:
    """A p-value as text; underflow to 0 is shown as a bound, never as 'p = 0'.

    Examples
    --------
    >>> p_value_text(0.0123), p_value_text(0.0)
    ('p = 0.012', 'p < 1e-300')
    """
    return "p < 1e-300" if p < 1e-300 else f"p = {p:.2g}"
