"""Where a study's transactions come from: a shipped dataset, synthetic data, or a user file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.data import DATASETS, load_dataset, read_transactions
from analysis.errors import DataError, ParameterError
from analysis.synthetic import generate_b2b

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
        For a user file, as in :func:`analysis.data.read_transactions`.
    seed, synthetic_customers
        For the synthetic source.
    up_to : date, optional
        Keep only rows dated on or before this day (the study's ``as_of``),
        so that nothing later can reach the study, not even its data profile.

    Returns
    -------
    pandas.DataFrame
        A validated transactions table; ``attrs["source"]`` names it.
    """
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
        frame, label = read_transactions(source, columns=columns, date_format=date_format or None), source
    if up_to is not None:
        end = pd.Timestamp(up_to).normalize() + pd.Timedelta(days=1)
        frame = frame[frame["date"] < end].reset_index(drop=True)
        if frame.empty:
            raise DataError(f"no transactions on or before {pd.Timestamp(up_to).date()}", file=label, column="date")
    frame.attrs["source"] = label
    return frame
