"""The warning signs and outcomes of the churn frames: every signal's name, defined once."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number
from analysis.errors import DataError, ParameterError

__all__ = ["B2B_FLAGS", "B2B_SIGNALS", "OUTCOMES", "TELCO_SIGNALS", "TRANSACTION_SIGNALS", "b2b_signals", "dropped"]


#: Signals of :func:`transaction_churn_frame` (0/1 flags first, then continuous).
TRANSACTION_SIGNALS: tuple[str, ...] = (
    "beyond_usual_gap",
    "dormant",
    "frequency_drop",
    "value_drop",
    "recency_days",
    "recency_ratio",
    "tenure_days",
    "occasions",
    "trailing_value",
)


#: Signals :func:`b2b_churn_frame` adds to :data:`TRANSACTION_SIGNALS`.
B2B_SIGNALS: tuple[str, ...] = (
    "late_payments",
    "overdue_receivables",
    "collections_imbalance",
    "over_credit_limit",
    "complaint",
    "repeated_complaints",
    "unresolved_complaint",
    "contact_gap",
    "single_owner",
    "owner_change",
    "late_invoices",
    "overdue_amount",
    "days_overdue",
    "overdue_share",
    "collection_ratio",
    "complaints_recent",
    "days_since_contact",
    "salespeople",
)


#: The 0/1 flags among :data:`B2B_SIGNALS`.
B2B_FLAGS: tuple[str, ...] = B2B_SIGNALS[:10]


#: Signals of :func:`telco_churn_frame`.
TELCO_SIGNALS: tuple[str, ...] = (
    "month_to_month",
    "electronic_check",
    "fiber_optic",
    "paperless_billing",
    "senior_citizen",
    "has_partner",
    "has_dependents",
    "no_online_security",
    "no_tech_support",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "n_services",
)


#: Outcome columns: what happened after ``as_of`` (never a signal).
OUTCOMES: tuple[str, ...] = ("churned", "time_to_next_purchase", "bought_again", "recorded_churn", "time_to_churn")


def dropped(recent: np.ndarray, previous: np.ndarray, drop_size: float) -> np.ndarray:
    """The drop signals (0/1, ``int64``): ``previous > 0`` and ``recent < (1 - drop_size) x previous``.

    The one definition of ``frequency_drop`` (purchase days) and ``value_drop``
    (net value) of the two consecutive windows, in every churn frame and the
    synthetic base.

    Examples
    --------
    >>> dropped(np.array([1, 2, 0]), np.array([4, 4, 0]), 0.5)
    array([1, 0, 0])
    """
    return ((previous > 0) & (recent < (1.0 - drop_size) * previous)).astype("int64")


def b2b_signals(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    invoices: pd.DataFrame,
    complaints: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    window_days: int = 90,
    min_late: int = 2,
    gap_days: int = 30,
    drop_size: float = 0.5,
) -> pd.DataFrame:
    """Observed churn warning signs of each customer at ``as_of``.

    Only rows dated on or before ``as_of`` are used, and only payments known
    at ``as_of``; dates are compared as whole days. With ``W = window_days``:

    - ``late_payments``: at least ``min_late`` invoices dated in
      ``(as_of - W, as_of]`` that are late as known at ``as_of``: paid (on or
      before ``as_of``) after the due date, or not paid by ``as_of`` (NaT or
      paid later) with the due date before ``as_of``.
    - ``complaint``: at least one complaint dated in ``(as_of - W, as_of]``.
    - ``contact_gap``: more than ``gap_days`` days from the last contact on or
      before ``as_of`` to ``as_of``, or no contact at all.
    - ``frequency_drop``: purchase occasions (distinct days with a
      non-negative amount) in ``(as_of - W, as_of]`` fewer than
      ``1 - drop_size`` times those in ``(as_of - 2W, as_of - W]``; 0 for
      customers with no occasion in the earlier window. This is the
      definition of the transaction churn frame's ``frequency_drop``
      (:func:`analysis.churn.frames.transaction_churn_frame`), with the same
      parameter.

    The defaults are the numbers of ``DOMAIN.md`` section 2 (2 late payments
    in a quarter, no contact for over a month) and the package's choices
    (a quarter to quarter fall of more than half).

    Parameters
    ----------
    customers : DataFrame
        ``customer_id`` (one row per customer: the population), optional
        ``region``; no other column (churn outcomes included) is read.
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``.
    invoices : DataFrame
        ``customer_id``, ``invoice_date``, ``due_date``, ``paid_date``.
    complaints : DataFrame
        ``customer_id``, ``date``.
    contacts : DataFrame
        ``customer_id``, ``date``.
    as_of : date
        The observation date.
    window_days, min_late, gap_days : int
        Window length, late invoices needed, longest allowed contact gap.
    drop_size : float
        A fall of more than this share of the earlier window counts as a drop.

    Returns
    -------
    pandas.DataFrame
        One row per customer in ``customers`` order: ``customer_id``, the
        four signals (``int64`` 0/1) and ``region`` if ``customers`` has it.
        Rows of other tables for customers not in ``customers`` are ignored.

    Raises
    ------
    DataError
        If a required column is missing or a customer id is repeated.
    ParameterError
        On a bad date or threshold.
    """
    as_day = check_day("as_of", as_of)
    window_days = check_whole_number("window_days", window_days, 1)
    min_late = check_whole_number("min_late", min_late, 1)
    gap_days = check_whole_number("gap_days", gap_days, 0)
    if isinstance(drop_size, bool) or not isinstance(drop_size, Real) or not 0 <= drop_size < 1:
        raise ParameterError("drop_size", drop_size, "a share in [0, 1)")
    needed = {
        "customers": (customers, ["customer_id"]),
        "transactions": (transactions, ["customer_id", "date", "amount"]),
        "invoices": (invoices, ["customer_id", "invoice_date", "due_date", "paid_date"]),
        "complaints": (complaints, ["customer_id", "date"]),
        "contacts": (contacts, ["customer_id", "date"]),
    }
    missing = [f"{name}.{col}" for name, (frame, cols) in needed.items() for col in cols if col not in frame.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)} needed by b2b_signals")
    population = pd.Index(customers["customer_id"])
    if not population.is_unique:
        raise DataError(
            "repeated customer ids",
            file="customers",
            column="customer_id",
            n_bad=int(population.duplicated().sum()),
            n_rows=len(population),
        )
    n = len(population)
    origin = np.datetime64(as_day.date(), "D")
    w = window_days

    def locate(frame: pd.DataFrame, *columns: str) -> tuple[np.ndarray, ...]:
        """Rows of known customers dated (first column) on or before as_of."""
        code = population.get_indexer(frame["customer_id"])
        days = [_day_offsets(frame[c], origin) for c in columns]
        keep = (code >= 0) & (days[0] <= 0)
        return (keep, code[keep], *(d[keep] for d in days))

    _, code, inv, due, paid = locate(invoices, "invoice_date", "due_date", "paid_date")
    known = paid <= 0  # False for NaN (unpaid)
    late = (inv > -w) & ((known & (paid > due)) | (~known & (due < 0)))
    late_payments = np.bincount(code[late], minlength=n) >= min_late

    _, code, day = locate(complaints, "date")
    complaint = np.bincount(code[day > -w], minlength=n) > 0

    _, code, day = locate(contacts, "date")
    last = np.full(n, -np.inf)
    np.maximum.at(last, code, day)
    contact_gap = -last > gap_days

    rows, code, day = locate(transactions, "date")
    amount = transactions["amount"].to_numpy(dtype="float64")[rows]
    keep = (amount >= 0) & (day > -2 * w)
    # one key per (customer, day): day + 2w - 1 is in [0, 2w)
    key = np.unique(code[keep] * (2 * w) + (day[keep].astype("int64") + 2 * w - 1))
    recent = (key % (2 * w)) >= w
    counts_recent = np.bincount(key[recent] // (2 * w), minlength=n)
    counts_earlier = np.bincount(key[~recent] // (2 * w), minlength=n)
    frequency_drop = dropped(counts_recent, counts_earlier, float(drop_size))

    out = pd.DataFrame(
        {
            "customer_id": pd.Series(customers["customer_id"].to_numpy(), dtype="str"),
            "late_payments": late_payments.astype("int64"),
            "complaint": complaint.astype("int64"),
            "contact_gap": contact_gap.astype("int64"),
            "frequency_drop": frequency_drop,
        }
    )
    if "region" in customers.columns:
        out["region"] = pd.Series(customers["region"].to_numpy(), dtype="str")
    return out


def _day_offsets(values: pd.Series, origin: np.datetime64) -> np.ndarray:
    """Whole days from ``origin`` to each date (time of day dropped), NaN for NaT."""
    stamps = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    delta = (stamps - origin).astype("float64")
    delta[np.isnat(stamps)] = np.nan
    return delta
