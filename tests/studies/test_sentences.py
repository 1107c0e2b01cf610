"""The studies' sentences state what their inputs imply (tiny inputs, expected numbers worked out by hand)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.churn.alerts import alerts_by_capacity
from analysis.churn.measures import signal_table
from analysis.churn.models import fit_cox, fit_logistic
from analysis.churn.survival import kaplan_meier, logrank
from analysis.churn.validation import validate_predictions
from analysis.engines.summaries import calibration_holdout
from analysis.grading.concentration import concentration_table
from analysis.grading.grades import grade_customers, grade_table
from analysis.grading.stability import grade_retention, migration_matrix
from analysis.grading.validity import future_value_by_grade, grade_separation
from analysis.studies import churn as churn_study
from analysis.studies import grading as grading_study
from analysis.studies import value as value_study
from analysis.studies.text import p_value_text, percent
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.tiers import risk_bands, value_pyramid, value_risk_matrix


def graded(values, scheme="value_share_75_20_5", young=""):
    """Customers a, b, c ... with these trailing values graded at 2024-12-31; those in ``young`` are new."""
    ids = [chr(97 + i) for i in range(len(values))]
    first = pd.to_datetime(["2024-12-01" if i in young else "2020-01-01" for i in ids])
    frame = pd.DataFrame({"customer_id": ids, "trailing_value": np.asarray(values, float), "first_purchase": first})
    return grade_customers(frame, scheme, as_of="2024-12-31", min_tenure_days=180)


def test_concentration_reads_equal_values_as_less_and_one_whale_as_more_than_80_20():
    text = grading_study.describe_concentration(concentration_table(np.full(50, 10.0), n_boot=50))
    # Top 20% = 10 of 50 customers hold 20%; the top 1% is 1 of 50 (2%); no inequality.
    assert "hold 20% of value (95% CI 20%-20%), less concentrated" in text
    assert "Gini 0.00 (0.00-0.00); the top 1% alone hold 2%." in text
    x = np.r_[np.ones(199), 10_000.0]  # top 20% = 40 customers, top 1% = 2
    text = grading_study.describe_concentration(concentration_table(x, n_boot=50))
    assert f"hold {percent(10_039 / x.sum())} of value" in text and "more concentrated than the 80/20" in text
    assert text.endswith(f"the top 1% alone hold {percent(10_001 / x.sum())}.")


def test_grades_state_shares_lowest_values_and_ungraded_counts():
    # Of 20,000: A = 10,000 + 5,000 (75%), B = 3,000 + 1,000 (20%), C = 500 + 500; g has no value, h is new.
    table = grade_table(graded([10_000, 5_000, 3_000, 1_000, 500, 500, 0, 4_000], young="h"))
    assert grading_study.describe_grades(table) == (
        "A: 33% of customers, 75% of value (lowest value 5,000.00); "
        "B: 33% of customers, 20% of value (lowest value 1,000.00); "
        "C: 33% of customers, 5% of value (lowest value 500.00). Not graded: 1 provisional; 1 no positive value."
    )
    # 100 passes both cuts alone (0% of value before it): B is empty and left out.
    assert grading_study.describe_grades(grade_table(graded([100, 1, 1]))) == (
        "A: 33% of customers, 98% of value (lowest value 100.00); C: 67% of customers, 2% of value (lowest value 1.00)."
    )
    # C holds 10 of 1,310: under 1%, shown with a decimal.
    assert "C: 33% of customers, 0.8% of value" in grading_study.describe_grades(grade_table(graded([1_000, 300, 10])))


@pytest.mark.parametrize(("scheme", "cut"), [("rank_share_5_15_80", "11%"), ("value_share_75_20_5", "44%")])
def test_sweep_bends_once_the_two_big_customers_are_in(scheme, cut):
    # 100, 50, eight tied 10s: A = {100, 50} (20% of customers, 150 / 230 = 65%) maximises value minus customer
    # share; the first cut giving it is 11% of customers (ceil(1.1) = 2), or by value 44% (100 / 230 = 43.5%).
    text = grading_study.describe_sweep(grading_study.sweep(graded([100, 50, *[10] * 8], scheme)))
    assert f"a cut-off of {cut}: there, grade A is 20% of customers holding 65% of value (customers worth" in text
    assert "worth at least 50.00)" in text


def retention(moves):
    """Grade retention over one regrading; ``moves``: "AB" = graded A, then B ("A-": then inactive)."""
    ids = [f"c{i}" for i in range(len(moves))]
    frames = [
        pd.DataFrame({"period": pd.Timestamp(period), "customer_id": ids, "value": 1.0, "grade": grades})
        for period, grades in (("2024-01-01", [m[0] for m in moves]), ("2024-02-01", [m[1] for m in moves]))
    ]
    history = pd.concat(frames, ignore_index=True)
    history["status"] = np.where(history["grade"] == "-", "no positive value", "graded")
    history["grade"] = pd.Categorical(history["grade"].replace("-", None), categories=["A", "B", "C"], ordered=True)
    return grade_retention(migration_matrix(history)[0])


def test_stability_counts_kept_up_down_and_inactive():
    moves = ["AA"] * 8 + ["AB"] * 2 + ["BA"] + ["BB"] * 6 + ["BC"] * 2 + ["B-", "CB"] + ["CC"] * 3 + ["C-"]
    # 25 moves: kept 8 + 6 + 3 (68%), up 2 (8%), down 4 (16%), inactive 2 (8%); A kept 8 of 10.
    text = grading_study.describe_stability(retention(moves))
    assert text == (
        "From one regrading to the next, 68% of graded customers keep their grade, 8% move up, 16% move down and "
        "8% become inactive; 80% of A customers stay A."
    )
    params = grading_study.GradingParameters(value_window_months=6, regrade_every_months=2)
    caveat = grading_study.describe_stability(retention(moves), params).removeprefix(text)
    assert caveat.startswith(" Consecutive 6-month windows regraded every 2 month(s) share 4 months of data")
    assert caveat.endswith("within 6 months of a purchase.")
    rare = grading_study.describe_stability(retention(["AA"] * 100 + ["BB"] * 149 + ["B-"]))  # 1 of 250
    assert "0% move up, 0% move down and 0.4% become inactive; 100% of A customers stay A." in rare


def validity_text(values, later, young=""):
    """The validity sentence of customers a, b, c ... with these values now and ``later``."""
    grading = graded(values, young=young)
    later = pd.DataFrame({"customer_id": grading.customers["customer_id"], "value_holdout": later})
    future, tests = future_value_by_grade(grading, later), grade_separation(grading, later)
    return grading_study.describe_validity(future, tests, grading.scheme.labels)


def test_validity_compares_the_best_and_the_worst_grade():
    # A: a, b; B: c, d; C: e, f; g has no value, h is new.
    text = validity_text([100, 50, 30, 10, 5, 5, 0, 40], [90.0, 110, 20, 20, 5, 15, 0, 3], young="h")
    rho, p = sps.spearmanr([3, 3, 2, 2, 1, 1], [90, 110, 20, 20, 5, 15])
    assert text.startswith("Customers graded A at the start of the backtest brought 100.00 each")
    assert "10.0 times a C customer" in text  # 100 against (5 + 15) / 2
    assert "held 76% of all value in it" in text  # 200 of 263, the provisional customer's 3 included
    assert text.endswith(f"later value {rho:.2f} ({p_value_text(p)}).") and "p = 0.0013" in text


def test_validity_with_the_same_later_value_for_all_says_the_correlation_is_undefined():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConstantInputWarning reaches the report
        text = validity_text([100, 50, 30, 10, 5, 5], [20.0] * 6)
    assert "rank correlation of grade with later value is undefined" in text and "nan" not in text


@pytest.fixture(scope="module")
def signals():
    """400 customers: 'up' raises churn, 'down' lowers it, 'noise' does nothing, low 'spend' goes with churn."""
    rng = np.random.default_rng(1)
    up, down, noise = (rng.random((3, 400)) < [[0.3], [0.4], [0.5]]).astype(int)
    spend = rng.exponential(1, 400)
    churned = (rng.random(400) < 1 / (1 + np.exp(0.5 - 1.5 * up + 1.5 * down + 2 * (spend - 1)))).astype(int)
    frame = pd.DataFrame({"up": up, "down": down, "noise": noise, "spend": spend, "churned": churned})
    return frame, signal_table(frame, ["up", "down", "noise", "spend"])


def test_signals_state_the_definition_and_orient_an_auc_below_one_half(signals):
    frame, table = signals
    params = churn_study.ChurnParameters(
        as_of="1998-01-31", validation_as_of="1998-03-31", lookback_days=180, horizon_days=60
    )
    text = churn_study.describe_signals(table, frame, params)
    churners = frame["churned"] == 1
    auc = (frame.loc[churners, "spend"].to_numpy()[:, None] > frame.loc[~churners, "spend"].to_numpy()).mean()
    assert auc < 0.5  # churners spend less
    row = table.set_index("signal").loc["spend"]
    assert text.startswith(f"400 customers bought in the 180 days up to 1998-01-31; {percent(churners.mean())} of")
    assert "made no purchase in the next 60 days (churned)" in text
    assert (
        f"The strongest signal is spend: lower values go with more churn (AUC {1 - auc:.2f}, "
        f"{1 - row['auc_upper_95']:.2f}-{1 - row['auc_lower_95']:.2f})" in text
    )
    rate = frame.groupby("up")["churned"].mean()
    assert f"up ({percent(frame['up'].mean())} of customers) raises the churn rate: {percent(rate[1])} with it" in text
    assert f"vs {percent(rate[0])} without" in text
    assert ") lowers the churn rate" in text.split("down (")[1] and ") leaves" in text.split("noise (")[1]
    rr = table.set_index("signal")["relative_risk"]
    assert churn_study.describe_strongest(table, top=2) == (
        f"Strongest signals: spend (lower values, more churn; AUC {1 - auc:.2f}), "
        f"up (higher values, more churn; AUC {table.set_index('signal').loc['up', 'auc']:.2f}, "
        f"relative risk {rr['up']:.2f})."
    )


def test_logistic_model_lists_rising_then_falling_odds(signals):
    frame, _ = signals
    model = fit_logistic(frame, "churned ~ up + down + noise + spend")
    odds = model.odds_ratios["odds_ratio"]
    assert odds["spend"] < odds["down"] < 1 < odds["up"]
    assert churn_study.describe_model(model) == (
        f"Adjusted for each other (400 customers), churn odds rise with up ({odds['up']:.2f}) and fall with "
        f"spend ({odds['spend']:.2f}), down ({odds['down']:.2f}); no clear effect of noise."
    )
    text = churn_study.describe_model(fit_logistic(frame, "churned ~ noise"))
    assert text.endswith("rise with none and fall with none; no clear effect of noise.")


def test_survival_reads_each_curve_at_the_time_asked_and_bounds_a_tiny_p_value():
    # a leaves at months 1, 2, 3, 4, b at 5 to 8: at 2.5 months half of a is left, all of b.
    frame = pd.DataFrame({"months": np.arange(1.0, 9), "left": 1, "segment": list("aaaabbbb")})
    curves, test = (f(frame, time="months", event="left", group="segment") for f in (kaplan_meier, logrank))
    text = churn_study.describe_survival(curves, test, group="segment", at=2.5, unit="months", what="still buying")
    assert text.startswith("Share still buying after 2.5 months, by segment: a: 50%, b: 100% (log-rank chi-square")
    assert text.endswith(f" {test.statistic:,.1f} on 1 degrees of freedom, {p_value_text(test.p_value)}).")
    assert "a: 0%, b: 25%" in churn_study.describe_survival(curves, test, group="segment", at=7, unit="", what="")
    rng = np.random.default_rng(0)
    months = np.r_[rng.exponential(1, 3000), rng.exponential(50, 3000)]
    frame = pd.DataFrame({"months": months, "left": 1, "segment": np.repeat(["a", "b"], 3000)})
    curves, test = (f(frame, time="months", event="left", group="segment") for f in (kaplan_meier, logrank))
    assert test.p_value == 0  # underflows
    text = churn_study.describe_survival(curves, test, group="segment", at=2, unit="months", what="left")
    assert text.endswith("on 1 degrees of freedom, p < 1e-300).")


def cox_frame(seed=2, n=300):
    """Proportional hazards: 'late' raises the hazard, 'loyal' lowers it, 'noise' does nothing."""
    rng = np.random.default_rng(seed)
    late, loyal, noise = (rng.random((3, n)) < 0.5).astype(int)
    t, c = rng.exponential(1 / np.exp(1.2 * late - 0.8 * loyal)), rng.exponential(2, n)
    return pd.DataFrame(
        {"time": np.minimum(t, c), "event": (t <= c).astype(int), "late": late, "loyal": loyal, "noise": noise}
    )


def test_cox_lists_clear_ratios_strongest_first_and_flags_non_proportional_hazards():
    model = fit_cox(cox_frame(), "noise + loyal + late", time="time", event="event")
    assert (model.ph_test["p_value"] > 0.05).all()  # this sample passes the check
    listed = [
        f"{t} {r.hazard_ratio:.2f} ({r.lower_95:.2f}-{r.upper_95:.2f})" for t, r in model.hazard_ratios.iterrows()
    ]
    assert churn_study.describe_cox(model) == (
        f"Strongest hazard ratios: {listed[2]}, {listed[1]}; the proportional-hazards check flags no covariate."
    )
    rng = np.random.default_rng(1)
    bumpy = rng.random(400) < 0.5  # Weibull shape 3 against exponential: the hazards cross
    t = np.where(bumpy, rng.weibull(3, 400), rng.exponential(1, 400))
    frame = cox_frame(1, 400).assign(time=np.minimum(t, 3), event=(t <= 3).astype(int), bumpy=bumpy.astype(int))
    text = churn_study.describe_cox(fit_cox(frame, "bumpy + noise", time="time", event="event"))
    assert "the proportional-hazards check flags bumpy: for those the hazard ratio is an average" in text


def test_horizons_quote_the_first_and_last_horizon():
    rows = [(30, 0.61, "dormant"), (90, 0.45, "dormant"), (180, 0.004, "recency_days")]
    table = pd.DataFrame(rows, columns=["horizon_days", "churn_rate", "strongest_signal"])
    text = churn_study.describe_horizons(table)
    assert text.startswith("With H = 30 days, 61% of active customers count as churned; with H = 180 days, 0.4%:")
    assert text.endswith("The strongest signal changes with the horizon, so state H with every conclusion.")
    same = churn_study.describe_horizons(table.assign(strongest_signal="dormant"))
    assert same.endswith("The strongest signal is the same at every horizon.")


def test_validation_quotes_auc_brier_and_calibration_in_the_large():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.6, 500)
    y = (rng.random(500) < p).astype(int)
    auc = (p[y == 1][:, None] > p[y == 0]).mean()
    params = churn_study.ChurnParameters(as_of="1997-06-30", validation_as_of="1997-09-30")
    text = churn_study.describe_validation(validate_predictions(y, p), params)
    assert text.startswith(
        f"Fitted at 1997-06-30 and scored at 1997-09-30, the model ranks churners with AUC {auc:.2f}"
    )
    assert f"Brier score {np.mean((p - y) ** 2):.3f} compares with {y.mean() * (1 - y.mean()):.3f}" in text
    assert text.endswith(f"it predicts {percent(p.mean())} churn against {percent(y.mean())} observed.")
    # A model worse than chance is reported as it is, not turned around.
    assert f"with AUC {1 - auc:.2f} (" in churn_study.describe_validation(validate_predictions(y, 1 - p), params)
    y, p = np.r_[np.ones(10, int), np.zeros(1990, int)], np.r_[np.full(10, 0.004), np.linspace(0.002, 0.004, 1990)]
    text = churn_study.describe_validation(validate_predictions(y, p), params)
    assert "it predicts 0.3% churn against 0.5% observed." in text  # 10 of 2,000 churn


ALERTS = pd.DataFrame(
    {
        "customer_id": list("abcdefghij"),
        "churn_probability": [0.9, 0.1, 0.5, 0.8, 0.2, 0.3, 0.05, 0.6, 0.4, 0.7],
        "trailing_value": [100, 1000, 50, 10, 300, 20, 5000, 80, 5, 60.0],
        "churned": [1, 0, 1, 1, 0, 0, 0, 1, 0, 1],
    }
)


def test_alerts_state_precision_recall_and_value_share_at_k():
    # Value at risk: g 250, b 100, a 90 come first (440 of 631: 70%); of them only a churned (1 of 3, 1 of 5).
    coverage = alerts_by_capacity(ALERTS, capacities=[3], outcome="churned").iloc[0]
    assert churn_study.describe_alerts(coverage, 3, churn_rate=0.5).startswith(
        "Calling the 3 customers with the most value at risk reaches 33% churners among those called (precision "
        "against 50% among all customers) and 20% of all churners (recall), covering 70% of the expected value at risk."
    )
    assert "(precision) and" in churn_study.describe_alerts(coverage, 3)
    unknown = alerts_by_capacity(ALERTS, capacities=[3]).iloc[0]  # outcomes not known yet
    assert churn_study.describe_alerts(unknown, 3).startswith(
        "Calling the 3 customers with the most value at risk, covering 70% of the expected value at risk."
    )


def test_planted_counts_covered_effects_and_names_the_missed():
    planted = pd.DataFrame({"signal": ["late_payments", "complaint", "contact_gap"], "covered": [True, False, True]})
    text = churn_study.describe_planted(planted)
    assert text.startswith("2 of 3 planted odds ratios lie inside their 95% intervals (missed: complaint);")
    assert churn_study.describe_planted(planted.assign(covered=True)).startswith(
        "3 of 3 planted odds ratios lie inside"
    )


def test_models_name_the_lower_aic_and_the_lower_holdout_error(cdnow):
    comparison = pd.DataFrame(
        [("BG/NBD", 3_070.4, 1_125.2, 0.1252, 0.91), ("Pareto/NBD", 3_072.9, 970.0, -0.03, 0.8984)],
        columns=["model", "aic", "predicted_holdout_purchases", "total_error", "mean_absolute_error"],
    ).assign(actual_holdout_purchases=1_000.0)
    assert value_study.describe_models(comparison) == (
        "BG/NBD predicts 1,125 holdout purchases against 1,000 actual (+12.5%); Pareto/NBD predicts 970 holdout "
        "purchases against 1,000 actual (-3.0%). BG/NBD has the lower AIC (3,070); Pareto/NBD the lower mean "
        "absolute holdout error per customer (0.898)."
    )
    small = cdnow[cdnow["customer_id"].isin(cdnow["customer_id"].unique()[:300])]
    holdout = calibration_holdout(small, "1997-09-30", "1998-06-30", time_unit="weeks")
    comparison = value_study.model_comparison(value_study.fit_transaction_models(holdout), holdout)
    text = value_study.describe_models(comparison)
    assert text.count(f"against {holdout['frequency_holdout'].sum():,.0f} actual") == 2
    assert f"{comparison.loc[comparison['aic'].idxmin(), 'model']} has the lower AIC" in text


def spend(monetary, set_aside=0, rows=slice(None)):
    """spend_checks of 20 repeat customers at each frequency 1..5 spending ``monetary(frequency, base)``."""
    frequency, base = np.repeat(np.arange(1, 6), 20), np.tile(np.linspace(20, 70, 20), 5)
    data = pd.DataFrame({"frequency": np.r_[frequency, [2] * set_aside, [0] * 5]})
    data["monetary_value"] = np.r_[monetary(frequency, base), [0.0] * (set_aside + 5)]
    return value_study.spend_checks(data.iloc[rows], GammaGammaModel().fit(data[data["monetary_value"] > 0]))


def test_spend_reads_independence_and_counts_the_set_aside():
    text = value_study.describe_spend(spend(lambda f, base: base, set_aside=3))  # same spends at every frequency
    assert text == (
        "Spearman correlation between purchase frequency and mean spend: 0.00, close to independence, as the "
        "Gamma-Gamma model assumes. 3 repeat customers with no positive mean spend are set aside."
    )


@pytest.mark.parametrize(("sign", "more", "bias"), [(1, "more", "low"), (-1, "less", "high")])
def test_spend_orients_a_dependence(sign, more, bias):
    frequency, base = np.repeat(np.arange(1, 6), 20), np.tile(np.linspace(20, 70, 20), 5)
    rho = sps.spearmanr(frequency, base + sign * 3 * frequency).statistic  # +/-0.27
    text = value_study.describe_spend(spend(lambda f, base: base + sign * 3 * f))
    assert f"spend: {rho:.2f}, a weak but clear dependence (frequent buyers spend {more} per purchase)" in text
    assert f"slightly too {bias} for frequent buyers" in text


def cells(clv, churn_probability):
    frame = pd.DataFrame({"clv": clv, "churn_probability": churn_probability})
    frame["tier"] = value_pyramid(frame, value="clv", cuts=(0.1, 0.3))
    return value_risk_matrix(frame.assign(risk=risk_bands(frame["churn_probability"])))


def test_value_risk_names_the_largest_cell_and_its_action():
    # 400 x 0.7 = 280 in "next 20%" x high, of 772.25 at risk in all; a middle tier at high risk: win back.
    table = cells([1000, 400, 300, 200, 100, 50, 20, 10, 5, 0], [0.1, 0.7, 0.5, 0.9, 0.2, 0.65, 0.1, 0.3, 0.95, 0.5])
    assert value_study.describe_value_risk(table) == (
        "The largest value at risk sits in tier next 20% x high risk: 1 customers holding 280 of expected value at "
        "risk (36% of the total); action: win back selectively: targeted offer where the margin allows."
    )


def test_alerts_with_a_capacity_above_the_base_say_recall_is_by_construction():
    # 50 calls for 10 ranked customers: everyone is called, every churner found (recall 1.0 by construction).
    coverage = alerts_by_capacity(ALERTS, capacities=[50], outcome="churned").iloc[0]
    assert coverage["recall"] == 1.0
    text = churn_study.describe_alerts(coverage, 50, churn_rate=0.5)
    assert text.startswith("The capacity (50) reaches all 10 ranked customers")
    assert "Calling the 50 customers" not in text and "says nothing about the ranking" in text


def test_cox_without_a_clear_hazard_ratio_says_so():
    text = churn_study.describe_cox(fit_cox(cox_frame(), "noise", time="time", event="event"))
    assert text.startswith("No hazard ratio is clearly different from 1") and ": ;" not in text


def test_validity_with_a_single_best_customer_has_no_nan_interval():
    text = validity_text([1_000, 50, 30, 10, 5, 5], [900.0, 40, 20, 20, 5, 0])
    assert "nan" not in text and "(1 customer: no interval)" in text


def test_value_risk_says_when_nothing_is_at_risk():
    # Every churn probability 0 (e.g. p_alive of a model without dropout): no share of a zero total.
    sentence = value_study.describe_value_risk(cells([1000, 400, 0], [0.0, 0.0, 0.0]))
    assert sentence.startswith("No expected value is at risk: no customer with predicted value has a churn")
    assert "nan" not in sentence and "0 of expected value at risk" not in sentence


#: Valid small inputs whose sentence is wrong: (sentence, text it must not contain, what goes wrong).
KNOWN_BUGS = {
    "grades-all-provisional": (
        lambda: grading_study.describe_grades(grade_table(graded([100, 50, 10], young="abc"))),
        "0 A",
        "nobody graded yet (all provisional): reads '. Not graded: 0 A; 0 B; 0 C; 3 provisional.'",
    ),
    "stability-empty-best-grade": (
        lambda: grading_study.describe_stability(retention(["BB"] * 6 + ["BC"] * 2 + ["CC"] * 3)),
        "nan",
        "best grade empty (e.g. no Diamond customer): reads 'nan% of A customers stay A'",
    ),
    "spend-strong-dependence": (
        lambda: value_study.describe_spend(spend(lambda f, base: base * f**2)),
        "weak",
        "a strong correlation (rho = 0.93) is called 'a weak but clear dependence'",
    ),
    "spend-single-repeat-customer": (
        lambda: value_study.describe_spend(spend(lambda f, base: base, rows=[0])),
        "dependence",
        "one repeat customer: rho is NaN, yet it reads 'a weak but clear dependence (frequent buyers spend less'",
    ),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    ("sentence", "wrong"),
    [pytest.param(f, w, marks=pytest.mark.xfail(strict=True, reason=r), id=k) for k, (f, w, r) in KNOWN_BUGS.items()],
)
def test_known_wrong_sentences(sentence, wrong):
    assert wrong not in sentence()
