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


def _pair_blocks(t: np.ndarray, d: np.ndarray, r: np.ndarray):
    """Blocks of events ``i`` with their rows of concordance (1, 1/2 or 0) and comparability (1 or 0) to every row."""
    events = np.flatnonzero(d)
    block = max(1, _CELLS // max(t.size, 1))
    for start in range(0, events.size, block):
        i = events[start : start + block]
        ti, ri = t[i][:, None], r[i][:, None]
        pair = (t[None, :] > ti) | ((t[None, :] == ti) & ~d[None, :])
        score = pair * ((r[None, :] < ri) + 0.5 * (r[None, :] == ri))
        yield i, score, pair.astype("float64")


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
    concordant, comparable = 0.0, 0.0
    for _, score, pair in _pair_blocks(*_inputs(time, event, risk)):
        concordant += float(score.sum())
        comparable += float(pair.sum())
    return concordant, int(comparable)


def _bootstrap_c(t: np.ndarray, d: np.ndarray, r: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """C of each bootstrap resample, from the pair blocks computed once.

    A resample drawing row k ``w_k`` times counts the pair (i, j) ``w_i w_j``
    times (a row is never comparable with itself nor with its copies: both
    events at one time), so its C is ``w' K w / w' M w`` for the concordance
    and comparability matrices K and M.
    """
    n = t.size
    draws = np.concatenate(list(bootstrap_samples(n, n_boot, seed)))
    weights = np.bincount((draws + n * np.arange(n_boot)[:, None]).ravel(), minlength=n_boot * n)
    weights = weights.reshape(n_boot, n).astype("float64")
    concordant, comparable = np.zeros(n_boot), np.zeros(n_boot)
    for i, score, pair in _pair_blocks(t, d, r):
        concordant += ((weights[:, i] @ score) * weights).sum(axis=1)
        comparable += ((weights[:, i] @ pair) * weights).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(comparable > 0, concordant / comparable, np.nan)


def harrell_c(
    time: Any, event: Any, risk: Any, *, level: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> Concordance:
    """Harrell's concordance index with a bootstrap percentile interval.

    ``C = concordant / comparable`` over the pairs of
    :func:`concordance_counts`. The interval resamples rows (customers) with
    replacement ``n_boot`` times (0: no interval) and takes the percentiles
    of the resampled C (computed exactly from the resampling counts, without
    recounting pairs for each resample).

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
        alpha = (1 - level) / 2
        values = _bootstrap_c(t, d, r, n_boot, seed)
        lower, upper = (float(q) for q in np.nanquantile(values, [alpha, 1 - alpha]))
    return Concordance(float(estimate), lower, upper, int(t.size), int(d.sum()), int(comparable), level)
