"""A regression design from a churn frame: categories one-hot against a reference, numbers in stated units.

Some columns of such a design carry nothing new: the Telco add-ons' level
"No internet service" is the same customers as ``internet_service = No``,
and ``multiple_lines = No phone service`` is ``has_phone_service = 0``. A
logistic fit cannot tell them apart (the design is singular), so
:func:`aliased_columns` finds every column that is an exact linear
combination of the intercept and the columns before it, names what it
equals, and the design leaves it out; :func:`variance_inflation` measures the
columns that are nearly, not exactly, combinations of the others (their
intervals are wide).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.checks import require_columns
from analysis.errors import DataError, ParameterError

__all__ = ["Design", "aliased_columns", "one_hot_design", "variance_inflation"]

#: A column whose residual on the columns before it is below this share of its own size is aliased.
ALIAS_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Design:
    """The columns of a regression, what each means and which were left out as aliased.

    Attributes
    ----------
    matrix : DataFrame
        One column per kept term (float; NaN where the attribute is missing),
        the frame's index; names are safe formula names.
    terms : DataFrame
        One row per column built, kept or not: ``column``, ``attribute``,
        ``level`` (the category, or the unit of a number), ``reference``
        (the category it is compared with; empty for a number), ``kept``,
        ``aliased_with`` (what a left-out column equals, else empty).
    """

    matrix: pd.DataFrame = field(repr=False)
    terms: pd.DataFrame = field(repr=False)

    @property
    def columns(self) -> list[str]:
        """The kept columns, in order."""
        return list(self.matrix.columns)

    @property
    def aliased(self) -> pd.DataFrame:
        """The columns left out: ``column``, ``aliased_with``."""
        return self.terms.loc[~self.terms["kept"], ["column", "aliased_with"]].reset_index(drop=True)


def _slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_") or "blank"


def one_hot_design(
    frame: pd.DataFrame,
    categories: Mapping[str, str],
    numbers: Mapping[str, tuple[str, float]],
    flags: tuple[str, ...] = (),
    *,
    drop_aliased: bool = True,
) -> Design:
    """0/1 flags as they are, then categories one-hot against a reference level, then numbers in a unit.

    The order decides which of two aliased columns is left out: the later one.

    Parameters
    ----------
    frame : DataFrame
        The columns named in ``categories``, ``numbers`` and ``flags``.
    categories : mapping
        ``{column: reference level}``; one 0/1 column ``<column>__<level>``
        per other level present (levels sorted).
    numbers : mapping
        ``{column: (name, unit)}``: the column divided by ``unit`` under
        ``name`` (``{"tenure_months": ("tenure_years", 12)}``): fixed units,
        not the data's mean and spread, so a hold-out is scaled as the fit
        rows are and the odds ratio reads "per unit".
    flags : tuple of str
        0/1 columns taken as they are.
    drop_aliased : bool
        Leave out the columns :func:`aliased_columns` finds (complete rows).

    Returns
    -------
    Design

    Raises
    ------
    DataError
        A category missing in a row, or a flag not 0/1.
    ParameterError
        A reference level not among a category's values.
    """
    require_columns(frame, [*categories, *numbers, *flags], "one_hot_design")
    columns: dict[str, pd.Series] = {}
    rows = []
    for flag in flags:
        values = frame[flag].astype("float64")
        if not values.isin([0.0, 1.0]).all():
            raise DataError("a flag must be 0/1", column=flag)
        columns[flag] = values
        rows.append((flag, flag, "1", "0"))
    for attribute, reference in categories.items():
        values = frame[attribute]
        if values.isna().any():
            raise DataError("missing categories", column=attribute, n_bad=int(values.isna().sum()))
        levels = sorted(values.astype("str").unique())
        if str(reference) not in levels:
            raise ParameterError(f"reference of {attribute}", reference, f"one of {levels}")
        for level in levels:
            if level != str(reference):
                name = f"{attribute}__{_slug(level)}"
                columns[name] = (values.astype("str") == level).astype("float64")
                rows.append((name, attribute, level, str(reference)))
    for attribute, (name, unit) in numbers.items():
        if not np.isfinite(unit) or unit <= 0:
            raise ParameterError(f"unit of {attribute}", unit, "a positive number")
        columns[name] = frame[attribute].astype("float64") / unit
        rows.append((name, attribute, f"per {unit:g}", ""))
    matrix = pd.DataFrame(columns, index=frame.index)
    terms = pd.DataFrame(rows, columns=["column", "attribute", "level", "reference"])
    aliased = aliased_columns(matrix) if drop_aliased else pd.Series(dtype="str")
    terms["kept"] = ~terms["column"].isin(aliased.index)
    terms["aliased_with"] = [str(aliased.get(c, "")) for c in terms["column"]]
    return Design(matrix.loc[:, terms.loc[terms["kept"], "column"].tolist()], terms)


def aliased_columns(matrix: pd.DataFrame, *, tolerance: float = ALIAS_TOLERANCE) -> pd.Series:
    """The columns that are exact linear combinations of an intercept and the columns before them.

    Columns are taken in order; each is projected on the intercept and the
    columns kept so far (Gram-Schmidt, twice for accuracy). A column whose
    residual is below ``tolerance`` times its own norm adds nothing and is
    aliased; the combination it equals is found by least squares. Complete
    rows only.

    Returns
    -------
    pandas.Series
        Indexed by aliased column: what it equals, e.g. ``"internet_service__no"``
        or ``"1 - contract__one_year - contract__two_year"``; empty when none.
    """
    x = matrix.dropna().to_numpy(dtype="float64")
    basis = [np.full(x.shape[0], 1 / np.sqrt(max(x.shape[0], 1)))]
    kept: list[int] = []
    found: dict[str, str] = {}
    for j, name in enumerate(matrix.columns):
        column = x[:, j]
        size = np.linalg.norm(column)
        residual = column.copy()
        for _ in range(2):
            q = np.column_stack(basis)
            residual = residual - q @ (q.T @ residual)
        if size == 0 or np.linalg.norm(residual) <= tolerance * size:
            others = np.column_stack([np.ones(x.shape[0]), x[:, kept]])
            weights = np.linalg.lstsq(others, column, rcond=None)[0]
            found[name] = _combination(weights, ["1", *(matrix.columns[k] for k in kept)])
            continue
        basis.append(residual / np.linalg.norm(residual))
        kept.append(j)
    return pd.Series(found, dtype="str")


def _combination(weights: np.ndarray, names: list[str]) -> str:
    parts = []
    for weight, name in zip(np.round(weights, 6), names, strict=True):
        if abs(weight) < 1e-6:
            continue
        sign = "-" if weight < 0 else "+"
        size = abs(weight)
        term = name if name != "1" else ""
        factor = "" if np.isclose(size, 1) and term else f"{size:g}" + (" " if term else "")
        parts.append(f"{sign} {factor}{term}")
    text = " ".join(parts) or "0"
    return text[2:] if text.startswith("+ ") else text


def variance_inflation(matrix: pd.DataFrame) -> pd.Series:
    """Variance inflation factor of each column (complete rows): ``1 / (1 - R^2)`` on the other columns.

    1 for a column unrelated to the others; above 10 a column is nearly a
    combination of the others and its coefficient's interval is wide. The
    diagonal of the inverse correlation matrix (constant columns: NaN).

    References
    ----------
    Fox, J. & Monette, G. (1992). Generalized collinearity diagnostics.
    *JASA* 87, 178-183.
    """
    x = matrix.dropna().to_numpy(dtype="float64")
    spread = x.std(axis=0)
    vif = np.full(x.shape[1], np.nan)
    varies = spread > 0
    if varies.sum() >= 2:
        corr = np.corrcoef(x[:, varies], rowvar=False)
        vif[varies] = np.diag(np.linalg.pinv(corr))
    elif varies.sum() == 1:
        vif[varies] = 1.0
    return pd.Series(vif, index=matrix.columns, name="variance_inflation")
