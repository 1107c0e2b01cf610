"""What every study's parameters share: the declaration idiom, the data and engine fields, the parameters cell.

A study's parameters are a frozen dataclass on :class:`StudyParameters`; each
field is declared once with :func:`param` (default and meaning), and the
notebook's papermill ``parameters`` cell is generated from the declaration
(:func:`parameters_cell`). Every value must be plain data
(:mod:`analysis.parameters`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self

import pandas as pd

from analysis.data.contract import LATER_ROWS, MISSING_IDS
from analysis.data.parsing import NumberFormat
from analysis.data.sources import FORMAT_OPTIONS
from analysis.engines.select import check_engine
from analysis.errors import ParameterError, check_option
from analysis.parameters import check_types, from_namespace
from analysis.presentation.messages import check_language

__all__ = ["TRAILING", "StudyParameters", "check_counts", "check_dates", "param", "parameters_cell"]


def param(default: Any, meaning: str) -> Any:
    """A declared parameter: its default and its meaning (the comment of the notebook's parameters cell)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"help": meaning})
    return field(default=default, metadata={"help": meaning})


#: Shared parameters written after a study's own in its parameters cell (the data ones come first).
TRAILING = ("synthetic_customers", "random_seed", "engine", "language", "metrics_path", "customers_path")


@dataclass(frozen=True)
class StudyParameters:
    """What every study's parameters share: its data, the seed, the engine, where its metrics go.

    A study's declaration subclasses this one; the notebook's parameters cell
    is generated from the declaration (:func:`parameters_cell`), so names,
    types, defaults and meanings are written once, here.
    """

    data_source: str = param(
        "cdnow",
        'data: "cdnow", "synthetic_b2b" (synthetic, labelled so), a transactions file '
        "(.csv, .csv.gz, .parquet or a Parquet folder, .xlsx) or a sources .yaml listing your tables",
    )
    column_map: dict = param({}, '{contract name: your column name} for a user file, e.g. {"customer_id": "Kunde"}')
    date_format: str = param("", 'strptime format of a user file\'s dates, e.g. "%Y/%m/%d" ("" means ISO 8601)')
    encoding: str = param("utf-8", 'text encoding of a user CSV file, e.g. "gb18030" for a Chinese (GBK) export')
    delimiter: str = param(",", 'field delimiter of a user CSV file, e.g. ";" or "\\t"')
    decimal: str = param(".", 'decimal separator of a user file\'s numbers: "." or ","')
    thousands: str = param("", 'thousands separator of a user file\'s numbers, e.g. "," for 12,451.30 ("" means none)')
    currency_symbol: str = param("", 'currency symbol beside amounts, stripped, e.g. "¥" or "元" ("" means none)')
    sheet: str = param("", 'sheet of a user spreadsheet ("" means the first)')
    missing_ids: str = param(
        "refuse", 'rows without a customer id: "refuse" (an error naming them) or "drop" (left out and counted)'
    )
    later_rows: str = param(
        "refuse",
        'rows dated after the analysis date (or today): "refuse" (an error naming them) '
        'or "drop" (left out and counted)',
    )
    currency: str = param(
        "", 'currency of the amounts, e.g. "CNY", "USD" or "万元": shown in the report, sets the tiers\' scale'
    )
    return_window_days: int = param(
        30,
        "a return (negative amount) cancels the purchase it returns: the same order id when the data has one, else "
        "the customer's latest purchase at most this many days before it (0: the same day)",
    )
    synthetic_customers: int = param(2000, "customers of the synthetic source")
    random_seed: int = param(0, "seed of the synthetic data")
    engine: str = param(
        "duckdb", 'where the customer summaries run: "duckdb" (embedded), "spark", or an Ibis connection URL'
    )
    left_censored_until: str = param(
        "",
        "customers whose first purchase in the data is before this date may have bought before the data starts "
        '(left-censored: graded on observed value, no tenure statements) ("" means from the data; the first day of '
        "data means nobody)",
    )
    language: str = param("en", 'language of the report: "en" (English) or "zh" (Chinese)')
    metrics_path: str = param("", 'write the headline metrics JSON here ("" means nowhere)')
    customers_path: str = param(
        "", 'write this study\'s one row per customer here as .parquet ("" means nowhere; a run: exports/)'
    )

    def __post_init__(self) -> None:
        check_types(self)
        check_option("later_rows", self.later_rows, LATER_ROWS)
        check_option("missing_ids", self.missing_ids, MISSING_IDS)
        NumberFormat(self.decimal, self.thousands, (self.currency_symbol,) if self.currency_symbol else ())
        if len(self.delimiter) != 1:
            raise ParameterError("delimiter", self.delimiter, "one character, e.g. ',' or ';'")
        check_engine(self.engine, recorded=True)
        check_language(self.language)
        check_dates(self, "left_censored_until")
        if self.return_window_days < 0:
            raise ParameterError("return_window_days", self.return_window_days, "a whole number of days, 0 or more")
        if self.synthetic_customers < 1:
            raise ParameterError("synthetic_customers", self.synthetic_customers, "a positive whole number")

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """Build from a notebook's namespace (its papermill parameters), which must hold every declared name.

        A name missing from the namespace means the notebook's parameters cell
        is not the declaration's (regenerate it with ``make notebooks``).
        """
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in namespace]
        if missing:
            raise ParameterError(
                missing[0], None, f"a parameter of the notebook's parameters cell, generated from {cls.__name__}"
            )
        return from_namespace(cls, namespace)

    def table(self) -> pd.DataFrame:
        """The parameters as a table for a report's appendix: ``parameter``, ``value``, ``meaning``.

        Paths the runner chose for this run's outputs (metrics, exports) are
        left out: they name the run's staging folder, not a choice.
        """
        rows = [
            (item.name, _shown(getattr(self, item.name)), item.metadata.get("help", ""))
            for item in fields(self)
            if item.name not in {"metrics_path", "customers_path", "alerts_path", "call_list_path"}
        ]
        return pd.DataFrame(rows, columns=["parameter", "value", "meaning"])

    def last_day(self) -> str | None:
        """The last day of data the study may use (``None``: all of it)."""
        return getattr(self, "as_of", None) or None

    def summary_options(self) -> dict[str, Any]:
        """Keyword arguments of the customer summaries (:mod:`analysis.engines`): the engine and the return rule."""
        return {"engine": self.engine, "return_window_days": self.return_window_days}

    def data_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.studies.sources.load_transactions`: nothing after :meth:`last_day`."""
        return {
            "source": self.data_source,
            "columns": self.column_map,
            "seed": self.random_seed,
            "synthetic_customers": self.synthetic_customers,
            "up_to": self.last_day(),
            "later_rows": self.later_rows,
        } | self.format_options()

    def format_options(self) -> dict[str, Any]:
        """How the user's file is written (:data:`analysis.data.sources.FORMAT_OPTIONS`)."""
        return {name: getattr(self, name) for name in FORMAT_OPTIONS}


def check_dates(params: StudyParameters, *names: str) -> None:
    """Each named date parameter is "" (from the data) or a date."""
    for name in names:
        value = getattr(params, name)
        if value:
            try:
                pd.Timestamp(value)
            except ValueError as exc:
                raise ParameterError(name, value, "a date such as '2024-06-30' (\"\" means from the data)") from exc


def check_counts(params: StudyParameters, names: tuple[str, ...], unset: int | None = None) -> None:
    """Each named parameter is a positive whole number (or ``unset``, meaning from the data)."""
    for name in names:
        value = getattr(params, name)
        if value < 1 and value != unset:
            raise ParameterError(
                name, value, "a positive whole number" + (f" ({unset}: from the data)" if unset is not None else "")
            )


def parameters_cell(declaration: type[StudyParameters]) -> str:
    """The notebook's ``parameters`` cell generated from a declaration: ``name: type = default  # meaning``.

    The shared data parameters come first, then the study's own, then the
    seed, the engine and the metrics path.
    """
    fields = dataclasses.fields(declaration)
    ordered = [f for f in fields if f.name not in TRAILING] + [f for f in fields if f.name in TRAILING]
    lines = ["# Parameters (papermill): name: type = default  # meaning"]
    for f in ordered:
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        line = f"{f.name}: {f.type} = {_literal(default)}  # {f.metadata['help']}"
        if len(line) > 120 and isinstance(default, list) and default:
            items = "".join(f"    {_literal(v)},\n" for v in default)
            line = f"{f.name}: {f.type} = [\n{items}]  # {f.metadata['help']}"
        lines.append(line)
    return "\n".join(lines)


def _shown(value: Any) -> str:
    """A parameter's value as a report shows it ("" as "(from the data)")."""
    if value in ("", [], {}):
        return "(from the data)" if value == "" else "(none)"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _literal(value: Any) -> str:
    """A plain value as Python source with double-quoted strings (as the notebooks are written)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)
