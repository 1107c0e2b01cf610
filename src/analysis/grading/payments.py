"""Payment reliability from the invoices table, and the manuals' payment-terms downgrade.

Everything is computed **as known at** ``as_of``: invoices issued after it
are not seen, and a payment recorded after it is unknown (the invoice is
unpaid at ``as_of``). An invoice is judged once it is *due by* ``as_of``:

- **on time**: paid in full on or before its due date;
- **late**: paid after its due date, or still unpaid (or only partly paid)
  at ``as_of`` with its due date before ``as_of``;
- **open**: due on ``as_of`` itself and not yet paid; it may still be paid on
  time, so it is neither on time nor late (left out of the shares).

A late invoice belongs to the period holding its **due date** (the day the
payment was owed). ``../shared/DOMAIN.md`` section 1: "a customer paying
late 2 or more times in one quarter drops one level of payment terms";
:func:`payment_terms_downgrades` applies it with the quarter taken as the
90 days up to ``as_of`` and the levels of
:data:`analysis.grading.policy.SERVICE_POLICY` (A > B > C > D; a D customer
already pays before shipment and cannot drop further).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number, require_columns
from analysis.errors import ParameterError
from analysis.grading.policy import SERVICE_POLICY

__all__ = [
    "INVOICE_COLUMNS",
    "QUARTER_DAYS",
    "TERMS_LEVEL",
    "downgrade_table",
    "invoice_status",
    "payment_record",
    "payment_terms_downgrades",
]

#: Columns of the invoices table this module needs (``paid_amount`` is used when present).
INVOICE_COLUMNS = ("customer_id", "invoice_date", "due_date", "paid_date", "amount")

#: "One quarter" of the manuals' rule, in days up to ``as_of``.
QUARTER_DAYS = 90

#: Payment-terms level (a grade of :data:`SERVICE_POLICY`) of each grade label. A-D are the policy's
#: own; E and the absolute tiers are this package's choice (Diamond and Platinum get A's terms, Gold
#: B's, VIP C's, customers below VIP and E customers D's).
TERMS_LEVEL = {
    "A": "A",
    "B": "B",
    "C": "C",
    "D": "D",
    "E": "D",
    "Diamond": "A",
    "Platinum": "A",
    "Gold": "B",
    "VIP": "C",
    "not key": "D",
}

_LEVELS = list(SERVICE_POLICY["grade"])
_TERMS = SERVICE_POLICY.set_index("grade")
#: Amounts within this of the invoiced amount count as paid in full (rounding of exports).
_CENT = 0.005


def invoice_status(invoices: pd.DataFrame, *, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """Each invoice due by ``as_of``, judged on time, late or open with what was known at ``as_of``.

    Parameters
    ----------
    invoices : DataFrame
        ``customer_id``, ``invoice_date``, ``due_date``, ``paid_date`` (empty:
        unpaid), ``amount`` and optionally ``paid_amount`` (collected by
        ``paid_date``; empty with a paid date means the whole amount).
    as_of : date
        Analysis date. Invoices issued after it are ignored; payments dated
        after it are treated as not (yet) made.

    Returns
    -------
    pandas.DataFrame
        One row per invoice issued and due on or before ``as_of``:
        ``customer_id``, ``due_date`` (day), ``paid_date`` (day, empty when
        not paid in full by ``as_of``), ``status`` (``"on time"``,
        ``"late"`` or ``"open"``) and ``days_late`` (paid date, or ``as_of``
        when unpaid, minus due date; 0 when on time or open).

    Examples
    --------
    >>> inv = pd.DataFrame({"customer_id": ["a", "a", "a"],
    ...     "invoice_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-01-31", "2024-03-31"]),
    ...     "paid_date": pd.to_datetime(["2024-01-20", "2024-02-10", None]), "amount": [1.0, 1.0, 1.0]})
    >>> invoice_status(inv, as_of="2024-03-31")["status"].tolist()
    ['on time', 'late', 'open']
    """
    require_columns(invoices, INVOICE_COLUMNS, "payment reliability", table="invoices")
    as_day = check_day("as_of", as_of)
    issued = invoices["invoice_date"].dt.normalize()
    due = invoices["due_date"].dt.normalize()
    known = invoices[(issued <= as_day) & (due <= as_day)]
    due = known["due_date"].dt.normalize()
    paid = known["paid_date"].dt.normalize()
    paid = paid.where(paid <= as_day)  # a payment after as_of is not known at as_of
    full = pd.Series(True, index=known.index)
    if "paid_amount" in known.columns:
        collected = known["paid_amount"]
        full = collected.isna() | (collected >= known["amount"] - _CENT)
    settled = paid.notna() & full
    on_time = settled & (paid <= due)
    late = (settled & (paid > due)) | (~settled & (due < as_day))
    status = np.select([on_time.to_numpy(), late.to_numpy()], ["on time", "late"], "open")
    until = paid.where(settled, as_day)
    return pd.DataFrame(
        {
            "customer_id": known["customer_id"].to_numpy(),
            "due_date": due.to_numpy(),
            "paid_date": paid.where(settled).to_numpy(),
            "status": status,
            "days_late": np.where(late, (until - due).dt.days, 0).astype("int64"),
        }
    )


def payment_record(
    invoices: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    window_days: int,
    quarter_days: int = QUARTER_DAYS,
) -> pd.DataFrame:
    """Per customer: invoices due in the window, how many were paid on time, late ones in the last quarter.

    Parameters
    ----------
    invoices : DataFrame
        As for :func:`invoice_status`.
    as_of : date
        Analysis date.
    window_days : int
        Payment reliability counts invoices due in ``(as_of - window_days, as_of]``
        (the grading study passes its value window).
    quarter_days : int
        The downgrade rule's quarter: late invoices due in ``(as_of - quarter_days, as_of]``.

    Returns
    -------
    pandas.DataFrame
        One row per customer with an invoice due by ``as_of`` in either
        period: ``customer_id``, ``invoices_due`` (judged invoices due in the
        window, open ones left out), ``on_time``, ``late``,
        ``on_time_share`` (``on_time / invoices_due``; empty without a judged
        invoice) and ``late_last_quarter``.
    """
    as_day = check_day("as_of", as_of)
    window = check_whole_number("window_days", window_days, unit="days")
    quarter = check_whole_number("quarter_days", quarter_days, unit="days")
    status = invoice_status(invoices, as_of=as_day)
    age = (as_day - status["due_date"]).dt.days
    in_window = (age < window) & (status["status"] != "open")
    table = pd.DataFrame(
        {
            "customer_id": status["customer_id"],
            "invoices_due": in_window.astype("int64"),
            "on_time": (in_window & (status["status"] == "on time")).astype("int64"),
            "late": (in_window & (status["status"] == "late")).astype("int64"),
            "late_last_quarter": ((age < quarter) & (status["status"] == "late")).astype("int64"),
        }
    )
    record = table.groupby("customer_id", sort=True, observed=True).sum().reset_index()
    share = record["on_time"] / record["invoices_due"].where(record["invoices_due"] > 0)
    record.insert(4, "on_time_share", share.astype("float64"))
    return record


def payment_terms_downgrades(
    grades: pd.DataFrame,
    record: pd.DataFrame,
    *,
    min_late: int = 2,
    terms_level: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The manuals' rule per customer: ``min_late`` or more late payments in the quarter drop one level of terms.

    Parameters
    ----------
    grades : DataFrame
        ``customer_id`` and ``grade`` of the graded customers (e.g. the
        graded and provisional rows of :attr:`analysis.grading.grades.Grading.customers`).
    record : DataFrame
        :func:`payment_record` (``customer_id``, ``late_last_quarter``);
        customers missing from it had no invoice due in the quarter.
    min_late : int
        Late payments in the quarter that trigger the drop (the manuals: 2).
    terms_level : mapping, optional
        ``{grade label: policy level}`` overriding :data:`TERMS_LEVEL`.

    Returns
    -------
    pandas.DataFrame
        One row per customer of ``grades``: ``customer_id``, ``grade``,
        ``late_last_quarter``, ``late_payer`` (reaches ``min_late``),
        ``terms_before`` and ``terms_after`` (policy levels A-D),
        ``credit_days_before``, ``credit_days_after``, ``moved`` (the terms
        dropped a level) and ``at_floor`` (a late payer already on D's terms,
        which cannot drop further).
    """
    minimum = check_whole_number("min_late_payments", min_late)
    mapping = TERMS_LEVEL | dict(terms_level or {})
    require_columns(grades, ["customer_id", "grade"], "the payment-terms rule", table="grades")
    require_columns(record, ["customer_id", "late_last_quarter"], "the payment-terms rule", table="payment record")
    late = grades["customer_id"].map(record.set_index("customer_id")["late_last_quarter"]).fillna(0).astype("int64")
    labels = grades["grade"].astype("object")
    unknown = sorted(set(labels.dropna()) - set(mapping))
    if unknown:
        raise ParameterError("terms_level", dict(terms_level or {}), f"a policy level (A-D) for grade {unknown[0]!r}")
    before = labels.map(mapping)
    payer = (late >= minimum).to_numpy()
    position = before.map({level: i for i, level in enumerate(_LEVELS)}).to_numpy(dtype=float)
    dropped = np.where(payer, np.minimum(position + 1, len(_LEVELS) - 1), position)
    after = pd.Series([_LEVELS[int(i)] for i in dropped], index=grades.index)
    return pd.DataFrame(
        {
            "customer_id": grades["customer_id"].to_numpy(),
            "grade": labels.to_numpy(),
            "late_last_quarter": late.to_numpy(),
            "late_payer": payer,
            "terms_before": before.to_numpy(),
            "terms_after": after.to_numpy(),
            "credit_days_before": before.map(_TERMS["credit_days"]).to_numpy(dtype="int64"),
            "credit_days_after": after.map(_TERMS["credit_days"]).to_numpy(dtype="int64"),
            "moved": dropped != position,
            "at_floor": payer & (position == len(_LEVELS) - 1),
        }
    )


def downgrade_table(moves: pd.DataFrame, labels: list[str] | None = None) -> pd.DataFrame:
    """Per grade: customers, late payers, how many the rule moves, and the terms before and after.

    Parameters
    ----------
    moves : DataFrame
        :func:`payment_terms_downgrades`.
    labels : list of str, optional
        Grades in order, best first (default: their order of appearance).

    Returns
    -------
    pandas.DataFrame
        One row per grade and a ``total`` row: ``grade``, ``customers``,
        ``late_payers``, ``moved``, ``at_floor`` (late payers on D's terms,
        which cannot drop), ``terms_before`` and ``terms_after`` (the policy's
        words), ``credit_days_before`` and ``credit_days_after``.
    """
    labels = labels or list(dict.fromkeys(moves["grade"].dropna()))
    rows = []
    for label in labels:
        members = moves[moves["grade"] == label]
        level = TERMS_LEVEL.get(label) if members.empty else members["terms_before"].iloc[0]
        after = _LEVELS[min(_LEVELS.index(level) + 1, len(_LEVELS) - 1)] if level in _LEVELS else None
        rows.append(
            {
                "grade": label,
                "customers": len(members),
                "late_payers": int(members["late_payer"].sum()),
                "moved": int(members["moved"].sum()),
                "at_floor": int(members["at_floor"].sum()),
                "terms_before": _TERMS.loc[level, "payment_terms"] if level else "",
                "terms_after": _TERMS.loc[after, "payment_terms"] if after else "",
                "credit_days_before": _TERMS.loc[level, "credit_days"] if level else np.nan,
                "credit_days_after": _TERMS.loc[after, "credit_days"] if after else np.nan,
            }
        )
    columns = ["grade", "customers", "late_payers", "moved", "at_floor", "terms_before", "terms_after"]
    table = pd.DataFrame(rows, columns=[*columns, "credit_days_before", "credit_days_after"])
    total = {"grade": "total"} | {c: int(table[c].sum()) for c in ("customers", "late_payers", "moved", "at_floor")}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
