"""The warning signs and outcomes of the churn frames: every signal's name, defined once."""

from __future__ import annotations

__all__ = ["B2B_SIGNALS", "OUTCOMES", "TELCO_SIGNALS", "TRANSACTION_SIGNALS"]


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
    "complaint",
    "contact_gap",
    "late_invoices",
    "overdue_amount",
    "collection_ratio",
    "complaints_recent",
    "days_since_contact",
)


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
