"""Customers whose history may start before the data (left-censored), from the customer summary.

A log cut at a date (an export "since 2010-12-01") shows customers who were
already buying as if they were new: their first purchase *in the data* is not
their first purchase. Their tenure is unknown (at least the observed one), so
rules built on tenure (a provisional grade for young customers, the
``tenure_days`` churn signal, a "new customer" segment) mislabel them.

The rule (:func:`censoring_cutoff`)
-----------------------------------
A customer already buying when the data starts shows up at their next
purchase. With a steady purchase rate (a Poisson process, the BTYD models'
assumption), the wait is exponential with mean the customer's gap between
purchases, so by ``N`` days into the data a share ``1 - exp(-N / gap)`` of
such customers have shown up. ``N`` is chosen so that, averaged over the
repeat customers' own gaps (first to last purchase over repeat purchases),
``share`` (0.9) of them would have shown up: customers first seen in those
``N`` days may be old customers. Repeat customers buy more often than the
rest, so ``N`` errs short (slow old customers first seen later stay "new");
``N`` is at most half the history.

A data set that starts with its customers' first purchases (a cohort, as
CDNOW's customers all first bought in the first quarter of 1997) has no
first purchase in the second half of its history: then nobody is
left-censored. A known acquisition date (the customers table's
``acquisition_date``) decides instead of the rule: those customers are not
flagged (their tenure is known).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from analysis.checks import check_date, require_columns
from analysis.errors import ParameterError

__all__ = ["CENSORING_SHARE", "censoring_cutoff", "flag_left_censored"]

#: Share of the customers already buying at the data's start who would have shown up by the cut-off.
CENSORING_SHARE = 0.9


def censoring_cutoff(
    summary: pd.DataFrame,
    first_day: str | pd.Timestamp,
    last_day: str | pd.Timestamp,
    *,
    share: float = CENSORING_SHARE,
) -> tuple[pd.Timestamp, str]:
    """The date before which a first purchase may belong to a customer older than the data, with its rule.

    Parameters
    ----------
    summary : DataFrame
        Customer summary in days (:func:`analysis.engines.summaries.customer_summary`
        at ``last_day``): ``first_purchase``, ``frequency``, ``recency``.
    first_day, last_day : date
        The first and last day of the data.
    share : float
        Share of the customers already buying at ``first_day`` who would have
        bought by the cut-off (in (0, 1)).

    Returns
    -------
    (Timestamp, str)
        The cut-off (customers whose first purchase is *before* it are
        left-censored; ``first_day`` itself means nobody) and the rule that
        chose it, in words.

    Examples
    --------
    >>> s = pd.DataFrame({"first_purchase": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-09-01"]),
    ...                   "frequency": [4, 2, 0], "recency": [120.0, 60.0, 0.0]})
    >>> censoring_cutoff(s, "2024-01-01", "2024-12-31")[0].date()  # gaps of 30 days: 30 ln 10 = 69.1 -> 70 days
    datetime.date(2024, 3, 11)
    """
    require_columns(summary, ["first_purchase", "frequency", "recency"], "censoring_cutoff", table="summary")
    if not 0 < share < 1:
        raise ParameterError("share", share, "a share between 0 and 1")
    first = check_date(first_day, "first_day").normalize()
    last = check_date(last_day, "last_day").normalize()
    days = (last - first).days + 1
    middle = first + pd.Timedelta(days=days // 2)
    if not (summary["first_purchase"] >= middle).any():
        return first, (
            "nobody: no customer's first purchase falls in the second half of the history, so the data starts with "
            "its customers' first purchases (a cohort)"
        )
    repeat = summary["frequency"] > 0
    gaps = (summary.loc[repeat, "recency"] / summary.loc[repeat, "frequency"]).to_numpy(dtype=float)
    gaps = gaps[gaps > 0]
    if not len(gaps):
        return first, "nobody: no repeat customer, so no purchase rate to judge by"
    cap = days // 2

    def unseen(n: float) -> float:
        return float(np.mean(np.exp(-n / gaps))) - (1 - share)

    n = cap if unseen(cap) > 0 else math.ceil(brentq(unseen, 0.0, float(cap)))
    rule = (
        f"first purchase in the first {n} days of data: by then {share:.0%} of customers already buying at the "
        "start would have bought again (repeat customers' own purchase rates, Poisson)"
        + (", capped at half the history" if n == cap else "")
    )
    return first + pd.Timedelta(days=n), rule


def flag_left_censored(summary: pd.DataFrame, until: str | pd.Timestamp) -> pd.DataFrame:
    """The summary with a ``left_censored`` column (a new frame).

    Parameters
    ----------
    summary : DataFrame
        Customer summary with ``first_purchase``; with ``dealing_since``
        (:func:`analysis.grading.b2b.b2b_inputs`), customers whose tenure
        counts from a known ``"acquisition_date"`` are never flagged.
    until : date
        The cut-off of :func:`censoring_cutoff` (or a date the user gives).

    Returns
    -------
    pandas.DataFrame
        ``summary`` with ``left_censored`` (bool): the first purchase is
        before ``until`` and no acquisition date is known.
    """
    require_columns(summary, ["first_purchase"], "flag_left_censored", table="summary")
    cutoff = check_date(until, "left_censored_until").normalize()
    flagged = summary["first_purchase"] < cutoff
    if "dealing_since" in summary:
        flagged &= summary["dealing_since"] != "acquisition_date"
    return summary.assign(left_censored=flagged.fillna(False).astype(bool).to_numpy())
