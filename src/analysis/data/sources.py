"""One description of a user's data: a file with its format options, or a YAML source file listing the tables.

A *source file* (``sources.yaml``) names each table of the data contract
(``transactions`` required; ``customers``, ``invoices``, ``complaints``,
``contacts`` optional) with its path and how to read it, once::

    defaults:                 # optional: options every table shares
      encoding: gb18030
      date_format: "%Y/%m/%d"
      thousands: ","
      currency_symbol: "¥"
    transactions:
      path: 订单.csv           # relative to this file's folder, never outside it
      columns: {customer_id: 客户编号, date: 订单日期, amount: 金额(元), margin: 毛利}
    customers:
      path: 客户.xlsx
      sheet: 客户
      columns: {customer_id: 客户编号, acquisition_date: 首次合作日期}

The file is plain data (:func:`analysis.parameters.load_yaml_data`); an
unknown table or option is refused, naming it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.contract import CONTRACT, MISSING_IDS
from analysis.data.parsing import NumberFormat
from analysis.data.readers import read_table
from analysis.errors import ParameterError, check_option
from analysis.parameters import load_yaml_data

__all__ = [
    "FORMAT_OPTIONS",
    "SOURCE_FILE_SUFFIXES",
    "DataSources",
    "TableSource",
    "data_sources",
    "inside",
    "with_options",
]


#: Suffixes of a source file.
SOURCE_FILE_SUFFIXES = (".yaml", ".yml")


#: How a table is read, with each option's default (the same names as the study parameters and CLI flags).
FORMAT_OPTIONS: dict[str, Any] = {
    "date_format": "",
    "encoding": "utf-8",
    "delimiter": ",",
    "decimal": ".",
    "thousands": "",
    "currency_symbol": "",
    "missing_ids": "refuse",
    "sheet": "",
}


@dataclass(frozen=True)
class TableSource:
    """One table of the contract in a file: where it is and how to read it.

    Attributes
    ----------
    table : str
        The contract table (``"transactions"``, ``"customers"``, ...).
    path : str
        The file (absolute).
    columns : dict
        ``{contract name: the file's column name}``.
    options : dict
        The :data:`FORMAT_OPTIONS` that differ from their defaults.
    """

    table: str
    path: str
    columns: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_option("table", self.table, CONTRACT)
        names = {s.name for s in CONTRACT[self.table]}
        for key, value in self.columns.items():
            if key not in names:
                raise ParameterError(
                    f"{self.table}.columns", key, f"a column of the {self.table} table: {sorted(names)}"
                )
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(f"{self.table}.columns.{key}", value, "the file's column name (text)")
        for key, value in self.options.items():
            if key not in FORMAT_OPTIONS:
                raise ParameterError(f"{self.table}.{key}", value, f"one of the options {sorted(FORMAT_OPTIONS)}")
        check_option("missing_ids", self.options.get("missing_ids", "refuse"), MISSING_IDS)
        self.number_format()  # checks decimal, thousands and currency symbols

    def number_format(self) -> NumberFormat:
        """The table's number format (checked)."""
        symbol = self.options.get("currency_symbol") or ()
        return NumberFormat(
            decimal=self.options.get("decimal", "."),
            thousands=self.options.get("thousands", ""),
            currency=(symbol,) if isinstance(symbol, str) else tuple(symbol),
        )

    def read(self, *, as_of: str | pd.Timestamp | None = None, later_rows: str = "refuse") -> pd.DataFrame:
        """The table read and validated (:func:`analysis.data.readers.read_table`)."""
        options = FORMAT_OPTIONS | self.options
        frame = read_table(
            self.path,
            self.table,
            columns=self.columns,
            date_format=options["date_format"] or None,
            encoding=options["encoding"],
            delimiter=options["delimiter"],
            decimal=options["decimal"],
            thousands=options["thousands"],
            currency_symbol=self.number_format().currency,
            missing_ids=options["missing_ids"],
            sheet=options["sheet"] if options["sheet"] != "" else None,
            as_of=as_of,
            later_rows=later_rows,
        )
        return frame


@dataclass(frozen=True)
class DataSources:
    """A user's data: the contract's tables, each a :class:`TableSource`; ``origin`` is what the user named."""

    origin: str
    tables: dict[str, TableSource]

    @property
    def transactions(self) -> TableSource:
        """The transactions table (always present)."""
        return self.tables["transactions"]

    def files(self) -> list[str]:
        """Every file the data is read from: the source file (if any) and each table's file."""
        found = [self.origin] if Path(self.origin).suffix.lower() in SOURCE_FILE_SUFFIXES else []
        return found + [t.path for t in self.tables.values()]


def data_sources(
    source: str | os.PathLike[str], *, columns: Mapping[str, str] | None = None, **options: Any
) -> DataSources:
    """The data a user named: a source file (``.yaml``), or a transactions file read with ``columns`` and ``options``.

    Parameters
    ----------
    source : path
        A YAML source file (see the module's documentation), or a
        transactions file (CSV, CSV.gz, Parquet file or folder, spreadsheet).
    columns : mapping, optional
        For a transactions file: ``{contract name: your column name}``.
    **options
        For a transactions file: any of :data:`FORMAT_OPTIONS`. With a source
        file they must be left at their defaults (the file says how each
        table is read), but ``missing_ids="drop"``, which then applies to
        every table.

    Raises
    ------
    ParameterError
        On an unknown table or option, a path outside the source file's
        folder, or format options given beside a source file.
    """
    path = Path(source).expanduser().absolute()
    given = {k: v for k, v in options.items() if v != FORMAT_OPTIONS.get(k, object())}
    unknown = sorted(set(options) - set(FORMAT_OPTIONS))
    if unknown:
        raise ParameterError(unknown[0], options[unknown[0]], f"one of the options {sorted(FORMAT_OPTIONS)}")
    if path.suffix.lower() not in SOURCE_FILE_SUFFIXES:
        return DataSources(
            str(path), {"transactions": TableSource("transactions", str(path), dict(columns or {}), given)}
        )
    policy = {"missing_ids": given.pop("missing_ids")} if "missing_ids" in given else {}
    if columns or given:
        name = "column_map" if columns else sorted(given)[0]
        raise ParameterError(
            name, columns or given[name], f"nothing beside a source file: {path.name} says how each table is read"
        )
    described = read_source_file(path)
    return with_options(described, **policy) if policy else described


def read_source_file(path: Path) -> DataSources:
    """The tables a YAML source file lists (see the module's documentation)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError("data_source", str(path), f"a readable UTF-8 YAML source file ({exc})") from exc
    described = load_yaml_data(text, path.name)
    if not isinstance(described, dict):
        raise ParameterError("data_source", str(path), "a YAML mapping of tables (transactions: {path: ...})")
    defaults = described.pop("defaults", {}) or {}
    if not isinstance(defaults, dict):
        raise ParameterError("defaults", defaults, "a mapping of format options")
    if "transactions" not in described:
        raise ParameterError("transactions", None, f"a transactions table in {path.name} (path: ..., columns: ...)")
    tables = {}
    for table, entry in described.items():
        if table not in CONTRACT:
            raise ParameterError(table, entry, f"a table of the contract {list(CONTRACT)} or 'defaults' in {path.name}")
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ParameterError(f"{table}.path", entry, f"a mapping with the table's path (relative to {path.parent})")
        columns = entry.get("columns") or {}
        if not isinstance(columns, dict):
            raise ParameterError(f"{table}.columns", columns, "a mapping {contract name: your column name}")
        options = defaults | {k: v for k, v in entry.items() if k not in ("path", "columns")}
        options = {k: v for k, v in options.items() if v != FORMAT_OPTIONS.get(k, object())}
        tables[table] = TableSource(table, inside(path.parent, entry["path"], f"{table}.path"), columns, options)
    return DataSources(str(path), tables)


def inside(folder: Path, relative: str, parameter: str) -> str:
    """``relative`` joined to ``folder``, refused if it leaves the folder (absolute, ``..``).

    Examples
    --------
    >>> inside(Path("/data"), "sales/2024.csv", "path")
    '/data/sales/2024.csv'
    >>> inside(Path("/data"), "../etc/passwd", "path")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'path' = '../etc/passwd': expected a path inside /data ...
    """
    joined = Path(os.path.normpath(folder / relative))
    if Path(relative).is_absolute() or not joined.is_relative_to(folder):
        raise ParameterError(parameter, relative, f"a path inside {folder} (the source file's folder)")
    return str(joined)


def with_options(source: DataSources, **options: Any) -> DataSources:
    """The same sources with ``options`` set on every table (e.g. ``missing_ids="drop"`` from the command line)."""
    return dataclasses.replace(
        source,
        tables={name: dataclasses.replace(t, options=t.options | options) for name, t in source.tables.items()},
    )
