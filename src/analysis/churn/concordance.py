"""Harrell's concordance index of a risk score against (possibly censored) survival times, with a bootstrap interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.checks import check_whole_number, level_z
from analysis.errors import DataError
from analysis.stats import bootstrap_samples

__all__ = ["Concordance", "concordance_counts", "harrell_c"]

#: Comparisons held in memory at once (rows of events x all rows).
_CELLS = 2_000_000


@dataclass(frozen=True)
class Concordance:
    """Harrell's C of a risk score.

    Attributes
    ----------
    c_index : float
        Share of comparable pairs the score orders right (ties in the score
        count one half): 0.5 chance, 1 perfect.
    lower, upper : float
        Bootstrap percentile interval (NaN without resamples).
    n, events, comparable_pairs : int
        Rows scored, events among them, comparable pairs.
    level : float
        Confidence level of the interval.
    """

    c_index: float
    lower: float
    upper: float
    n: int
    events: int
    comparable_pairs: int
    level: float = 0.95


def _inputs(time: Any, event: Any, risk: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, d, r = (np.asarray(v, dtype="float64") for v in (time, event, risk))
    if not t.shape == d.shape == r.shape or t.ndim != 1:
        raise DataError(f"time, event and risk differ in length ({t.size}, {d.size}, {r.size})")
    keep = ~(np.isnan(t) | np.isnan(r))
    t, d, r = t[keep], d[keep], r[keep]
    if np.isnan(d).any() or not np.isin(d, [0, 1]).all():
        raise DataError("the event must be 0/1 without missing values", column="event")
    return t, d.astype(bool), r


def concordance_counts(time: Any, event: Any, risk: Any) -> tuple[float, int]:
    """Concordant pairs (ties in risk count one half) and comparable pairs.

    A pair is comparable when the customer with the shorter time had the
    event (churned then); at equal times, when one churned and the other was
    still a customer (censored: known to have lasted at least as long), as in
    Harrell et al. (1982). It is concordant when the one who churned first
    has the higher risk. Rows with a missing time or risk are left out.

    Parameters
    ----------
    time, event, risk : array-like
        Follow-up time, 0/1 event (1 = churned at ``time``), risk score
        (higher = expected to churn sooner, e.g. a Cox relative hazard).

    Returns
    -------
    (concordant, comparable)
    """
    t, d, r = _inputs(time, event, risk)
    events = np.flatnonzero(d)
    block = max(1, _CELLS // max(t.size, 1))
    concordant, comparable = 0.0, 0
    for start in range(0, events.size, block):
        i = events[start : start + block]
        ti, ri = t[i][:, None], r[i][:, None]
        pair = (t[None, :] > ti) | ((t[None, :] == ti) & ~d[None, :])
        comparable += int(pair.sum())
        concordant += float((pair & (r[None, :] < ri)).sum()) + 0.5 * float((pair & (r[None, :] == ri)).sum())
    return concordant, comparable


def harrell_c(
    time: Any, event: Any, risk: Any, *, level: float = 0.95, n_boot: int = 200, seed: int = 0
) -> Concordance:
    """Harrell's concordance index with a bootstrap percentile interval.

    ``C = concordant / comparable`` over the pairs of
    :func:`concordance_counts`. The interval resamples rows (customers) with
    replacement ``n_boot`` times (0: no interval) and takes the percentiles
    of the resampled C.

    Parameters
    ----------
    time, event, risk : array-like
        As for :func:`concordance_counts`.
    level : float
        Confidence level.
    n_boot : int
        Bootstrap resamples (0 for none).
    seed : int
        Seed of the resampling.

    Returns
    -------
    Concordance

    Raises
    ------
    DataError
        If no pair is comparable (no event, or every event at the longest time).

    References
    ----------
    Harrell, F. E., Califf, R. M., Pryor, D. B., Lee, K. L. & Rosati, R. A.
    (1982). Evaluating the yield of medical tests. *JAMA* 247, 2543-2546.

    Examples
    --------
    >>> round(harrell_c([1, 2, 3, 4], [1, 1, 0, 1], [4, 3, 2, 1], n_boot=0).c_index, 3)
    1.0
    """
    level_z(level)
    n_boot = check_whole_number("n_boot", n_boot, 0)
    t, d, r = _inputs(time, event, risk)
    concordant, comparable = concordance_counts(t, d, r)
    if comparable == 0:
        raise DataError("no comparable pair of customers: concordance is undefined", column="event")
    estimate = concordant / comparable
    lower = upper = np.nan
    if n_boot:
        values = []
        for block in bootstrap_samples(t.size, n_boot, seed, cells=t.size):
            for rows in block:
                c, m = concordance_counts(t[rows], d[rows], r[rows])
                values.append(c / m if m else np.nan)
        alpha = (1 - level) / 2
        lower, upper = (float(q) for q in np.nanquantile(values, [alpha, 1 - alpha]))
    return Concordance(float(estimate), lower, upper, int(t.size), int(d.sum()), int(comparable), level)
