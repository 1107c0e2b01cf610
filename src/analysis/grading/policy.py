"""Service policies of ``../shared/DOMAIN.md`` as data tables, and the workload they imply.

The manuals state policies per grade; the studies need them as tables to
show what a grading scheme commits the team to. Numbers the manuals do not
give (how many contacts "daily" means in a month, which cadence class a
Diamond customer gets) are choices of this module, stated here and
overridable through the functions' parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.errors import ParameterError

__all__ = [
    "CONTACT_CADENCE",
    "DEFAULT_CADENCE_CLASS",
    "SERVICE_POLICY",
    "VALUE_RISK_ACTIONS",
    "service_policy",
    "tier_ranks",
    "workload",
]

#: Per-grade service policy stated by one manual (grades A-D).
SERVICE_POLICY = pd.DataFrame(
    {
        "grade": ["A", "B", "C", "D"],
        "price_vs_control_price": ["up to 5% below", "up to 3% below", "not below", "5% above"],
        "max_discount": [0.05, 0.03, 0.0, -0.05],
        "payment_terms": [
            "up to 3 months after delivery",
            "cash on delivery or up to 30 days",
            "no credit",
            "pay before shipment",
        ],
        "credit_days": [90, 30, 0, 0],
        "standard_delivery": ["<= 20 days", "<= 30 days", "<= 40 days", "only after strict review"],
        "max_delivery_days": [20, 30, 40, None],
        "orders_when_capacity_short": ["priority", "assured", "yields", "-"],
    }
)

_WEEKS_PER_MONTH = 52 / 12
_WORKING_DAYS_PER_MONTH = 5 * _WEEKS_PER_MONTH  # "daily" = every working day

#: Contact cadence per class: calls and visits per customer per month.
#: Classes A1..B2 come from one manual (with the monthly supervisor visit
#: added to visits); A..E from a simpler one, where each contact is counted
#: as a call. C in the first manual gets "low-cost standard service": no
#: scheduled contact.
CONTACT_CADENCE = pd.DataFrame(
    [
        (
            "A1",
            2 * _WEEKS_PER_MONTH,
            4 + 1,
            ">= 2 calls a week, >= 4 visits a month + supervisor visit",
        ),
        (
            "A2",
            1 * _WEEKS_PER_MONTH,
            3 + 1,
            ">= 1 call a week, >= 3 visits a month + supervisor visit",
        ),
        (
            "B1",
            1 * _WEEKS_PER_MONTH,
            2 + 1,
            ">= 1 call a week, >= 2 visits a month + supervisor visit",
        ),
        (
            "B2",
            0.5 * _WEEKS_PER_MONTH,
            1 + 1,
            ">= 1 call every 2 weeks, >= 1 visit a month + supervisor visit",
        ),
        ("A", _WORKING_DAYS_PER_MONTH, 0.0, "contacted daily (every working day)"),
        ("B", _WEEKS_PER_MONTH, 0.0, "contacted weekly"),
        ("C", 30.44 / 15, 0.0, "contacted every 15 days"),
        ("D", 30.44 / 30, 0.0, "contacted every 30 days"),
        ("E", 1 / 12, 0.0, "contacted yearly"),
    ],
    columns=["cadence_class", "calls_per_month", "visits_per_month", "rule"],
)

#: Which cadence class each grade label gets by default.
DEFAULT_CADENCE_CLASS = {
    "A": "A",
    "B": "B",
    "C": "C",
    "D": "D",
    "E": "E",
    "Diamond": "A1",
    "Platinum": "A2",
    "Gold": "B1",
    "VIP": "B2",
    "not key": "E",
}


def service_policy(grades: list[str] | None = None) -> pd.DataFrame:
    """The per-grade service policy, optionally for some grades only."""
    if grades is None:
        return SERVICE_POLICY.copy()
    unknown = set(grades) - set(SERVICE_POLICY["grade"])
    if unknown:
        raise ParameterError("grades", grades, f"grades among {list(SERVICE_POLICY['grade'])}")
    return SERVICE_POLICY[SERVICE_POLICY["grade"].isin(grades)].reset_index(drop=True)


def workload(grade_counts: pd.Series, cadence_class: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Calls and visits per month that a graded base implies.

    Parameters
    ----------
    grade_counts : Series
        Customers per grade label (index: labels).
    cadence_class : mapping, optional
        ``{grade label: cadence class}`` (default :data:`DEFAULT_CADENCE_CLASS`);
        classes are those of :data:`CONTACT_CADENCE`.

    Returns
    -------
    pandas.DataFrame
        One row per grade and a final ``total`` row: ``grade``,
        ``customers``, ``cadence_class``, ``calls_per_month``,
        ``visits_per_month`` (totals for the grade).
    """
    mapping = dict(DEFAULT_CADENCE_CLASS) | dict(cadence_class or {})
    cadence = CONTACT_CADENCE.set_index("cadence_class")
    rows = []
    for grade, customers in grade_counts.items():
        if grade not in mapping:
            raise ParameterError("cadence_class", dict(cadence_class or {}), f"a class for grade {grade!r}")
        klass = mapping[grade]
        if klass not in cadence.index:
            raise ParameterError("cadence_class", klass, f"one of {list(cadence.index)}")
        rows.append(
            {
                "grade": grade,
                "customers": int(customers),
                "cadence_class": klass,
                "calls_per_month": customers * cadence.loc[klass, "calls_per_month"],
                "visits_per_month": customers * cadence.loc[klass, "visits_per_month"],
            }
        )
    table = pd.DataFrame(rows)
    total = {
        "grade": "total",
        "customers": int(table["customers"].sum()),
        "cadence_class": "",
        "calls_per_month": table["calls_per_month"].sum(),
        "visits_per_month": table["visits_per_month"].sum(),
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


#: Action per cell of value tier x churn-risk band (DOMAIN.md section 3:
#: protect the valuable at-risk customers first, serve low-value ones at low
#: cost, lift the promising ones). ``tier_rank``: ``top`` is the best tier,
#: ``bottom`` the last, ``middle`` any tier in between.
VALUE_RISK_ACTIONS = pd.DataFrame(
    [
        ("top", "high", "protect first: senior account manager calls now, retention offer, fix open issues"),
        ("top", "medium", "protect: proactive check-in this month, priority service"),
        ("top", "low", "retain and reward: keep A-level service, loyalty benefits"),
        ("middle", "high", "win back selectively: targeted offer where the margin allows"),
        ("middle", "medium", "develop: cross-sell and upgrade to move up a tier"),
        ("middle", "low", "develop: grow share of wallet, regular contact"),
        ("bottom", "high", "let go at low cost: automated win-back only"),
        ("bottom", "medium", "serve at low cost: standard service, automated contact"),
        ("bottom", "low", "serve at low cost; watch for growth potential"),
    ],
    columns=["tier_rank", "risk", "action"],
)


def tier_ranks(labels: list[str]) -> dict[str, str]:
    """Each tier's rank in :data:`VALUE_RISK_ACTIONS`: ``top`` the first (best), ``bottom`` the last, else ``middle``.

    Examples
    --------
    >>> tier_ranks(["A", "B", "C"])
    {'A': 'top', 'B': 'middle', 'C': 'bottom'}
    """
    return {t: "top" if i == 0 else ("bottom" if i == len(labels) - 1 else "middle") for i, t in enumerate(labels)}
