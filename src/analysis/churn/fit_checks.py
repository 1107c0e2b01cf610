"""What a churn regression could not use or estimate: rows left out, warnings, separated terms.

A report must not lose customers silently nor print a library's warning: the
logistic fit (:class:`analysis.churn.models.LogisticModel`) runs under
:func:`quiet_fit`, which turns every warning into a line of the result, and
records the rows it left out (:func:`left_out_rows`) and the terms whose odds
ratio cannot be estimated (:func:`separated_terms`), so that the study's
sentences can state them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

__all__ = ["FORMULA_NAMESPACE", "left_out_rows", "quiet_fit", "separated_terms", "signed_log1p"]

T = TypeVar("T")

#: A coefficient beyond this (odds ratio above e^10, about 22,000) is not an estimate but a drift to infinity.
UNSTABLE_COEFFICIENT = 10.0


def signed_log1p(values: Any) -> Any:
    """``sign(v) * log(1 + |v|)``: ``log1p`` for ``v >= 0``, defined for negative values too.

    A customer whose returns exceed their purchases has a negative net value;
    ``log1p`` of it is NaN (the customer would leave the model), this keeps
    them at a negative log value.

    Examples
    --------
    >>> [round(float(x), 4) for x in signed_log1p(np.array([-9.0, 0.0, 9.0]))]
    [-2.3026, 0.0, 2.3026]
    """
    return np.sign(values) * np.log1p(np.abs(values))


#: The names a churn formula may call (the formula does not see the caller's variables).
FORMULA_NAMESPACE = {"np": np, "signed_log1p": signed_log1p}


def quiet_fit(fit: Callable[[], T]) -> tuple[T, list[str]]:
    """Run ``fit()`` with every warning caught: its result and the distinct warnings, as ``"Category: message"``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit()
    messages = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught))
    return result, messages


def left_out_rows(
    frame: pd.DataFrame, used: pd.Index, columns: Sequence[str], id_col: str = "customer_id"
) -> pd.DataFrame:
    """The rows of ``frame`` a model did not use, with the columns that were missing or invalid in each.

    Parameters
    ----------
    frame : DataFrame
        The data given to the model.
    used : Index
        Index labels of the rows the model used.
    columns : sequence of str
        The model's input columns (the formula's variables).
    id_col : str
        The customer id column, carried when present.

    Returns
    -------
    pandas.DataFrame
        One row per left-out row: ``id_col`` (when in ``frame``) and
        ``missing`` (the columns that were missing, comma separated; empty
        when the value was present but its transform invalid, e.g. the log of
        a negative number).
    """
    out = frame.loc[~frame.index.isin(used)]
    present = [c for c in columns if c in frame]
    missing = out[present].isna() if present else pd.DataFrame(index=out.index)
    described = [", ".join(c for c in present if missing.at[i, c]) for i in out.index]
    table = pd.DataFrame({"missing": described}, index=out.index)
    if id_col in frame:
        table.insert(0, id_col, out[id_col].to_numpy())
    return table.reset_index(drop=True)


def separated_terms(
    design: np.ndarray, outcome: np.ndarray, names: Sequence[str], coefficients: Any, standard_errors: Any
) -> pd.DataFrame:
    """The terms whose coefficient is not estimable: (quasi-)separation or an unbounded estimate.

    A 0/1 term separates the outcome when all customers with it (or all
    without it) churned, or none did: the likelihood then grows without bound
    as its coefficient does, and the fitted odds ratio (e.g. 9e8) is where the
    optimiser stopped, not an estimate. A term is also flagged when its
    coefficient exceeds :data:`UNSTABLE_COEFFICIENT` in absolute value or its
    standard error is not finite.

    Returns
    -------
    pandas.DataFrame
        One row per flagged term: ``term``, ``customers_with`` and
        ``churners_with`` (for a 0/1 term; else NaN), ``reason``.
    """
    x, y = np.asarray(design, dtype="float64"), np.asarray(outcome, dtype="float64")
    coefficients = np.asarray(coefficients, dtype="float64")
    standard_errors = np.asarray(standard_errors, dtype="float64")
    rows = []
    for j, name in enumerate(names):
        if name == "Intercept":
            continue
        column = x[:, j]
        binary = bool(np.isin(column, [0.0, 1.0]).all())
        with_it = column == 1
        reason = ""
        if binary and with_it.any() and (~with_it).any():
            for side, label in ((with_it, "with it"), (~with_it, "without it")):
                if y[side].min() == y[side].max():
                    reason = f"all customers {label} {'churned' if y[side][0] == 1 else 'stayed'} (separation)"
                    break
        if not reason and (abs(coefficients[j]) > UNSTABLE_COEFFICIENT or not np.isfinite(standard_errors[j])):
            reason = "the estimate drifts without bound (unstable)"
        if reason:
            rows.append(
                {
                    "term": name,
                    "customers_with": int(with_it.sum()) if binary else np.nan,
                    "churners_with": int(y[with_it].sum()) if binary else np.nan,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows, columns=["term", "customers_with", "churners_with", "reason"])
