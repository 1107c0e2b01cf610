"""Where a study's transactions come from: a shipped dataset, synthetic data, or a user file."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.data.contract import LATER_ROWS
from analysis.data.datasets import DATASETS, load_dataset
from analysis.data.readers import read_transactions
from analysis.data.validate import rows_up_to
from analysis.errors import DataError, ParameterError, check_option
from analysis.synthetic.generate import generate_b2b

__all__ = ["SYNTHETIC_B2B", "load_transactions"]

#: Name of the synthetic B2B source (generated, clearly labelled synthetic).
SYNTHETIC_B2B = "synthetic_b2b"


def load_transactions(
    source: str,
    *,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    seed: int = 0,
    synthetic_customers: int = 2000,
    up_to: str | pd.Timestamp | None = None,
    later_rows: str = "refuse",
    today: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Transactions of a study's data source.

    Parameters
    ----------
    source : str
        ``"cdnow"`` (shipped), ``"synthetic_b2b"`` (the seeded synthetic B2B
        base of :mod:`analysis.synthetic`, with margins and regions), or the
        path of a CSV/Parquet file that follows the data contract (with
        ``columns`` mapping its names).
    columns, date_format
        For a user file, as in :func:`analysis.data.readers.read_transactions`.
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

    Returns
    -------
    pandas.DataFrame
        A validated transactions table; ``attrs["source"]`` names it.
    """
    check_option("later_rows", later_rows, LATER_ROWS)
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today).normalize()
    end = today if up_to is None else min(pd.Timestamp(up_to).normalize(), today)
    after = "today" if up_to is None or end < pd.Timestamp(up_to).normalize() else "the analysis date"
    if source == SYNTHETIC_B2B:
        frame = generate_b2b(synthetic_customers, seed=seed).transactions
        label = f"synthetic B2B (seed {seed}, {synthetic_customers} customers)"
    elif source in DATASETS:
        if source != "cdnow":
            raise ParameterError("data_source", source, "a transactions source: 'cdnow', 'synthetic_b2b' or a file")
        frame, label = load_dataset(source), source
    elif not Path(source).suffix:
        raise ParameterError("data_source", source, "'cdnow', 'synthetic_b2b' or a .csv/.parquet file path")
    else:
        try:
            frame = read_transactions(
                source, columns=columns, date_format=date_format or None, as_of=end, later_rows=later_rows
            )
        except DataError as exc:
            if after != "today" or not exc.problem.startswith("dates after the analysis date"):
                raise
            raise dataclasses.replace(exc, problem=exc.problem.replace("the analysis date", after)) from None
        label = source
    if source in DATASETS or source == SYNTHETIC_B2B:
        frame = rows_up_to(frame, end, later_rows=later_rows, file=label, after=after)
    if frame.empty:
        raise DataError(f"no transactions on or before {end.date()}", file=label, column="date")
    frame.attrs["source"] = label
    return frame
