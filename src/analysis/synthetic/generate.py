"""Generating the synthetic B2B base: customers, orders, invoices, complaints, contacts, and planted churn."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number
from analysis.churn.accounts import salesperson_signs
from analysis.churn.signals import b2b_signals
from analysis.errors import ParameterError, check_option
from analysis.synthetic.accounts import company_names, complaint_details, draw_accounts, serve
from analysis.synthetic.effects import (
    CHANNEL_P,
    CHANNELS,
    CHURN_MODELS,
    DEFAULT_BASELINE,
    DROP_FACTOR,
    DROP_WINDOW_DAYS,
    DUE_DAYS,
    MIN_TENURE_DAYS,
    MONTH_DAYS,
    REGION_P,
    REGIONS,
    SIGNALS,
    B2BData,
    check_effects,
    check_real,
)
from analysis.synthetic.tables import as_dates, contract_tables

__all__ = ["generate_b2b"]


def generate_b2b(
    n_customers: int = 2000,
    *,
    seed: int = 0,
    as_of: str = "2024-06-30",
    history_start: str = "2022-01-01",
    horizon_days: int = 90,
    data_end: str = "2024-12-31",
    churn_model: str = "logistic",
    effects: Mapping[str, float] | None = None,
    baseline: float | None = None,
) -> B2BData:
    """Generate a SYNTHETIC B2B customer base with planted churn effects.

    The model, its parameters and the planted effects are described in the
    module docstring (:mod:`analysis.synthetic`).

    Parameters
    ----------
    n_customers : int
        Number of customers (at least 1), ids ``"C00001"``, ``"C00002"``, ...
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed and parameters
        give identical tables.
    as_of : date
        The observation date of the signals. At least 180 days after
        ``history_start`` and before ``data_end``.
    history_start : date
        First day customers can be acquired.
    horizon_days : int
        Churn horizon of the logistic model: churners leave, and non-churners
        buy again, within ``(as_of, as_of + horizon_days]``, which must end by
        ``data_end``.
    data_end : date
        Last day of the tables (and the censoring date of the
        proportional-hazards model).
    churn_model : {"logistic", "proportional_hazards"}
        How churn is drawn from the observed signals.
    effects : mapping, optional
        Coefficients overriding :data:`DEFAULT_EFFECTS`, by signal name
        (log odds ratios or log hazard ratios).
    baseline : float, optional
        Intercept: log-odds (logistic) or log daily hazard (proportional
        hazards); default :data:`DEFAULT_BASELINE` of the model.

    Returns
    -------
    B2BData
        The tables, the observed signals with the churn outcome, and the
        true effects.

    Raises
    ------
    ParameterError
        On a bad parameter; the message names it.
    """
    n = check_whole_number("n_customers", n_customers, 1)
    seed = check_whole_number("seed", seed, 0)
    check_option("churn_model", churn_model, CHURN_MODELS)
    start = check_day("history_start", history_start)
    as_day = check_day("as_of", as_of)
    end = check_day("data_end", data_end)
    if (as_day - start).days < MIN_TENURE_DAYS or as_day >= end:
        raise ParameterError(
            "as_of",
            as_of,
            f"a date at least {MIN_TENURE_DAYS} days after history_start ({start.date()}) "
            f"and before data_end ({end.date()})",
        )
    horizon = check_whole_number("horizon_days", horizon_days, 1)
    last_day = (end - as_day).days
    if horizon > last_day:
        raise ParameterError(
            "horizon_days",
            horizon_days,
            f"an integer from 1 to {last_day} (as_of + horizon_days within data_end)",
        )
    beta = check_effects(effects)
    b0 = DEFAULT_BASELINE[churn_model] if baseline is None else check_real("baseline", baseline)

    # spawn(4)[:3] are the streams of spawn(3): the accounts stream changed no earlier draw
    rng_past, rng_churn, rng_future, rng_accounts = np.random.default_rng(seed).spawn(4)
    people = _draw_customers(rng_past, n, (start - as_day).days)
    past = _draw_past(rng_past, people)
    accounts = draw_accounts(rng_accounts, people)
    accounts["name"] = company_names(rng_accounts, n)
    _attach_accounts(rng_accounts, accounts, past)
    origin = np.datetime64(as_day.date(), "ns")
    observed = _signals_of(past, n, origin, as_day)

    x = observed[list(SIGNALS)].to_numpy(dtype="float64")
    eta = b0 + x @ np.array([beta[s] for s in SIGNALS])
    if churn_model == "logistic":
        churned = rng_churn.random(n) < _expit(eta)
        # a churner's churn day, a non-churner's next purchase day
        day_in_horizon = rng_churn.integers(1, horizon, endpoint=True, size=n)
        churn_day = np.where(churned, day_in_horizon, 0)
        time = np.where(churned, churn_day, horizon)
        next_purchase = np.where(churned, np.inf, day_in_horizon)  # churners: none
        active_end = np.where(churned, churn_day, last_day).astype("float64")
    else:
        with np.errstate(over="ignore"):  # an extreme baseline may give inf: never churns
            churn_time = rng_churn.standard_exponential(n) * np.exp(-eta)
        churn_day = np.clip(np.ceil(churn_time), 1, last_day + 1).astype("int64")
        churned = churn_day <= last_day
        time = np.minimum(churn_day, last_day)
        next_purchase = None  # purchases go on as before until churn or data_end
        active_end = np.minimum(churn_time, last_day)
    future = _draw_future(rng_future, people, next_purchase, active_end)
    _attach_accounts(rng_accounts, accounts, future)
    tables = contract_tables(people | accounts, past, future, origin, last_day, churned, churn_day)

    signals = observed.assign(
        customer_id=tables["customers"]["customer_id"],
        region=tables["customers"]["region"],
        churned=churned.astype("int64"),
        time=time.astype("int64"),
    )
    coefficients = np.array([beta[s] for s in SIGNALS] + [0.0])
    true_effects = pd.DataFrame(
        {
            "signal": pd.Series([*SIGNALS, "region"], dtype="str"),
            "coefficient": coefficients,
            "ratio": np.exp(coefficients),
        }
    )
    return B2BData(
        transactions=tables["transactions"],
        customers=tables["customers"],
        invoices=tables["invoices"],
        complaints=tables["complaints"],
        contacts=tables["contacts"],
        signals=signals[["customer_id", *SIGNALS, "region", "churned", "time"]],
        true_effects=true_effects,
        as_of=as_day,
        horizon_days=horizon,
        churn_model=churn_model,
        baseline=float(b0),
        data_end=end,
    )


def _expit(x: Any) -> Any:
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x)))  # no overflow for large |x|


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _draw_customers(rng: np.random.Generator, n: int, first_day: int) -> dict[str, np.ndarray]:
    """Customer-level traits (fixed draw order: the past depends on nothing else)."""
    z = rng.standard_normal(n)
    per_day = 1 / MONTH_DAYS
    people = {
        "region": rng.choice(len(REGIONS), size=n, p=REGION_P),
        "channel": rng.choice(len(CHANNELS), size=n, p=CHANNEL_P),
        "acquired": rng.integers(first_day, -MIN_TENURE_DAYS, endpoint=True, size=n),
        "rate": rng.gamma(2.0, 1.5 * per_day / 2.0, size=n),
        "dropper": rng.random(n) < _expit(_logit(0.25) + 1.0 * z),
        "level": rng.normal(math.log(400), 0.8, size=n),
        "margin_rate": rng.beta(5, 15, size=n),
        "unit_price": np.exp(rng.normal(math.log(60), 0.5, size=n)),
        "late_payer": rng.random(n) < _expit(_logit(0.3) + 1.0 * z),
        "complaint_rate": rng.gamma(0.5, 0.1 * per_day / 0.5, size=n) * np.exp(0.8 * z - 0.32),
        "contact_rate": rng.gamma(4.0, 2.0 * per_day / 4.0, size=n),
        "neglected": rng.random(n) < _expit(_logit(0.15) + 1.0 * z),
        "gap": rng.integers(31, 150, endpoint=True, size=n),
    }
    people["current_rate"] = people["rate"] * np.where(people["dropper"], DROP_FACTOR, 1.0)
    return people


def _poisson(rng: np.random.Generator, rate: np.ndarray, start: Any, end: Any) -> tuple[np.ndarray, np.ndarray]:
    """Owners and whole days (ceiling) of Poisson events on ``(start_i, end_i]``."""
    n = len(rate)
    start = np.broadcast_to(np.asarray(start, dtype="float64"), n)
    end = np.broadcast_to(np.asarray(end, dtype="float64"), n)
    length = np.clip(end - start, 0, None)
    owner = np.repeat(np.arange(n), rng.poisson(rate * length))
    t = start[owner] + length[owner] * (1 - rng.random(owner.size))
    day = np.clip(np.ceil(t), np.floor(start[owner]) + 1, np.ceil(end[owner]))
    return owner, day.astype("int64")


def _orders(
    rng: np.random.Generator, people: dict[str, np.ndarray], owner: np.ndarray, day: np.ndarray
) -> dict[str, np.ndarray]:
    """Order lines and their invoices' payment days for purchase events."""
    m = owner.size
    amount = np.maximum(np.round(np.exp(people["level"][owner] + 0.5 * rng.standard_normal(m)), 2), 0.01)
    main = people["channel"][owner]
    late = rng.random(m) < np.where(people["late_payer"][owner], 0.6, 0.05)
    never = late & (rng.random(m) < 0.1)
    delay = np.where(late, rng.geometric(1 / 15, size=m), -rng.integers(0, 20, endpoint=True, size=m))
    paid = (day + DUE_DAYS + delay).astype("float64")
    paid[never] = np.nan
    return {
        "owner": owner,
        "day": day,
        "amount": amount,
        "quantity": (1 + rng.poisson(amount / people["unit_price"][owner])).astype("float64"),
        "margin": np.round(amount * people["margin_rate"][owner], 2),
        "channel": np.where(rng.random(m) < 0.8, main, rng.integers(0, len(CHANNELS), size=m)),
        "paid": paid,
    }


def _draw_past(rng: np.random.Generator, people: dict[str, np.ndarray]) -> dict[str, Any]:
    """Purchases, contacts and complaints up to as_of (day 0)."""
    n = len(people["rate"])
    acquired = people["acquired"]
    early = _poisson(rng, people["rate"], acquired, -DROP_WINDOW_DAYS)
    recent = _poisson(rng, people["current_rate"], -DROP_WINDOW_DAYS, 0)
    owner = np.concatenate([np.arange(n), early[0], recent[0]])
    day = np.concatenate([acquired, early[1], recent[1]])
    fallback = rng.integers(-MIN_TENURE_DAYS + 1, 0, endpoint=True, size=n)
    inactive = np.bincount(owner[day > -MIN_TENURE_DAYS], minlength=n) == 0
    owner = np.concatenate([owner, np.flatnonzero(inactive)])
    day = np.concatenate([day, fallback[inactive]])

    c_owner, c_day = _poisson(rng, people["contact_rate"], acquired, 0)
    kept = ~(people["neglected"][c_owner] & (c_day > -people["gap"][c_owner]))
    c_owner, c_day = c_owner[kept], c_day[kept]
    k_owner, k_day = _poisson(rng, people["complaint_rate"], acquired, 0)
    return {
        "orders": _orders(rng, people, owner, day),
        "contacts": _events(rng, c_owner, c_day, "visit", 0.3),
        "complaints": _events(rng, k_owner, k_day, "resolved", 0.75),
    }


def _events(rng: np.random.Generator, owner: np.ndarray, day: np.ndarray, flag: str, p: float) -> dict[str, np.ndarray]:
    return {"owner": owner, "day": day, flag: rng.random(owner.size) < p}


def _draw_future(
    rng: np.random.Generator,
    people: dict[str, np.ndarray],
    next_purchase: np.ndarray | None,
    active_end: np.ndarray,
) -> dict[str, Any]:
    """Purchases, contacts and complaints after as_of (day 0) until ``active_end``.

    With ``next_purchase`` (logistic model) customers whose next purchase day
    is before ``active_end`` buy on that day and then as a Poisson process
    until ``active_end``; without it, everyone buys as a Poisson process from
    day 0.
    """
    rate = people["current_rate"]
    if next_purchase is not None:
        buyer = np.flatnonzero(next_purchase <= active_end)
        later = _poisson(rng, rate, next_purchase, active_end)
        owner = np.concatenate([buyer, later[0]])
        day = np.concatenate([next_purchase[buyer].astype("int64"), later[1]])
    else:
        owner, day = _poisson(rng, rate, 0.0, active_end)
    c_owner, c_day = _poisson(rng, people["contact_rate"], 0.0, active_end)
    k_owner, k_day = _poisson(rng, people["complaint_rate"], 0.0, active_end)
    return {
        "orders": _orders(rng, people, owner, day),
        "contacts": _events(rng, c_owner, c_day, "visit", 0.3),
        "complaints": _events(rng, k_owner, k_day, "resolved", 0.75),
    }


def _attach_accounts(rng: np.random.Generator, accounts: dict[str, np.ndarray], events: dict[str, Any]) -> None:
    """Add who served each order and contact, and each complaint's type and resolution day (in place)."""
    for kind in ("orders", "contacts"):
        events[kind]["salesperson"] = serve(rng, accounts, events[kind]["owner"], events[kind]["day"])
    complaints = events["complaints"]
    complaints["kind"], complaints["resolved_day"] = complaint_details(rng, complaints["day"])


def _signals_of(past: dict[str, Any], n: int, origin: np.datetime64, as_day: pd.Timestamp) -> pd.DataFrame:
    """Signals at as_of from the past alone, through :func:`b2b_signals` and :func:`salesperson_signs`."""
    orders, contacts, complaints = past["orders"], past["contacts"], past["complaints"]
    invoice = as_dates(origin, orders["day"])
    served = [
        pd.DataFrame({"customer_id": e["owner"], "date": as_dates(origin, e["day"]), "salesperson": e["salesperson"]})
        for e in (orders, contacts)
    ]
    owners = salesperson_signs(np.arange(n), served, as_of=as_day)
    flags = b2b_signals(
        pd.DataFrame({"customer_id": np.arange(n)}),
        pd.DataFrame({"customer_id": orders["owner"], "date": invoice, "amount": orders["amount"]}),
        pd.DataFrame(
            {
                "customer_id": orders["owner"],
                "invoice_date": invoice,
                "due_date": as_dates(origin, orders["day"] + DUE_DAYS),
                "paid_date": as_dates(origin, orders["paid"]),
            }
        ),
        pd.DataFrame({"customer_id": complaints["owner"], "date": as_dates(origin, complaints["day"])}),
        pd.DataFrame({"customer_id": contacts["owner"], "date": as_dates(origin, contacts["day"])}),
        as_of=as_day,
    )
    return flags.assign(owner_change=owners["owner_change"].to_numpy())
