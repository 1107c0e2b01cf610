"""A study's dates, windows and sizes chosen from its data, each with the rule that chose it.

A parameter left at "from the data" (``""`` for a date, ``0`` for a window
or size, ``[]`` for a list, ``-1`` for ``min_tenure_months``) is set here
from the history the data holds: its first and last day and, for the alert
capacities, how many customers are active. Values the user gave are kept and
checked against the data. The shipped CDNOW data gets the dates of the
published studies it is known for, unless a date anchors the study (a
periodic report's period end): then the rules apply to it as to any data.

A history too short for a study raises :class:`HistoryTooShort` (a
:class:`~analysis.errors.ParameterError`) naming the study, the history it
needs, the history the data has and the parameter to change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.engines.censoring import censoring_cutoff
from analysis.engines.rows import active_customers, date_range
from analysis.engines.summaries import customer_summary
from analysis.errors import DataError, ParameterError
from analysis.presentation.messages import translate_text
from analysis.studies.parameters import ChurnParameters, GradingParameters, StudyParameters, ValueParameters

__all__ = ["MINIMUM_DAYS", "HistoryTooShort", "choose_from_data", "dated"]


#: The shortest history (days from the first to the last day of data, both counted) each study can use.
MINIMUM_DAYS = {"grading": 90, "churn": 60, "value": 60}


#: The shipped CDNOW data's reference settings (the published study dates).
CDNOW_REFERENCE: dict[type, dict[str, Any]] = {
    GradingParameters: {
        "as_of": "1998-06-30",
        "history_start": "1997-12-01",
        "value_window_months": 12,
        "validation_horizon_days": 181,
        "min_tenure_months": 6,
        "absolute_scale": 0.0001,
    },
    ChurnParameters: {
        "as_of": "1997-09-30",
        "validation_as_of": "1997-12-31",
        "horizon_days": 90,
        "horizons": [30, 60, 90, 180],
        "lookback_days": 365,
        "window_days": 90,
        "capacity": 500,
        "capacities": [100, 250, 500, 1000, 2000, 4000],
    },
    ValueParameters: {"calibration_end": "1997-09-30", "as_of": "1998-06-30", "absolute_scale": 0.0001},
}


#: The value meaning "from the data", by parameter.
UNSET: dict[str, Any] = {
    "as_of": "",
    "validation_as_of": "",
    "calibration_end": "",
    "history_start": "",
    "value_window_months": 0,
    "validation_horizon_days": 0,
    "min_tenure_months": -1,
    "horizon_days": 0,
    "horizons": [],
    "lookback_days": 0,
    "window_days": 0,
    "capacity": 0,
    "capacities": [],
    "absolute_scale": 0.0,
    "risk_horizon_days": 0,
    "left_censored_until": "",
}


#: Shares of the active customers the capacity sweep compares.
CAPACITY_SHARES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


class HistoryTooShort(ParameterError):
    """The data's history is shorter than a study needs."""

    def __init__(self, study: str, needed: int, first: pd.Timestamp, last: pd.Timestamp, parameter: str) -> None:
        self.study, self.needed, self.first, self.last = study, needed, first, last
        has = (last - first).days + 1
        super().__init__(
            parameter,
            None,
            f"a longer history: the {study} study needs at least {needed} days of data, the data has {has} "
            f"({first.date()} to {last.date()})",
        )

    def __str__(self) -> str:
        has = (self.last - self.first).days + 1
        return (
            f"{self.study} study: needs at least {self.needed} days of history, the data has {has} days "
            f"({self.first.date()} to {self.last.date()}); give a longer history (or set {self.parameter})"
        )

    def __reduce__(self):
        return (self.__class__, (self.study, self.needed, self.first, self.last, self.parameter))


@dataclass(frozen=True)
class Choices:
    """Values chosen so far, with their rules (the table a report shows)."""

    rows: list[dict[str, Any]]

    def add(self, parameter: str, value: Any, rule: str) -> Any:
        self.rows.append({"parameter": parameter, "value": value, "rule": rule})
        return value

    def table(self, language: str = "en") -> pd.DataFrame:
        """The rows as a table, the rules in ``language`` (the report's; the catalogue's templates hold them)."""
        table = pd.DataFrame(self.rows, columns=["parameter", "value", "rule"]).astype({"value": "str"})
        return table.assign(rule=[translate_text(rule, language) for rule in table["rule"]])


def choose_from_data(params: StudyParameters, transactions: Any) -> tuple[StudyParameters, pd.DataFrame]:
    """The study's parameters with every "from the data" value set, and the table of what was chosen and why.

    Parameters
    ----------
    params : GradingParameters, ChurnParameters or ValueParameters
        As given (values left at "from the data" are set here).
    transactions : DataFrame or engine source
        The study's transactions (only their first and last day and, for the
        churn study, the number of active customers are read, on the engine).

    Returns
    -------
    (parameters, pandas.DataFrame)
        Complete parameters, and one row per date, window or size chosen or
        given: ``parameter``, ``value`` and ``rule`` (``"given"`` when the
        user set it), the rule in the report's language (``params.language``).

    Raises
    ------
    HistoryTooShort
        The history is shorter than the study needs.
    ParameterError
        A given date that does not fit the data (before its first day, or
        leaving no outcome period).
    """
    rules = RULES.get(type(params))
    if rules is None:  # a study without dates of its own
        return params, Choices([]).table()
    first, last = date_range(transactions, engine=params.engine)
    if pd.isna(first):
        raise DataError("no transactions", file=getattr(transactions, "attrs", {}).get("source"))
    choices = Choices([])
    values: dict[str, Any] = {}
    anchored = bool(getattr(params, "as_of", "") or getattr(params, "data_end", ""))
    shipped = params.data_source == "cdnow" and not anchored  # a report's period end anchors the rules instead
    reference = CDNOW_REFERENCE.get(type(params), {}) if shipped else {}
    fields = {f.name for f in dataclasses.fields(params)}
    for name, unset in UNSET.items():
        if name not in fields:
            continue
        given = getattr(params, name)
        if given != unset:
            values[name] = choices.add(name, given, "given")
        elif name in reference:
            values[name] = choices.add(name, reference[name], "the shipped CDNOW data's reference (published studies)")
    rules(values, choices, first, last, params, transactions)
    _left_censored(values, choices, first, last, params, transactions)
    order = {name: i for i, name in enumerate(UNSET)}
    choices.rows.sort(key=lambda row: order.get(row["parameter"], len(order)))
    return dataclasses.replace(params, **values), choices.table(getattr(params, "language", "en"))


def dated(params: StudyParameters, transactions: Any) -> StudyParameters:
    """Only the parameters of :func:`choose_from_data`."""
    return choose_from_data(params, transactions)[0]


def _month_end_on_or_before(day: pd.Timestamp) -> pd.Timestamp:
    end = day + pd.offsets.MonthEnd(0)
    return end if end == day else day - pd.offsets.MonthEnd(1)


def _days(first: pd.Timestamp, last: pd.Timestamp) -> int:
    return (last - first).days + 1


def _set(values: dict[str, Any], choices: Choices, name: str, value: Any, rule: str) -> Any:
    if name not in values:
        values[name] = choices.add(name, value, rule)
    return values[name]


def _check_history(study: str, first: pd.Timestamp, last: pd.Timestamp, parameter: str) -> None:
    if _days(first, last) < MINIMUM_DAYS[study]:
        raise HistoryTooShort(study, MINIMUM_DAYS[study], first, last, parameter)


def _given_date(values: dict[str, Any], name: str, first: pd.Timestamp, last: pd.Timestamp) -> None:
    if values.get(name):
        day = pd.Timestamp(values[name])
        if day < first:
            raise ParameterError(name, values[name], f"a date on or after the data's first day {first.date()}")


def _grading(values, choices, first, last, params, transactions) -> None:
    _given_date(values, "as_of", first, last)
    as_of = pd.Timestamp(_set(values, choices, "as_of", str(last.date()), "the last day of data"))
    _check_history("grading", first, as_of, "as_of")
    days = _days(first, as_of)
    if days >= 540:
        horizon, window, rule = 181, 12, "the domain notes' 12-month window and a 6-month backtest (18+ months of data)"
    else:
        horizon = max(30, days // 3)
        window = max(1, int((days - horizon) / 30.44))
        rule = f"a third of the {days}-day history for the backtest, the rest (whole months) for the value window"
    horizon = _set(values, choices, "validation_horizon_days", horizon, rule)
    window = _set(values, choices, "value_window_months", window, rule)
    _set(
        values,
        choices,
        "min_tenure_months",
        min(6, max(1, window // 2)),
        "6 months, or half the value window when that is shorter",
    )
    full = (first + pd.DateOffset(months=window) - pd.Timedelta(days=1)).replace(day=1)
    recent = (as_of - pd.DateOffset(months=11)).replace(day=1)
    start = max(full, recent)
    if start > as_of:
        start, why = first.replace(day=1), "the first month of data (no month has a full value window before as_of)"
    else:
        why = "the later of the first month with a full value window and 12 months before as_of"
    _set(values, choices, "history_start", str(start.date()), why)
    if pd.Timestamp(values["as_of"]) - pd.Timedelta(days=values["validation_horizon_days"]) < first:
        raise ParameterError(
            "validation_horizon_days", values["validation_horizon_days"], f"fewer days than the history's {days}"
        )
    _absolute_scale(values, choices, params)


def _left_censored(values, choices, first, last, params, transactions) -> None:
    """The date before which a first purchase may be an older customer's (:mod:`analysis.engines.censoring`)."""
    if "left_censored_until" in values:
        return
    summary = customer_summary(transactions, last, **params.summary_options())
    until, rule = censoring_cutoff(summary, first, last)
    choices.add("left_censored_until", str(until.date()), rule)
    values["left_censored_until"] = str(until.date())


def _absolute_scale(values: dict[str, Any], choices: Choices, params: Any) -> None:
    currency = params.currency.upper()
    if currency in ("CNY", "RMB", "元"):
        _set(values, choices, "absolute_scale", 1.0, "the domain notes' thresholds are in yuan: 1 with currency CNY")
    elif currency in ("万元", "CNY10K"):
        _set(values, choices, "absolute_scale", 0.0001, "the domain notes' yuan thresholds in units of 10,000 yuan")
    else:
        _set(
            values,
            choices,
            "absolute_scale",
            1.0,
            "1 (the domain notes' yuan thresholds as they are): set currency or absolute_scale for other money",
        )


def _churn(values, choices, first, last, params, transactions) -> None:
    end = pd.Timestamp(params.data_end) if params.data_end else last
    _check_history("churn", first, end, "horizon_days")
    days = _days(first, end)
    horizon = _set(
        values,
        choices,
        "horizon_days",
        90 if days >= 365 else max(14, days // 4),
        "90 days (the domain notes' quarter), or a quarter of a history shorter than a year",
    )
    if days < 3 * horizon:
        raise ParameterError("horizon_days", horizon, f"at most a third of the {days}-day history ({days // 3} days)")
    _given_date(values, "as_of", first, end)
    _given_date(values, "validation_as_of", first, end)
    if "validation_as_of" not in values:
        scored = end - pd.Timedelta(days=horizon)
        if "as_of" in values:
            scored = min(scored, pd.Timestamp(values["as_of"]) + pd.Timedelta(days=horizon))
        _set(values, choices, "validation_as_of", str(scored.date()), "the last date whose churn the data shows")
    if "as_of" not in values:
        fitted = pd.Timestamp(values["validation_as_of"]) - pd.Timedelta(days=horizon)
        _set(values, choices, "as_of", str(fitted.date()), "one horizon before the validation date (out of time)")
    as_of, scored = pd.Timestamp(values["as_of"]), pd.Timestamp(values["validation_as_of"])
    if scored + pd.Timedelta(days=horizon) > end:
        raise ParameterError(
            "validation_as_of",
            values["validation_as_of"],
            f"a date at least horizon_days before the data's end {end.date()}",
        )
    if as_of <= first:
        raise ParameterError("as_of", values["as_of"], f"a date after the data's first day {first.date()}")
    before = (as_of - first).days
    lookback = _set(
        values, choices, "lookback_days", min(365, before), "a year, or all the history before as_of when shorter"
    )
    _set(values, choices, "window_days", max(7, min(90, lookback // 2)), "a quarter, or half the lookback when shorter")
    room = (end - scored).days
    _set(
        values,
        choices,
        "horizons",
        sorted({h for h in (30, 60, 90, 180) if h <= room} | {horizon}),
        "30, 60, 90 and 180 days where the data shows their outcome, and the horizon",
    )
    active = active_customers(transactions, scored - pd.Timedelta(days=lookback), scored, engine=params.engine)
    capacity = _set(
        values,
        choices,
        "capacity",
        max(1, _round_size(0.1 * active)),
        f"a tenth of the {active:,} customers active in the lookback before the validation date",
    )
    _set(
        values,
        choices,
        "capacities",
        sorted({max(1, _round_size(share * active)) for share in CAPACITY_SHARES} | {capacity}),
        f"1%, 2%, 5%, 10%, 20% and 50% of the {active:,} active customers",
    )


def _round_size(value: float) -> int:
    """A call-list size people would write: two significant digits (``1234`` -> ``1200``)."""
    if value < 100:
        return round(value)
    digits = len(str(int(value))) - 2
    return int(round(value, -digits))


def _value(values, choices, first, last, params, transactions) -> None:
    _given_date(values, "as_of", first, last)
    as_of = pd.Timestamp(_set(values, choices, "as_of", str(last.date()), "the last day of data"))
    _check_history("value", first, as_of, "calibration_end")
    _given_date(values, "calibration_end", first, last)
    days = _days(first, as_of)
    middle = first + pd.Timedelta(days=days // 2)
    end = max(middle, as_of - pd.Timedelta(weeks=52))
    if days >= 180:
        end, rule = (
            _month_end_on_or_before(end),
            "the month end at the middle of the history (a holdout of at most a year)",
        )
    else:
        rule = "the middle of the history (a short history: calibration and holdout halves)"
    _set(values, choices, "calibration_end", str(end.date()), rule)
    if pd.Timestamp(values["calibration_end"]) >= as_of:
        raise ParameterError("calibration_end", values["calibration_end"], f"a date before as_of ({as_of.date()})")
    _absolute_scale(values, choices, params)
    horizon = _set(
        values,
        choices,
        "risk_horizon_days",
        90 if days >= 365 else max(14, days // 4),
        "90 days (the domain notes' quarter), or a quarter of a history shorter than a year",
    )
    if as_of - pd.Timedelta(days=2 * horizon) <= first:
        raise ParameterError(
            "risk_horizon_days", horizon, f"at most a third of the {days}-day history ({days // 3} days)"
        )
    if params.value_metric == "auto":
        has_margin = "margin" in getattr(transactions, "columns", ())
        rule = (
            "gross margin: the transactions have a margin column"
            if has_margin
            else "revenue (amounts): the transactions have no margin column"
        )
        values["value_metric"] = choices.add("value_metric", "margin" if has_margin else "revenue", rule)
    else:
        choices.add("value_metric", params.value_metric, "given")


#: Each study's rules, by its parameters' declaration.
RULES = {GradingParameters: _grading, ChurnParameters: _churn, ValueParameters: _value}
