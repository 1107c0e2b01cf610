"""The building blocks of the summaries: a query on an engine, day counts, the package's dtypes."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.engines.prepared import Engine, Prepared, Source
from analysis.engines.select import open_source
from analysis.errors import ParameterError, check_option

__all__ = ["as_double", "positive_days", "query", "tidy_types", "time_unit_length"]


_UNITS = {"days": 1.0, "weeks": 7.0}


def time_unit_length(time_unit: str) -> float:
    """Days in one ``time_unit`` (``days``: 1, ``weeks``: 7)."""
    return _UNITS[check_option("time_unit", time_unit, _UNITS)]


def positive_days(name: str, value: int) -> int:
    """A positive whole number of days, else ``ParameterError`` naming ``name``."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ParameterError(name, value, "a positive whole number of days")
    return int(value)


def query(
    transactions: Source, build: Callable[[Prepared], ir.Table], engine: Engine, memory_limit: str | None
) -> pd.DataFrame:
    """Open ``transactions`` on ``engine``, build one expression and fetch it."""
    with open_source(transactions, engine, memory_limit) as source:
        return source.fetch(build(source))


def as_double(value: ir.NumericValue) -> ir.FloatingValue:
    """``value`` cast to a double (day counts are integers; a ratio of them must not be a decimal)."""
    return value.cast("float64")


def tidy_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Package dtypes: ids as text, dates as datetime64[ns], counts as int64."""
    types: dict[str, str] = {"customer_id": "str"}
    for column in frame.columns:
        if column in ("first_purchase", "last_purchase", "period"):
            types[column] = "datetime64[ns]"
        elif column in ("occasions", "frequency", "trailing_occasions", "frequency_holdout"):
            types[column] = "int64"
    return frame.astype(types)
