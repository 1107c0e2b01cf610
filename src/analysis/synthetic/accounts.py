"""Who serves each synthetic customer: salespeople, handovers, shared accounts; names, industries, credit.

Drawn from the generator's fourth random stream, so adding them left the
first three (the world up to ``as_of``, the churn draw, the world after it)
unchanged. See :mod:`analysis.synthetic` for the model.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.synthetic.effects import (
    COMPLAINT_TYPES,
    CUSTOMERS_PER_SALESPERSON,
    DROP_WINDOW_DAYS,
    HANDOVER_P,
    INDUSTRIES,
    INDUSTRY_P,
    MONTH_DAYS,
    SHARED_P,
)

__all__ = ["company_names", "complaint_details", "draw_accounts", "salesperson_names", "serve"]


_FIRST = np.array(["North", "Golden", "Pacific", "United", "Eastern", "Summit", "Harbor", "Silver", "Bright", "Grand"])
_SECOND = np.array(["Star", "River", "Bridge", "Forge", "Lotus", "Crown", "Delta", "Peak", "Oak", "Union"])
_SUFFIX = np.array(["Ltd", "Co.", "Group", "Trading", "Industries"])


def company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Made-up company names, unique by a running number ("Golden River Ltd 0042")."""
    parts = [rng.choice(words, n) for words in (_FIRST, _SECOND, _SUFFIX)]
    return np.array([f"{a} {b} {c} {i:04d}" for i, (a, b, c) in enumerate(zip(*parts, strict=True), 1)], dtype=object)


def salesperson_names(count: int) -> np.ndarray:
    """``"Sales 01"``, ``"Sales 02"``, ..."""
    width = max(2, len(str(count)))
    return np.array([f"Sales {i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def draw_accounts(rng: np.random.Generator, people: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per customer: owner, second salesperson (-1: none), handover day and new owner, industry, credit limit.

    Handover days are whole days in ``(-90, 0]`` (``as_of`` is day 0), NaN for
    customers without a handover; the credit limit is about three months of
    the customer's expected purchases, rounded to thousands.
    """
    n = len(people["rate"])
    team = max(3, math.ceil(n / CUSTOMERS_PER_SALESPERSON))
    owner = rng.integers(0, team, n)
    other = (owner + rng.integers(1, team, n)) % team  # never the owner
    shared = rng.random(n) < SHARED_P
    handover = rng.random(n) < HANDOVER_P
    day = rng.integers(-DROP_WINDOW_DAYS + 1, 0, endpoint=True, size=n).astype("float64")
    new_owner = (owner + rng.integers(1, team, n)) % team
    expected = np.exp(people["level"] + 0.125) * people["rate"] * 3 * MONTH_DAYS  # lognormal mean x 3 months
    return {
        "team": np.array([team]),
        "owner": owner,
        "second": np.where(shared, other, -1),
        "handover_day": np.where(handover, day, np.nan),
        "new_owner": new_owner,
        "industry": rng.choice(len(INDUSTRIES), size=n, p=INDUSTRY_P),
        "credit_limit": np.maximum(1000.0, np.round(expected, -3)),
    }


def serve(rng: np.random.Generator, accounts: dict[str, np.ndarray], owner: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The salesperson (index) who serves each event of customer ``owner`` on ``day``.

    The owner, or the new owner from the handover day on; for a shared account
    the second salesperson with probability 0.3.
    """
    handed = accounts["handover_day"][owner]
    who = np.where(~np.isnan(handed) & (day >= handed), accounts["new_owner"][owner], accounts["owner"][owner])
    second = accounts["second"][owner]
    return np.where((second >= 0) & (rng.random(owner.size) < 0.3), second, who)


def complaint_details(rng: np.random.Generator, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Type (index into the complaint types) and days to resolution (1 + Geometric(1/10)) of each complaint."""
    kind = rng.integers(0, len(COMPLAINT_TYPES), day.size)
    return kind, day + rng.geometric(0.1, size=day.size)
