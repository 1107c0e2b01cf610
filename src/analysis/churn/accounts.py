"""Account signs of the B2B churn frame: who serves the customer (salespeople) and how complaints went.

``DOMAIN.md`` section 2 names, besides late payments and contact gaps,
"complaints, especially repeated or unresolved" and a "relationship kept only
by one salesperson (risk when that person leaves)". These functions turn them
into point-in-time signals: every row dated after ``as_of`` is ignored, so a
later order, contact, complaint or resolution cannot change them. They are
used by the B2B churn frame (:func:`analysis.churn.b2b.b2b_churn_frame`) and
by the synthetic generator, which draws churn from the same observed signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.checks import check_day, check_whole_number, require_columns

__all__ = ["COMPLAINT_SIGNS", "SALESPERSON_SIGNS", "complaint_signs", "salesperson_signs"]


#: Columns of :func:`salesperson_signs` (besides ``customer_id``).
SALESPERSON_SIGNS: tuple[str, ...] = ("owner_change", "single_owner", "salespeople")


#: Columns of :func:`complaint_signs` (besides ``customer_id``).
COMPLAINT_SIGNS: tuple[str, ...] = ("repeated_complaints", "unresolved_complaint")


def _dated_rows(frame: pd.DataFrame, column: str, as_day: pd.Timestamp) -> pd.DataFrame:
    """Rows of ``frame`` dated (whole days) on or before ``as_day``."""
    return frame[frame[column].dt.normalize() <= as_day]


def salesperson_signs(
    customer_ids: pd.Series | pd.Index | np.ndarray,
    served: list[pd.DataFrame],
    *,
    as_of: str | pd.Timestamp,
    window_days: int = 90,
) -> pd.DataFrame:
    """Who served each customer up to ``as_of``: how many salespeople, one only, a new one in the window.

    Parameters
    ----------
    customer_ids : array-like
        The population, one id per customer (output order).
    served : list of DataFrame
        Tables with ``customer_id``, ``date`` and ``salesperson`` (orders,
        contacts): each row is a salesperson serving the customer that day.
        Rows without a salesperson are ignored.
    as_of : date
        The observation date: rows dated after it are ignored.
    window_days : int
        The recent window ``(as_of - W, as_of]``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` and

        - ``salespeople``: distinct salespeople who served the customer on or
          before ``as_of`` (0 if none is recorded);
        - ``single_owner`` (0/1): exactly one salesperson in the whole history
          up to ``as_of`` (the relationship rests on one person);
        - ``owner_change`` (0/1): a salesperson who had never served the
          customer before the window served them in the window, and someone
          else had served them before it (a handover, or a second person taking
          the account over). A customer first served in the window has no
          change.
    """
    as_day = check_day("as_of", as_of)
    window = check_whole_number("window_days", window_days, 1, unit="days")
    start = as_day - pd.Timedelta(days=window)
    parts = []
    for frame in served:
        require_columns(frame, ["customer_id", "date", "salesperson"], "salesperson_signs")
        rows = _dated_rows(frame, "date", as_day)
        rows = rows[rows["salesperson"].notna() & (rows["salesperson"].astype("str").str.len() > 0)]
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": rows["customer_id"].to_numpy(),
                    "salesperson": rows["salesperson"].astype("str").to_numpy(),
                    "day": rows["date"].dt.normalize().to_numpy(),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    ids = pd.Index(pd.Series(np.asarray(customer_ids)).to_numpy())
    first = rows.groupby(["customer_id", "salesperson"], sort=False)["day"].min().reset_index()
    before = first["day"] <= start
    count = first.groupby("customer_id")["salesperson"].size()
    had_before = first[before].groupby("customer_id").size()
    new_in_window = first[~before].groupby("customer_id").size()
    salespeople = count.reindex(ids).fillna(0).to_numpy(dtype="int64")
    change = (had_before.reindex(ids).fillna(0).to_numpy() > 0) & (new_in_window.reindex(ids).fillna(0).to_numpy() > 0)
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "owner_change": change.astype("int64"),
            "single_owner": (salespeople == 1).astype("int64"),
            "salespeople": salespeople,
        }
    )


def complaint_signs(
    customer_ids: pd.Series | pd.Index | np.ndarray,
    complaints: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    window_days: int = 90,
    min_repeated: int = 2,
) -> pd.DataFrame:
    """Repeated and unresolved complaints of each customer, as known at ``as_of``.

    Parameters
    ----------
    customer_ids : array-like
        The population, one id per customer (output order).
    complaints : DataFrame
        ``customer_id``, ``date``; optional ``resolved`` (yes/no) and
        ``resolved_date``. With ``resolved_date`` a complaint is unresolved at
        ``as_of`` when it has no resolution date or one after ``as_of``
        (point in time). With only ``resolved``, the flag is the status at
        the time of the export, which may include resolutions after
        ``as_of``: the report says so (:data:`analysis.churn.crm.SIGN_NEEDS`).
    as_of : date
        The observation date: complaints dated after it are ignored.
    window_days : int
        The recent window ``(as_of - W, as_of]``.
    min_repeated : int
        Complaints in the window that make ``repeated_complaints`` (2).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``repeated_complaints`` (0/1: at least
        ``min_repeated`` complaints in the window) and, when the table has
        ``resolved`` or ``resolved_date``, ``unresolved_complaint`` (0/1: a
        complaint dated on or before ``as_of`` still open).
    """
    as_day = check_day("as_of", as_of)
    window = check_whole_number("window_days", window_days, 1, unit="days")
    repeated = check_whole_number("min_repeated", min_repeated, 1)
    require_columns(complaints, ["customer_id", "date"], "complaint_signs", table="complaints")
    ids = pd.Index(pd.Series(np.asarray(customer_ids)).to_numpy())
    rows = _dated_rows(complaints, "date", as_day)
    recent = rows[rows["date"].dt.normalize() > as_day - pd.Timedelta(days=window)]
    counts = recent["customer_id"].value_counts().reindex(ids).fillna(0).to_numpy()
    out = pd.DataFrame({"customer_id": ids.to_numpy(), "repeated_complaints": (counts >= repeated).astype("int64")})
    if "resolved_date" in rows.columns:
        open_rows = rows["resolved_date"].isna() | (rows["resolved_date"].dt.normalize() > as_day)
    elif "resolved" in rows.columns:
        open_rows = ~rows["resolved"].fillna(False).astype(bool)
    else:
        return out
    still_open = rows.loc[open_rows.to_numpy(), "customer_id"].unique()
    out["unresolved_complaint"] = ids.isin(still_open).astype("int64")
    return out
