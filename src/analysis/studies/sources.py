"""Where a study's transactions come from: a shipped dataset, synthetic data, or a user file."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.contract import EVENT_DATE, LATER_ROWS
from analysis.data.datasets import DATASETS, load_dataset
from analysis.data.sources import FORMAT_OPTIONS, TableSource, data_sources
from analysis.data.validate import rows_up_to
from analysis.errors import DataError, ParameterError, check_option
from analysis.synthetic.generate import generate_b2b

__all__ = ["SYNTHETIC_B2B", "load_tables", "load_transactions"]

#: Name of the synthetic B2B source (generated, clearly labelled synthetic).
SYNTHETIC_B2B = "synthetic_b2b"


def load_transactions(source: str, **options: Any) -> pd.DataFrame:
    """The transactions of a study's data source, validated (:func:`load_tables` with ``tables=("transactions",)``)."""
    return load_tables(source, tables=("transactions",), **options)["transactions"]


def load_tables(
    source: str,
    *,
    columns: Mapping[str, str] | None = None,
    seed: int = 0,
    synthetic_customers: int = 2000,
    up_to: str | pd.Timestamp | None = None,
    later_rows: str = "refuse",
    today: str | pd.Timestamp | None = None,
    tables: tuple[str, ...] | None = None,
    **formats: Any,
) -> dict[str, pd.DataFrame]:
    """Every table of a study's data source (or those named in ``tables``), validated.

    The shipped CDNOW data has transactions only; the synthetic source has
    every table of the contract; a user's source file has the tables it lists.

    Parameters
    ----------
    source : str
        ``"cdnow"`` (shipped), ``"synthetic_b2b"`` (the seeded synthetic B2B
        base of :mod:`analysis.synthetic`, with margins and regions), a
        transactions file (CSV, CSV.gz, Parquet file or folder, spreadsheet)
        or a YAML source file listing the user's tables
        (:mod:`analysis.data.sources`).
    columns : mapping, optional
        For a transactions file, ``{contract name: your column name}``.
    seed, synthetic_customers
        For the synthetic source.
    up_to : date, optional
        The last day the study uses (its ``as_of``), so that nothing later
        can reach the study, not even its data profile.
    later_rows : {"refuse", "drop"}
        Rows dated after ``up_to``, or after ``today`` (future-dated rows,
        whatever ``up_to`` is): an error naming their count and first rows
        (default), or left out and counted in ``attrs["rows_after_as_of"]``.
    today : date, optional
        The date of the run (default: the machine's date).
    tables : tuple of str, optional
        Only these tables (the transactions are always read).
    **formats
        How a transactions file is written (:data:`analysis.data.sources.FORMAT_OPTIONS`:
        ``date_format``, ``encoding``, ``delimiter``, ``decimal``, ``thousands``,
        ``currency_symbol``, ``missing_ids``, ``sheet``).

    Returns
    -------
    dict of str to DataFrame
        Validated tables by contract name; ``attrs["source"]`` names each file.
    """
    check_option("later_rows", later_rows, LATER_ROWS)
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today).normalize()
    end = today if up_to is None else min(pd.Timestamp(up_to).normalize(), today)
    after = "today" if up_to is None or end < pd.Timestamp(up_to).normalize() else "the analysis date"
    named = source == SYNTHETIC_B2B or source in DATASETS
    changed = {k: v for k, v in formats.items() if v != FORMAT_OPTIONS.get(k, object())}
    if named and (columns or changed):
        name = "column_map" if columns else sorted(changed)[0]
        raise ParameterError(
            name, columns or changed[name], f"nothing with the named source {source!r} (a file's option)"
        )
    found: dict[str, pd.DataFrame] = {}
    if source == SYNTHETIC_B2B:
        base = generate_b2b(synthetic_customers, seed=seed)
        label = f"synthetic B2B (seed {seed}, {synthetic_customers} customers)"
        found = {
            name: getattr(base, name) for name in ("transactions", "customers", "invoices", "complaints", "contacts")
        }
    elif source in DATASETS:
        if source != "cdnow":
            raise ParameterError("data_source", source, "a transactions source: 'cdnow', 'synthetic_b2b' or a file")
        found, label = {"transactions": load_dataset(source)}, source
    elif not Path(source).suffix and not Path(source).is_dir():
        raise ParameterError(
            "data_source",
            source,
            "'cdnow', 'synthetic_b2b', a data file (.csv, .parquet, .xlsx ...) or a sources .yaml",
        )
    else:
        described = data_sources(source, columns=columns, **formats)
        for name, table in described.tables.items():
            if tables is None or name in tables or name == "transactions":
                found[name] = _read(table, end, later_rows, after)
        label = found["transactions"].attrs.get("source", source)
    if named:
        found = {
            name: rows_up_to(frame, end, later_rows=later_rows, file=label, after=after, date_column=EVENT_DATE[name])
            if EVENT_DATE[name] in frame
            else frame
            for name, frame in found.items()
            if tables is None or name in tables
        }
    if found["transactions"].empty:
        raise DataError(f"no transactions on or before {end.date()}", file=label, column="date")
    for frame in found.values():
        frame.attrs.setdefault("source", label)
    found["transactions"].attrs["source"] = label
    return found


def _read(table: TableSource, end: pd.Timestamp, later_rows: str, after: str) -> pd.DataFrame:
    """One user table up to ``end``; rows after it named as after ``today`` or the analysis date."""
    try:
        return table.read(as_of=end, later_rows=later_rows)
    except DataError as exc:
        if after != "today" or not exc.problem.startswith("dates after the analysis date"):
            raise
        raise dataclasses.replace(exc, problem=exc.problem.replace("the analysis date", after)) from None
