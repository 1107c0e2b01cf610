"""The data contract: each table's columns, kinds and rules; limits every engine shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CONTRACT", "EVENT_DATE", "EXCEL_SUFFIXES", "MAX_MONEY", "MISSING_IDS", "PARQUET_SUFFIXES", "ColumnSpec"]


Kind = Literal["id", "datetime", "number", "bool", "text"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the data contract."""

    name: str
    kind: Kind
    required: bool = False
    nullable: bool = False
    description: str = ""


_ID = ColumnSpec("customer_id", "id", required=True, description="customer identifier")


#: Money (``amount``, ``margin``) must be below this in absolute value: every engine sums it as
#: DECIMAL(18, 4), which holds less than 1e14. Larger values are refused when a file is read.
MAX_MONEY = 1e14


#: Columns holding money, checked against :data:`MAX_MONEY`.
MONEY_COLUMNS = frozenset({"amount", "margin", "unit_price", "paid_amount", "credit_limit"})


#: The data contract: for each table, its columns in output order.
CONTRACT: dict[str, tuple[ColumnSpec, ...]] = {
    "transactions": (
        _ID,
        ColumnSpec("date", "datetime", True, description="date or timestamp of the purchase"),
        ColumnSpec("amount", "number", True, description="value; negative = return"),
        ColumnSpec("order_id", "text", description="order identifier"),
        ColumnSpec("quantity", "number", description="units bought"),
        ColumnSpec("unit_price", "number", description="price of a unit: without an amount, amount = quantity x it"),
        ColumnSpec("margin", "number", description="gross margin of the line"),
        ColumnSpec("region", "text", description="sales region"),
        ColumnSpec("channel", "text", description="sales channel"),
        ColumnSpec("salesperson", "text", description="salesperson (account owner) of the order"),
    ),
    "customers": (
        _ID,
        ColumnSpec("name", "text", description="customer name (shown on call lists)"),
        ColumnSpec("acquisition_date", "datetime", nullable=True, description="first contract"),
        ColumnSpec("churned", "bool", description="customer has left (yes/no)"),
        ColumnSpec("churn_date", "datetime", nullable=True, description="date the customer left"),
        ColumnSpec("region", "text", description="sales region"),
        ColumnSpec("industry", "text", description="the customer's industry"),
        ColumnSpec("credit_limit", "number", nullable=True, description="credit limit granted (money)"),
        ColumnSpec("payment_terms_days", "number", nullable=True, description="payment terms granted, in days"),
    ),
    "invoices": (
        _ID,
        ColumnSpec("invoice_date", "datetime", True, description="date issued"),
        ColumnSpec("due_date", "datetime", True, description="payment due"),
        ColumnSpec("paid_date", "datetime", nullable=True, description="paid on; empty = unpaid"),
        ColumnSpec("amount", "number", True, description="invoiced amount"),
        ColumnSpec(
            "paid_amount",
            "number",
            nullable=True,
            description="collected by paid_date (empty with a paid date: the whole amount; less: partly paid)",
        ),
    ),
    "complaints": (
        _ID,
        ColumnSpec("date", "datetime", True, description="date of the complaint"),
        ColumnSpec("resolved", "bool", description="complaint resolved (yes/no)"),
        ColumnSpec("resolved_date", "datetime", nullable=True, description="resolved on; empty = still open"),
        ColumnSpec("type", "text", description="kind of complaint (quality, delivery, service, price, ...)"),
    ),
    "contacts": (
        _ID,
        ColumnSpec("date", "datetime", True, description="date of the call or visit"),
        ColumnSpec("channel", "text", description="call, visit, email, ..."),
        ColumnSpec("salesperson", "text", description="who made the contact"),
    ),
}


#: Tables whose ``date``-like column is checked against ``as_of``.
EVENT_DATE = {
    "transactions": "date",
    "invoices": "invoice_date",
    "complaints": "date",
    "contacts": "date",
    "customers": "acquisition_date",
}


PARQUET_SUFFIXES = {".parquet", ".pq"}


#: Spreadsheets read with python-calamine.
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


#: What to do with rows dated after the analysis date.
LATER_ROWS = ("refuse", "drop")


#: What to do with rows without a customer id (guest purchases of a retail export).
MISSING_IDS = ("refuse", "drop")
