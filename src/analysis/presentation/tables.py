"""A result table as a report table: human headers, numbers formatted for people, intervals in one cell.

Every table a study report displays goes through :func:`show`. It never
changes the numbers, only how they read:

* headers in words from the message catalogue (``customers`` -> "Customers",
  "客户数"), identifiers in label columns too (``np.log1p(recency_days)`` ->
  "log(1 + recency days)");
* no index column unless the index is a label (then it becomes the first
  column);
* shares as %, money with separators and the currency, counts as integers,
  p-values as "< 0.001", dates as days, booleans as yes/no, and never
  scientific notation;
* an estimate with its interval columns (``auc``, ``auc_lower_95``,
  ``auc_upper_95``; ``estimate``, ``lower``, ``upper``) as one cell
  "0.71 (0.69–0.73)";
* a missing or undefined value as "–", with a note under the table;
* in HTML, a box that scrolls sideways when the table is wider than the page
  (and wraps when printed).

Which columns are shares, money or p-values is read from their names (the
package's names say what they are: ``churn_rate``, ``share_of_value``,
``clv``, ``value_at_risk``, ``p_value``), and can be set per call. The
plain-text form (what nbval compares) is the same formatted table.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.presentation.messages import check_language, translate
from analysis.presentation.numbers import (
    MISSING,
    count_text,
    date_text,
    interval_text,
    money_text,
    number_text,
    p_value_text,
    percent_text,
)

__all__ = ["ReportTable", "column_kinds", "header", "show"]

_PERCENT_WORDS = (
    "share",
    "rate",
    "prevalence",
    "p_alive",
    "probability",
    "precision",
    "recall",
    "coverage",
    "top_grade_",
    "kept",
)
_MONEY_NAMES = {"value", "clv", "amount", "revenue", "spend", "margin", "value_at_risk", "trailing_value", "cutoff"}
_MONEY_ENDINGS = ("_value", "_clv", "_amount", "_revenue", "_spend", "_margin", "value_at_risk", "value_lost")
_NOT_MONEY = ("ratio", "share", "rank", "count", "customers", "p_value")
_LABEL_COLUMNS = {"signal", "term", "covariate", "parameter", "measure", "metric", "kind", "model", "rule", "verdict"}
_INTERVAL_ENDS = (("_lower_95", "_upper_95"), ("_lower", "_upper"))


def header(column: Any, language: str = "en") -> str:
    """A column's header in words: its catalogue entry, else the name with spaces and a capital.

    >>> header("churn_rate_with"), header("np.log1p(occasions)"), header("customers", "zh")
    ('Churn rate with', 'Log(1 + occasions)', '客户数')
    """
    name = str(column)
    found = translate(name, language, "column")
    if found != name:
        return found
    return _humanize(name, capital=True)


def _humanize(name: str, *, capital: bool = False) -> str:
    text = re.sub(r"\bsigned_log1p\(([^)]*)\)", r"signed log(1 + \1)", name)
    text = re.sub(r"\bnp\.log1p\(([^)]*)\)", r"log(1 + \1)", text)
    text = re.sub(r"\bnp\.log\(([^)]*)\)", r"log(\1)", text)
    text = re.sub(r"C\(([^)]*)\)\[T\.([^\]]*)\]", r"\1 = \2", text)
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:] if capital and not text[:1].isupper() else text


def _label_text(value: Any, language: str) -> str:
    if not isinstance(value, str):
        return MISSING if pd.isna(value) else str(value)
    found = translate(value, language, "label")
    if found != value:
        return found
    if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", value) or "log1p(" in value or value.startswith("C("):
        return _humanize(value)
    return value


def _is_percent(name: str) -> bool:
    return any(word in name for word in _PERCENT_WORDS) and "ratio" not in name and not name.startswith("n_")


def _is_money(name: str) -> bool:
    if any(word in name for word in _NOT_MONEY):
        return False
    return name in _MONEY_NAMES or name.endswith(_MONEY_ENDINGS)


def column_kinds(frame: pd.DataFrame, *, money: bool = True, **given: Iterable[str]) -> dict[str, str]:
    """How each column is shown: percent, money, count, p_value, date, yes_no, number or label.

    ``given`` maps a kind to the columns it is forced on (``percent=["lift"]``);
    ``money=False`` shows value columns as plain numbers (when the value is a
    count of purchases).

    >>> kinds = column_kinds(pd.DataFrame({"grade": ["A"], "customers": [3], "share_of_value": [0.5], "clv": [1.0]}))
    >>> kinds
    {'grade': 'label', 'customers': 'count', 'share_of_value': 'percent', 'clv': 'money'}
    """
    forced = {str(column): kind for kind, columns in given.items() for column in columns}
    kinds = {}
    for column in frame.columns:
        name, values = str(column), frame[column]
        if name in forced:
            kinds[name] = forced[name]
        elif pd.api.types.is_bool_dtype(values):
            kinds[name] = "yes_no"
        elif pd.api.types.is_datetime64_any_dtype(values):
            kinds[name] = "date"
        elif not pd.api.types.is_numeric_dtype(values):
            kinds[name] = "label"
        elif name == "p_value" or name.startswith("p_value"):
            kinds[name] = "p_value"
        elif _is_percent(name):
            kinds[name] = "percent"
        elif _is_money(name):
            kinds[name] = "money" if money else "number"
        elif pd.api.types.is_integer_dtype(values):
            kinds[name] = "count"
        else:
            kinds[name] = "number"
    return kinds


def _cell(value: Any, kind: str, language: str, currency: str, row_label: str = "") -> str:
    if kind == "label":
        if isinstance(value, bool):
            return translate("yes" if value else "no", language, "label")
        if isinstance(value, pd.Timestamp):
            return date_text(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _cell(value, _row_kind(row_label, value, True), language, currency)
        return _label_text(value, language)
    if kind == "yes_no":
        return MISSING if pd.isna(value) else translate("yes" if value else "no", language, "label")
    if kind == "date":
        return date_text(value)
    if kind == "percent":
        return percent_text(value, language)
    if kind == "money":
        return money_text(value, currency, language)
    if kind == "count":
        return count_text(value, language)
    if kind == "p_value":
        return p_value_text(value)
    return number_text(value, language)


def _row_kind(label: str, value: Any, money: bool) -> str:
    """How a number in a mixed column (``measure``/``value`` tables) reads, from its row's label."""
    words = label.lower()
    if words in {"count", "n", "customers", "rows"}:
        return "count"
    if any(word in words for word in ("share", "rate", "%")):
        return "percent"
    if money and any(word in words for word in ("amount", "revenue", "margin", "clv")):
        return "money"
    try:
        return "count" if float(value).is_integer() and abs(float(value)) >= 1 else "number"
    except (TypeError, ValueError):
        return "label"


def _interval_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """``{estimate column: (lower column, upper column)}`` of the intervals in ``columns``."""
    found: dict[str, tuple[str, str]] = {}
    for column in columns:
        for low, high in _INTERVAL_ENDS:
            if column + low in columns and column + high in columns:
                found[column] = (column + low, column + high)
                break
    for low, high in (("lower_95", "upper_95"), ("lower", "upper")):
        if low in columns and high in columns and not any(low in pair for pair in found.values()):
            before = columns[: columns.index(low)]
            estimate = "estimate" if "estimate" in before else (before[-1] if before else None)
            if estimate is not None and estimate not in found:
                found[estimate] = (low, high)
    return found


@dataclass(frozen=True)
class ReportTable:
    """A formatted table: ``cells`` (strings, headers in words), an optional note; HTML and text forms."""

    cells: pd.DataFrame
    numeric: tuple[str, ...]
    note: str = ""

    def _repr_html_(self) -> str:
        digest = hashlib.sha1(self.cells.to_csv().encode("utf-8")).hexdigest()[:10]
        styler = self.cells.style.hide(axis="index").set_table_attributes('class="report-table"')
        styler = styler.set_uuid(digest)
        numeric = [column for column in self.cells.columns if column in self.numeric]
        if numeric:
            styler = styler.set_properties(subset=numeric, **{"text-align": "right", "white-space": "nowrap"})
        table = styler.to_html(cell_ids=False)
        note = f'<p class="report-table-note">{self.note}</p>' if self.note else ""
        return f'<div class="report-table-scroll" style="overflow-x: auto; max-width: 100%;">{table}</div>{note}'

    def __repr__(self) -> str:
        text = self.cells.to_string(index=False) if len(self.cells.columns) else "(no columns)"
        return text + (f"\n{self.note}" if self.note else "")


def show(
    frame: pd.DataFrame,
    params: Any = None,
    *,
    language: str | None = None,
    currency: str | None = None,
    note: str = "",
    intervals: bool = True,
    rows: int | None = None,
    **kinds: Iterable[str],
) -> ReportTable:
    """``frame`` as a report table.

    Parameters
    ----------
    frame
        Any result table of the package; a labelled index becomes the first column.
    params
        The study's parameters: their ``language``, ``currency`` and (when it is
        ``"occasions"``) ``value_metric`` are used unless given here.
    language, currency
        ``"en"``/``"zh"``; the currency of money columns (``"CNY"``, ``"万元"``, ...).
    note
        A sentence under the table; a note on the "–" cells is added when any is shown.
    intervals
        Join each estimate with its interval columns into one cell.
    rows
        Show the first ``rows`` rows only (and say how many there are).
    **kinds
        Columns forced to a kind: ``percent=[...]``, ``money=[...]``, ``count=[...]``,
        ``number=[...]``, ``p_value=[...]``, ``label=[...]``.
    """
    language = check_language(language or getattr(params, "language", "en"))
    currency = currency if currency is not None else getattr(params, "currency", "")
    money = getattr(params, "value_metric", "revenue") != "occasions"
    data = frame
    if not isinstance(data.index, pd.RangeIndex) or data.index.name is not None:
        data = data.reset_index()
    data.columns = [str(column) for column in data.columns]
    total = len(data)
    if rows is not None:
        data = data.head(rows)
    found = column_kinds(data, money=money, **kinds)
    label_column = next((c for c in data.columns if c in {"measure", "metric", "parameter", "index"}), None)
    labels = data[label_column].astype(str).tolist() if label_column else [""] * len(data)
    cells = {
        column: [
            _cell(
                v,
                _row_kind(label, v, money)
                if label_column and (found[column] == "number" or label.lower() == "count") and found[column] != "label"
                else found[column],
                language,
                currency,
                label,
            )
            for v, label in zip(data[column], labels, strict=True)
        ]
        for column in data.columns
    }
    headers = {column: header(column, language) for column in data.columns}
    joined = _interval_columns(list(data.columns)) if intervals else {}
    out, numeric = {}, []
    for column in data.columns:
        if any(column in pair for pair in joined.values()):
            continue
        if column in joined:
            low, high = joined[column]
            name = f"{headers[column]} {translate('(95% CI)', language, 'column')}"
            if column == "estimate":
                name = f"{translate('Estimate', language, 'column')} {translate('(95% CI)', language, 'column')}"
            out[name] = [interval_text(*three) for three in zip(cells[column], cells[low], cells[high], strict=True)]
            numeric.append(name)
        else:
            out[headers[column]] = cells[column]
            if found[column] not in {"label", "yes_no"}:
                numeric.append(headers[column])
    table = pd.DataFrame(out)
    notes = [note] if note else []
    if (table == MISSING).to_numpy().any():
        notes.append(translate("– : not available or not defined for this row.", language))
    if rows is not None and total > rows:
        notes.append(translate("First {shown} of {total} rows.", language).format(shown=rows, total=f"{total:,}"))
    return ReportTable(table, tuple(numeric), " ".join(notes))
