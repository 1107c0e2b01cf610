"""The planted effects of the synthetic B2B base: signals, their true sizes, churn models, request checks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

__all__ = [
    "CHANNELS",
    "CHANNEL_P",
    "CHURN_MODELS",
    "COMPLAINT_TYPES",
    "CUSTOMERS_PER_SALESPERSON",
    "DEFAULT_BASELINE",
    "DEFAULT_EFFECTS",
    "DROP_FACTOR",
    "DROP_WINDOW_DAYS",
    "DUE_DAYS",
    "HANDOVER_P",
    "INDUSTRIES",
    "INDUSTRY_P",
    "MIN_TENURE_DAYS",
    "MONTH_DAYS",
    "REGIONS",
    "REGION_P",
    "SHARED_P",
    "SIGNALS",
    "B2BData",
    "check_effects",
    "check_real",
]


#: The observed warning signs, in the order of :attr:`B2BData.signals`.
SIGNALS: tuple[str, ...] = ("late_payments", "complaint", "contact_gap", "frequency_drop", "owner_change")


#: Planted coefficients (log odds ratios or log hazard ratios).
DEFAULT_EFFECTS: Mapping[str, float] = MappingProxyType(
    {
        "late_payments": math.log(2.5),
        "complaint": math.log(2.0),
        "contact_gap": math.log(1.6),
        "frequency_drop": math.log(3.0),
        "owner_change": math.log(1.8),
    }
)


CHURN_MODELS: tuple[str, ...] = ("logistic", "proportional_hazards")


#: Default intercept: log-odds (logistic) or log daily hazard (proportional hazards).
DEFAULT_BASELINE: Mapping[str, float] = MappingProxyType({"logistic": -2.1, "proportional_hazards": math.log(0.00055)})


REGIONS = np.array(["North", "South", "East", "West"], dtype=object)


REGION_P = np.array([0.30, 0.25, 0.25, 0.20])


CHANNELS = np.array(["field", "phone", "web"], dtype=object)


CHANNEL_P = np.array([0.40, 0.35, 0.25])


MONTH_DAYS = 365.25 / 12  # days


MIN_TENURE_DAYS = 180  # days between the last acquisition and as_of


DROP_WINDOW_DAYS = 90  # days before as_of with a dropper's lower rate


DROP_FACTOR = 0.3


DUE_DAYS = 30


INDUSTRIES = np.array(["Manufacturing", "Construction", "Wholesale", "Food", "Electronics", "Logistics"], dtype=object)


INDUSTRY_P = np.array([0.30, 0.15, 0.20, 0.15, 0.12, 0.08])


COMPLAINT_TYPES = np.array(["quality", "delivery", "service", "price"], dtype=object)


HANDOVER_P = 0.15  # customers whose salesperson hands the account over in the 90 days before as_of


SHARED_P = 0.30  # customers with a second salesperson, who serves 30% of their orders and contacts


CUSTOMERS_PER_SALESPERSON = 60


@dataclass(frozen=True, eq=False)
class B2BData:
    """A synthetic B2B customer base (see :mod:`analysis.synthetic`).

    Attributes
    ----------
    transactions : DataFrame
        Contract ``transactions``: ``customer_id``, ``date``, ``amount``,
        ``order_id``, ``quantity``, ``margin``, ``region``, ``channel``,
        ``salesperson``.
    customers : DataFrame
        Contract ``customers``: ``customer_id``, ``name``, ``acquisition_date``,
        ``churned`` (bool), ``churn_date`` (NaT if not churned), ``region``,
        ``industry``, ``credit_limit``, ``payment_terms_days``.
    invoices : DataFrame
        Contract ``invoices``: ``customer_id``, ``invoice_date``, ``due_date``,
        ``paid_date`` (NaT = unpaid or paid after ``data_end``), ``amount``,
        ``paid_amount`` (the whole amount when paid, NaN when not).
    complaints : DataFrame
        Contract ``complaints``: ``customer_id``, ``date``, ``resolved``,
        ``resolved_date``, ``type``.
    contacts : DataFrame
        Contract ``contacts``: ``customer_id``, ``date``, ``channel``
        (``"call"`` or ``"visit"``), ``salesperson``.
    signals : DataFrame
        One row per customer: ``customer_id``, the observed signals at
        ``as_of`` (0/1 ints, :data:`SIGNALS`), ``region``, ``churned`` (0/1)
        and ``time`` (days from ``as_of`` to churn or censoring).
    true_effects : DataFrame
        ``signal``, ``coefficient`` (log odds ratio or log hazard ratio),
        ``ratio`` (odds ratio or hazard ratio); ``region`` has coefficient 0.
    as_of : Timestamp
        The analysis date at which the signals are observed.
    horizon_days : int
        Churn horizon after ``as_of`` (logistic model).
    churn_model : str
        ``"logistic"`` or ``"proportional_hazards"``.
    baseline : float
        The intercept used (log-odds or log daily hazard).
    data_end : Timestamp
        Last day covered by the tables.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    invoices: pd.DataFrame
    complaints: pd.DataFrame
    contacts: pd.DataFrame
    signals: pd.DataFrame
    true_effects: pd.DataFrame
    as_of: pd.Timestamp
    horizon_days: int
    churn_model: str
    baseline: float
    data_end: pd.Timestamp

    def __repr__(self) -> str:
        return (
            f"B2BData(SYNTHETIC: {len(self.customers):,} customers, "
            f"{len(self.transactions):,} transactions, as_of={self.as_of.date()}, "
            f"churn_model={self.churn_model!r}, churn rate {self.signals['churned'].mean():.3f})"
        )


def check_real(name: str, value: Any) -> float:
    """A finite number, else ``ParameterError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ParameterError(name, value, "a finite number")
    return float(value)


def check_effects(effects: Mapping[str, float] | None) -> dict[str, float]:
    """The planted log effects: the defaults, with ``effects`` (known signals, finite numbers) replacing some."""
    beta = dict(DEFAULT_EFFECTS)
    if effects is None:
        return beta
    if not isinstance(effects, Mapping):
        raise ParameterError("effects", effects, f"a mapping from signal names {list(SIGNALS)}")
    unknown = [k for k in effects if k not in SIGNALS]
    if unknown:
        raise ParameterError("effects", dict(effects), f"keys among {list(SIGNALS)} (unknown: {unknown})")
    for key, value in effects.items():
        beta[key] = check_real(f"effects[{key}]", value)
    return beta
