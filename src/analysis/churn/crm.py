"""The churn frame of the tables a user has: transaction signals, plus the B2B warning signs their CRM tables allow.

With an invoices, complaints or contacts table (any of them), the frame is
:func:`analysis.churn.b2b.b2b_churn_frame`'s and keeps only the signs whose
tables and columns are present; :data:`SIGN_NEEDS` says what each sign needs,
so a report can say what it could not measure and what would enable it, and
:data:`WARNING_SIGNS` maps the warning signs of ``DOMAIN.md`` section 2 to
the signals that measure them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.churn.b2b import b2b_churn_frame
from analysis.churn.frames import transaction_churn_frame

__all__ = ["B2B_TABLES", "SIGN_NEEDS", "WARNING_SIGNS", "churn_frame", "measurable", "sign_needs", "unmeasured_signs"]


#: The CRM tables behind the B2B signs.
B2B_TABLES = ("invoices", "complaints", "contacts")


#: A requirement: each (table, column) must be present (column ``None``: the table alone).
Need = tuple[tuple[str, str | None], ...]


_SALESPERSON: tuple[Need, ...] = ((("transactions", "salesperson"),), (("contacts", "salesperson"),))
_RESOLUTION: tuple[Need, ...] = ((("complaints", "resolved"),), (("complaints", "resolved_date"),))


#: Each B2B sign (and its counts and amounts): what it means and what it needs
#: (any one of the alternatives, each a set of table/column requirements).
SIGN_NEEDS: dict[str, tuple[str, tuple[Need, ...]]] = {
    "late_payments": ("2 or more late invoices in the last quarter", ((("invoices", None),),)),
    "late_invoices": ("late invoices in the last quarter", ((("invoices", None),),)),
    "overdue_receivables": ("receivables past due and unpaid", ((("invoices", None),),)),
    "overdue_amount": ("amount past due and unpaid", ((("invoices", None),),)),
    "days_overdue": ("days past due of the oldest unpaid invoice", ((("invoices", None),),)),
    "overdue_share": ("share of open receivables past due", ((("invoices", None),),)),
    "invoiced_recent": ("invoiced in the last quarter", ((("invoices", None),),)),
    "collected_recent": ("collected in the last quarter (paid dates)", ((("invoices", None),),)),
    "collection_ratio": ("collections over sales in the last quarter", ((("invoices", None),),)),
    "collections_imbalance": ("collections below 80% of sales", ((("invoices", None),),)),
    "over_credit_limit": (
        "open receivables above the credit limit",
        ((("invoices", None), ("customers", "credit_limit")),),
    ),
    "complaint": ("a complaint in the last quarter", ((("complaints", None),),)),
    "complaints_recent": ("complaints in the last quarter", ((("complaints", None),),)),
    "repeated_complaints": ("2 or more complaints in the last quarter", ((("complaints", None),),)),
    "unresolved_complaint": ("a complaint still open", _RESOLUTION),
    "contact_gap": ("no contact for over a month (calls and visits)", ((("contacts", None),),)),
    "days_since_contact": ("days since the last contact", ((("contacts", None),),)),
    "single_owner": ("the relationship rests on one salesperson", _SALESPERSON),
    "owner_change": ("a new salesperson on the account in the last quarter", _SALESPERSON),
    "salespeople": ("salespeople who served the customer", _SALESPERSON),
}


#: The warning signs of ``DOMAIN.md`` section 2, each with the signals that
#: measure it (first = the headline one), or none when no table of the data
#: contract records it (then the reason).
WARNING_SIGNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("no purchase for longer than usual", ("beyond_usual_gap", "recency_ratio"), ""),
    ("bought once and never again (dormant)", ("dormant",), ""),
    ("drop in purchase frequency", ("frequency_drop",), ""),
    ("drop in purchase value", ("value_drop",), ""),
    ("late payments (2 or more in a quarter)", ("late_payments", "late_invoices"), ""),
    ("overdue receivables", ("overdue_receivables", "days_overdue", "overdue_share"), ""),
    ("sales and collections out of balance", ("collections_imbalance", "collection_ratio"), ""),
    ("receivables above the credit limit", ("over_credit_limit",), ""),
    ("complaints", ("complaint", "complaints_recent"), ""),
    ("repeated complaints", ("repeated_complaints",), ""),
    ("unresolved complaints", ("unresolved_complaint",), ""),
    ("no contact for over a month", ("contact_gap", "days_since_contact"), ""),
    ("relationship kept by one salesperson", ("single_owner", "salespeople"), ""),
    ("change of salesperson", ("owner_change",), ""),
    (
        "personnel changes or restructuring at the customer",
        (),
        "not recorded by any table of the data contract (a CRM note field, read by people)",
    ),
    ("industry trouble", (), "churn by industry is shown when customers have an industry column"),
)


def measurable(sign: str, tables: Mapping[str, Any]) -> bool:
    """Whether ``tables`` (name -> DataFrame) hold what the B2B ``sign`` needs (:data:`SIGN_NEEDS`)."""
    _, alternatives = SIGN_NEEDS[sign]
    return any(
        all(table in tables and (column is None or column in tables[table].columns) for table, column in need)
        for need in alternatives
    )


def sign_needs(sign: str) -> str:
    """What would enable ``sign``, in words: "an invoices table", "transactions.salesperson or contacts.salesperson"."""
    _, alternatives = SIGN_NEEDS[sign]

    def item(table: str, column: str | None) -> str:
        return f"{'an' if table[0] in 'aeiou' else 'a'} {table} table" if column is None else f"{table}.{column}"

    def one(need: Need) -> str:
        return " and ".join(item(table, column) for table, column in need)

    return " or ".join(one(need) for need in alternatives)


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
        Without CRM tables (and no salesperson column), the transaction churn
        frame. Otherwise the B2B frame for the customers who bought in the
        lookback window, without the signs the tables cannot measure
        (:data:`SIGN_NEEDS`).
    """
    transactions = tables["transactions"]
    present = [name for name in B2B_TABLES if name in tables]
    if not present and not measurable("salespeople", tables):
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
    absent = [sign for sign in SIGN_NEEDS if sign in frame and not measurable(sign, tables)]
    return frame.drop(columns=absent)


def unmeasured_signs(tables: Mapping[str, Any]) -> pd.DataFrame:
    """The B2B signs the tables do not allow: ``sign``, ``meaning``, ``needs`` (what would enable it).

    One row per headline sign of :data:`WARNING_SIGNS` (counts and amounts
    behind a flag are not repeated).
    """
    headline = {signals[0] for _, signals, _ in WARNING_SIGNS if signals}
    rows = [
        {"sign": sign, "meaning": meaning, "needs": sign_needs(sign)}
        for sign, (meaning, _) in SIGN_NEEDS.items()
        if sign in headline and not measurable(sign, tables)
    ]
    return pd.DataFrame(rows, columns=["sign", "meaning", "needs"])


def _empty(table: str) -> pd.DataFrame:
    columns = {"customer_id": "str", **_EMPTY[table]}
    if table == "invoices":
        columns["amount"] = "float64"
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in columns.items()})
