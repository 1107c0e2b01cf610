"""Tests of analysis.churn.holdout: stratified, disjoint, complete and reproducible splits."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.churn.holdout import stratified_folds, stratified_holdout
from analysis.errors import DataError, ParameterError


@pytest.mark.parametrize(("n", "rate", "share", "seed"), [(1000, 0.27, 0.3, 0), (157, 0.1, 0.25, 4), (40, 0.5, 0.5, 9)])
def test_holdout_holds_its_share_of_each_class(n, rate, share, seed):
    y = (np.random.default_rng(seed).random(n) < rate).astype(int)
    held = stratified_holdout(y, test_share=share, seed=seed)
    assert held.dtype == bool and held.shape == y.shape
    for label in (0, 1):
        assert held[y == label].sum() == round(share * (y == label).sum())  # its share of the class, rounded
    again = stratified_holdout(y, test_share=share, seed=seed)
    np.testing.assert_array_equal(held, again)  # same seed, same split
    assert not np.array_equal(held, stratified_holdout(y, test_share=share, seed=seed + 1))


def test_holdout_is_random_within_each_class():
    # Over many seeds each row is held out about test_share of the time: no row is favoured.
    y = np.repeat([0, 1], [60, 40])
    times = sum(stratified_holdout(y, test_share=0.3, seed=s).astype(int) for s in range(400))
    assert times.min() > 0.3 * 400 - 5 * np.sqrt(400 * 0.3 * 0.7)
    assert times.max() < 0.3 * 400 + 5 * np.sqrt(400 * 0.3 * 0.7)


@pytest.mark.parametrize(("n", "k", "seed"), [(1000, 5, 0), (101, 3, 7), (57, 10, 2)])
def test_folds_are_stratified_disjoint_and_cover_every_row_once(n, k, seed):
    y = (np.random.default_rng(seed).random(n) < 0.3).astype(int)
    fold = stratified_folds(y, folds=k, seed=seed)
    assert fold.shape == y.shape and set(fold) == set(range(k))  # one fold per row: disjoint and complete
    sizes = np.bincount(fold, minlength=k)
    churners = np.bincount(fold, weights=y, minlength=k)
    assert sizes.sum() == n and sizes.max() - sizes.min() <= 1
    assert churners.sum() == y.sum() and churners.max() - churners.min() <= 1
    np.testing.assert_array_equal(fold, stratified_folds(y, folds=k, seed=seed))


def test_bad_inputs_are_refused():
    with pytest.raises(DataError, match="0/1"):
        stratified_holdout([0, 1, 2])
    with pytest.raises(DataError, match="0/1"):
        stratified_folds([0, 1, np.nan])
    with pytest.raises(ParameterError, match="test_share"):
        stratified_holdout([0, 1] * 5, test_share=1.0)
    with pytest.raises(DataError, match="share 0"):
        stratified_holdout([0, 1] * 5, test_share=0.0)
    with pytest.raises(DataError, match="a row on each side"):
        stratified_holdout([0] * 50 + [1], test_share=0.3)
    with pytest.raises(ParameterError, match="folds"):
        stratified_folds([0, 1] * 5, folds=1)
    with pytest.raises(DataError, match="cannot fill 5 folds"):
        stratified_folds([0] * 50 + [1] * 3, folds=5)
