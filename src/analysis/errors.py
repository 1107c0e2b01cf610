"""Exception types of the package.

Every data problem raises :class:`DataError`; every bad parameter raises
:class:`ParameterError`. Both subclass :class:`AnalysisError` (catch that to
catch anything the package raises on purpose) and :class:`ValueError`.

A :class:`DataError` carries the file, the column, how many rows are bad and
the first offending rows with their values, and composes a readable message
from them, so a caller can both show the message and act on the fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["AnalysisError", "DataError", "ParameterError", "check_option", "first_examples"]

#: How many offending rows a message quotes.
MAX_EXAMPLES = 5


class AnalysisError(Exception):
    """Base class of every exception the package raises on purpose."""


@dataclass
class DataError(AnalysisError, ValueError):
    """Input data that cannot be used as it is.

    Parameters
    ----------
    problem : str
        What is wrong, in a few words (``"non-numeric values"``).
    file : str, optional
        The file (or ``"<DataFrame>"``) the data came from.
    column : str, optional
        The column in the user's own naming.
    n_bad : int, optional
        How many rows have the problem.
    n_rows : int, optional
        How many rows were checked.
    examples : sequence of (row, value), optional
        The first offending rows: ``row`` is the file line for CSV files (the
        header is line 1), the 1-based row number for Parquet files and the
        index label for DataFrames.
    hint : str, optional
        What the user can do about it.
    row_label : str
        How rows are named in the message (``"line"``, ``"row"``, ``"index"``).
    """

    problem: str
    file: str | None = None
    column: str | None = None
    n_bad: int | None = None
    n_rows: int | None = None
    examples: Sequence[tuple[Any, Any]] = field(default_factory=tuple)
    hint: str | None = None
    row_label: str = "row"

    def __post_init__(self) -> None:
        self.examples = tuple(self.examples)[:MAX_EXAMPLES]
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<data>"
        if self.column is not None:
            where += f", column {self.column!r}"
        text = f"{where}: {self.problem}"
        if self.n_bad is not None:
            text += f" in {self.n_bad:,} row{'s' if self.n_bad != 1 else ''}"
            if self.n_rows is not None:
                text += f" of {self.n_rows:,}"
        if self.examples:
            quoted = ", ".join(f"{self.row_label} {row}: {value!r}" for row, value in self.examples)
            text += f"; first: {quoted}"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self):  # keep the exception picklable (multiprocessing, papermill)
        return (
            self.__class__,
            (
                self.problem,
                self.file,
                self.column,
                self.n_bad,
                self.n_rows,
                self.examples,
                self.hint,
                self.row_label,
            ),
        )


@dataclass
class ParameterError(AnalysisError, ValueError):
    """A parameter with a value the package cannot use.

    Parameters
    ----------
    parameter : str
        The parameter's name.
    value : object
        The value given.
    expected : str
        What would have been valid, in words.
    """

    parameter: str
    value: Any
    expected: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"parameter {self.parameter!r} = {self.value!r}: expected {self.expected}"

    def __reduce__(self):
        return (self.__class__, (self.parameter, self.value, self.expected))


def check_option(parameter: str, value: Any, options: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``options``, else raise :class:`ParameterError`.

    Examples
    --------
    >>> check_option("time_unit", "weeks", ["days", "weeks"])
    'weeks'
    >>> check_option("unit", "months", ["days", "weeks"])
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'unit' = 'months': expected one of 'days', 'weeks'
    """
    options = list(options)
    if value not in options:
        raise ParameterError(parameter, value, "one of " + ", ".join(repr(o) for o in options))
    return value


def first_examples(rows: Sequence[Any], values: Any, mask: Any) -> list[tuple[Any, Any]]:
    """The first :data:`MAX_EXAMPLES` offending ``(row, value)`` pairs where ``mask`` is true.

    ``rows`` names the rows (line numbers, index labels), ``values`` is the
    column (a pandas Series, read by position); numpy scalars become plain
    Python values, so messages read ``inf``, not ``np.float64(inf)``.

    Examples
    --------
    >>> first_examples([2, 3, 4], np.array([1.0, np.inf, 5.0]), [False, True, False])
    [(3, inf)]
    """
    where = np.flatnonzero(np.asarray(mask, dtype=bool))[:MAX_EXAMPLES]
    at = getattr(values, "iloc", values)
    return [(_plain(rows[i]), _plain(at[i])) for i in where]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
