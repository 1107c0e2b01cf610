"""Validation of a raw table against the contract: every column parsed and checked, problems named by row."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import check_date
from analysis.data.contract import CONTRACT, EVENT_DATE, LATER_ROWS, MAX_MONEY, MONEY_COLUMNS, ColumnSpec, Kind
from analysis.errors import DataError, ParameterError, check_option, first_examples

__all__ = ["rows_up_to", "validate_table"]

log = logging.getLogger("analysis")


# A UTC offset after a clock time: "...T10:00Z", "... 10:00:00+01:00".
_TZ_SUFFIX = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")


_NA_SPELLINGS = {"nan", "na", "n/a", "null", "none", "nat", "#n/a"}


_TRUE = {"true", "t", "yes", "y", "1"}


_FALSE = {"false", "f", "no", "n", "0"}


def rows_up_to(
    table: pd.DataFrame,
    as_of: str | pd.Timestamp,
    *,
    later_rows: str = "refuse",
    date_column: str = "date",
    file: str | None = None,
    rows: Any = None,
    row_label: str = "row",
    shown: pd.Series | None = None,
    column: str | None = None,
    after: str = "the analysis date",
) -> pd.DataFrame:
    """The rows of ``table`` dated on or before ``as_of`` (the whole day); later rows refused or dropped.

    Parameters
    ----------
    table : DataFrame
        A validated table with ``date_column``; not modified.
    as_of : date
        The last day the data may hold.
    later_rows : {"refuse", "drop"}
        ``"refuse"``: later rows raise :class:`DataError` with their count
        and first rows. ``"drop"``: they are left out; the result's
        ``attrs["rows_after_as_of"]`` counts them.
    date_column : str
        The date column of ``table``.
    file, rows, row_label, shown, column
        How the message names the source: the file, each row's line (default:
        the index), the raw values to quote and the column in the user's naming.
    after : str
        What ``as_of`` is, in the message (``"the analysis date"``, ``"today"``).

    Returns
    -------
    pandas.DataFrame
        A fresh ``RangeIndex``; ``attrs`` kept, with ``rows_after_as_of``.
    """
    check_option("later_rows", later_rows, LATER_ROWS)
    cutoff = check_date(as_of, "as_of").normalize()
    late = (table[date_column] >= cutoff + pd.Timedelta(days=1)).to_numpy()
    n_late = int(late.sum())
    if n_late and later_rows == "refuse":
        raise DataError(
            f"dates after {after} {cutoff.date()}",
            file=file or table.attrs.get("source", "<DataFrame>"),
            column=column or date_column,
            n_bad=n_late,
            n_rows=len(table),
            examples=first_examples(
                np.asarray(table.index) if rows is None else rows,
                table[date_column].dt.strftime("%Y-%m-%d") if shown is None else shown,
                late,
            ),
            row_label=row_label,
            hint="Leave them out with later_rows='drop' (--drop-later-rows on the command line), or move the date",
        )
    kept = table[~late].reset_index(drop=True) if n_late else table.reset_index(drop=True)
    kept.attrs = dict(table.attrs) | {"rows_after_as_of": n_late}
    if n_late:
        log.info("%s: left out %d rows dated after %s", file or table.attrs.get("source"), n_late, cutoff.date())
    return kept


def validate_table(
    raw: pd.DataFrame,
    table: str,
    *,
    file: str,
    rows: Any,
    row_label: str,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    timezone: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    later_rows: str = "refuse",
    returns: str = "keep",
    duplicates: str = "keep",
) -> pd.DataFrame:
    """A raw table checked and typed as the contract's ``table`` (see :func:`analysis.data.readers.read_table`)."""
    specs = CONTRACT[table]
    mapping = {spec.name: spec.name for spec in specs} | dict(columns or {})
    unknown = set(columns or {}) - {spec.name for spec in specs}
    if unknown:
        raise ParameterError("columns", dict(columns or {}), f"keys among {[s.name for s in specs]}")
    rows = np.asarray(rows)
    n_rows = len(raw)
    if n_rows == 0:
        raise DataError("no data rows", file=file)
    missing = [s for s in specs if s.required and mapping[s.name] not in raw.columns]
    if missing:
        raise _missing_columns_error(raw, missing, mapping, file=file, delimiter_hint=True)

    context = dict(file=file, n_rows=n_rows, row_label=row_label)
    out: dict[str, pd.Series] = {}
    for spec in specs:
        name = mapping[spec.name]
        if name not in raw.columns:
            continue
        values = raw[name]
        if values.ndim != 1:
            raise DataError("column name appears more than once", file=file, column=name)
        out[spec.name] = _parse_column(
            values,
            spec,
            column=name,
            rows=rows,
            date_format=date_format,
            timezone=timezone,
            **context,
        )
    result = pd.DataFrame(out)
    if table == "customers":
        used = {mapping[s.name] for s in specs}
        extra = [c for c in raw.columns if c not in used]
        result = pd.concat([result, raw[extra].astype("str").set_axis(result.index)], axis=1)
    result = result.reset_index(drop=True)
    rows = rows.copy()

    dropped_later = 0
    if as_of is not None and EVENT_DATE[table] in result:
        date_col = EVENT_DATE[table]
        late = (result[date_col] >= check_date(as_of, "as_of").normalize() + pd.Timedelta(days=1)).to_numpy()
        result = rows_up_to(
            result,
            as_of,
            later_rows=later_rows,
            date_column=date_col,
            file=file,
            rows=rows,
            row_label=row_label,
            shown=raw[mapping[date_col]],
            column=mapping[date_col],
        )
        dropped_later, rows = int(late.sum()), rows[~late]
        raw = raw.iloc[np.flatnonzero(~late)]  # later messages quote the kept rows by position
        if result.empty:
            raise DataError(
                f"no rows dated on or before {pd.Timestamp(as_of).date()} ({dropped_later:,} after it left out)",
                column=mapping[date_col],
                **context,
            )

    if table == "transactions":
        negative = (result["amount"] < 0).to_numpy()
        if negative.any() and returns == "error":
            raise DataError(
                "negative amounts (returns) with returns='error'",
                column=mapping["amount"],
                n_bad=int(negative.sum()),
                examples=first_examples(rows, raw[mapping["amount"]], negative),
                **context,
            )
        if negative.any() and returns == "drop":
            log.info("%s: dropped %d return rows (negative amounts)", file, negative.sum())
            result, rows = result[~negative].reset_index(drop=True), rows[~negative]
        if not (result["amount"] > 0).any():
            raise DataError(
                "no positive amount at all: nothing was bought",
                column=mapping["amount"],
                **context,
            )

    duplicated = result.duplicated(keep="first").to_numpy()
    if duplicated.any():
        if duplicates == "error":
            raise DataError(
                "exact duplicate rows with duplicates='error'",
                n_bad=int(duplicated.sum()),
                examples=[(r, "duplicate of an earlier row") for r in rows[duplicated][:5]],
                **context,
            )
        if duplicates == "drop":
            log.info("%s: dropped %d exact duplicate rows", file, duplicated.sum())
            result = result[~duplicated].reset_index(drop=True)
    result.attrs["source"] = file
    result.attrs["rows_after_as_of"] = dropped_later
    return result


def _missing_columns_error(
    raw: pd.DataFrame,
    missing: list[ColumnSpec],
    mapping: Mapping[str, str],
    *,
    file: str,
    delimiter_hint: bool,
) -> DataError:
    names = ", ".join(repr(mapping[s.name]) + (f" ({s.name})" if mapping[s.name] != s.name else "") for s in missing)
    found = [str(c) for c in raw.columns]
    hint = f"Found columns {found[:12]}; map yours with columns={{contract name: your name}}"
    if delimiter_hint and len(found) == 1:
        for candidate in (";", "\t", "|", ","):
            if candidate in found[0]:
                hint = (
                    f"The header was read as one column {found[0]!r}: the file looks "
                    f"{candidate!r}-delimited; pass delimiter={candidate!r}"
                )
                break
    return DataError(f"missing required column(s) {names}", file=file, hint=hint)


def _blank(values: pd.Series, kind: Kind) -> tuple[pd.Series, np.ndarray]:
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


def _parse_column(
    values: pd.Series,
    spec: ColumnSpec,
    *,
    column: str,
    rows: np.ndarray,
    date_format: str | None,
    timezone: str | None,
    **context: Any,
) -> pd.Series:
    text, missing = _blank(values, spec.kind)
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
        raise fail(f"missing {what}", missing)

    if spec.kind in ("id", "text"):
        return pd.Series(text.to_numpy(), index=index, dtype="str").where(~missing, None)

    if spec.kind == "number":
        if pd.api.types.is_bool_dtype(values):
            raise fail("true/false values where numbers are expected", np.ones(len(values), bool))
        numbers = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
        not_numeric = np.isnan(numbers) & ~missing
        if not_numeric.any():
            raise fail("non-numeric values", not_numeric, "Use plain numbers with '.' decimals")
        infinite = np.isinf(numbers)
        if infinite.any():
            raise fail("infinite values", infinite)
        if spec.name in MONEY_COLUMNS:
            too_large = np.abs(numbers) >= MAX_MONEY
            if too_large.any():
                raise fail(
                    "amounts too large (money must stay below 1e14 in absolute value, the limit of every engine)",
                    too_large,
                    "Check the unit and the decimal separator of the column",
                )
        return pd.Series(numbers, index=index)

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
