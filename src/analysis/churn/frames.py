"""Churn frames: one row per customer at a study date, signals from the data up to it, outcomes after it."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number, require_columns
from analysis.churn.signals import dropped
from analysis.engines.prepared import Engine, Source
from analysis.engines.rows import date_range, next_purchases
from analysis.engines.summaries import customer_summary
from analysis.errors import DataError, ParameterError

__all__ = [
    "DAY",
    "FrameOptions",
    "check_share",
    "last_day",
    "split_at",
    "telco_churn_frame",
    "transaction_churn_frame",
]


DAY = pd.Timedelta(days=1)


_TELCO_SERVICES = (
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
)


def check_share(name: str, value: Any, low: float, high: float, *, closed_high: bool = True) -> float:
    """A number in ``[low, high]`` (or ``[low, high)``), else ``ParameterError`` naming ``name``."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and low <= value
    ok = ok and (value <= high if closed_high else value < high)
    if not ok:
        raise ParameterError(name, value, f"a number in [{low:g}, {high:g}{']' if closed_high else ')'}")
    return float(value)


def split_at(
    frame: pd.DataFrame, column: str, as_day: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows dated (whole days) on or before ``as_day``, and in ``(as_day, end]`` (new frames)."""
    day = frame[column].dt.normalize()
    return frame[day <= as_day], frame[(day > as_day) & (day <= end)]


class FrameOptions(TypedDict, total=False):
    """Settings of :func:`transaction_churn_frame` that the B2B frame passes on unchanged (same defaults)."""

    horizon_days: int
    lookback_days: int
    gap_factor: float
    grades: pd.DataFrame | None
    engine: Engine
    return_window_days: int
    outcomes: bool


def transaction_churn_frame(
    transactions: Source,
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
    return_window_days: int = 30,
    outcomes: bool = True,
) -> pd.DataFrame:
    """Point-in-time churn signals and outcomes of a transactions table.

    Every aggregation runs on the engine, where the data lives: the signals
    are computed by :func:`analysis.engines.summaries.customer_summary` from
    the rows dated on or before ``as_of`` alone, the outcomes by
    :func:`analysis.engines.rows.next_purchases` from the rows in
    ``(as_of, data_end]`` alone. With ``W = window_days``, *recent* means
    ``(as_of - W, as_of]`` and *previous* ``(as_of - 2W, as_of - W]``.

    Parameters
    ----------
    transactions : DataFrame, path or table name
        Validated transactions (:func:`analysis.data.readers.read_transactions`)
        with ``customer_id``, ``date``, ``amount``; or anything the engine
        reads (:mod:`analysis.engines`), such as a Parquet folder.
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
        :func:`analysis.grading.grades.grade_customers` on the summary at ``as_of``),
        added as column ``grade``.
    engine : str or ibis backend
        Where the customer summaries run (:mod:`analysis.engines`).
    return_window_days : int
        How returns are matched to the purchases they return
        (:mod:`analysis.engines.returns`): by order id, else within this many days.
    outcomes : bool
        ``False``: signals only, for scoring customers today (``as_of`` may
        be the last day of data; no outcome columns, no horizon check).

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
    if isinstance(transactions, pd.DataFrame):
        needed = ["customer_id", "date", "amount"]
        require_columns(transactions, needed, "transaction_churn_frame", table="transactions")
        transactions = transactions[needed]  # the signals use no margin
    as_day = check_day("as_of", as_of)
    end = check_day("data_end", data_end) if data_end is not None else date_range(transactions, engine=engine)[1]
    horizon = check_whole_number("horizon_days", horizon_days, unit="days")
    lookback = check_whole_number("lookback_days", lookback_days, unit="days")
    window = check_whole_number("window_days", window_days, unit="days")
    drop = check_share("drop_size", drop_size, 0.0, 1.0, closed_high=False)
    factor = check_share("gap_factor", gap_factor, 0.0, np.inf)
    if outcomes and as_day + horizon * DAY > end:
        raise ParameterError(
            "horizon_days",
            horizon_days,
            f"at most {(end - as_day).days} days: as_of + horizon_days must be within data_end ({end.date()})",
        )
    # Signals: the summaries at as_of use only rows on or before it (on the engine, wherever the data lives).
    matching = {"engine": engine, "return_window_days": return_window_days}
    now = customer_summary(transactions, as_day, trailing_days=lookback, **matching)
    now = now[now["trailing_occasions"] > 0]
    if now.empty:
        raise DataError(f"no purchase in the {lookback} days up to as_of ({as_day.date()})", file="transactions")
    # previous period = the last 2W days minus the last W days (same population, returns included)
    recent = customer_summary(transactions, as_day, trailing_days=window, **matching).set_index("customer_id")
    both = customer_summary(transactions, as_day, trailing_days=2 * window, **matching).set_index("customer_id")
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
            "frequency_drop": dropped(occ_recent, occ_previous, drop),
            "value_drop": dropped(val_recent, val_previous, drop),
            "trailing_value": now["trailing_value"].to_numpy(),
            "total_value": now["total_value"].to_numpy(),
        }
    )
    if grades is not None:
        require_columns(grades, ["customer_id", "grade"], "transaction_churn_frame", table="grades")
        frame["grade"] = frame["customer_id"].map(
            grades.drop_duplicates("customer_id").set_index("customer_id")["grade"]
        )
    if not outcomes:
        return frame.reset_index(drop=True)
    # Outcomes: the first purchase in (as_of, data_end], never a signal.
    first_after = next_purchases(transactions, as_day, end, **matching).set_index("customer_id")["next_purchase"]
    next_days = (first_after.reindex(ids) - as_day).dt.days.to_numpy(dtype="float64")
    bought = ~np.isnan(next_days)
    frame["churned"] = (~(bought & (next_days <= horizon))).astype("int64")
    frame["time_to_next_purchase"] = np.where(bought, next_days, float((end - as_day).days))
    frame["bought_again"] = bought.astype("int64")
    return frame.reset_index(drop=True)


def last_day(columns: Sequence[pd.Series]) -> pd.Timestamp:
    """The last date found in any of ``columns`` (the end of the data)."""
    stamps = [c.max() for c in columns if len(c) and c.notna().any()]
    if not stamps:
        raise DataError("no dated rows to take the data end from", hint="Pass data_end")
    return pd.Timestamp(max(stamps)).normalize()


def telco_churn_frame(customers: pd.DataFrame) -> pd.DataFrame:
    """Churn frame of a subscription customers table (the Telco layout).

    Parameters
    ----------
    customers : DataFrame
        As :func:`analysis.data.datasets.load_dataset` returns ``"telco"``:
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
        The remaining attributes as they are, for a model on all of them:
        ``gender``, ``has_phone_service`` (0/1), ``multiple_lines`` (``Yes``,
        ``No``, ``No phone service``) and each internet add-on
        (``online_security`` ... ``streaming_movies``: ``Yes``, ``No``,
        ``No internet service``).

        The table is a snapshot: tenure, charges and services are as of the
        extract date, so they describe churners at churn, not before it.
    """
    yes = ["partner", "dependents", "phone_service", "multiple_lines", "paperless_billing", *_TELCO_SERVICES]
    needed = [
        "customer_id",
        "churned",
        "gender",
        "tenure_months",
        "contract",
        "payment_method",
        "internet_service",
        "senior_citizen",
        "monthly_charges",
        "total_charges",
        *yes,
    ]
    require_columns(customers, needed, "telco_churn_frame", table="customers")
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
            "gender": customers["gender"].astype("str"),
            "has_phone_service": flag["phone_service"],
            "multiple_lines": customers["multiple_lines"].astype("str"),
            **{c: customers[c].astype("str") for c in _TELCO_SERVICES},
            "churned": churned.astype("int64"),
        }
    )
