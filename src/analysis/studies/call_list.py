"""Whom to call now: customers ranked at the last day of data by expected value at risk, with reason and action.

The churn study's alert list is a backtest (scored where the outcome is
known, to measure precision and recall). The *call list* is what a team acts
on: the same model scored on the signals at the last day of data, no outcome
column, each customer with grade, churn probability, value at risk, the
warning signs that fired and the action of the domain notes' value x risk
grid (:data:`analysis.grading.policy.VALUE_RISK_ACTIONS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.churn.alerts import alert_list
from analysis.churn.frames import transaction_churn_frame
from analysis.churn.models import LogisticModel
from analysis.data.sources import data_sources
from analysis.engines.rows import date_range
from analysis.files import publish_file, write_csv, write_xlsx
from analysis.grading.policy import VALUE_RISK_ACTIONS
from analysis.privacy import pseudonymise
from analysis.studies.churn import current_grades, score, with_grade_flags
from analysis.studies.parameters import ChurnParameters
from analysis.studies.sources import SYNTHETIC_B2B
from analysis.value.tiers import risk_bands

__all__ = ["WARNING_SIGNS", "call_list", "customers_table", "export_call_list"]


#: The 0/1 warning signs a call list names, with the words it names them in.
WARNING_SIGNS = {
    "beyond_usual_gap": "no purchase for over twice the usual gap",
    "dormant": "one purchase only, long ago",
    "frequency_drop": "buys less often than the quarter before",
    "value_drop": "spends less than the quarter before",
}


def call_list(
    model: LogisticModel,
    transactions: pd.DataFrame,
    params: ChurnParameters,
    *,
    customers: pd.DataFrame | None = None,
    pseudonym_key: bytes | None = None,
) -> pd.DataFrame:
    """The ``params.capacity`` customers to contact now, ranked by expected value at risk.

    Parameters
    ----------
    model : LogisticModel
        The study's fitted churn model.
    transactions : DataFrame
        The study's transactions; the signals are taken at their last day
        (or ``params.data_end``), using nothing later.
    params : ChurnParameters
        Dated parameters (``capacity``, lookback and windows).
    customers : DataFrame, optional
        The customers table: its ``name`` column is added when present.
    pseudonym_key : bytes, optional
        Replace the customer ids (and drop names) by keyed pseudonyms.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``customer_id``, (``name``), ``grade``, ``churn_probability``,
        ``risk`` (low/medium/high at 0.3 and 0.6), ``trailing_value``
        (value over the lookback), ``value_at_risk``, ``signals`` (the warning
        signs that fired, in words), ``action``, ``as_of`` (the date of the
        signals). No outcome: nobody knows it yet.
    """
    now = pd.Timestamp(params.data_end) if params.data_end else date_range(transactions, engine=params.engine)[1]
    grades = current_grades(transactions, now, params.engine)
    options = params.frame_options() | {"data_end": now}
    frame = with_grade_flags(transaction_churn_frame(transactions, as_of=now, grades=grades, outcomes=False, **options))
    scored = score(model, frame)
    signs = [s for s in WARNING_SIGNS if s in scored]
    ranked = alert_list(scored, capacity=params.capacity, columns=["grade", *signs]).alerts
    fired = ranked[signs].to_numpy(dtype=bool)
    words = np.array([WARNING_SIGNS[s] for s in signs], dtype=object)
    ranked["signals"] = ["; ".join(words[row]) or "-" for row in fired]
    ranked["risk"] = risk_bands(ranked["churn_probability"]).astype("str").to_numpy()
    labels = [g for g in ("A", "B", "C") if g in set(grades["grade"].dropna())]
    rank = {g: "top" if i == 0 else ("bottom" if i == len(labels) - 1 else "middle") for i, g in enumerate(labels)}
    actions = VALUE_RISK_ACTIONS.set_index(["tier_rank", "risk"])["action"]
    ranked["action"] = [
        actions.get((rank.get(g, "bottom"), r), "-") for g, r in zip(ranked["grade"], ranked["risk"], strict=True)
    ]
    ranked = ranked.rename(columns={"value": "trailing_value"})
    columns = ["rank", "customer_id", "grade", "churn_probability", "risk", "trailing_value", "value_at_risk"]
    result = ranked[[*columns, "signals", "action"]].assign(as_of=now.date().isoformat())
    if customers is not None and "name" in customers and pseudonym_key is None:
        names = customers.drop_duplicates("customer_id").set_index("customer_id")["name"]
        result.insert(2, "name", result["customer_id"].map(names).to_numpy())
    if pseudonym_key is not None:
        result = pseudonymise(result, pseudonym_key)
    return result.reset_index(drop=True)


def export_call_list(table: pd.DataFrame, path: str | Path) -> list[Path]:
    """Write the call list as CSV (UTF-8 with BOM, formula-safe, opens in Excel) and ``.xlsx`` beside it.

    ``path`` names the CSV (``.csv``); the ``.xlsx`` gets the same stem. An
    existing file is never overwritten; files are written atomically and
    readable by their owner only (customer lists).
    """
    csv_path = Path(path).with_suffix(".csv")
    written = [
        publish_file(csv_path, lambda staging: write_csv(staging, table, excel=True), mode=0o600),
        publish_file(
            csv_path.with_suffix(".xlsx"), lambda staging: write_xlsx(staging, table, sheet="call list"), mode=0o600
        ),
    ]
    return written


def customers_table(params: ChurnParameters) -> pd.DataFrame | None:
    """The customers table of the study's source file (for names on the call list), or ``None`` without one."""
    if params.data_source in ("cdnow", SYNTHETIC_B2B) or Path(params.data_source).suffix.lower() not in (
        ".yaml",
        ".yml",
    ):
        return None
    described = data_sources(params.data_source, missing_ids=params.missing_ids)
    table = described.tables.get("customers")
    return None if table is None else table.read()
