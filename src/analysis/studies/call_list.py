"""Whom to call now: customers ranked at the last day of data by expected value at risk, with reason and action.

The churn study's alert list is a backtest (scored where the outcome is
known, to measure precision and recall). The *call list* is what a team acts
on: the same model scored on the signals at the last day of data, no outcome
column, each customer with grade, churn probability, value at risk, the
warning signs that fired and the action of the domain notes' value x risk
grid (:data:`analysis.grading.policy.VALUE_RISK_ACTIONS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.churn.alerts import alert_list
from analysis.churn.models import LogisticModel
from analysis.engines.rows import date_range
from analysis.files import publish_for_excel
from analysis.grading.policy import VALUE_RISK_ACTIONS, tier_ranks
from analysis.presentation.messages import translate
from analysis.privacy import pseudonymise
from analysis.studies.churn import score, study_frame
from analysis.studies.parameters import ChurnParameters
from analysis.value.tiers import risk_bands

__all__ = ["WARNING_SIGNS", "call_list", "export_call_list"]


#: The 0/1 warning signs a call list names, with the words it names them in.
WARNING_SIGNS = {
    "beyond_usual_gap": "no purchase for over twice the usual gap",
    "dormant": "one purchase only, long ago",
    "frequency_drop": "buys less often than the quarter before",
    "value_drop": "spends less than the quarter before",
    "late_payments": "2 or more late payments in the last quarter",
    "overdue_receivables": "overdue receivables",
    "collections_imbalance": "collections below 80% of sales",
    "over_credit_limit": "receivables above the credit limit",
    "complaint": "complained in the last quarter",
    "repeated_complaints": "2 or more complaints in the last quarter",
    "unresolved_complaint": "a complaint still open",
    "contact_gap": "no contact for over a month",
    "owner_change": "new salesperson on the account",
}


def call_list(
    model: LogisticModel,
    tables: Mapping[str, pd.DataFrame],
    params: ChurnParameters,
    *,
    pseudonym_key: bytes | None = None,
) -> pd.DataFrame:
    """The ``params.capacity`` customers to contact now, ranked by expected value at risk.

    Parameters
    ----------
    model : LogisticModel
        The study's fitted churn model.
    tables : mapping
        The study's tables (``transactions``; the CRM tables and ``customers``
        where present: B2B signs, and the ``name`` column). The signals are
        taken at the last day of the transactions (or ``params.data_end``),
        using nothing later.
    params : ChurnParameters
        Dated parameters (``capacity``, lookback and windows).
    pseudonym_key : bytes, optional
        Replace the customer ids (and drop names) by keyed pseudonyms.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``customer_id``, (``name``), ``grade``, ``churn_probability``,
        ``risk`` (low/medium/high at 0.3 and 0.6), ``trailing_value``
        (value over the lookback), ``value_at_risk``, ``signals`` (the warning
        signs that fired, in words of ``params.language``), ``action``, ``as_of`` (the date of the
        signals). No outcome: nobody knows it yet.
    """
    transactions = tables["transactions"]
    now = pd.Timestamp(params.data_end) if params.data_end else date_range(transactions, engine=params.engine)[1]
    scored = score(model, study_frame(tables, params, now, outcomes=False))
    signs = [s for s in WARNING_SIGNS if s in scored]
    ranked = alert_list(scored, capacity=params.capacity, columns=["grade", *signs]).alerts
    fired = ranked[signs].to_numpy(dtype=bool)
    # the warning signs in the report's language (the catalogue's labels), so the list reads as the report does
    words = np.array([translate(WARNING_SIGNS[s], params.language, "label") for s in signs], dtype=object)
    joiner = "; " if params.language == "en" else "；"
    ranked["signals"] = [joiner.join(words[row]) or "-" for row in fired]
    ranked["risk"] = risk_bands(ranked["churn_probability"]).astype("str").to_numpy()
    rank = tier_ranks([g for g in ("A", "B", "C") if g in set(scored["grade"].dropna())])
    actions = VALUE_RISK_ACTIONS.set_index(["tier_rank", "risk"])["action"]
    ranked["action"] = [
        actions.get((rank.get(g, "bottom"), r), "-") for g, r in zip(ranked["grade"], ranked["risk"], strict=True)
    ]
    ranked = ranked.rename(columns={"value": "trailing_value"})
    columns = ["rank", "customer_id", "grade", "churn_probability", "risk", "trailing_value", "value_at_risk"]
    result = ranked[[*columns, "signals", "action"]].assign(as_of=now.date().isoformat())
    customers = tables.get("customers")
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
    return publish_for_excel(Path(path).with_suffix(".csv"), table, sheet="call list")
