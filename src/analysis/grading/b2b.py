"""The quota score's B2B inputs from a user's tables at ``as_of``: payment reliability, years of dealing, quantity.

``../shared/DOMAIN.md`` section 1 builds the quota scheme's 100-point score
from sales scale, payment reliability, margin, order quantity and years of
dealing (among others). The customer summary holds value, purchase
frequency and margin; this module adds, per customer and as known at
``as_of`` (nothing dated later enters):

``on_time_share``
    Payment reliability: share of the invoices due in the window that were
    paid on time (:func:`analysis.grading.payments.payment_record`); empty
    for a customer without a judged invoice (the score then leaves the
    component out for that customer).
``years_of_dealing``
    Years from the customers table's ``acquisition_date`` (first contract)
    to ``as_of`` where it is given and not after ``as_of``, else from the
    first purchase (``dealing_since`` says which).
``trailing_quantity``
    Units bought in the window (net of returns), when the transactions have
    a ``quantity`` column. It is summed here, in pandas, from the loaded
    transactions (the engines' summaries carry no quantity).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.checks import check_day, check_whole_number, require_columns
from analysis.grading.payments import INVOICE_COLUMNS, QUARTER_DAYS, payment_record

__all__ = ["B2B_COLUMNS", "DAYS_PER_YEAR", "b2b_inputs", "has_invoices", "with_b2b_inputs"]

#: Columns :func:`b2b_inputs` may add to a customer summary.
B2B_COLUMNS = (
    "invoices_due",
    "on_time",
    "late",
    "on_time_share",
    "late_last_quarter",
    "years_of_dealing",
    "dealing_start",
    "dealing_since",
    "trailing_quantity",
)

DAYS_PER_YEAR = 365.25


def b2b_inputs(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str | pd.Timestamp,
    window_days: int,
    quarter_days: int = QUARTER_DAYS,
) -> pd.DataFrame:
    """Per customer who bought by ``as_of``: the B2B inputs of the composite score that the tables allow.

    Parameters
    ----------
    tables : mapping
        The contract's tables by name: ``transactions`` (required:
        ``customer_id``, ``date``; ``quantity`` used when present),
        ``customers`` (``acquisition_date`` used when present) and
        ``invoices`` (:data:`analysis.grading.payments.INVOICE_COLUMNS`), each optional.
    as_of : date
        Analysis date: rows dated after it are ignored (invoices issued later,
        payments recorded later, purchases later).
    window_days : int
        Window ``(as_of - window_days, as_of]`` of payment reliability and quantity.
    quarter_days : int
        The downgrade rule's quarter (``late_last_quarter``).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``years_of_dealing``, ``dealing_start`` (the date
        they count from), ``dealing_since`` (``"acquisition_date"`` or
        ``"first purchase"``); with invoices also
        ``invoices_due``, ``on_time``, ``late``, ``on_time_share`` and
        ``late_last_quarter`` (0 for customers without invoices, empty share);
        with a quantity column ``trailing_quantity``.
    """
    as_day = check_day("as_of", as_of)
    window = check_whole_number("window_days", window_days, unit="days")
    transactions = tables["transactions"]
    require_columns(transactions, ["customer_id", "date"], "the composite score's B2B inputs", table="transactions")
    dated = transactions["date"].dt.normalize()
    past = transactions[dated <= as_day]
    first = past.groupby("customer_id", sort=True)["date"].min().dt.normalize()
    since = pd.Series(first.to_numpy(), index=first.index)
    origin = pd.Series("first purchase", index=first.index, dtype="object")
    customers = tables.get("customers")
    if customers is not None and "acquisition_date" in customers.columns:
        acquired = customers.drop_duplicates("customer_id").set_index("customer_id")["acquisition_date"]
        acquired = acquired.dt.normalize().reindex(first.index)
        usable = acquired.notna() & (acquired <= as_day)
        since = since.where(~usable, acquired)
        origin = origin.where(~usable, "acquisition_date")
    out = pd.DataFrame(
        {
            "customer_id": first.index.to_numpy(),
            "years_of_dealing": ((as_day - since).dt.days / DAYS_PER_YEAR).to_numpy(dtype="float64"),
            "dealing_start": since.to_numpy(),
            "dealing_since": origin.to_numpy(),
        }
    )
    invoices = tables.get("invoices")
    if invoices is not None:
        record = payment_record(invoices, as_of=as_day, window_days=window, quarter_days=quarter_days)
        out = out.merge(record, on="customer_id", how="left", validate="1:1")
        for column in ("invoices_due", "on_time", "late", "late_last_quarter"):
            out[column] = out[column].fillna(0).astype("int64")
    if "quantity" in past.columns:
        recent = past[(as_day - past["date"].dt.normalize()).dt.days < window]
        units = recent.groupby("customer_id")["quantity"].sum()
        out["trailing_quantity"] = out["customer_id"].map(units).fillna(0.0).to_numpy(dtype="float64")
    return out


def with_b2b_inputs(
    summary: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str | pd.Timestamp,
    window_days: int,
    quarter_days: int = QUARTER_DAYS,
) -> pd.DataFrame:
    """The customer summary with the columns of :func:`b2b_inputs` joined on ``customer_id`` (a new frame).

    Customers of the summary without a purchase by ``as_of`` (none in a
    summary at ``as_of``) get empty inputs. Columns already in the summary
    are replaced.
    """
    inputs = b2b_inputs(tables, as_of=as_of, window_days=window_days, quarter_days=quarter_days)
    kept = summary.drop(columns=[c for c in B2B_COLUMNS if c in summary.columns])
    joined = kept.merge(inputs, on="customer_id", how="left", validate="1:1")
    joined.index = summary.index
    return joined


def has_invoices(tables: Mapping[str, pd.DataFrame]) -> bool:
    """Whether the tables hold an invoices table with the columns payment reliability needs."""
    invoices = tables.get("invoices")
    return invoices is not None and all(c in invoices.columns for c in INVOICE_COLUMNS)
