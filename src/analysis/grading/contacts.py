"""Actual contact frequency per customer from the contacts table, against the contact cadence of each grade.

The policy (:data:`analysis.grading.policy.CONTACT_CADENCE`, one cadence
class per grade) says how many calls and visits a month a customer of each
grade should get; the contacts table (CRM call and visit log) says how many
they got. Choices of this module, stated here:

- **Channels**: ``call``, ``phone``, ``telephone``, ``电话`` are calls;
  ``visit``, ``meeting``, ``上门``, ``拜访``, ``走访`` are visits; every
  other channel (``wechat``/``微信``, ``email``/``邮件``, messages, an empty
  channel) counts as a call, since it is a remote contact
  (:data:`CHANNEL_KIND`, :func:`contact_kind`).
- **Rate**: contacts dated in the window ``(as_of - window_days, as_of]``
  divided by the customer's months in it, from the later of the window's
  start and the start of dealing (first purchase or acquisition date,
  whichever is earlier) to ``as_of``, and at least one month (a month is
  365.25 / 12 days). Contacts after ``as_of`` are never seen.
- **Served**: contacts (calls plus visits) a month are compared with the
  policy's calls plus visits a month: *under-served* below it,
  *over-served* above ``over_factor`` (2) times it; classes whose policy
  also asks for visits report the share below the visits asked for too.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number, require_columns
from analysis.errors import ParameterError
from analysis.grading.policy import CONTACT_CADENCE, DEFAULT_CADENCE_CLASS

__all__ = [
    "CHANNEL_KIND",
    "DAYS_PER_MONTH",
    "contact_kind",
    "contact_rates",
    "contact_table",
    "contact_vs_policy",
]

DAYS_PER_MONTH = 365.25 / 12

#: Contact kind of each channel name (lower-cased, spaces stripped); any other channel is a call.
CHANNEL_KIND = {
    "call": "call",
    "phone": "call",
    "telephone": "call",
    "电话": "call",
    "visit": "visit",
    "meeting": "visit",
    "上门": "visit",
    "拜访": "visit",
    "走访": "visit",
}


def contact_kind(channel: pd.Series) -> pd.Series:
    """``"call"`` or ``"visit"`` for each channel (:data:`CHANNEL_KIND`; other and empty channels are calls).

    Examples
    --------
    >>> contact_kind(pd.Series(["电话", "拜访", "WeChat", None, " Visit"])).tolist()
    ['call', 'visit', 'call', 'call', 'visit']
    """
    names = channel.astype("object").where(channel.notna(), "").astype(str).str.strip().str.lower()
    return names.map(CHANNEL_KIND).fillna("call").astype("object")


def contact_rates(
    contacts: pd.DataFrame,
    since: pd.Series,
    *,
    as_of: str | pd.Timestamp,
    window_days: int,
) -> pd.DataFrame:
    """Calls and visits per month of each customer over the window ending ``as_of``.

    Parameters
    ----------
    contacts : DataFrame
        ``customer_id``, ``date`` and optionally ``channel``.
    since : Series
        Start of dealing of each customer to rate (index ``customer_id``):
        a customer's months count from the later of it and the window's start.
    as_of : date
        Analysis date; contacts after it are ignored.
    window_days : int
        The window ``(as_of - window_days, as_of]``.

    Returns
    -------
    pandas.DataFrame
        One row per customer of ``since``: ``customer_id``, ``calls``,
        ``visits`` (counts in the window), ``months`` (months rated, at least
        1), ``calls_per_month``, ``visits_per_month``, ``contacts_per_month``.
    """
    require_columns(contacts, ["customer_id", "date"], "actual contact frequency", table="contacts")
    as_day = check_day("as_of", as_of)
    window = check_whole_number("window_days", window_days, unit="days")
    days = (as_day - contacts["date"].dt.normalize()).dt.days
    inside = contacts[(days >= 0) & (days < window)]
    kind = contact_kind(inside["channel"]) if "channel" in inside.columns else pd.Series("call", index=inside.index)
    counts = pd.crosstab(inside["customer_id"], kind).reindex(columns=["call", "visit"], fill_value=0)
    ids = since.index
    start = as_day - pd.Timedelta(days=window - 1)
    begin = pd.to_datetime(since).dt.normalize().clip(lower=start).fillna(start)
    months = np.maximum(((as_day - begin).dt.days + 1).to_numpy(dtype=float) / DAYS_PER_MONTH, 1.0)
    calls = counts["call"].reindex(ids, fill_value=0).to_numpy(dtype="int64")
    visits = counts["visit"].reindex(ids, fill_value=0).to_numpy(dtype="int64")
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "calls": calls,
            "visits": visits,
            "months": months,
            "calls_per_month": calls / months,
            "visits_per_month": visits / months,
            "contacts_per_month": (calls + visits) / months,
        }
    )


def contact_vs_policy(
    grades: pd.DataFrame,
    rates: pd.DataFrame,
    *,
    cadence_class: Mapping[str, str] | None = None,
    over_factor: float = 2.0,
) -> pd.DataFrame:
    """Each graded customer's contacts a month beside their grade's policy: under-served, as policy or over-served.

    Parameters
    ----------
    grades : DataFrame
        ``customer_id`` and ``grade`` of the graded customers.
    rates : DataFrame
        :func:`contact_rates` (customers missing from it had no contact).
    cadence_class : mapping, optional
        ``{grade label: cadence class}`` overriding :data:`DEFAULT_CADENCE_CLASS`.
    over_factor : float
        Over-served: more than this many times the policy's contacts a month.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``grade``, ``cadence_class``, ``policy_calls``,
        ``policy_visits``, ``policy_contacts`` (a month), ``calls_per_month``,
        ``visits_per_month``, ``contacts_per_month``, ``served``
        (``"under"``, ``"as policy"``, ``"over"``) and ``visits_below``
        (fewer visits than a policy that asks for visits).
    """
    if not (over_factor >= 1 and np.isfinite(over_factor)):
        raise ParameterError("over_served_factor", over_factor, "a number of at least 1")
    mapping = dict(DEFAULT_CADENCE_CLASS) | dict(cadence_class or {})
    labels = grades["grade"].astype("object")
    missing = sorted(set(labels.dropna()) - set(mapping))
    if missing:
        raise ParameterError("cadence_class", dict(cadence_class or {}), f"a class for grade {missing[0]!r}")
    cadence = CONTACT_CADENCE.set_index("cadence_class")
    klass = labels.map(mapping)
    calls_policy = klass.map(cadence["calls_per_month"]).to_numpy(dtype=float)
    visits_policy = klass.map(cadence["visits_per_month"]).to_numpy(dtype=float)
    actual = rates.set_index("customer_id").reindex(grades["customer_id"])
    got = {c: actual[c].fillna(0.0).to_numpy(dtype=float) for c in ("calls_per_month", "visits_per_month")}
    contacts = got["calls_per_month"] + got["visits_per_month"]
    policy = calls_policy + visits_policy
    served = np.where(contacts < policy, "under", np.where(contacts > over_factor * policy, "over", "as policy"))
    return pd.DataFrame(
        {
            "customer_id": grades["customer_id"].to_numpy(),
            "grade": labels.to_numpy(),
            "cadence_class": klass.to_numpy(),
            "policy_calls": calls_policy,
            "policy_visits": visits_policy,
            "policy_contacts": policy,
            "calls_per_month": got["calls_per_month"],
            "visits_per_month": got["visits_per_month"],
            "contacts_per_month": contacts,
            "served": served,
            "visits_below": (visits_policy > 0) & (got["visits_per_month"] < visits_policy),
        }
    )


def contact_table(served: pd.DataFrame, labels: list[str] | None = None) -> pd.DataFrame:
    """Per grade: customers, policy contacts a month, actual median and mean, shares under- and over-served.

    Parameters
    ----------
    served : DataFrame
        :func:`contact_vs_policy`.
    labels : list of str, optional
        Grades in order, best first (default: their order of appearance).

    Returns
    -------
    pandas.DataFrame
        One row per grade and an ``all`` row: ``grade``, ``customers``,
        ``cadence_class``, ``policy_contacts_per_month`` (calls plus visits),
        ``policy_visits_per_month``, ``actual_median``, ``actual_mean``
        (contacts a month), ``actual_visits_mean``, ``under_served`` and
        ``over_served`` (shares of the grade's customers).
    """
    labels = labels or list(dict.fromkeys(served["grade"].dropna()))
    groups = [(label, served[served["grade"] == label]) for label in labels] + [("all", served)]
    rows = []
    for label, members in groups:
        n = len(members)
        single = members["cadence_class"].nunique() == 1 and n
        rows.append(
            {
                "grade": label,
                "customers": n,
                "cadence_class": members["cadence_class"].iloc[0] if single and label != "all" else "",
                "policy_contacts_per_month": members["policy_contacts"].iloc[0] if single else np.nan,
                "policy_visits_per_month": members["policy_visits"].iloc[0] if single else np.nan,
                "actual_median": members["contacts_per_month"].median() if n else np.nan,
                "actual_mean": members["contacts_per_month"].mean() if n else np.nan,
                "actual_visits_mean": members["visits_per_month"].mean() if n else np.nan,
                "under_served": (members["served"] == "under").mean() if n else np.nan,
                "over_served": (members["served"] == "over").mean() if n else np.nan,
            }
        )
    return pd.DataFrame(rows)
