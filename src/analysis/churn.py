"""Churn study, part 1: point-in-time churn frames, the signal table and survival curves.

Two settings (``DOMAIN.md`` section 2):

**Transactions** (non-contractual: CDNOW, the synthetic B2B data)
    Churn is defined operationally. At an analysis date ``as_of`` the
    population is every customer with a purchase in the lookback window
    ``(as_of - lookback_days, as_of]``; such a customer has ``churned`` if they
    make no purchase in the ``horizon_days`` after ``as_of``. Every signal is
    computed only from rows dated on or before ``as_of`` (the frames split
    the tables at ``as_of`` *before* anything is computed, and payments made
    after ``as_of`` count as not yet made), so no outcome information can leak
    into them. Outcomes come only from rows after ``as_of``.
**Subscriptions** (contractual: Telco)
    The churn flag is given and tenure is the survival time.

One row per customer, with fixed column names, built by
:func:`transaction_churn_frame`, :func:`b2b_churn_frame` and
:func:`telco_churn_frame`; every analysis takes such a frame. Aggregation of
raw transactions is left to :mod:`analysis.summaries`; the B2B flags reuse
:func:`analysis.synthetic.b2b_signals`, so they are defined exactly as in the
generator.

The models, out-of-time validation and alert lists are in
:mod:`analysis.churn_models`.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from analysis.checks import check_date, level_name, level_z, require_columns
from analysis.engines import Engine
from analysis.errors import DataError, ParameterError, check_option
from analysis.stats import StatisticalResult
from analysis.summaries import customer_summary
from analysis.synthetic import b2b_signals

__all__ = [
    "B2B_SIGNALS",
    "OUTCOMES",
    "TELCO_SIGNALS",
    "TRANSACTION_SIGNALS",
    "auc_interval",
    "b2b_churn_frame",
    "kaplan_meier",
    "logrank",
    "signal_table",
    "survival_at",
    "telco_churn_frame",
    "transaction_churn_frame",
]

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

_DAY = pd.Timedelta(days=1)
_TELCO_SERVICES = (
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
)


# --------------------------------------------------------------------------- checks




def _whole_days(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(name, value, f"a whole number of days >= {minimum}")
    return int(value)


def _number(name: str, value: Any, low: float, high: float, *, closed_high: bool = True) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and low <= value
    ok = ok and (value <= high if closed_high else value < high)
    if not ok:
        raise ParameterError(name, value, f"a number in [{low:g}, {high:g}{']' if closed_high else ')'}")
    return float(value)


def _day(name: str, value: Any) -> pd.Timestamp:
    return check_date(value, name).normalize()






def outcome_values(frame: pd.DataFrame, outcome: str) -> np.ndarray:
    """The 0/1 outcome column as int64, checked."""
    require_columns(frame, [outcome], "<frame>", "the churn analysis")
    values = frame[outcome]
    if values.isna().any() or not values.isin([0, 1]).all():
        bad = values[values.isna() | ~values.isin([0, 1])]
        raise DataError(
            "outcome must be 0/1 (or bool) without missing values",
            column=outcome,
            n_bad=len(bad),
            n_rows=len(values),
            examples=list(bad.head().items()),
        )
    return values.to_numpy(dtype="int64")


# --------------------------------------------------------------------------- frames


def _split(
    frame: pd.DataFrame, column: str, as_day: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows dated (whole days) on or before ``as_day``, and in ``(as_day, end]`` (new frames)."""
    day = frame[column].dt.normalize()
    return frame[day <= as_day], frame[(day > as_day) & (day <= end)]


def transaction_churn_frame(
    transactions: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    horizon_days: int = 90,
    lookback_days: int = 365,
    window_days: int = 90,
    drop_size: float = 0.5,
    gap_factor: float = 2.0,
    data_end: str | pd.Timestamp | None = None,
    grades: pd.DataFrame | None = None,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """Point-in-time churn signals and outcomes of a transactions table.

    The table is split at ``as_of`` first: the signals are computed by
    :func:`analysis.summaries.customer_summary` from the rows dated on or
    before ``as_of`` alone, the outcomes from the rows in
    ``(as_of, data_end]`` alone. With ``W = window_days``, *recent* means
    ``(as_of - W, as_of]`` and *previous* ``(as_of - 2W, as_of - W]``.

    Parameters
    ----------
    transactions : DataFrame
        Validated transactions (:func:`analysis.data.read_transactions`):
        ``customer_id``, ``date``, ``amount``.
    as_of : date
        Analysis date (inclusive).
    horizon_days : int
        Churn horizon H: ``churned`` means no purchase in ``(as_of, as_of + H]``.
    lookback_days : int
        The population: customers with a purchase in ``(as_of - lookback_days, as_of]``.
    window_days : int
        Length W of the recent and previous periods of the drop signals.
    drop_size : float
        A drop is a fall by more than this share: recent < (1 - drop_size) x
        previous (0.5: to less than half). In [0, 1).
    gap_factor : float
        ``beyond_usual_gap`` flags a recency above ``gap_factor`` times the
        customer's typical gap.
    data_end : date, optional
        Last day of the data (default: the last transaction date); the
        censoring date of ``time_to_next_purchase``.
    grades : DataFrame, optional
        ``customer_id`` and ``grade`` as assigned at ``as_of`` (e.g.
        :func:`analysis.grading.grade_customers` on the summary at ``as_of``),
        added as column ``grade``.
    engine : str or ibis backend
        Where the customer summaries run (:mod:`analysis.engines`).

    Returns
    -------
    pandas.DataFrame
        One row per customer of the population, sorted by ``customer_id``.
        Signals (known at ``as_of``):

        - ``first_purchase``, ``last_purchase`` (dates), ``occasions``
          (purchase days up to ``as_of``), ``tenure_days`` (first purchase to
          ``as_of``), ``recency_days`` (last purchase to ``as_of``);
        - ``typical_gap_days``: the customer's mean gap between purchase days
          (first to last purchase over repeat purchases; NaN after a single
          purchase); ``recency_ratio`` = ``recency_days / typical_gap_days``;
        - ``beyond_usual_gap`` (0/1): ``recency_ratio > gap_factor``;
        - ``dormant`` (0/1): a single purchase day ever, more than W days ago;
        - ``occasions_recent``, ``occasions_previous``, ``value_recent``,
          ``value_previous``: purchase days and net value in the two periods;
        - ``frequency_drop`` / ``value_drop`` (0/1): previous > 0 and recent <
          (1 - drop_size) x previous (purchase days / net value);
        - ``trailing_value`` (net value in the lookback window: the customer
          value used by the alerts), ``total_value`` (all history);
        - ``grade`` if ``grades`` is given (missing: NaN).

        Outcomes (after ``as_of``, never signals, see :data:`OUTCOMES`):
        ``churned`` (0/1: no purchase in ``(as_of, as_of + H]``),
        ``time_to_next_purchase`` (days from ``as_of`` to the next purchase,
        or to ``data_end`` if none) and ``bought_again`` (0/1: a purchase by
        ``data_end``; 0 = censored).

    Raises
    ------
    ParameterError
        On a bad parameter, or if ``as_of + horizon_days`` is after the data end.
    DataError
        On missing columns or no purchase in the lookback window.
    """
    require_columns(transactions, ["customer_id", "date", "amount"], "transactions", "transaction_churn_frame")
    as_day = _day("as_of", as_of)
    end = _day("data_end", data_end) if data_end is not None else _last_day([transactions["date"]])
    horizon = _whole_days("horizon_days", horizon_days)
    lookback = _whole_days("lookback_days", lookback_days)
    window = _whole_days("window_days", window_days)
    drop = _number("drop_size", drop_size, 0.0, 1.0, closed_high=False)
    factor = _number("gap_factor", gap_factor, 0.0, np.inf)
    if as_day + horizon * _DAY > end:
        raise ParameterError(
            "horizon_days",
            horizon_days,
            f"at most {(end - as_day).days} days: as_of + horizon_days must be within data_end ({end.date()})",
        )
    past, future = _split(transactions[["customer_id", "date", "amount"]], "date", as_day, end)
    now = customer_summary(past, as_day, trailing_days=lookback, engine=engine)
    now = now[now["trailing_occasions"] > 0]
    if now.empty:
        raise DataError(f"no purchase in the {lookback} days up to as_of ({as_day.date()})", file="transactions")
    # previous period = the last 2W days minus the last W days (same population, returns included)
    recent = customer_summary(past, as_day, trailing_days=window, engine=engine).set_index("customer_id")
    both = customer_summary(past, as_day, trailing_days=2 * window, engine=engine).set_index("customer_id")
    ids = pd.Index(now["customer_id"])

    def period(table: pd.DataFrame, column: str) -> np.ndarray:
        return table[column].reindex(ids).to_numpy(dtype="float64")

    occ_recent, val_recent = period(recent, "trailing_occasions"), period(recent, "trailing_value")
    occ_previous = period(both, "trailing_occasions") - occ_recent
    val_previous = period(both, "trailing_value") - val_recent
    frequency = now["frequency"].to_numpy()
    typical = np.where(frequency > 0, now["recency"].to_numpy() / np.maximum(frequency, 1), np.nan)
    recency = (as_day - now["last_purchase"]).dt.days.to_numpy(dtype="float64")
    ratio = recency / typical  # repeat purchases are on distinct days: typical > 0
    keep = 1 - drop
    frame = pd.DataFrame(
        {
            "customer_id": now["customer_id"].to_numpy(),
            "first_purchase": now["first_purchase"].to_numpy(),
            "last_purchase": now["last_purchase"].to_numpy(),
            "occasions": now["occasions"].to_numpy(),
            "tenure_days": now["T"].to_numpy(dtype="float64"),
            "recency_days": recency,
            "typical_gap_days": typical,
            "recency_ratio": ratio,
            "beyond_usual_gap": (np.nan_to_num(ratio, nan=0.0) > factor).astype("int64"),
            "dormant": ((frequency == 0) & (recency > window)).astype("int64"),
            "occasions_recent": occ_recent.astype("int64"),
            "occasions_previous": occ_previous.astype("int64"),
            "value_recent": val_recent,
            "value_previous": val_previous,
            "frequency_drop": ((occ_previous > 0) & (occ_recent < keep * occ_previous)).astype("int64"),
            "value_drop": ((val_previous > 0) & (val_recent < keep * val_previous)).astype("int64"),
            "trailing_value": now["trailing_value"].to_numpy(),
            "total_value": now["total_value"].to_numpy(),
        }
    )
    if grades is not None:
        require_columns(grades, ["customer_id", "grade"], "grades", "transaction_churn_frame")
        frame["grade"] = frame["customer_id"].map(
            grades.drop_duplicates("customer_id").set_index("customer_id")["grade"]
        )
    if future.empty:
        first_after = pd.Series(dtype="datetime64[ns]")
    else:
        first_after = customer_summary(future, end, engine=engine).set_index("customer_id")["first_purchase"]
    next_days = (first_after.reindex(ids) - as_day).dt.days.to_numpy(dtype="float64")
    bought = ~np.isnan(next_days)
    frame["churned"] = (~(bought & (next_days <= horizon))).astype("int64")
    frame["time_to_next_purchase"] = np.where(bought, next_days, float((end - as_day).days))
    frame["bought_again"] = bought.astype("int64")
    return frame.reset_index(drop=True)


def _last_day(columns: Sequence[pd.Series]) -> pd.Timestamp:
    stamps = [c.max() for c in columns if len(c) and c.notna().any()]
    if not stamps:
        raise DataError("no dated rows to take the data end from", hint="Pass data_end")
    return pd.Timestamp(max(stamps)).normalize()


def b2b_churn_frame(
    customers: pd.DataFrame,
    transactions: pd.DataFrame,
    invoices: pd.DataFrame,
    complaints: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    horizon_days: int = 90,
    lookback_days: int = 365,
    window_days: int = 90,
    drop_size: float = 0.5,
    gap_factor: float = 2.0,
    min_late: int = 2,
    gap_days: int = 30,
    min_collection_ratio: float = 0.8,
    data_end: str | pd.Timestamp | None = None,
    grades: pd.DataFrame | None = None,
    engine: Engine = "duckdb",
) -> pd.DataFrame:
    """The transaction churn frame plus the B2B warning signs (payments, complaints, contacts).

    Every table is cut at ``as_of`` before anything is computed: event rows
    dated after it are dropped and payments dated after it count as not yet
    made. The 0/1 flags ``late_payments``, ``complaint`` and ``contact_gap``
    are those of :func:`analysis.synthetic.b2b_signals` (same definitions and
    thresholds); ``frequency_drop`` (from :func:`transaction_churn_frame`)
    equals its namesake there with ``drop_ratio = 1 - drop_size``.

    Parameters
    ----------
    customers : DataFrame
        ``customer_id``, optional ``region`` (carried over) and ``churn_date``
        (gives ``recorded_churn`` / ``time_to_churn``; customers who churned
        on or before ``as_of`` are left out). Other columns are not read.
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``.
    invoices : DataFrame
        ``customer_id``, ``invoice_date``, ``due_date``, ``paid_date``, ``amount``.
    complaints, contacts : DataFrame
        ``customer_id``, ``date``.
    as_of, horizon_days, lookback_days, window_days, drop_size, gap_factor, grades, engine
        As for :func:`transaction_churn_frame`.
    min_late : int
        Late invoices in the recent period that make ``late_payments`` (2: "2 or
        more in a quarter" with the default 90-day window).
    gap_days : int
        Longest contact gap allowed (30: "no contact for over a month").
    min_collection_ratio : float
        ``collections_imbalance`` flags collections below this share of sales.
    data_end : date, optional
        Last day of the data (default: the latest date in any table).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`transaction_churn_frame` for the customers in
        ``customers`` (and ``region`` if given), plus, over the recent period
        ``(as_of - W, as_of]`` and as known at ``as_of``:

        - ``late_payments`` (0/1), ``late_invoices`` (count): invoices of the
          period paid after their due date, or unpaid and past due;
        - ``overdue_receivables`` (0/1), ``overdue_amount``: amount of all
          invoices past due and unpaid at ``as_of``;
        - ``invoiced_recent``, ``collected_recent`` (payments received in the
          period), ``collection_ratio`` (their ratio; NaN if nothing was
          invoiced), ``collections_imbalance`` (0/1: ratio below
          ``min_collection_ratio``);
        - ``complaint`` (0/1), ``complaints_recent`` (count);
        - ``contact_gap`` (0/1: more than ``gap_days`` since the last contact,
          or never contacted), ``days_since_contact`` (NaN if never).

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
        require_columns(frame, columns, name, who)
    as_day = _day("as_of", as_of)
    window = _whole_days("window_days", window_days)
    ratio = _number("min_collection_ratio", min_collection_ratio, 0.0, np.inf)
    if data_end is not None:
        end = _day("data_end", data_end)
    else:
        dated = [transactions["date"], invoices["invoice_date"], invoices["paid_date"]]
        end = _last_day([*dated, complaints["date"], contacts["date"]])
    base = transaction_churn_frame(
        transactions,
        as_of=as_day,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        window_days=window,
        drop_size=drop_size,
        gap_factor=gap_factor,
        data_end=end,
        grades=grades,
        engine=engine,
    )
    people = customers[["customer_id"] + (["region"] if "region" in customers.columns else [])]
    if "churn_date" in customers.columns:
        gone = customers["churn_date"].dt.normalize() <= as_day
        people = people[~gone.to_numpy()]
    past_invoices, _ = _split(invoices, "invoice_date", as_day, end)
    paid = past_invoices["paid_date"].dt.normalize()
    past_invoices = past_invoices.assign(paid_date=paid.where(paid <= as_day))  # later payments: unknown
    past = {
        "transactions": _split(transactions, "date", as_day, end)[0],
        "invoices": past_invoices,
        "complaints": _split(complaints, "date", as_day, end)[0],
        "contacts": _split(contacts, "date", as_day, end)[0],
    }
    flags = b2b_signals(
        people,
        **past,
        as_of=as_day,
        window_days=window,
        min_late=min_late,
        gap_days=gap_days,
        drop_ratio=1.0 - float(drop_size),
    ).drop(columns="frequency_drop")
    extra = _b2b_amounts(people["customer_id"], past, as_day, window, ratio)
    frame = base.merge(flags, on="customer_id", how="inner", validate="1:1").merge(
        extra, on="customer_id", how="left", validate="1:1"
    )
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
    ids: pd.Series, past: dict[str, pd.DataFrame], as_day: pd.Timestamp, window: int, min_ratio: float
) -> pd.DataFrame:
    """Counts and amounts behind the B2B flags, from tables already cut at ``as_of``."""
    start = as_day - window * _DAY
    inv = past["invoices"]
    issued = inv["invoice_date"].dt.normalize()
    due = inv["due_date"].dt.normalize()
    paid = inv["paid_date"]  # NaT: not paid by as_of
    unpaid_past_due = paid.isna() & (due < as_day)
    late = (issued > start) & ((paid.notna() & (paid > due)) | unpaid_past_due)
    amount = inv["amount"].astype("float64")
    by_customer = (
        pd.DataFrame(
            {
                "customer_id": inv["customer_id"],
                "late_invoices": late.astype("int64"),
                "overdue_amount": amount.where(unpaid_past_due, 0.0),
                "invoiced_recent": amount.where(issued > start, 0.0),
                "collected_recent": amount.where(paid > start, 0.0),
            }
        )
        .groupby("customer_id")
        .sum()
    )
    complaints = past["complaints"]
    recent = complaints.loc[complaints["date"].dt.normalize() > start, "customer_id"].value_counts()
    contacts = past["contacts"]
    last_contact = contacts.assign(day=contacts["date"].dt.normalize()).groupby("customer_id")["day"].max()
    out = by_customer.reindex(ids.to_numpy()).fillna(0.0)
    invoiced, collected = out["invoiced_recent"].to_numpy(), out["collected_recent"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(invoiced > 0, collected / invoiced, np.nan)
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "late_invoices": out["late_invoices"].to_numpy(dtype="int64"),
            "overdue_receivables": (out["overdue_amount"].to_numpy() > 0).astype("int64"),
            "overdue_amount": out["overdue_amount"].to_numpy(),
            "invoiced_recent": invoiced,
            "collected_recent": collected,
            "collection_ratio": ratio,
            "collections_imbalance": ((invoiced > 0) & (collected < min_ratio * invoiced)).astype("int64"),
            "complaints_recent": recent.reindex(ids.to_numpy()).fillna(0).to_numpy(dtype="int64"),
            "days_since_contact": (as_day - last_contact.reindex(ids.to_numpy())).dt.days.to_numpy(dtype="float64"),
        }
    )


def telco_churn_frame(customers: pd.DataFrame) -> pd.DataFrame:
    """Churn frame of a subscription customers table (the Telco layout).

    Parameters
    ----------
    customers : DataFrame
        As :func:`analysis.data.load_dataset` returns ``"telco"``:
        ``customer_id``, ``churned`` (bool), ``tenure_months``, ``contract``,
        ``payment_method``, ``internet_service``, ``paperless_billing``,
        ``senior_citizen``, ``partner``, ``dependents``, ``phone_service``,
        ``multiple_lines``, the internet add-ons (``online_security``,
        ``online_backup``, ``device_protection``, ``tech_support``,
        ``streaming_tv``, ``streaming_movies``), ``monthly_charges``,
        ``total_charges``.

    Returns
    -------
    pandas.DataFrame
        One row per customer, in input order: ``customer_id``; categories
        ``contract``, ``payment_method``, ``internet_service``; 0/1 signals
        ``month_to_month``, ``electronic_check``, ``fiber_optic``,
        ``paperless_billing``, ``senior_citizen``, ``has_partner``,
        ``has_dependents``, ``no_online_security`` and ``no_tech_support``
        (internet customers without the add-on); ``tenure_months``,
        ``monthly_charges``, ``total_charges`` (NaN where blank),
        ``n_services`` (phone, extra lines, internet and each add-on taken);
        outcome ``churned`` (0/1). For survival, ``tenure_months`` is the
        time and ``churned`` the event (0 = still a customer: censored).

        The table is a snapshot: tenure, charges and services are as of the
        extract date, so they describe churners at churn, not before it.
    """
    yes = ["partner", "dependents", "phone_service", "multiple_lines", "paperless_billing", *_TELCO_SERVICES]
    needed = [
        "customer_id",
        "churned",
        "tenure_months",
        "contract",
        "payment_method",
        "internet_service",
        "senior_citizen",
        "monthly_charges",
        "total_charges",
        *yes,
    ]
    require_columns(customers, needed, "customers", "telco_churn_frame")
    flag = {c: (customers[c].astype("str") == "Yes").astype("int64") for c in yes}
    internet = customers["internet_service"].astype("str")
    services = flag["phone_service"] + flag["multiple_lines"] + (internet != "No").astype("int64")
    for c in _TELCO_SERVICES:
        services = services + flag[c]
    churned = customers["churned"]
    if churned.isna().any():
        raise DataError("missing churn flags", file="customers", column="churned", n_bad=int(churned.isna().sum()))
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype("str"),
            "contract": customers["contract"].astype("str"),
            "payment_method": customers["payment_method"].astype("str"),
            "internet_service": internet,
            "month_to_month": (customers["contract"] == "Month-to-month").astype("int64"),
            "electronic_check": (customers["payment_method"] == "Electronic check").astype("int64"),
            "fiber_optic": (internet == "Fiber optic").astype("int64"),
            "paperless_billing": flag["paperless_billing"],
            "senior_citizen": customers["senior_citizen"].astype("int64"),
            "has_partner": flag["partner"],
            "has_dependents": flag["dependents"],
            "no_online_security": (customers["online_security"] == "No").astype("int64"),
            "no_tech_support": (customers["tech_support"] == "No").astype("int64"),
            "tenure_months": customers["tenure_months"].astype("float64"),
            "monthly_charges": customers["monthly_charges"].astype("float64"),
            "total_charges": customers["total_charges"].astype("float64"),
            "n_services": services.astype("int64"),
            "churned": churned.astype("int64"),
        }
    )


# --------------------------------------------------------------------------- signal table


def auc_interval(outcome: Any, score: Any, *, level: float = 0.95) -> tuple[float, float, float]:
    """Area under the ROC curve with DeLong's confidence interval.

    The AUC is the Mann-Whitney probability that a churner scores higher than
    a non-churner (ties count one half), ``U / (n1 n0)``. Its standard error
    comes from the placement values of DeLong et al. (1988); the interval is
    ``AUC +/- z se``, clipped to [0, 1].

    Parameters
    ----------
    outcome : array-like
        0/1 outcomes (1 = churned).
    score : array-like
        Scores (higher = more at risk); no missing values.
    level : float
        Confidence level.

    Returns
    -------
    (auc, lower, upper)
        NaN if either class is empty; the interval is NaN with a single
        member in a class.

    References
    ----------
    DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. (1988). Comparing the
    areas under two or more correlated receiver operating characteristic
    curves: a nonparametric approach. *Biometrics* 44, 837-845.

    Examples
    --------
    >>> auc_interval([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])[0]
    0.75
    """
    z = level_z(level)
    auc, se = auc_standard_error(np.asarray(outcome, dtype="int64"), np.asarray(score, dtype="float64"))
    return (auc, max(0.0, auc - z * se), min(1.0, auc + z * se))


def auc_standard_error(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    pos, neg = s[y == 1], s[y == 0]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return (np.nan, np.nan)
    ranks = sps.rankdata(np.concatenate([pos, neg]))
    auc = (ranks[:m].sum() - m * (m + 1) / 2) / (m * n)
    if m < 2 or n < 2:
        return (float(auc), np.nan)
    v10 = (ranks[:m] - sps.rankdata(pos)) / n  # share of non-churners below each churner
    v01 = 1 - (ranks[m:] - sps.rankdata(neg)) / m  # share of churners above each non-churner
    se = np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    return (float(auc), float(se))


def _ratio_ci(a: float, b: float, c: float, d: float, z: float) -> tuple[float, ...]:
    """Relative risk (Katz) and odds ratio (Woolf) of a 2x2 table with log-scale intervals.

    ``a, b`` = churners / stayers with the signal, ``c, d`` without. Any
    zero cell adds 0.5 to all four (Haldane-Anscombe).
    """
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    rr = (a / (a + b)) / (c / (c + d))
    se_rr = np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    odds = (a * d) / (b * c)
    se_or = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return (
        rr,
        rr * np.exp(-z * se_rr),
        rr * np.exp(z * se_rr),
        odds,
        odds * np.exp(-z * se_or),
        odds * np.exp(z * se_or),
    )


def signal_table(
    frame: pd.DataFrame,
    signals: Sequence[str] | None = None,
    *,
    outcome: str = "churned",
    level: float = 0.95,
) -> pd.DataFrame:
    """Univariate strength of each churn signal, strongest first.

    A signal whose values are all 0/1 (or bool) is *binary* and gets the 2x2
    statistics; any other numeric signal is *continuous* and gets only the
    AUC. Rows with a missing signal value are left out of that signal's row.

    Parameters
    ----------
    frame : DataFrame
        A churn frame: the ``outcome`` column (0/1) and the signal columns.
    signals : sequence of str, optional
        Columns to assess (default: the columns of :data:`TRANSACTION_SIGNALS`,
        :data:`B2B_SIGNALS` and :data:`TELCO_SIGNALS` present in ``frame``).
    outcome : str
        The 0/1 outcome column.
    level : float
        Confidence level of the intervals (95 in the column names below).

    Returns
    -------
    pandas.DataFrame
        One row per signal, sorted by ``strength`` (descending): ``signal``,
        ``kind`` (``"binary"``/``"continuous"``), ``n``, ``churn_rate``
        (overall, over the ``n`` rows); for binary signals ``prevalence``
        (share with the signal), ``churn_rate_with``, ``churn_rate_without``,
        ``lift`` (churn rate with the signal over the overall rate),
        ``relative_risk`` with ``relative_risk_lower_95`` /
        ``relative_risk_upper_95`` (Katz log interval), ``odds_ratio`` with
        ``odds_ratio_lower_95`` / ``odds_ratio_upper_95`` (Woolf log
        interval; any zero cell adds 0.5 to all four cells); for all signals
        ``auc`` with ``auc_lower_95`` / ``auc_upper_95`` (DeLong, see
        :func:`auc_interval`; for a binary signal the AUC is the mean of its
        sensitivity and specificity), ``direction`` (``"higher"`` if higher
        values go with more churn, else ``"lower"``), ``p_value`` (two-sided
        Mann-Whitney test, with ties; for a binary signal the chi-square test of
        the 2x2 table) and ``strength`` = ``|2 auc - 1|`` (Somers' D: 0 = no
        association, 1 = perfect separation), which ranks binary and continuous
        signals on one scale. Constant signals get NaN statistics.

    Raises
    ------
    DataError
        If a column is missing or not numeric, or the outcome is not 0/1 or
        has a single class.
    """
    z = level_z(level)
    y_all = outcome_values(frame, outcome)
    if y_all.min() == y_all.max():
        raise DataError("the outcome has a single class: no association can be measured", column=outcome)
    if signals is None:
        known = (*TRANSACTION_SIGNALS, *B2B_SIGNALS, *TELCO_SIGNALS)
        signals = [c for c in dict.fromkeys(known) if c in frame.columns]
    signals = list(signals)
    require_columns(frame, signals, "<frame>", "signal_table")
    not_numeric = [s for s in signals if not (pd.api.types.is_numeric_dtype(frame[s]) or frame[s].dtype == bool)]
    if not_numeric:
        raise DataError(
            f"signal column(s) {not_numeric} are not numeric",
            hint="Turn a category into 0/1 indicator columns first",
        )
    lv = level_name(level)
    rows = []
    for name in signals:
        values = frame[name].astype("float64")
        keep = values.notna().to_numpy()
        x, y = values.to_numpy()[keep], y_all[keep]
        binary = bool(np.isin(x, [0.0, 1.0]).all())
        row: dict[str, Any] = {"signal": name, "kind": "binary" if binary else "continuous", "n": int(keep.sum())}
        row["churn_rate"] = y.mean() if len(y) else np.nan
        constant = len(x) == 0 or x.min() == x.max() or y.min() == y.max()
        if binary:
            a, b = float(np.sum((x == 1) & (y == 1))), float(np.sum((x == 1) & (y == 0)))
            c, d = float(np.sum((x == 0) & (y == 1))), float(np.sum((x == 0) & (y == 0)))
            row["prevalence"] = (a + b) / len(x) if len(x) else np.nan
            row["churn_rate_with"] = a / (a + b) if a + b else np.nan
            row["churn_rate_without"] = c / (c + d) if c + d else np.nan
            row["lift"] = row["churn_rate_with"] / row["churn_rate"] if row["churn_rate"] else np.nan
            ratios = (np.nan,) * 6 if constant else _ratio_ci(a, b, c, d, z)
            for key, value in zip(
                ("relative_risk", f"relative_risk_lower_{lv}", f"relative_risk_upper_{lv}"), ratios[:3], strict=True
            ):
                row[key] = value
            for key, value in zip(
                ("odds_ratio", f"odds_ratio_lower_{lv}", f"odds_ratio_upper_{lv}"), ratios[3:], strict=True
            ):
                row[key] = value
        if constant:
            row.update({"auc": np.nan, f"auc_lower_{lv}": np.nan, f"auc_upper_{lv}": np.nan, "p_value": np.nan})
        else:
            auc, se = auc_standard_error(y, x)
            row.update(
                {"auc": auc, f"auc_lower_{lv}": max(0.0, auc - z * se), f"auc_upper_{lv}": min(1.0, auc + z * se)}
            )
            row["p_value"] = float(sps.mannwhitneyu(x[y == 1], x[y == 0], method="asymptotic").pvalue)
        row["direction"] = None if constant else ("higher" if row["auc"] >= 0.5 else "lower")
        row["strength"] = abs(2 * row["auc"] - 1)
        rows.append(row)
    columns = ["signal", "kind", "n", "churn_rate", "prevalence", "churn_rate_with", "churn_rate_without", "lift"]
    for name in ("relative_risk", "odds_ratio", "auc"):
        columns += [name, f"{name}_lower_{lv}", f"{name}_upper_{lv}"]
    columns += ["direction", "p_value", "strength"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table = table.astype({"signal": "str", "kind": "str", "n": "int64"})
    return table.sort_values("strength", ascending=False, kind="stable", na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------- survival

_WEIGHTS = {"logrank": None, "gehan_breslow": "gb", "tarone_ware": "tw"}
_BANDS = ("pointwise", "simultaneous")


def survival_data(frame: pd.DataFrame, time: str, event: str, group: str | None) -> pd.DataFrame:
    require_columns(frame, [time, event] + ([group] if group else []), "<frame>", "the survival analysis")
    t = frame[time]
    if not pd.api.types.is_numeric_dtype(t) or t.isna().any() or (t < 0).any():
        raise DataError("survival times must be non-negative numbers without missing values", column=time)
    data = pd.DataFrame({"time": t.astype("float64"), "event": outcome_values(frame, event)}, index=frame.index)
    if group:
        if frame[group].isna().any():
            raise DataError("missing group labels", column=group, n_bad=int(frame[group].isna().sum()))
        data["group"] = frame[group].to_numpy()
    return data


def kaplan_meier(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str | None = None,
    level: float = 0.95,
    band: str = "pointwise",
) -> pd.DataFrame:
    """Kaplan-Meier survival curves (statsmodels ``SurvfuncRight``), by group, with confidence bands.

    Parameters
    ----------
    frame : DataFrame
        One row per customer with the ``time`` and ``event`` columns (and ``group``).
    time : str
        Follow-up time column (e.g. ``"tenure_months"``, ``"time_to_next_purchase"``).
    event : str
        0/1 column: 1 = the event happened at ``time``, 0 = censored then.
    group : str, optional
        Column whose values define the curves (one curve if omitted).
    level : float
        Confidence level of the band.
    band : {"pointwise", "simultaneous"}
        ``"pointwise"``: Greenwood standard error on the log(-log) scale
        (stays within [0, 1]); ``"simultaneous"``: Hall-Wellner band from
        statsmodels (log transform; level 0.95 only).

    Returns
    -------
    pandas.DataFrame
        Per group (sorted) a row at time 0 (survival 1) and one per distinct
        event time: the ``group`` column (named as in ``frame``, if grouped),
        ``time``, ``at_risk``, ``events``, ``survival``, ``standard_error``
        (Greenwood), ``lower_95``, ``upper_95``. The curve is a step function,
        right-continuous: ``survival`` holds from ``time`` to the next row.
    """
    check_option("band", band, _BANDS)
    z = level_z(level)
    if band == "simultaneous" and level != 0.95:
        raise ParameterError("level", level, "0.95 with band='simultaneous' (the only level statsmodels offers)")
    data = survival_data(frame, time, event, group)
    lv = level_name(level)
    pieces = []
    for label, part in data.groupby("group", sort=True) if group else [(None, data)]:
        fit = SurvfuncRight(part["time"].to_numpy(), part["event"].to_numpy())
        s, se = np.asarray(fit.surv_prob, dtype="float64"), np.asarray(fit.surv_prob_se, dtype="float64")
        if band == "pointwise":
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.exp(z * se / (s * np.abs(np.log(s))))
                lower, upper = s**scale, s ** (1 / scale)
            lower = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lower))
            upper = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, upper))
        else:
            lower, upper = (np.asarray(b, dtype="float64") for b in fit.simultaneous_cb(alpha=0.05))
        piece = pd.DataFrame(
            {
                "time": np.concatenate([[0.0], fit.surv_times]),
                "at_risk": np.concatenate([[len(part)], fit.n_risk]).astype("int64"),
                "events": np.concatenate([[0], fit.n_events]).astype("int64"),
                "survival": np.concatenate([[1.0], s]),
                "standard_error": np.concatenate([[0.0], se]),
                f"lower_{lv}": np.concatenate([[1.0], lower]),
                f"upper_{lv}": np.concatenate([[1.0], upper]),
            }
        )
        if len(piece) > 1 and piece["time"].iloc[1] == 0:  # events at time 0: no separate start row
            piece = piece.iloc[1:].assign(at_risk=len(part))
        if group:
            piece.insert(0, group, label)
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)


def survival_at(curves: pd.DataFrame, times: Sequence[float], *, group: str | None = None) -> pd.DataFrame:
    """Read survival (and its band) off Kaplan-Meier curves at given times.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`kaplan_meier`.
    times : sequence of float
        Times to read (e.g. ``[12, 24, 48]`` months).
    group : str, optional
        The group column of ``curves``, if grouped.

    Returns
    -------
    pandas.DataFrame
        One row per group and time: the group column, ``time`` and the
        ``survival`` and band columns of the last curve row at or before it.
    """
    value_columns = [c for c in curves.columns if c == "survival" or c.startswith(("lower_", "upper_"))]
    parts = curves.groupby(group, sort=False) if group else [(None, curves)]
    rows = []
    for label, part in parts:
        steps = part["time"].to_numpy()
        for t in times:
            i = int(np.searchsorted(steps, float(t), side="right")) - 1
            row = {group: label} if group else {}
            row["time"] = float(t)
            row.update({c: part[c].iloc[max(i, 0)] for c in value_columns})
            rows.append(row)
    return pd.DataFrame(rows)


def logrank(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str,
    weighting: str = "logrank",
) -> StatisticalResult:
    """Test that survival is the same in every group (statsmodels ``survdiff``).

    Parameters
    ----------
    frame : DataFrame
        One row per customer with ``time``, ``event`` and ``group`` columns.
    time, event, group : str
        As for :func:`kaplan_meier`.
    weighting : {"logrank", "gehan_breslow", "tarone_ware"}
        Weights of the event times (log-rank: equal).

    Returns
    -------
    StatisticalResult
        Chi-square statistic with (groups - 1) degrees of freedom and its p-value.
    """
    check_option("weighting", weighting, _WEIGHTS)
    data = survival_data(frame, time, event, group)
    k = data["group"].nunique()
    if k < 2:
        raise DataError("the log-rank test needs at least two groups", column=group)
    statistic, p_value = survdiff(
        data["time"].to_numpy(), data["event"].to_numpy(), data["group"].to_numpy(), weight_type=_WEIGHTS[weighting]
    )
    name = {"logrank": "log-rank", "gehan_breslow": "Gehan-Breslow", "tarone_ware": "Tarone-Ware"}[weighting]
    return StatisticalResult(name, float(statistic), float(p_value), float(k - 1))
