"""Validation of a raw table against the contract: every column parsed and checked, problems named by row."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import check_date
from analysis.data.contract import CONTRACT, EVENT_DATE, LATER_ROWS, MAX_MONEY, MISSING_IDS, ColumnSpec
from analysis.data.parsing import PLAIN_NUMBERS, NumberFormat, blank, parse_column
from analysis.errors import DataError, ParameterError, check_option, first_examples

__all__ = ["rows_up_to", "validate_table"]

log = logging.getLogger("analysis")


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
    numbers: NumberFormat = PLAIN_NUMBERS,
    missing_ids: str = "refuse",
) -> pd.DataFrame:
    """A raw table checked and typed as the contract's ``table`` (see :func:`analysis.data.readers.read_table`)."""
    check_option("missing_ids", missing_ids, MISSING_IDS)
    specs = CONTRACT[table]
    mapping = {spec.name: spec.name for spec in specs} | dict(columns or {})
    unknown = set(columns or {}) - {spec.name for spec in specs}
    if unknown:
        raise ParameterError("columns", dict(columns or {}), f"keys among {[s.name for s in specs]}")
    rows = np.asarray(rows)
    n_rows = len(raw)
    if n_rows == 0:
        raise DataError("no data rows", file=file)
    derived_amount = table == "transactions" and _amount_from_price(raw, mapping)
    missing = [
        s
        for s in specs
        if s.required and mapping[s.name] not in raw.columns and not (derived_amount and s.name == "amount")
    ]
    if missing:
        raise _missing_columns_error(raw, missing, mapping, file=file, delimiter_hint=True)
    without_id = 0
    if missing_ids == "drop":
        _, absent = blank(raw[mapping["customer_id"]], "id")
        without_id = int(absent.sum())
        if without_id:
            log.info("%s: left out %d rows without a customer id", file, without_id)
            raw, rows = raw.iloc[np.flatnonzero(~absent)], rows[~absent]
            if raw.empty:
                raise DataError("no row has a customer id", file=file, column=mapping["customer_id"])

    context = dict(file=file, n_rows=n_rows, row_label=row_label)
    out: dict[str, pd.Series] = {}
    for spec in specs:
        name = mapping[spec.name]
        if name not in raw.columns:
            continue
        values = raw[name]
        if values.ndim != 1:
            raise DataError("column name appears more than once", file=file, column=name)
        out[spec.name] = parse_column(
            values,
            spec,
            column=name,
            rows=rows,
            date_format=date_format,
            timezone=timezone,
            numbers=numbers,
            **context,
        )
    if derived_amount:
        out["amount"] = _price_times_quantity(out, column=f"{mapping['quantity']} x {mapping['unit_price']}", **context)
        out = {spec.name: out[spec.name] for spec in specs if spec.name in out}
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
    result.attrs["rows_without_customer_id"] = without_id
    if derived_amount:
        result.attrs["amount_from"] = f"{mapping['quantity']} x {mapping['unit_price']}"
    return result


def _amount_from_price(raw: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    """Whether the amount is to be computed as quantity x unit price (no amount column, both of those)."""
    return mapping["amount"] not in raw.columns and all(mapping[c] in raw.columns for c in ("quantity", "unit_price"))


def _price_times_quantity(parsed: Mapping[str, pd.Series], *, column: str, **context: Any) -> pd.Series:
    """The line amount = quantity x unit price (rounded to 4 decimals), within the money limit."""
    amount = (parsed["quantity"] * parsed["unit_price"]).round(4)
    too_large = (amount.abs() >= MAX_MONEY).to_numpy()
    if too_large.any():
        raise DataError(
            "quantity x unit price too large (money must stay below 1e14 in absolute value)",
            column=column,
            n_bad=int(too_large.sum()),
            **context,
        )
    return amount


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
