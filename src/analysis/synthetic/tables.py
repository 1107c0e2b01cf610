"""The synthetic base as the data contract's tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.data.contract import CONTRACT
from analysis.synthetic.accounts import salesperson_names
from analysis.synthetic.effects import CHANNELS, COMPLAINT_TYPES, DUE_DAYS, INDUSTRIES, REGIONS

__all__ = ["as_dates", "contract_tables"]


def as_dates(origin: np.datetime64, days: np.ndarray) -> np.ndarray:
    """``origin`` plus whole days (NaN -> NaT) as datetime64[ns]."""
    days = np.asarray(days, dtype="float64")
    missing = np.isnan(days)
    out = origin + np.where(missing, 0, days).astype("int64").astype("timedelta64[D]")
    out = out.astype("datetime64[ns]")
    out[missing] = np.datetime64("NaT")
    return out


def _text(values: np.ndarray, index: np.ndarray) -> pd.Series:
    """``values[index]`` as a pandas ``str`` column (via Arrow, fast for millions)."""
    taken = pa.array(list(values), type=pa.string()).take(pa.array(index, type=pa.int64()))
    return pd.Series(pd.array(taken, dtype="str"))


def contract_tables(
    people: dict[str, np.ndarray],
    past: dict[str, Any],
    future: dict[str, Any],
    origin: np.datetime64,
    last_day: int,
    churned: np.ndarray,
    churn_day: np.ndarray,
) -> dict[str, pd.DataFrame]:
    """The drawn base as the data contract's tables (customers, transactions, invoices, complaints, contacts)."""
    n = len(churned)
    width = max(5, len(str(n)))
    ids = np.array([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)

    def merge(kind: str) -> dict[str, np.ndarray]:
        both = {k: np.concatenate([past[kind][k], future[kind][k]]) for k in past[kind]}
        if kind == "orders":  # order numbers run in time order (past first, so stable)
            chrono = np.lexsort((both["owner"], both["day"]))
            number = np.empty(chrono.size, dtype="int64")
            number[chrono] = np.arange(1, chrono.size + 1)
            both["number"] = number
        else:
            both["number"] = np.arange(both["owner"].size)
        order = np.lexsort((both["number"], both["day"], both["owner"]))
        return {k: v[order] for k, v in both.items()}

    orders, contacts, complaints = merge("orders"), merge("contacts"), merge("complaints")
    order_ids = pc.binary_join_element_wise("O", pc.utf8_lpad(pa.array(orders["number"]).cast(pa.string()), 8, "0"), "")
    paid = orders["paid"].copy()
    paid[paid > last_day] = np.nan  # not known within the data
    team = salesperson_names(int(people["team"][0]))
    resolved = complaints["resolved"] & (complaints["resolved_day"] <= last_day)  # resolved within the data
    frames = {
        "transactions": {
            "customer_id": _text(ids, orders["owner"]),
            "date": as_dates(origin, orders["day"]),
            "amount": orders["amount"],
            "order_id": pd.Series(pd.array(order_ids, dtype="str")),
            "quantity": orders["quantity"],
            "margin": orders["margin"],
            "region": _text(REGIONS, people["region"][orders["owner"]]),
            "channel": _text(CHANNELS, orders["channel"]),
            "salesperson": _text(team, orders["salesperson"]),
        },
        "customers": {
            "customer_id": _text(ids, np.arange(n)),
            "acquisition_date": as_dates(origin, people["acquired"]),
            "churned": churned.astype(bool),
            "churn_date": as_dates(origin, np.where(churned, churn_day, np.nan)),
            "region": _text(REGIONS, people["region"]),
            "name": pd.Series(pd.array(people["name"], dtype="str")),
            "industry": _text(INDUSTRIES, people["industry"]),
            "credit_limit": people["credit_limit"],
            "payment_terms_days": np.full(n, float(DUE_DAYS)),
        },
        "invoices": {
            "customer_id": _text(ids, orders["owner"]),
            "invoice_date": as_dates(origin, orders["day"]),
            "due_date": as_dates(origin, orders["day"] + DUE_DAYS),
            "paid_date": as_dates(origin, paid),
            "amount": orders["amount"],
            "paid_amount": np.where(np.isnan(paid), np.nan, orders["amount"]),
        },
        "complaints": {
            "customer_id": _text(ids, complaints["owner"]),
            "date": as_dates(origin, complaints["day"]),
            "resolved": resolved,
            "resolved_date": as_dates(origin, np.where(resolved, complaints["resolved_day"], np.nan)),
            "type": _text(COMPLAINT_TYPES, complaints["kind"]),
        },
        "contacts": {
            "customer_id": _text(ids, contacts["owner"]),
            "date": as_dates(origin, contacts["day"]),
            "channel": _text(np.array(["call", "visit"], dtype=object), contacts["visit"].astype("int64")),
            "salesperson": _text(team, contacts["salesperson"]),
        },
    }
    return {
        table: pd.DataFrame({spec.name: columns[spec.name] for spec in CONTRACT[table] if spec.name in columns})
        for table, columns in frames.items()
    }
