"""Stratified hold-out splits and cross-validation folds of a churn frame, seeded, in numpy.

Both keep the churn rate of every part as close to the whole's as whole
numbers allow: each class (churners, stayers) is shuffled on its own and
dealt out, so a hold-out or fold holds its share of the churners to within one
customer. The same seed gives the same parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.checks import check_whole_number
from analysis.churn.frames import check_share
from analysis.errors import DataError

__all__ = ["stratified_folds", "stratified_holdout"]


def _classes(outcome: Any) -> np.ndarray:
    y = np.asarray(outcome, dtype="float64")
    if y.ndim != 1 or y.size == 0 or np.isnan(y).any() or not np.isin(y, [0, 1]).all():
        raise DataError("the outcome to stratify on must be 0/1 without missing values", column="outcome")
    return y.astype("int64")


def stratified_holdout(outcome: Any, *, test_share: float = 0.3, seed: int = 0) -> np.ndarray:
    """Which rows form the hold-out: a seeded random share of each class.

    Parameters
    ----------
    outcome : array-like
        0/1 outcome per row (churned or not).
    test_share : float
        Share of each class held out, in (0, 1): ``round(test_share * n_class)``
        rows of each class.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    numpy.ndarray of bool
        True for the hold-out rows, in input order.

    Raises
    ------
    DataError
        If a class would leave the fit or the hold-out without a row.

    Examples
    --------
    >>> held = stratified_holdout([0] * 70 + [1] * 30, test_share=0.3, seed=1)
    >>> int(held.sum()), int(held[70:].sum())
    (30, 9)
    """
    y = _classes(outcome)
    share = check_share("test_share", test_share, 0, 1, closed_high=False)
    if share == 0:
        raise DataError("a hold-out of share 0 holds nobody", column="test_share", hint="Give a share in (0, 1)")
    rng = np.random.default_rng(seed)
    held = np.zeros(y.size, dtype=bool)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        k = round(share * rows.size)
        if rows.size and not 0 < k < rows.size:
            raise DataError(
                f"{rows.size} rows with outcome {label} cannot be split {share:.0%} / {1 - share:.0%} with a row on "
                "each side",
                column="outcome",
            )
        held[rng.permutation(rows)[:k]] = True
    return held


def stratified_folds(outcome: Any, *, folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number (0 to ``folds - 1``) for each row, each class dealt out evenly over the folds.

    Each class is shuffled and its rows dealt to the folds in turn (the
    second class starting where the first stopped), so fold sizes and
    churner counts differ by at most one across folds (Kohavi 1995's
    stratified cross-validation).

    Parameters
    ----------
    outcome : array-like
        0/1 outcome per row.
    folds : int
        Number of folds, at least 2; each class needs at least as many rows.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    numpy.ndarray of int
        The fold of each row, in input order: every row in exactly one fold.

    References
    ----------
    Kohavi, R. (1995). A study of cross-validation and bootstrap for accuracy
    estimation and model selection. *IJCAI* 14, 1137-1145.
    """
    y = _classes(outcome)
    k = check_whole_number("folds", folds, 2)
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype="int64")
    start = 0
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        if 0 < rows.size < k:
            raise DataError(f"{rows.size} rows with outcome {label} cannot fill {k} folds", hint="Lower folds")
        fold[rng.permutation(rows)] = (start + np.arange(rows.size)) % k
        start = (start + rows.size) % k  # the next class starts where this one stopped: sizes stay even
    return fold
