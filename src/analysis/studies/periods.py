"""The periodic report: each study's dates at a period's end, using only data up to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.errors import ParameterError
from analysis.studies.registry import resolve_parameters

__all__ = ["period_end", "period_parameters"]


def period_end(period: str) -> pd.Timestamp:
    """Last day of a ``YYYY-MM`` period."""
    try:
        month = pd.Period(period, freq="M")
    except (ValueError, TypeError) as exc:
        raise ParameterError("period", period, "a month such as '1998-06'") from exc
    if str(month) != period:
        raise ParameterError("period", period, "a month written YYYY-MM, such as '1998-06'")
    return month.end_time.normalize()


def period_parameters(study: str, end: pd.Timestamp, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A study's dates for the report of the period ending on ``end``, using only data up to ``end``.

    - grading: ``as_of`` = the period end; the stability history covers the
      12 months before it; the validity backtest stays inside the data.
    - churn: signals need a known outcome, so the model is scored at
      ``validation_as_of`` = period end minus the horizon (the last date whose
      churn is known at the period end) and fitted three months earlier.
    - value: ``as_of`` = the period end, calibration ending 39 weeks before.

    ``given`` parameters (from ``--params``/``-p``) set anything else; a
    given date would let data after the period end into the report, so it
    is refused.
    """
    given = dict(given or {})
    dated = sorted(set(given) & DATE_PARAMETERS)
    if dated:
        raise ParameterError(
            dated[0], given[dated[0]], "no date: a report's dates come from its period (use analysis run for others)"
        )
    if study == "grading":
        dates = {"as_of": str(end.date()), "history_start": str((end - pd.DateOffset(months=11)).replace(day=1).date())}
    elif study == "churn":
        horizon = given.get("horizon_days", 90)
        if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
            raise ParameterError("horizon_days", horizon, "a positive whole number of days")
        scored = end - pd.Timedelta(days=horizon)
        dates = {
            "validation_as_of": str(scored.date()),
            "as_of": str((scored - pd.DateOffset(months=3)).date()),
            "data_end": str(end.date()),
        }
    elif study == "value":
        dates = {"as_of": str(end.date()), "calibration_end": str((end - pd.Timedelta(weeks=39)).date())}
    else:
        dates = {}
    return resolve_parameters(study, dates | given)


#: Parameters that are dates of a study (set from the period in report mode).
DATE_PARAMETERS = {"as_of", "validation_as_of", "data_end", "calibration_end", "history_start"}
