"""The package's shared argument checks: dates, columns, rows, whole numbers, increasing cut-offs, confidence levels.

Each raises the package's own error (:class:`~analysis.errors.ParameterError`
for a bad argument, :class:`~analysis.errors.DataError` for a table that lacks
what a step needs) with a message naming the argument or column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.errors import DataError, ParameterError, first_examples

__all__ = [
    "check_date",
    "check_day",
    "check_increasing",
    "check_rows",
    "check_whole_number",
    "level_name",
    "level_z",
    "require_columns",
]


def check_date(value: Any, parameter: str) -> pd.Timestamp:
    """``value`` as a time-zone-naive :class:`pandas.Timestamp`, or a :class:`ParameterError` naming ``parameter``.

    Examples
    --------
    >>> check_date("1998-06-30", "as_of")
    Timestamp('1998-06-30 00:00:00')
    >>> check_date("soon", "as_of")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'as_of' = 'soon': expected a date such as '1997-09-30'
    """
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(parameter, value, "a date such as '1997-09-30'") from exc
    if pd.isna(stamp):
        raise ParameterError(parameter, value, "a date such as '1997-09-30'")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def check_day(parameter: str, value: Any) -> pd.Timestamp:
    """``value`` as a day (midnight, nanoseconds), or a :class:`ParameterError` naming ``parameter``.

    Examples
    --------
    >>> check_day("as_of", "2024-06-30 17:45")
    Timestamp('2024-06-30 00:00:00')
    """
    return check_date(value, parameter).normalize().as_unit("ns")


def require_columns(
    frame: Any, columns: Sequence[str], who: str, *, table: str = "<DataFrame>", hint: str | None = None
) -> None:
    """Raise :class:`DataError` unless ``frame`` is a DataFrame holding every one of ``columns``.

    ``who`` names the step that needs the columns, ``table`` the table in the
    message; ``hint`` says where the columns come from (default: the columns found).

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "the alert list")
    Traceback (most recent call last):
    ...
    analysis.errors.DataError: <DataFrame>: missing required column(s) ['b'] needed by the alert list. Found ['a']
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}", file=table)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing required column(s) {missing} needed by {who}",
            file=table,
            hint=hint or f"Found {[str(c) for c in frame.columns][:15]}",
        )


def check_rows(
    frame: pd.DataFrame, column: str, bad: Any, problem: str, *, table: str = "<DataFrame>", hint: str | None = None
) -> None:
    """Raise :class:`DataError` if any row of ``frame`` is ``bad``: the ``problem``, ``column``, count, first rows.

    ``bad`` is a boolean mask over the rows; the offending rows are named by
    their index label with their value of ``column``; ``table`` names the
    table in the message and ``hint`` says how to put it right.

    Examples
    --------
    >>> frame = pd.DataFrame({"amount": [3.0, -1.0]})
    >>> check_rows(frame, "amount", frame["amount"] < 0, "negative values")
    Traceback (most recent call last):
    ...
    analysis.errors.DataError: <DataFrame>, column 'amount': negative values in 1 row of 2; first: index 1: -1.0
    """
    mask = np.asarray(bad, dtype=bool)
    if not mask.any():
        return
    raise DataError(
        problem,
        file=table,
        column=column,
        n_bad=int(mask.sum()),
        n_rows=len(frame),
        examples=first_examples(frame.index, frame[column], mask),
        row_label="index",
        hint=hint,
    )


def level_z(level: float) -> float:
    """The two-sided normal quantile of a confidence level (1.96 for 0.95), the level checked.

    Examples
    --------
    >>> round(level_z(0.95), 4)
    1.96
    """
    if isinstance(level, bool) or not isinstance(level, Real) or not 0 < level < 1:
        raise ParameterError("level", level, "a confidence level strictly between 0 and 1")
    return float(sps.norm.ppf(0.5 + level / 2))


def level_name(level: float) -> str:
    """A confidence level as a column suffix: ``0.95 -> "95"``."""
    return f"{level * 100:g}"


def check_whole_number(parameter: str, value: Any, minimum: int = 1, *, unit: str = "") -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool) of at least ``minimum``, else ``ParameterError``.

    Examples
    --------
    >>> check_whole_number("horizon_days", 90, unit="days")
    90
    >>> check_whole_number("horizon_days", 0, unit="days")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'horizon_days' = 0: expected a positive whole number of days
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        raise ParameterError(parameter, value, f"{what} of {unit}" if unit else what)
    return int(value)


def check_increasing(
    parameter: str, values: Iterable[Any], *, strict: bool = True, what: str = "numbers"
) -> tuple[float, ...]:
    """``values`` as a tuple of floats if each one is above the one before, else a :class:`ParameterError`.

    For cut-offs, edges and thresholds that must come in order.

    Parameters
    ----------
    parameter : str
        The argument's name, for the message.
    values : iterable of numbers
        The values, in the order given (bools are not numbers here).
    strict : bool
        If true (the default) each value must be greater than the one before;
        if false, at least equal to it.
    what : str
        What the values are, for the message (e.g. ``"shares inside (0, 1)"``).

    Returns
    -------
    tuple of float
        The values.

    Raises
    ------
    ParameterError
        Naming ``parameter`` and the first pair out of order (counted from 1;
        NaN is never in order), or if a value is not a number.

    Examples
    --------
    >>> check_increasing("cuts", [0.75, 0.95])
    (0.75, 0.95)
    >>> check_increasing("cuts", (0.2, 0.5, 0.5), what="shares")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'cuts' = (0.2, 0.5, 0.5): expected ...; values 2 and 3 are 0.5 then 0.5
    """
    order = "strictly increasing" if strict else "increasing"
    items = list(values)
    if not all(isinstance(v, Real) and not isinstance(v, bool) for v in items):
        raise ParameterError(parameter, values, f"{order} {what}")
    numbers = tuple(float(v) for v in items)
    for i, (before, after) in enumerate(pairwise(numbers)):
        if not (after > before if strict else after >= before):
            raise ParameterError(
                parameter, values, f"{order} {what}; values {i + 1} and {i + 2} are {before:g} then {after:g}"
            )
    return numbers
