"""The run's exports for spreadsheets: one table of every customer across the studies, as CSV and ``.xlsx``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.files import publish_for_excel

__all__ = ["STUDY_CUSTOMERS", "write_customer_table"]


#: Each study's per-customer export in a run's ``exports/`` (the study's ``customers_path``).
STUDY_CUSTOMERS = {"grading": "customers_grading.parquet", "value": "customers_value.parquet"}


def write_customer_table(folder: Path) -> list[Path]:
    """Join the studies' per-customer exports of a run into ``exports/customers.csv`` and ``.xlsx``.

    One row per customer known to any study: ``customer_id``, then the
    grading study's ``grade`` and ``grade_status``, the value study's RFM
    ``segment``, pyramid ``tier``, ``absolute_tier``, ``p_alive``, ``clv``,
    ``risk`` and ``action`` (each study's ``as_of`` suffixed). Customers a
    study does not know have empty cells there. Nothing is written when no
    study exported its customers.
    """
    exports = Path(folder) / "exports"
    found = {
        study: pd.read_parquet(exports / name) for study, name in STUDY_CUSTOMERS.items() if (exports / name).exists()
    }
    if not found:
        return []
    table: pd.DataFrame | None = None
    for study, frame in found.items():
        frame = frame.rename(columns={"as_of": f"{study}_as_of"})
        table = frame if table is None else table.merge(frame, on="customer_id", how="outer")
    assert table is not None
    table = table.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return publish_for_excel(exports / "customers.csv", table, sheet="customers")
