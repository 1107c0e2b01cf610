"""Synthetic Telco-like subscribers with a planted logistic churn model, for the classifier tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.churn.design import Design, one_hot_design

FLAGS = ("has_phone_service",)
CATEGORIES = {
    "gender": "Female",
    "contract": "Month-to-month",
    "internet_service": "DSL",
    "multiple_lines": "No",
    "online_security": "No",
    "tech_support": "No",
    "streaming_tv": "No",
}
NUMBERS = {"tenure_months": ("tenure_years", 12.0), "monthly_charges": ("monthly_charges_per_10", 10.0)}
#: The planted log odds ratios of the kept design columns (the aliased ones have none), and the intercept.
TRUTH = {
    "Intercept": -0.6,
    "has_phone_service": 0.3,
    "gender__male": 0.0,
    "contract__one_year": -0.8,
    "contract__two_year": -1.5,
    "internet_service__fiber_optic": 0.7,
    "internet_service__no": -0.9,
    "multiple_lines__yes": 0.2,
    "online_security__yes": -0.5,
    "tech_support__yes": -0.4,
    "streaming_tv__yes": 0.25,
    "tenure_years": -0.3,
    "monthly_charges_per_10": 0.05,
}


def telco_like(n: int, seed: int) -> tuple[pd.DataFrame, Design]:
    """``n`` subscribers drawn with ``seed``; ``churned`` from :data:`TRUTH` on the design's columns."""
    rng = np.random.default_rng(seed)
    internet = rng.choice(["DSL", "Fiber optic", "No"], size=n, p=[0.35, 0.44, 0.21])
    phone = (rng.random(n) < 0.9).astype(int)

    def addon(p: float) -> np.ndarray:
        return np.where(internet == "No", "No internet service", np.where(rng.random(n) < p, "Yes", "No"))

    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "has_phone_service": phone,
            "gender": rng.choice(["Female", "Male"], size=n),
            "contract": rng.choice(["Month-to-month", "One year", "Two year"], size=n, p=[0.55, 0.21, 0.24]),
            "internet_service": internet,
            "multiple_lines": np.where(phone == 0, "No phone service", np.where(rng.random(n) < 0.45, "Yes", "No")),
            "online_security": addon(0.35),
            "tech_support": addon(0.35),
            "streaming_tv": addon(0.5),
            "tenure_months": rng.integers(0, 73, size=n).astype(float),
        }
    )
    frame["monthly_charges"] = (
        20 * phone + 45 * (internet == "Fiber optic") + 25 * (internet == "DSL") + rng.normal(0, 8, size=n)
    ).clip(18, None)
    design = one_hot_design(frame, CATEGORIES, NUMBERS, FLAGS)
    x = design.matrix[list(TRUTH)[1:]].to_numpy()
    coefficients = np.array(list(TRUTH.values()))
    logit = coefficients[0] + x @ coefficients[1:]
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame.assign(churned=churned), design
