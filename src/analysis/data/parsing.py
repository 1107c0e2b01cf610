"""Parsing one raw column into the contract's type: ids, text, numbers (with the file's number format), flags, dates.

Nothing is guessed: a value that could mean two things (``"1,234"`` with no
thousands separator declared, ``"¥100"`` with no currency symbol declared) is
refused with a hint naming the option that would read it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import numpy as np
import pandas as pd

from analysis.data.contract import MAX_MONEY, MONEY_COLUMNS, ColumnSpec, Kind
from analysis.errors import DataError, ParameterError, first_examples

__all__ = ["NumberFormat", "blank", "parse_column"]


# A UTC offset after a clock time: "...T10:00Z", "... 10:00:00+01:00".
_TZ_SUFFIX = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")

_NA_SPELLINGS = {"nan", "na", "n/a", "null", "none", "nat", "#n/a"}

_TRUE = {"true", "t", "yes", "y", "1", "是"}

_FALSE = {"false", "f", "no", "n", "0", "否"}

#: Thousands separators a file may use (none, comma, point, space, no-break spaces, apostrophe).
THOUSANDS = ("", ",", ".", " ", "\u00a0", "\u202f", "'")

#: Decimal separators a file may use.
DECIMALS = (".", ",")


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes its numbers: decimal and thousands separators, currency symbols to strip.

    Parameters
    ----------
    decimal : {".", ","}
        The decimal separator.
    thousands : str
        The thousands separator (``""``: none). Where given, a value using it
        must be grouped by threes (``12,451.30``); ``1,5`` is refused.
    currency : sequence of str
        Symbols or codes written before or after amounts (``"¥"``, ``"元"``,
        ``"RMB"``), stripped from the money columns only.

    Examples
    --------
    >>> NumberFormat(thousands=",", currency=("¥",)).parse(pd.Series(["¥12,451.30", "-¥5", "7", "1,5"]))[0].tolist()
    [12451.3, -5.0, 7.0, nan]
    """

    decimal: str = "."
    thousands: str = ""
    currency: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.decimal not in DECIMALS:
            raise ParameterError("decimal", self.decimal, "'.' or ','")
        if self.thousands not in THOUSANDS:
            raise ParameterError("thousands", self.thousands, f"one of {list(THOUSANDS)}")
        if self.thousands == self.decimal:
            raise ParameterError("thousands", self.thousands, f"a separator other than the decimal {self.decimal!r}")
        currency = (self.currency,) if isinstance(self.currency, str) else tuple(self.currency)
        for symbol in currency:
            if not isinstance(symbol, str) or not symbol.strip() or re.search(r"[\d.,+\-]", symbol):
                raise ParameterError("currency_symbol", symbol, "a currency symbol or code such as '¥', '元' or 'EUR'")
        object.__setattr__(self, "currency", tuple(s.strip() for s in currency))

    @property
    def plain(self) -> bool:
        """Whether numbers are plain (``.`` decimals, no separators, no symbols)."""
        return self.decimal == "." and not self.thousands and not self.currency

    def parse(self, text: pd.Series, *, money: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Numbers of stripped ``text``, and a mask of values this format cannot read (NaN there).

        Values that are missing come back NaN and unmasked; the caller knows
        which are missing.
        """
        values = text.astype("str")
        if money and self.currency:
            symbols = "|".join(re.escape(s) for s in sorted(self.currency, key=len, reverse=True))
            values = values.str.replace(rf"^([+-]?)\s*(?:{symbols})\s*", r"\1", regex=True)
            values = values.str.replace(rf"\s*(?:{symbols})$", "", regex=True)
        bad = np.zeros(len(values), bool)
        if self.thousands:
            sep, dec = re.escape(self.thousands), re.escape(self.decimal)
            uses = values.str.contains(sep, regex=True).to_numpy()
            grouped = values.str.fullmatch(rf"[+-]?\d{{1,3}}(?:{sep}\d{{3}})+(?:{dec}\d*)?").to_numpy()
            bad |= uses & ~grouped
            values = values.str.replace(self.thousands, "", regex=False)
        if self.decimal != ".":
            bad |= values.str.contains(".", regex=False).to_numpy()
            values = values.str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(values.where(~bad, "nan"), errors="coerce").astype("float64").to_numpy()
        return numbers, bad

    def hint(self, samples: Sequence[str]) -> str:
        """What option would read values this format could not (``samples``), in keyword-argument words."""
        symbol = next((s for s in map(_currency_part, samples) if s), None)
        joined = " ".join(samples)
        if symbol and symbol not in self.currency:
            return f"If {symbol!r} is the currency, pass currency_symbol={symbol!r}"
        if re.search(r"\d\.\d{3},\d", joined) and (self.decimal, self.thousands) != (",", "."):
            return "If the file writes 1.234,50, pass decimal=',' and thousands='.'"
        if re.search(r"\d,\d{3}(?:\D|$)", joined) and self.thousands != "," and self.decimal == ".":
            return "If ',' separates thousands (12,451.30), pass thousands=','"
        if re.search(r"\d,\d", joined) and self.decimal == ".":
            return "If ',' is the decimal separator (12,5), pass decimal=','"
        if self.decimal == "," and "." in joined and self.thousands != ".":
            return "With decimal=',' a '.' can only separate thousands: pass thousands='.'"
        if self.thousands and self.thousands in joined:
            return f"Values using the thousands separator {self.thousands!r} must be grouped by threes"
        return "Use plain numbers with '.' decimals, or pass decimal, thousands or currency_symbol"


#: Currency words written beside amounts (besides the Unicode currency symbols and 3-letter codes).
_CURRENCY_WORDS = {"元", "万元", "円", "圆", "rmb", "kr", "zł", "lei"}


def _currency_part(value: str) -> str | None:
    """The currency symbol or code written before or after a number in ``value``, if any.

    Examples
    --------
    >>> _currency_part("¥1,200"), _currency_part("12.5 EUR"), _currency_part("abc")
    ('¥', 'EUR', None)
    """
    match = re.fullmatch(r"[+-]?\s*([^\d\s+\-.,]+)?\s*[+-]?[\d.,\s]*\d[\d.,]*\s*([^\d\s.,]+)?", value.strip())
    if not match:
        return None
    for part in match.groups():
        if part and (
            all(unicodedata.category(c) == "Sc" for c in part)
            or re.fullmatch(r"[A-Z]{3}", part)
            or part.lower() in _CURRENCY_WORDS
        ):
            return part
    return None


PLAIN_NUMBERS = NumberFormat()


def blank(values: pd.Series, kind: Kind) -> tuple[pd.Series, np.ndarray]:
    """Strip text and return it with a mask of missing entries.

    Missing: null, empty or blank; for numbers, dates and flags also the usual
    spellings of "not available" (``NaN``, ``NA``, ``N/A``, ``null``...). Ids
    and text are never guessed to be missing from their spelling.
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values, values.isna().to_numpy()
    text = values.astype("str").str.strip()
    missing = values.isna().to_numpy() | (text == "").to_numpy()
    if kind not in ("id", "text"):
        missing |= text.str.lower().isin(_NA_SPELLINGS).to_numpy()
    return text, missing


def parse_column(
    values: pd.Series,
    spec: ColumnSpec,
    *,
    column: str,
    rows: np.ndarray,
    date_format: str | None,
    timezone: str | None,
    numbers: NumberFormat = PLAIN_NUMBERS,
    **context: Any,
) -> pd.Series:
    """One raw column as the contract's ``spec`` says, or a :class:`DataError` naming the first bad rows."""
    text, missing = blank(values, spec.kind)
    index = pd.RangeIndex(len(values))

    def fail(problem: str, mask: np.ndarray, hint: str | None = None) -> DataError:
        return DataError(
            problem,
            column=column,
            n_bad=int(mask.sum()),
            examples=first_examples(rows, values, mask),
            hint=hint,
            **context,
        )

    if missing.any() and not spec.nullable and spec.kind != "text":
        what = "customer ids" if spec.kind == "id" else "values"
        hint = "Leave those rows out with missing_ids='drop' (they are counted)" if spec.kind == "id" else None
        raise fail(f"missing {what}", missing, hint)

    if spec.kind in ("id", "text"):
        return pd.Series(text.to_numpy(), index=index, dtype="str").where(~missing, None)
    if spec.kind == "number":
        return pd.Series(_parse_numbers(values, text, missing, spec, numbers, fail), index=index)
    if spec.kind == "bool":
        if pd.api.types.is_bool_dtype(values):
            return pd.Series(values.to_numpy(), index=index)
        lowered = text.str.lower()
        flags = lowered.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
        unknown = flags.isna().to_numpy() & ~missing
        if unknown.any():
            raise fail("values that are not yes/no, true/false or 1/0", unknown)
        return pd.Series(flags.fillna(False).to_numpy(dtype=bool), index=index)
    return pd.Series(
        _parse_dates(values, text, missing, fail=fail, date_format=date_format, timezone=timezone),
        index=index,
    )


def _parse_numbers(
    values: pd.Series,
    text: pd.Series,
    missing: np.ndarray,
    spec: ColumnSpec,
    numbers: NumberFormat,
    fail: Callable[..., DataError],
) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        raise fail("true/false values where numbers are expected", np.ones(len(values), bool))
    if pd.api.types.is_numeric_dtype(values) or numbers.plain:
        parsed = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
        unread = np.isnan(parsed) & ~missing
    else:
        parsed, unread = numbers.parse(text, money=spec.name in MONEY_COLUMNS)
        unread |= np.isnan(parsed) & ~missing
    if unread.any():
        samples = [str(v) for v in text[unread].head(20)]
        raise fail("non-numeric values", unread, numbers.hint(samples))
    infinite = np.isinf(parsed)
    if infinite.any():
        raise fail("infinite values", infinite)
    if spec.name in MONEY_COLUMNS:
        too_large = np.abs(parsed) >= MAX_MONEY
        if too_large.any():
            raise fail(
                "amounts too large (money must stay below 1e14 in absolute value, the limit of every engine)",
                too_large,
                "Check the unit and the decimal separator of the column",
            )
    return parsed


def _parse_dates(
    values: pd.Series,
    text: pd.Series,
    missing: np.ndarray,
    *,
    fail: Callable[..., DataError],
    date_format: str | None,
    timezone: str | None,
) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.Series(values.to_numpy() if values.dt.tz is None else values)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert(timezone or stamps.dt.tz).dt.tz_localize(None)
        return stamps.to_numpy(dtype="datetime64[ns]")
    text = text.where(~missing, None)
    offsets = text.str.extract(_TZ_SUFFIX, expand=False)
    aware = offsets.notna().to_numpy() & (date_format is None)
    if aware.any():
        naive = ~aware & ~missing
        if naive.any():
            smaller = naive if naive.sum() <= aware.sum() else aware
            raise fail(
                "timestamps mixing a UTC offset with none",
                smaller,
                "Give every timestamp the same form",
            )
        offsets = offsets[aware]
        distinct = offsets.unique()
        if len(distinct) > 1 and timezone is None:
            first = offsets != offsets.iloc[0]
            mask = np.zeros(len(text), bool)
            mask[np.flatnonzero(aware)[first.to_numpy()]] = True
            raise fail(
                f"mixed time zones ({', '.join(map(str, distinct[:4]))})",
                mask,
                "Pass timezone='Europe/Berlin' (say) to convert all timestamps to one zone",
            )
        stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        zone = timezone or _fixed_offset(distinct[0])
        parsed = stamps.dt.tz_convert(zone).dt.tz_localize(None)
    else:
        fmt = date_format or "ISO8601"
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if timezone is not None:
            parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
            parsed = parsed.dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    bad = parsed.isna().to_numpy() & ~missing
    if bad.any():
        expected = f"format {date_format!r}" if date_format else "ISO 8601 (YYYY-MM-DD)"
        raise fail(
            "unparseable dates",
            bad,
            f"Expected {expected}; pass date_format='%d.%m.%Y' (say) for other forms",
        )
    return parsed.to_numpy()


def _fixed_offset(suffix: str) -> dt_timezone:
    if suffix == "Z":
        return UTC
    sign = -1 if suffix[0] == "-" else 1
    digits = suffix[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt_timezone(sign * timedelta(hours=hours, minutes=minutes))
