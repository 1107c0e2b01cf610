"""Grading schemes: cut customers into grades and report the cut-offs.

Every scheme works the same way: from the graded customers' values it derives
one **cut-off value per grade** (the lowest value that still earns the grade),
and every customer gets the best grade whose cut-off their value reaches. That
single rule gives the package's tie rule at every cut-off: customers with
equal value always share a grade, and a tie straddling a cut-off is resolved
upwards (the whole tie group joins the better grade), so shares and quotas
hold "up to ties".

Schemes (see ``../shared/DOMAIN.md`` section 1)
-----------------------------------------------
``value_share``
    Sort by value, accumulate the share of total value; a customer is in A
    while the value share of the customers *before* them is below the first
    cut (so the customer who crosses 75% is still A), and so on.
``rank_share``
    Sort by value and cut by share of customers: the first
    ``ceil(cut * n)`` customers are A, and so on.
``quota``
    Like ``rank_share``, on a 100-point composite score
    (:func:`composite_score`), with per-grade quotas that sum to 1.
``absolute``
    Fixed value thresholds (DOMAIN.md's Diamond/Platinum/Gold/VIP), times a
    regional ``coefficient`` (0.8-0.9 for smaller regions) and a currency
    ``scale`` that brings them to the data's currency and size.
``computed_abc``
    Data-driven limits of Ultsch & Lötsch (2015): see :func:`computed_abc_limits`.

Customers with no positive value are never graded (status
``"no positive value"``). Customers younger than the minimum tenure get a
**provisional** grade from the same cut-offs, but do not take part in setting
them (status ``"provisional"``).
"""

from analysis.grading.grades import (
    DEFAULT_SCORE_COMPONENTS,
    SCORE_COMPONENTS,
    Grading,
    composite_score,
    cutoff_sweep,
    grade_customers,
    grade_frame,
    grade_table,
)
from analysis.grading.schemes import SCHEMES, VALUE_METRICS, Scheme, computed_abc_limits, make_scheme

__all__ = [
    "DEFAULT_SCORE_COMPONENTS",
    "SCHEMES",
    "SCORE_COMPONENTS",
    "VALUE_METRICS",
    "Grading",
    "Scheme",
    "composite_score",
    "computed_abc_limits",
    "cutoff_sweep",
    "grade_customers",
    "grade_frame",
    "grade_table",
    "make_scheme",
]
