"""How concentrated is customer value: Lorenz curve, Gini, top-customer shares."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.stats import gini

__all__ = ["concentration_table", "lorenz_curve", "pareto_curve", "top_share"]


def _positive(values: np.ndarray | pd.Series) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    x = np.clip(x, 0, None)
    if len(x) == 0 or x.sum() <= 0:
        raise ParameterError("values", f"{len(x)} values", "values with a positive total")
    return x


def lorenz_curve(values: np.ndarray | pd.Series) -> pd.DataFrame:
    """Lorenz curve: cumulative share of value held by the poorest customers.

    Returns
    -------
    pandas.DataFrame
        ``share_of_customers`` and ``share_of_value`` from (0, 0) to (1, 1),
        customers sorted by value ascending (negative values count as 0).
    """
    x = np.sort(_positive(values))
    n = len(x)
    return pd.DataFrame(
        {
            "share_of_customers": np.arange(n + 1) / n,
            "share_of_value": np.concatenate([[0.0], np.cumsum(x) / x.sum()]),
        }
    )


def pareto_curve(values: np.ndarray | pd.Series) -> pd.DataFrame:
    """Pareto (ABC) curve: cumulative share of value held by the *best* customers.

    Returns
    -------
    pandas.DataFrame
        ``rank`` (1 = best), ``value``, ``share_of_customers`` and
        ``share_of_value`` (cumulative), customers sorted by value descending.
    """
    x = np.sort(_positive(values))[::-1]
    n = len(x)
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "value": x,
            "share_of_customers": np.arange(1, n + 1) / n,
            "share_of_value": np.cumsum(x) / x.sum(),
        }
    )


def top_share(values: np.ndarray | pd.Series, share: float) -> float:
    """Share of total value held by the top ``share`` of customers.

    The top ``ceil(share * n)`` customers by value (at least one).
    """
    if not 0 < share <= 1:
        raise ParameterError("share", share, "a share of customers in (0, 1]")
    x = np.sort(_positive(values))[::-1]
    k = max(1, int(np.ceil(round(share * len(x), 9))))
    return float(x[:k].sum() / x.sum())


def concentration_table(
    values: np.ndarray | pd.Series,
    *,
    top: Sequence[float] = (0.01, 0.05, 0.10, 0.20),
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Headline concentration figures with bootstrap intervals.

    Parameters
    ----------
    values : array-like
        Value per customer (negative counts as 0).
    top : sequence of float
        Shares of customers whose share of value is reported.
    level, n_boot, seed
        Bootstrap percentile intervals (same resamples for every measure).

    Returns
    -------
    pandas.DataFrame
        Rows ``Gini`` and ``top 1% share`` ...; columns ``measure``,
        ``estimate``, ``lower``, ``upper``.
    """
    x = _positive(values)
    estimate, lower, upper = gini(x, level=level, n_boot=n_boot, seed=seed)
    rows = [("Gini", estimate, lower, upper)]
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    n = len(x)
    boots = np.empty((n_boot, len(top)))
    chunk = max(1, 2_000_000 // n)
    ks = [max(1, int(np.ceil(round(s * n, 9)))) for s in top]
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        sample = -np.sort(-x[rng.integers(0, n, size=(size, n))], axis=1)
        cumulative = np.cumsum(sample, axis=1)
        boots[start : start + size] = cumulative[:, [k - 1 for k in ks]] / cumulative[:, [-1]]
    for j, share in enumerate(top):
        low, high = np.quantile(boots[:, j], [alpha, 1 - alpha]) if n_boot else (np.nan, np.nan)
        rows.append((f"top {share:.0%} share of value", top_share(x, share), low, high))
    return pd.DataFrame(rows, columns=["measure", "estimate", "lower", "upper"])
