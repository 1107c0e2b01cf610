"""The quota scheme's 100-point composite score: its components, their columns, the default weights."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError

__all__ = [
    "COMPONENT_SOURCES",
    "DEFAULT_SCORE_COMPONENTS",
    "SCORE_COMPONENTS",
    "composite_score",
    "score_components",
]


#: Composite-score components: summary column and direction (+1: higher is better). The B2B
#: components' columns come from :func:`analysis.grading.b2b.with_b2b_inputs`; without
#: ``years_of_dealing``, tenure is the time since the first purchase (``T``).
SCORE_COMPONENTS = {
    "value": ("trailing_value", 1),
    "frequency": ("trailing_occasions", 1),
    "margin": ("trailing_margin", 1),
    "quantity": ("trailing_quantity", 1),
    "tenure": ("years_of_dealing", 1),
    "payment_reliability": ("on_time_share", 1),
    "recency": ("time_since_last_purchase", -1),
}


#: Components used when no weights are given: those DOMAIN.md names (sales
#: scale, order quantity, margin, years of dealing, payment reliability) that
#: the data has. Recency is not among DOMAIN.md's components; it is available
#: on request.
DEFAULT_SCORE_COMPONENTS = ("value", "frequency", "margin", "quantity", "tenure", "payment_reliability")


#: Where the B2B components come from (what enables them when the data lacks them).
COMPONENT_SOURCES = {
    "quantity": "a quantity column in the transactions",
    "payment_reliability": "an invoices table with invoice_date, due_date, paid_date and amount",
    "margin": "a margin column in the transactions",
}


def score_components(summary: pd.DataFrame) -> list[str]:
    """The default components a summary can measure: :data:`DEFAULT_SCORE_COMPONENTS` with a column holding a value.

    Examples
    --------
    >>> score_components(pd.DataFrame({"trailing_value": [1.0], "T": [3.0], "on_time_share": [None]}))
    ['value', 'tenure']
    """
    data = _score_columns(summary)
    return [
        k
        for k in DEFAULT_SCORE_COMPONENTS
        if SCORE_COMPONENTS[k][0] in data and data[SCORE_COMPONENTS[k][0]].notna().any()
    ]


def _score_columns(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with the derived score columns: time since the last purchase, tenure from ``T`` if need be."""
    data = summary
    if "recency" in summary and "T" in summary:
        data = data.assign(time_since_last_purchase=summary["T"] - summary["recency"])
    if "years_of_dealing" not in summary and "T" in summary:
        data = data.assign(years_of_dealing=summary["T"])  # only the ranks matter: T's unit is irrelevant
    return data


def composite_score(
    summary: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    *,
    reference: np.ndarray | None = None,
) -> pd.Series:
    """100-point composite score for the quota scheme.

    Each component becomes its percentile among the ``reference`` customers
    (ties get the average rank; other customers are placed on the same
    scale), oriented so that higher is better, and the score is
    ``100 * sum(weight * percentile) / sum(weight)``. DOMAIN.md names the
    components (sales scale, payment reliability, margin, order quantity,
    years of dealing...) but no weights, so the default weights are equal
    and are a parameter. A customer without a value for a component (no
    invoice due in the window has no payment reliability) is scored on the
    other components: both sums run over the components the customer has.

    Parameters
    ----------
    summary : DataFrame
        Customer summary (:func:`analysis.engines.summaries.customer_summary`),
        optionally with the B2B columns of :func:`analysis.grading.b2b.with_b2b_inputs`.
    weights : mapping, optional
        ``{component: weight}`` with components ``value``
        (``trailing_value``), ``frequency`` (``trailing_occasions``),
        ``margin`` (``trailing_margin``), ``quantity``
        (``trailing_quantity``, units in the window), ``tenure``
        (``years_of_dealing``: from the acquisition date where known, else
        ``T``, the time since the first purchase), ``payment_reliability``
        (``on_time_share`` of invoices due in the window) and ``recency``
        (time since the last purchase, ``T - recency``; smaller is better).
        Default: equal weights on :data:`DEFAULT_SCORE_COMPONENTS` that the
        data has (:func:`score_components`).
    reference : boolean array, optional
        Customers whose distribution defines the percentiles (the graded
        ones); default all. Customers outside it never move anyone's score.

    Returns
    -------
    pandas.Series
        Score in [0, 100], aligned with ``summary``.
    """
    data = _score_columns(summary)
    if weights is None:
        weights = {k: 1.0 for k in score_components(summary)}
    unknown = set(weights) - set(SCORE_COMPONENTS)
    if unknown:
        raise ParameterError("score_weights", dict(weights), f"keys among {list(SCORE_COMPONENTS)}")
    if not weights or any(not (w >= 0) for w in weights.values()) or sum(weights.values()) <= 0:
        raise ParameterError("score_weights", dict(weights), "non-negative weights, some positive")
    mask = np.ones(len(data), dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
    total = np.zeros(len(data))
    weight_sum = np.zeros(len(data))
    for name, weight in weights.items():
        column, direction = SCORE_COMPONENTS[name]
        if column not in data:
            raise DataError(
                f"score component {name!r} needs column {column!r}",
                column=column,
                hint=COMPONENT_SOURCES.get(name, "Compute it with analysis.engines.summaries.customer_summary"),
            )
        values = direction * data[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        if not (known & mask).any():
            continue  # nobody in the reference has it: it ranks no one
        percentile = np.zeros(len(data))
        percentile[known] = _percentile_against(values[known], values[mask & known])
        total += weight * percentile
        weight_sum += weight * known
    score = np.divide(100 * total, weight_sum, out=np.zeros(len(data)), where=weight_sum > 0)
    return pd.Series(score, index=summary.index)


def _percentile_against(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Average-rank percentile of each value within ``reference``.

    For members of ``reference`` this equals pandas' ``rank(method="average",
    pct=True)``; other values are placed on the same scale without entering it.
    """
    if len(reference) == 0:
        return np.zeros(len(values))
    ordered = np.sort(reference)
    below = np.searchsorted(ordered, values, side="left")
    upto = np.searchsorted(ordered, values, side="right")
    return (below + (upto - below + 1) / 2) / len(ordered)
