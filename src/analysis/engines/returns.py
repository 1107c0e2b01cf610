"""Returns matched to the purchases they return, as Ibis expressions: the customer-day table every summary uses.

The rule (documented in ``data/README.md``, "Returns"):

1. A return row (negative amount) is matched **by its order** when the data
   has an ``order_id``: to the purchase rows of the same customer whose order
   id equals the return's, or equals it without a leading ``C`` (the
   cancellation prefix of shop exports: ``C536379`` cancels lines of order
   ``536379``), placed on or before the return's day.
2. Otherwise it is matched **by window**: to the customer's latest purchase
   day on or before the return's day and at most ``return_window_days``
   before it (0: the same day only).
3. A return matched to nothing stays where it is: netted in value on its
   own day, changing no purchase occasion.

A purchase day whose matched returns cancel all of its spend (its spend
plus the returns is zero or less) is **no purchase occasion and no spend**;
a partly returned one is an occasion with its spend net of the returns. The
value of every row stays on the day it occurs (value totals and windows do
not depend on the rule); only occasions and spend per occasion do. With
``known_by``, a return dated after it cannot change a purchase on or before
it (no leakage into a calibration period).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np

from analysis.errors import ParameterError

__all__ = ["check_return_window", "customer_days", "return_matches"]


def _day_totals(src: ir.Table, has_margin: bool) -> ir.Table:
    """One row per customer and day: ``net``, ``gross`` (non-negative rows; NULL without), margins alike."""
    sums = {"net": src.amount.sum(), "gross": src.amount.sum(where=src.amount >= 0)}
    if has_margin:
        sums["margin"] = src.margin.sum()
        sums["gross_margin"] = src.margin.sum(where=src.amount >= 0)
    return src.group_by(["customer_id", "day"]).aggregate(**sums)


def return_matches(src: ir.Table, has_margin: bool, has_order: bool, window_days: int) -> ir.Table:
    """One row per group of return rows (customer, day and order) and the purchase day it returns.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``return_day``, ``return_order`` (the order id it
        names, without a leading ``C``; NULL without order ids), ``rows``,
        ``returned`` (the sum, negative), ``returned_margin`` (with a margin),
        ``order_day`` (its order's day, NULL when not matched by order),
        ``window_day`` (the latest purchase day within the window) and
        ``matched_day`` (``order_day``, else ``window_day``; NULL: unmatched).
    """
    back = src.filter(src.amount < 0)
    order = back.order_id if has_order else ibis.null("string")
    keys = ["customer_id", "return_day", "return_order"]
    back = back.mutate(
        return_day=back.day,
        return_order=ibis.cases((order.startswith("C"), order.substr(1)), else_=order) if has_order else order,
    )
    sums = {"rows": back.count(), "returned": back.amount.sum()}
    if has_margin:
        sums["returned_margin"] = back.margin.sum()
    groups = back.group_by(keys).aggregate(**sums)
    bought = src.filter(src.amount >= 0)
    if has_order:
        placed = bought.filter(bought.order_id.notnull())
        orders = placed.group_by(["customer_id", "order_id"]).aggregate(order_day=placed.day.min())
        orders = orders.rename(order_customer="customer_id", order_ref="order_id")
        groups = groups.left_join(
            orders,
            [
                groups.customer_id == orders.order_customer,
                groups.return_order == orders.order_ref,
                orders.order_day <= groups.return_day,
            ],
        ).select(*groups.columns, "order_day")
    else:
        groups = groups.mutate(order_day=ibis.null("date"))
    days = bought.select(buyer=bought.customer_id, bought_day=bought.day).distinct()
    near = groups.left_join(
        days,
        [
            groups.customer_id == days.buyer,
            days.bought_day <= groups.return_day,
            groups.return_day.delta(days.bought_day, unit="day") <= window_days,
        ],
    )
    matched = near.group_by(list(groups.columns)).aggregate(window_day=near.bought_day.max())
    return matched.mutate(matched_day=matched.order_day.fill_null(matched.window_day))


def customer_days(
    src: ir.Table,
    has_margin: bool,
    *,
    has_order: bool = False,
    return_window_days: int = 30,
    known_by: dt.date | None = None,
) -> ir.Table:
    """One row per customer and day: ``spend``, ``net``, ``gross`` (and ``margin``, ``margin_spend``).

    ``spend`` is the day's purchases net of the returns matched to them
    (module docstring), NULL on a day without a purchase occasion, so
    ``spend.count()`` counts occasions; ``gross`` sums the day's
    non-negative amounts (NULL without any); ``net`` sums all its rows.
    ``margin`` sums every row's margin, ``margin_spend`` the occasion's
    gross margin net of the matched returns' margin.
    """
    totals = _day_totals(src, has_margin)
    matches = return_matches(src, has_margin, has_order, return_window_days)
    matches = matches.filter(matches.matched_day.notnull())
    if known_by is not None:
        matches = matches.filter((matches.return_day <= known_by) | (matches.matched_day > known_by))
    sums = {"returned": matches.returned.sum()}
    if has_margin:
        sums["returned_margin"] = matches.returned_margin.sum()
    per_day = matches.group_by(returner="customer_id", returned_day="matched_day").aggregate(**sums)
    joined = totals.left_join(per_day, [totals.customer_id == per_day.returner, totals.day == per_day.returned_day])
    returned = joined.returned.fill_null(0)
    occasion = joined.gross.notnull() & (joined.returned.isnull() | (joined.gross + returned > 0))
    columns = {
        "customer_id": joined.customer_id,
        "day": joined.day,
        "spend": ibis.cases((occasion, joined.gross + returned), else_=ibis.null(joined.gross.type())),
        "net": joined.net,
        "gross": joined.gross,
    }
    if has_margin:
        net_margin = joined.gross_margin + joined.returned_margin.fill_null(0)
        columns["margin"] = joined.margin
        columns["margin_spend"] = ibis.cases((occasion, net_margin), else_=ibis.null(joined.margin.type()))
    return joined.select(**columns)


def check_return_window(value: int) -> int:
    """``return_window_days`` as a whole number of days, 0 or more, else ``ParameterError``."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
        raise ParameterError("return_window_days", value, "a whole number of days, 0 or more (0: the same day)")
    return int(value)
