"""The B2B churn frame: transaction signals plus late payments, complaints and contact gaps from the CRM tables."""

from __future__ import annotations

from typing import Unpack

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number, require_columns
from analysis.churn.accounts import complaint_signs, salesperson_signs
from analysis.churn.frames import DAY, FrameOptions, check_share, last_day, split_at, transaction_churn_frame
from analysis.churn.signals import OUTCOMES, b2b_signals

__all__ = ["CARRIED", "b2b_churn_frame", "known_payments"]


#: Customer attributes carried into the frame (groups for tables and models, never signals).
CARRIED = ("region", "industry")


def known_payments(invoices: pd.DataFrame, as_day: pd.Timestamp) -> pd.DataFrame:
    """Invoices as known at ``as_day``: what was collected by then, and whether each was paid in full.

    Returns a new frame with ``collected`` (money received on or before
    ``as_day``: ``paid_amount`` if the table has it and it is given, else the
    whole amount when ``paid_date`` is on or before ``as_day``; 0 otherwise)
    and ``paid_date`` kept only for invoices paid *in full* by ``as_day``
    (NaT otherwise: a partly paid invoice still counts as unpaid, so it is late
    once past due). A paid amount without a paid date cannot be placed in
    time and is ignored.
    """
    paid = invoices["paid_date"].dt.normalize()
    known = (paid <= as_day).to_numpy()
    amount = invoices["amount"].to_numpy(dtype="float64")
    if "paid_amount" in invoices.columns:
        given = invoices["paid_amount"].to_numpy(dtype="float64")
        received = np.where(np.isnan(given), amount, given)
    else:
        received = amount
    collected = np.where(known, received, 0.0)
    full = known & (collected >= amount - 0.005)
    return invoices.assign(paid_date=paid.where(full), paid_day=paid.where(known), collected=collected)


def b2b_churn_frame(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    invoices: pd.DataFrame,
    complaints: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    window_days: int = 90,
    drop_size: float = 0.5,
    min_late: int = 2,
    gap_days: int = 30,
    min_collection_ratio: float = 0.8,
    data_end: str | pd.Timestamp | None = None,
    **frame_options: Unpack[FrameOptions],
) -> pd.DataFrame:
    """The transaction churn frame plus the B2B warning signs (payments, complaints, contacts).

    Every table is cut at ``as_of`` before anything is computed: event rows
    dated after it are dropped and payments dated after it count as not yet
    made. The 0/1 flags ``late_payments``, ``complaint`` and ``contact_gap``
    and ``frequency_drop`` are those of :func:`analysis.churn.signals.b2b_signals`
    (same definitions and thresholds, ``frequency_drop`` with ``drop_size``):
    the frame takes them from there, the other transaction signals from
    :func:`transaction_churn_frame`.

    Parameters
    ----------
    customers : DataFrame
        ``customer_id``, optional ``region`` and ``industry`` (carried over),
        ``credit_limit`` and ``churn_date``
        (gives ``recorded_churn`` / ``time_to_churn``; customers who churned
        on or before ``as_of`` are left out). Other columns are not read.
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``.
    invoices : DataFrame
        ``customer_id``, ``invoice_date``, ``due_date``, ``paid_date``, ``amount``,
        optional ``paid_amount``.
    complaints, contacts : DataFrame
        ``customer_id``, ``date``; complaints optionally ``resolved`` /
        ``resolved_date``, transactions and contacts optionally ``salesperson``.
    as_of, window_days, drop_size
        As for :func:`transaction_churn_frame` (and :func:`analysis.churn.signals.b2b_signals`).
    min_late : int
        Late invoices in the recent period that make ``late_payments`` (2: "2 or
        more in a quarter" with the default 90-day window).
    gap_days : int
        Longest contact gap allowed (30: "no contact for over a month").
    min_collection_ratio : float
        ``collections_imbalance`` flags collections below this share of sales.
    data_end : date, optional
        Last day of the data (default: the latest date in any table).
    **frame_options
        ``horizon_days``, ``lookback_days``, ``gap_factor``, ``grades``,
        ``engine``: passed to :func:`transaction_churn_frame` (same defaults).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`transaction_churn_frame` for the customers in
        ``customers`` (and ``region`` if given), plus, over the recent period
        ``(as_of - W, as_of]`` and as known at ``as_of``:

        - ``late_payments`` (0/1), ``late_invoices`` (count): invoices of the
          period paid after their due date, or unpaid and past due;
        - ``overdue_receivables`` (0/1), ``overdue_amount``: amount still
          open (amount less what was collected) on invoices past due at
          ``as_of``; ``days_overdue``: days past due of the oldest of them (0
          if none); ``overdue_share``: overdue over all open receivables (NaN
          without receivables); ``over_credit_limit`` (0/1, when
          ``customers`` has ``credit_limit``): open receivables above it;
        - ``invoiced_recent``, ``collected_recent`` (payments received in the
          period), ``collection_ratio`` (their ratio; NaN if nothing was
          invoiced), ``collections_imbalance`` (0/1: ratio below
          ``min_collection_ratio``);
        - ``complaint`` (0/1), ``complaints_recent`` (count);
        - ``contact_gap`` (0/1: more than ``gap_days`` since the last contact,
          or never contacted), ``days_since_contact`` (NaN if never);
        - ``repeated_complaints`` and, when complaints have ``resolved`` or
          ``resolved_date``, ``unresolved_complaint``
          (:func:`analysis.churn.accounts.complaint_signs`);
        - when transactions or contacts have ``salesperson``:
          ``owner_change``, ``single_owner``, ``salespeople``
          (:func:`analysis.churn.accounts.salesperson_signs`, orders and
          contacts together);
        - ``industry`` when ``customers`` has it (carried like ``region``).

        Collections use ``paid_amount`` when the invoices have it
        (:func:`known_payments`): a partly paid invoice stays open for its
        rest and is late once past due.

        Outcomes, if ``customers`` has ``churn_date``: ``recorded_churn``
        (0/1: churn date in ``(as_of, data_end]``) and ``time_to_churn`` (days
        from ``as_of`` to the churn date, or to ``data_end``).
    """
    who = "b2b_churn_frame"
    for name, frame, columns in (
        ("customers", customers, ["customer_id"]),
        ("transactions", transactions, ["customer_id", "date", "amount"]),
        ("invoices", invoices, ["customer_id", "invoice_date", "due_date", "paid_date", "amount"]),
        ("complaints", complaints, ["customer_id", "date"]),
        ("contacts", contacts, ["customer_id", "date"]),
    ):
        require_columns(frame, columns, who, table=name)
    as_day = check_day("as_of", as_of)
    window = check_whole_number("window_days", window_days, unit="days")
    ratio = check_share("min_collection_ratio", min_collection_ratio, 0.0, np.inf)
    if data_end is not None:
        end = check_day("data_end", data_end)
    else:
        dated = [transactions["date"], invoices["invoice_date"], invoices["paid_date"]]
        end = last_day([*dated, complaints["date"], contacts["date"]])
    base = transaction_churn_frame(
        transactions, as_of=as_day, window_days=window, drop_size=drop_size, data_end=end, **frame_options
    )
    people = customers[["customer_id"] + [c for c in CARRIED if c in customers.columns]]
    if "churn_date" in customers.columns:
        gone = customers["churn_date"].dt.normalize() <= as_day
        people = people[~gone.to_numpy()]
    past = {
        "transactions": split_at(transactions, "date", as_day, end)[0],
        "invoices": known_payments(split_at(invoices, "invoice_date", as_day, end)[0], as_day),
        "complaints": split_at(complaints, "date", as_day, end)[0],
        "contacts": split_at(contacts, "date", as_day, end)[0],
    }
    flags = b2b_signals(
        people,
        **past,
        as_of=as_day,
        window_days=window,
        min_late=min_late,
        gap_days=gap_days,
        drop_size=drop_size,
    )
    ids = people["customer_id"]
    extra = _b2b_amounts(ids, past, as_day, window, ratio, customers)
    served = [past[t] for t in ("transactions", "contacts") if "salesperson" in past[t].columns]
    accounts = [complaint_signs(ids, past["complaints"], as_of=as_day, window_days=window)]
    if served:
        accounts.append(salesperson_signs(ids, served, as_of=as_day, window_days=window))
    if "industry" in people.columns:
        flags = flags.assign(industry=pd.Series(people["industry"].to_numpy(), dtype="str"))
    frame = base.drop(columns="frequency_drop").merge(flags, on="customer_id", how="inner", validate="1:1")
    for part in (extra, *accounts):
        frame = frame.merge(part, on="customer_id", how="left", validate="1:1")
    frame = frame[[*base.columns, *frame.columns.difference(base.columns, sort=False)]]
    if "churn_date" in customers.columns:
        churn = customers.drop_duplicates("customer_id").set_index("customer_id")["churn_date"].dt.normalize()
        days = (frame["customer_id"].map(churn) - as_day).dt.days.to_numpy(dtype="float64")
        follow_up = float((end - as_day).days)
        recorded = ~np.isnan(days) & (days <= follow_up)
        frame["recorded_churn"] = recorded.astype("int64")
        frame["time_to_churn"] = np.where(recorded, days, follow_up)
    outcomes = [c for c in OUTCOMES if c in frame.columns]
    return frame[[c for c in frame.columns if c not in outcomes] + outcomes].reset_index(drop=True)


def _b2b_amounts(
    ids: pd.Series,
    past: dict[str, pd.DataFrame],
    as_day: pd.Timestamp,
    window: int,
    min_ratio: float,
    customers: pd.DataFrame,
) -> pd.DataFrame:
    """Counts and amounts behind the B2B flags, from tables already cut at ``as_of`` (:func:`known_payments`)."""
    start = as_day - window * DAY
    inv = past["invoices"]
    issued = inv["invoice_date"].dt.normalize()
    due = inv["due_date"].dt.normalize()
    paid = inv["paid_date"]  # NaT: not paid in full by as_of
    unpaid_past_due = paid.isna() & (due < as_day)
    late = (issued > start) & ((paid.notna() & (paid > due)) | unpaid_past_due)
    amount = inv["amount"].astype("float64")
    open_amount = (amount - inv["collected"]).clip(lower=0.0).where(paid.isna(), 0.0)
    by_customer = (
        pd.DataFrame(
            {
                "customer_id": inv["customer_id"],
                "late_invoices": late.astype("int64"),
                "overdue_amount": open_amount.where(unpaid_past_due, 0.0),
                "receivables": open_amount,
                "days_overdue": (as_day - due).dt.days.where(unpaid_past_due, 0).astype("float64"),
                "invoiced_recent": amount.where(issued > start, 0.0),
                "collected_recent": inv["collected"].where(inv["paid_day"] > start, 0.0),
            }
        )
        .groupby("customer_id")
        .agg(
            late_invoices=("late_invoices", "sum"),
            overdue_amount=("overdue_amount", "sum"),
            receivables=("receivables", "sum"),
            days_overdue=("days_overdue", "max"),
            invoiced_recent=("invoiced_recent", "sum"),
            collected_recent=("collected_recent", "sum"),
        )
    )
    complaints = past["complaints"]
    recent = complaints.loc[complaints["date"].dt.normalize() > start, "customer_id"].value_counts()
    contacts = past["contacts"]
    last_contact = contacts.assign(day=contacts["date"].dt.normalize()).groupby("customer_id")["day"].max()
    out = by_customer.reindex(ids.to_numpy()).fillna(0.0)
    invoiced, collected = out["invoiced_recent"].to_numpy(), out["collected_recent"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(invoiced > 0, collected / invoiced, np.nan)
    receivables, overdue = out["receivables"].to_numpy(), out["overdue_amount"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        overdue_share = np.where(receivables > 0, overdue / receivables, np.nan)
    amounts = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "late_invoices": out["late_invoices"].to_numpy(dtype="int64"),
            "overdue_receivables": (overdue > 0).astype("int64"),
            "overdue_amount": overdue,
            "days_overdue": out["days_overdue"].to_numpy(),
            "overdue_share": overdue_share,
            "invoiced_recent": invoiced,
            "collected_recent": collected,
            "collection_ratio": ratio,
            "collections_imbalance": ((invoiced > 0) & (collected < min_ratio * invoiced)).astype("int64"),
            "complaints_recent": recent.reindex(ids.to_numpy()).fillna(0).to_numpy(dtype="int64"),
            "days_since_contact": (as_day - last_contact.reindex(ids.to_numpy())).dt.days.to_numpy(dtype="float64"),
        }
    )
    if "credit_limit" in customers.columns:
        limit = customers.drop_duplicates("customer_id").set_index("customer_id")["credit_limit"]
        limits = limit.reindex(ids.to_numpy()).to_numpy(dtype="float64")
        amounts["over_credit_limit"] = (~np.isnan(limits) & (receivables > limits)).astype("int64")
    return amounts
