"""One number formatted for a person: shares as %, money with separators and currency, p-values, intervals.

The locale data (separators, percent signs, currency symbols) is babel's;
``language`` is ``"en"`` or ``"zh"``. Nothing here writes scientific
notation: a report reads ``15,057,510``, not ``1.505751e+07``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from babel.numbers import format_decimal

__all__ = [
    "MISSING",
    "count_text",
    "date_text",
    "interval_text",
    "money_text",
    "number_text",
    "p_value_text",
    "percent_text",
]

#: What a missing or undefined value shows (a note under the table says why).
MISSING = "–"

_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}

#: Currency codes and words a user may pass (``currency`` parameter) -> (symbol before, unit after, divisor).
_CURRENCIES: dict[str, tuple[str, str, float]] = {
    "CNY": ("¥", "", 1.0),
    "RMB": ("¥", "", 1.0),
    "元": ("", " 元", 1.0),
    "万元": ("", " 万元", 1e4),
    "USD": ("$", "", 1.0),
    "EUR": ("€", "", 1.0),
    "GBP": ("£", "", 1.0),
    "JPY": ("¥", "", 1.0),
}


def _missing(x: Any) -> bool:
    try:
        return x is None or pd.isna(x) or (isinstance(x, float) and math.isinf(x))
    except (TypeError, ValueError):
        return False


#: Beyond this size a number is no quantity a person reads (an unidentified fit's standard error): shown as a bound.
_HUGE = 1e15


def _decimal(x: float, digits: int, language: str) -> str:
    if abs(x) >= _HUGE:
        return ("< -" if x < 0 else "> ") + "10¹⁵"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(x, format=pattern, locale=_LOCALES.get(language, "en_US"))


def number_text(x: Any, language: str = "en", digits: int | None = None) -> str:
    """A number with thousands separators and a precision that suits its size.

    ``digits`` fixes the decimals; by default 0 from 100 up, 2 from 1 up and
    3 below 1, so ratios and AUCs keep their meaning and large numbers their
    separators.

    Examples
    --------
    >>> number_text(15057510.4), number_text(1.23456), number_text(0.71234), number_text(float("nan"))
    ('15,057,510', '1.23', '0.712', '–')
    >>> number_text(3.2e300)
    '> 10¹⁵'
    """
    if _missing(x):
        return MISSING
    x = float(x)
    if digits is None:
        size = abs(x)
        digits = 0 if size >= 100 else 2 if size >= 1 else 3
    return _decimal(x, digits, language)


def count_text(x: Any, language: str = "en") -> str:
    """A count as an integer with thousands separators.

    >>> count_text(23570.0)
    '23,570'
    """
    return MISSING if _missing(x) else _decimal(round(float(x)), 0, language)


def percent_text(x: Any, language: str = "en", digits: int | None = None) -> str:
    """A share as a percentage: whole percents, one decimal below 10% (a small share never reads "0%").

    >>> percent_text(0.3071), percent_text(0.0423), percent_text(0.0004), percent_text(-0.052)
    ('31%', '4.2%', '0.04%', '-5.2%')
    """
    if _missing(x):
        return MISSING
    x = float(x) * 100
    if digits is None:
        size = abs(x)
        digits = 0 if size >= 10 or size == 0 else 1 if size >= 0.1 else 2
    return _decimal(x, digits, language) + "%"


def money_text(x: Any, currency: str = "", language: str = "en") -> str:
    """An amount with separators and its currency: ``¥12,451``, ``$25.98``, ``1,245.1 万元``.

    Amounts of 1,000 and more are whole units, smaller ones keep cents; with
    ``currency="万元"`` the amount (in yuan) is shown in ten thousands.

    >>> money_text(12451.3, "CNY"), money_text(25.98, "USD"), money_text(12451000, "万元"), money_text(5, "")
    ('¥12,451', '$25.98', '1,245.1 万元', '5.00')
    """
    if _missing(x):
        return MISSING
    before, after, divisor = _CURRENCIES.get(currency, ("", f" {currency}" if currency else "", 1.0))
    x = float(x) / divisor
    digits = 1 if divisor > 1 else (0 if abs(x) >= 1000 else 2)
    sign = "-" if x < 0 else ""
    return f"{sign}{before}{_decimal(abs(x), digits, language)}{after}"


def p_value_text(p: Any) -> str:
    """A p-value as people read it: ``< 0.001`` below a thousandth, else two significant digits.

    >>> p_value_text(0.0000012), p_value_text(0.0123), p_value_text(0.5)
    ('< 0.001', '0.012', '0.50')
    """
    if _missing(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.2f}" if p >= 0.1 else f"{p:.2g}" if p >= 0.01 else f"{p:.3f}"


def interval_text(estimate: str, lower: str, upper: str) -> str:
    """An estimate and its interval as one cell: ``0.31 (0.29–0.33)``; a missing bound shows as –.

    >>> interval_text("0.31", "0.29", "0.33"), interval_text("–", "–", "–")
    ('0.31 (0.29–0.33)', '–')
    """
    if estimate == MISSING:
        return MISSING
    if lower == MISSING and upper == MISSING:
        return estimate
    return (
        f"{estimate} ({lower} to {upper})"
        if lower.startswith("-") or upper.startswith("-")
        else (f"{estimate} ({lower}–{upper})")
    )


def date_text(x: Any) -> str:
    """A date as ``YYYY-MM-DD`` (a time of day only when there is one).

    >>> date_text(pd.Timestamp("1998-06-30")), date_text(pd.Timestamp("2024-03-05 14:30"))
    ('1998-06-30', '2024-03-05 14:30')
    """
    if _missing(x):
        return MISSING
    stamp = pd.Timestamp(x)
    return stamp.strftime("%Y-%m-%d %H:%M") if (stamp.hour or stamp.minute) else stamp.strftime("%Y-%m-%d")
