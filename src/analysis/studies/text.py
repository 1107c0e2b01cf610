"""Prose helpers of the studies' sentences, written once: percentages, p-values, left-censored histories."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["censoring_text", "p_value_text", "percent"]


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


def censoring_text(flags: pd.Series, first_purchases: pd.Series, until: str, consequence: str) -> str:
    """The sentence on customers whose history may start before the data (:mod:`analysis.engines.censoring`).

    ``flags`` is the ``left_censored`` column, ``first_purchases`` the first
    purchase of the same customers, ``until`` the cut-off and
    ``consequence`` what the study does with them ("are graded on ...").

    Examples
    --------
    >>> first = pd.to_datetime(pd.Series(["2024-01-01", "2024-02-01", "2024-06-01"]))
    >>> censoring_text(first < "2024-03-01", first, "2024-03-01", "are graded on their observed value").split(":")[0]
    '2 of 3 customers (67%) first bought in the data before 2024-03-01, within 60 days of its first day'
    """
    n, total = int(np.sum(flags)), len(flags)
    if not n:
        return (
            f"No customer is left-censored: none first bought before {until}, so every history starts in the data "
            "(`left_censored_until`)."
        )
    days = (pd.Timestamp(until) - first_purchases.min()).days
    return (
        f"{n:,} of {total:,} customers ({percent(n / total)}) first bought in the data before {until}, within {days} "
        f"days of its first day: their history may start before the data (left-censored; `left_censored_until`, "
        f"rule in the table above), so their tenure is unknown and they {consequence}."
    )
