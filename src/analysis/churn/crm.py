"""The churn frame of the tables a user has: transaction signals, plus the B2B warning signs their CRM tables allow.

With an invoices, complaints or contacts table (any of them), the frame is
:func:`analysis.churn.b2b.b2b_churn_frame`'s and keeps only the signs whose
table is present; :data:`SIGN_TABLES` says which table each sign needs, so a
report can say what it could not measure and what would enable it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.churn.b2b import b2b_churn_frame
from analysis.churn.frames import transaction_churn_frame

__all__ = ["B2B_TABLES", "SIGN_TABLES", "churn_frame", "unmeasured_signs"]


#: The CRM tables behind the B2B signs.
B2B_TABLES = ("invoices", "complaints", "contacts")


#: Each B2B sign (and its counts and amounts), the table it needs and what it means.
SIGN_TABLES: dict[str, tuple[str, str]] = {
    "late_payments": ("invoices", "2 or more late invoices in the last quarter (invoice, due and paid dates)"),
    "late_invoices": ("invoices", "late invoices in the last quarter"),
    "overdue_receivables": ("invoices", "receivables past due and unpaid"),
    "overdue_amount": ("invoices", "amount past due and unpaid"),
    "invoiced_recent": ("invoices", "invoiced in the last quarter"),
    "collected_recent": ("invoices", "collected in the last quarter (paid dates)"),
    "collection_ratio": ("invoices", "collections over sales in the last quarter"),
    "collections_imbalance": ("invoices", "collections below 80% of sales"),
    "complaint": ("complaints", "a complaint in the last quarter"),
    "complaints_recent": ("complaints", "complaints in the last quarter"),
    "contact_gap": ("contacts", "no contact for over a month (calls and visits)"),
    "days_since_contact": ("contacts", "days since the last contact"),
}


_EMPTY = {
    "invoices": {"invoice_date": "datetime64[ns]", "due_date": "datetime64[ns]", "paid_date": "datetime64[ns]"},
    "complaints": {"date": "datetime64[ns]"},
    "contacts": {"date": "datetime64[ns]"},
}


def churn_frame(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str | pd.Timestamp,
    **options: Any,
) -> pd.DataFrame:
    """One row per customer at ``as_of``: the transaction signals, and the B2B signs the tables allow.

    Parameters
    ----------
    tables : mapping
        The contract's tables by name (``transactions`` required; ``customers``,
        ``invoices``, ``complaints``, ``contacts`` used when present).
    as_of : date
        Analysis date: every table is cut at it (:func:`analysis.churn.b2b.b2b_churn_frame`).
    **options
        As for :func:`analysis.churn.frames.transaction_churn_frame`
        (``horizon_days``, ``lookback_days``, ``window_days``, ``drop_size``,
        ``gap_factor``, ``data_end``, ``grades``, ``engine``, ``outcomes``).

    Returns
    -------
    pandas.DataFrame
        Without CRM tables, the transaction churn frame. With any, the B2B
        frame for the customers who bought in the lookback window, without
        the signs of absent tables (:data:`SIGN_TABLES`).
    """
    transactions = tables["transactions"]
    present = [name for name in B2B_TABLES if name in tables]
    if not present:
        return transaction_churn_frame(transactions, as_of=as_of, **options)
    filled = {name: tables.get(name, _empty(name)) for name in B2B_TABLES}
    ids = pd.Index(transactions["customer_id"].unique())
    customers = tables.get("customers")
    if customers is None:
        customers = pd.DataFrame({"customer_id": ids})
    else:
        known = customers.drop_duplicates("customer_id")
        extra = ids.difference(pd.Index(known["customer_id"]))
        customers = pd.concat([known, pd.DataFrame({"customer_id": extra})], ignore_index=True)
    frame = b2b_churn_frame(customers, transactions, **filled, as_of=as_of, **options)
    absent = [sign for sign, (table, _) in SIGN_TABLES.items() if table not in present and sign in frame]
    return frame.drop(columns=absent)


def unmeasured_signs(tables: Mapping[str, Any]) -> pd.DataFrame:
    """The B2B signs the tables do not allow: ``sign``, ``meaning``, ``needs`` (the table that would enable it)."""
    rows = [
        {"sign": sign, "meaning": meaning, "needs": f"a {table} table"}
        for sign, (table, meaning) in SIGN_TABLES.items()
        if table not in tables
        and sign in ("late_payments", "overdue_receivables", "collections_imbalance", "complaint", "contact_gap")
    ]
    return pd.DataFrame(rows, columns=["sign", "meaning", "needs"])


def _empty(table: str) -> pd.DataFrame:
    columns = {"customer_id": "str", **_EMPTY[table]}
    if table == "invoices":
        columns["amount"] = "float64"
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in columns.items()})
