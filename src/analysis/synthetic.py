"""SYNTHETIC B2B customer base with known, planted churn effects.

Everything this module returns is **synthetic**: made-up customers generated
by a documented random model. It exists because the shipped datasets lack the
churn warning signs of ``DOMAIN.md`` section 2 (payments, complaints, contacts)
and their true effects are unknown. Here they are known, so a churn study can
be checked against the truth: run the study on :func:`generate_b2b`'s tables
and compare its estimates with :attr:`B2BData.true_effects`.

The generator is deterministic: one ``numpy.random.default_rng(seed)``, split
with ``spawn`` into three independent streams (the world up to ``as_of``, the
churn draw, the world after ``as_of``). No global random state is used. The
world up to ``as_of`` depends only on ``seed``, ``n_customers``,
``history_start`` and ``as_of``, so changing the churn model, its effects or
the horizon never changes the past.

Time runs in whole days; ``as_of`` is day 0. All tables follow the data
contract (:data:`analysis.data.CONTRACT`) with the types
:func:`analysis.data.read_table` returns.

Customers and purchases up to ``as_of``
---------------------------------------
- Region North/South/East/West with probabilities 0.30/0.25/0.25/0.20 and a
  main sales channel field/phone/web (0.40/0.35/0.25); each order goes through
  the main channel with probability 0.8, else through a channel drawn
  uniformly from the three.
- A latent "strain" ``z ~ N(0, 1)`` per customer makes the problems below go
  together (a customer under strain is more often a dropper, a late payer, a
  complainer and neglected), so that signals are correlated as in real life
  and a one-signal-at-a-time analysis is (mildly) confounded. The strain acts
  on churn only through the observed signals. Region is independent of
  everything.
- Acquisition (the first purchase) on a day uniform in
  ``[history_start, as_of - 180 days]``.
- Orders after the first: a Poisson process with a customer rate
  ``Gamma(shape 2, mean 1.5 orders a month)``. A "dropper" (probability
  ``expit(logit 0.25 + z)``, about 29%) buys at 0.3 times that rate in the
  last 90 days before ``as_of`` and after it. A customer whose process leaves
  no purchase in the 180 days up to ``as_of`` gets one on a day uniform in
  them, so every customer is active.
- Amount lognormal: ``exp(m + 0.5 N(0, 1))`` with customer level
  ``m ~ N(log 400, 0.8)``, rounded to cents; margin = amount x customer
  margin rate ``Beta(5, 15)`` (mean 0.25); quantity
  ``1 + Poisson(amount / unit price)`` with a customer unit price
  ``exp(N(log 60, 0.5))``.
- Invoices: one per order, dated the order day, amount = order amount, due
  30 days later. A "late payer" (probability ``expit(logit 0.3 + z)``, about
  33%) pays an invoice late with probability 0.6, others with probability
  0.05. A late invoice is paid ``1 + Geometric(1/15)`` days after the due
  date, or never (probability 0.1); an invoice on time is paid 0-20 days
  before the due date. Payments after ``data_end`` are unknown: ``paid_date``
  is NaT.
- Complaints: Poisson process with customer rate
  ``Gamma(shape 0.5, mean 0.1 a month) x exp(0.8 z - 0.32)``; resolved with
  probability 0.75.
- Contacts (calls 70%, visits 30%): Poisson process with customer rate
  ``Gamma(shape 4, mean 2 a month)``. A "neglected" customer (probability
  ``expit(logit 0.15 + z)``, about 19%) has no contact in the last 31-150
  days (uniform) before ``as_of``.
- After ``as_of`` customers buy at their current rate (a dropper's lower one),
  and are contacted and complain as before, until they churn (below) or
  ``data_end``.

Observed signals at ``as_of``
-----------------------------
Computed by :func:`b2b_signals` from the tables, using only rows dated on or
before ``as_of`` (and only payments known by then): ``late_payments``,
``complaint``, ``contact_gap``, ``frequency_drop`` (0/1; definitions there).
At the defaults their prevalences are about 0.11, 0.18, 0.34 and 0.32;
``frequency_drop`` is negatively correlated with ``late_payments`` (fewer
orders, fewer invoices to pay late), the others mildly positively (strain).

Churn: the planted effects
--------------------------
Churn is drawn from the *observed* signals ``x``, so a correctly specified
model on :attr:`B2BData.signals` recovers the planted coefficients exactly (up
to sampling error). Default coefficients (:data:`DEFAULT_EFFECTS`):

=================  ===========  =================
signal             coefficient  odds / hazard ratio
=================  ===========  =================
``late_payments``  ln 2.5       2.5
``complaint``      ln 2.0       2.0
``contact_gap``    ln 1.6       1.6
``frequency_drop`` ln 3.0       3.0
``region``         0            1 (null control: no effect, any contrast)
=================  ===========  =================

``churn_model="logistic"`` (default)
    ``churned ~ Bernoulli(expit(baseline + sum(beta * x)))`` with default
    ``baseline = -2.1`` (log-odds; overall churn about 22% at the defaults);
    ``ratio`` is the odds ratio. A churner's ``churn_date`` is uniform in
    ``(as_of, as_of + horizon_days]``; churners make no purchase (hence get
    no invoice) after ``as_of`` and have no contact or complaint after their
    ``churn_date``. A non-churner's next purchase is on a day uniform in
    ``(as_of, as_of + horizon_days]`` and it keeps buying until ``data_end``.
    So "no purchase in the ``horizon_days`` after ``as_of``" is exactly the
    planted ``churned`` flag.
``churn_model="proportional_hazards"``
    Time to churn after ``as_of`` (days) is exponential with hazard
    ``exp(baseline + sum(beta * x))``, default ``baseline = log(0.00055)``
    (log daily hazard; about 22% churned by ``data_end`` at the defaults,
    184 days after ``as_of``); ``ratio`` is the
    hazard ratio. ``churn_date`` is the churn time rounded up to a whole day,
    ``churned`` the event indicator at ``data_end`` (censoring; NaT
    ``churn_date`` if not churned). Every customer keeps buying (and being
    contacted) until its churn time or ``data_end``, so "no purchase in the
    next H days" is *not* the churn flag in this model.

``B2BData.signals`` adds ``churned`` (0/1) and ``time``: days from ``as_of``
to ``churn_date``, or to the end of follow-up for customers who did not churn
(``horizon_days`` for the logistic model, ``data_end - as_of`` for the
proportional-hazards model; day-grouped, so use Efron's ties).

Examples
--------
>>> data = generate_b2b(200, seed=1)
>>> sorted(data.signals.columns)  # doctest: +NORMALIZE_WHITESPACE
['churned', 'complaint', 'contact_gap', 'customer_id', 'frequency_drop',
 'late_payments', 'region', 'time']
>>> data.true_effects.set_index("signal")["ratio"].round(2).to_dict()
{'late_payments': 2.5, 'complaint': 2.0, 'contact_gap': 1.6, 'frequency_drop': 3.0, 'region': 1.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.data import CONTRACT
from analysis.errors import DataError, ParameterError, check_option

__all__ = [
    "CHURN_MODELS",
    "DEFAULT_BASELINE",
    "DEFAULT_EFFECTS",
    "SIGNALS",
    "B2BData",
    "b2b_signals",
    "generate_b2b",
]

#: The observed warning signs, in the order of :attr:`B2BData.signals`.
SIGNALS: tuple[str, ...] = ("late_payments", "complaint", "contact_gap", "frequency_drop")

#: Planted coefficients (log odds ratios or log hazard ratios).
DEFAULT_EFFECTS: Mapping[str, float] = MappingProxyType(
    {
        "late_payments": math.log(2.5),
        "complaint": math.log(2.0),
        "contact_gap": math.log(1.6),
        "frequency_drop": math.log(3.0),
    }
)

CHURN_MODELS: tuple[str, ...] = ("logistic", "proportional_hazards")

#: Default intercept: log-odds (logistic) or log daily hazard (proportional hazards).
DEFAULT_BASELINE: Mapping[str, float] = MappingProxyType({"logistic": -2.1, "proportional_hazards": math.log(0.00055)})

_REGIONS = np.array(["North", "South", "East", "West"], dtype=object)
_REGION_P = np.array([0.30, 0.25, 0.25, 0.20])
_CHANNELS = np.array(["field", "phone", "web"], dtype=object)
_CHANNEL_P = np.array([0.40, 0.35, 0.25])
_MONTH = 365.25 / 12  # days
_MIN_TENURE = 180  # days between the last acquisition and as_of
_DROP_WINDOW = 90  # days before as_of with a dropper's lower rate
_DROP_FACTOR = 0.3
_DUE_DAYS = 30


@dataclass(frozen=True, eq=False)
class B2BData:
    """A synthetic B2B customer base (see :mod:`analysis.synthetic`).

    Attributes
    ----------
    transactions : DataFrame
        Contract ``transactions``: ``customer_id``, ``date``, ``amount``,
        ``order_id``, ``quantity``, ``margin``, ``region``, ``channel``.
    customers : DataFrame
        Contract ``customers``: ``customer_id``, ``acquisition_date``,
        ``churned`` (bool), ``churn_date`` (NaT if not churned), ``region``.
    invoices : DataFrame
        Contract ``invoices``: ``customer_id``, ``invoice_date``, ``due_date``,
        ``paid_date`` (NaT = unpaid or paid after ``data_end``), ``amount``.
    complaints : DataFrame
        Contract ``complaints``: ``customer_id``, ``date``, ``resolved``.
    contacts : DataFrame
        Contract ``contacts``: ``customer_id``, ``date``, ``channel``
        (``"call"`` or ``"visit"``).
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


# --------------------------------------------------------------------------- signals


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
    drop_ratio: float = 0.5,
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
      ``drop_ratio`` times those in ``(as_of - 2W, as_of - W]``; 0 for
      customers with no occasion in the earlier window.

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
    drop_ratio : float
        A fall below this share of the earlier window counts as a drop.

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
    as_day = _check_date("as_of", as_of)
    window_days = _check_int("window_days", window_days, 1)
    min_late = _check_int("min_late", min_late, 1)
    gap_days = _check_int("gap_days", gap_days, 0)
    if isinstance(drop_ratio, bool) or not isinstance(drop_ratio, Real) or not 0 < drop_ratio <= 1:
        raise ParameterError("drop_ratio", drop_ratio, "a number in (0, 1]")
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
    frequency_drop = (counts_earlier > 0) & (counts_recent < drop_ratio * counts_earlier)

    out = pd.DataFrame(
        {
            "customer_id": pd.Series(customers["customer_id"].to_numpy(), dtype="str"),
            "late_payments": late_payments.astype("int64"),
            "complaint": complaint.astype("int64"),
            "contact_gap": contact_gap.astype("int64"),
            "frequency_drop": frequency_drop.astype("int64"),
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


# --------------------------------------------------------------------------- generator


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
    n = _check_int("n_customers", n_customers, 1)
    seed = _check_int("seed", seed, 0)
    check_option("churn_model", churn_model, CHURN_MODELS)
    start = _check_date("history_start", history_start)
    as_day = _check_date("as_of", as_of)
    end = _check_date("data_end", data_end)
    if (as_day - start).days < _MIN_TENURE or as_day >= end:
        raise ParameterError(
            "as_of",
            as_of,
            f"a date at least {_MIN_TENURE} days after history_start ({start.date()}) "
            f"and before data_end ({end.date()})",
        )
    horizon = _check_int("horizon_days", horizon_days, 1)
    last_day = (end - as_day).days
    if horizon > last_day:
        raise ParameterError(
            "horizon_days",
            horizon_days,
            f"an integer from 1 to {last_day} (as_of + horizon_days within data_end)",
        )
    beta = _check_effects(effects)
    b0 = DEFAULT_BASELINE[churn_model] if baseline is None else _check_real("baseline", baseline)

    rng_past, rng_churn, rng_future = np.random.default_rng(seed).spawn(3)
    people = _draw_customers(rng_past, n, (start - as_day).days)
    past = _draw_past(rng_past, people)
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
    tables = _tables(people, past, future, origin, last_day, churned, churn_day)

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
    per_day = 1 / _MONTH
    people = {
        "region": rng.choice(len(_REGIONS), size=n, p=_REGION_P),
        "channel": rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_P),
        "acquired": rng.integers(first_day, -_MIN_TENURE, endpoint=True, size=n),
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
    people["current_rate"] = people["rate"] * np.where(people["dropper"], _DROP_FACTOR, 1.0)
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
    paid = (day + _DUE_DAYS + delay).astype("float64")
    paid[never] = np.nan
    return {
        "owner": owner,
        "day": day,
        "amount": amount,
        "quantity": (1 + rng.poisson(amount / people["unit_price"][owner])).astype("float64"),
        "margin": np.round(amount * people["margin_rate"][owner], 2),
        "channel": np.where(rng.random(m) < 0.8, main, rng.integers(0, len(_CHANNELS), size=m)),
        "paid": paid,
    }


def _draw_past(rng: np.random.Generator, people: dict[str, np.ndarray]) -> dict[str, Any]:
    """Purchases, contacts and complaints up to as_of (day 0)."""
    n = len(people["rate"])
    acquired = people["acquired"]
    early = _poisson(rng, people["rate"], acquired, -_DROP_WINDOW)
    recent = _poisson(rng, people["current_rate"], -_DROP_WINDOW, 0)
    owner = np.concatenate([np.arange(n), early[0], recent[0]])
    day = np.concatenate([acquired, early[1], recent[1]])
    fallback = rng.integers(-_MIN_TENURE + 1, 0, endpoint=True, size=n)
    inactive = np.bincount(owner[day > -_MIN_TENURE], minlength=n) == 0
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


def _signals_of(past: dict[str, Any], n: int, origin: np.datetime64, as_day: pd.Timestamp) -> pd.DataFrame:
    """Signals at as_of from the past alone, through :func:`b2b_signals` (integer ids)."""
    orders, contacts, complaints = past["orders"], past["contacts"], past["complaints"]
    invoice = _as_dates(origin, orders["day"])
    return b2b_signals(
        pd.DataFrame({"customer_id": np.arange(n)}),
        pd.DataFrame({"customer_id": orders["owner"], "date": invoice, "amount": orders["amount"]}),
        pd.DataFrame(
            {
                "customer_id": orders["owner"],
                "invoice_date": invoice,
                "due_date": _as_dates(origin, orders["day"] + _DUE_DAYS),
                "paid_date": _as_dates(origin, orders["paid"]),
            }
        ),
        pd.DataFrame({"customer_id": complaints["owner"], "date": _as_dates(origin, complaints["day"])}),
        pd.DataFrame({"customer_id": contacts["owner"], "date": _as_dates(origin, contacts["day"])}),
        as_of=as_day,
    )


def _as_dates(origin: np.datetime64, days: np.ndarray) -> np.ndarray:
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


def _tables(
    people: dict[str, np.ndarray],
    past: dict[str, Any],
    future: dict[str, Any],
    origin: np.datetime64,
    last_day: int,
    churned: np.ndarray,
    churn_day: np.ndarray,
) -> dict[str, pd.DataFrame]:
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
    frames = {
        "transactions": {
            "customer_id": _text(ids, orders["owner"]),
            "date": _as_dates(origin, orders["day"]),
            "amount": orders["amount"],
            "order_id": pd.Series(pd.array(order_ids, dtype="str")),
            "quantity": orders["quantity"],
            "margin": orders["margin"],
            "region": _text(_REGIONS, people["region"][orders["owner"]]),
            "channel": _text(_CHANNELS, orders["channel"]),
        },
        "customers": {
            "customer_id": _text(ids, np.arange(n)),
            "acquisition_date": _as_dates(origin, people["acquired"]),
            "churned": churned.astype(bool),
            "churn_date": _as_dates(origin, np.where(churned, churn_day, np.nan)),
            "region": _text(_REGIONS, people["region"]),
        },
        "invoices": {
            "customer_id": _text(ids, orders["owner"]),
            "invoice_date": _as_dates(origin, orders["day"]),
            "due_date": _as_dates(origin, orders["day"] + _DUE_DAYS),
            "paid_date": _as_dates(origin, paid),
            "amount": orders["amount"],
        },
        "complaints": {
            "customer_id": _text(ids, complaints["owner"]),
            "date": _as_dates(origin, complaints["day"]),
            "resolved": complaints["resolved"],
        },
        "contacts": {
            "customer_id": _text(ids, contacts["owner"]),
            "date": _as_dates(origin, contacts["day"]),
            "channel": _text(np.array(["call", "visit"], dtype=object), contacts["visit"].astype("int64")),
        },
    }
    return {
        table: pd.DataFrame({spec.name: columns[spec.name] for spec in CONTRACT[table]})
        for table, columns in frames.items()
    }


# --------------------------------------------------------------------------- checks


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(name, value, f"an integer >= {minimum}")
    return int(value)


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ParameterError(name, value, "a finite number")
    return float(value)


def _check_date(name: str, value: Any) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(name, value, "a date such as '2024-06-30'") from exc
    if pd.isna(stamp):
        raise ParameterError(name, value, "a date such as '2024-06-30'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize().as_unit("ns")


def _check_effects(effects: Mapping[str, float] | None) -> dict[str, float]:
    beta = dict(DEFAULT_EFFECTS)
    if effects is None:
        return beta
    if not isinstance(effects, Mapping):
        raise ParameterError("effects", effects, f"a mapping from signal names {list(SIGNALS)}")
    unknown = [k for k in effects if k not in SIGNALS]
    if unknown:
        raise ParameterError("effects", dict(effects), f"keys among {list(SIGNALS)} (unknown: {unknown})")
    for key, value in effects.items():
        beta[key] = _check_real(f"effects[{key}]", value)
    return beta
