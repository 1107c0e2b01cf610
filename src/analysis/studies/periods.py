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

    The period end is the study's last day of data: ``as_of`` of the grading
    and value studies, ``data_end`` of the churn study (whose model is scored
    at the last date whose churn is known by then). Every other date, window
    and size is chosen from the data up to ``end`` by the rules of
    :mod:`analysis.studies.dates`, as in any run, and stated in the report.

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
    anchor = {"grading": "as_of", "churn": "data_end", "value": "as_of"}.get(study)
    dates = {anchor: str(end.date())} if anchor else {}
    return resolve_parameters(study, dates | given)


#: Parameters that are dates of a study (set from the period in report mode).
DATE_PARAMETERS = {"as_of", "validation_as_of", "data_end", "calibration_end", "history_start"}
