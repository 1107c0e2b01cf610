"""Grading schemes: partitions, monotonicity, shares and quotas up to ties, thresholds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from analysis.errors import DataError, ParameterError
from analysis.grading.grades import composite_score, cutoff_sweep, grade_customers, grade_table
from analysis.grading.schemes import SCHEMES, Scheme, computed_abc_limits, make_scheme


def summary_from(values, first_purchase="2023-01-01", **extra):
    values = np.asarray(values, dtype=float)
    n = len(values)
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series([f"c{i:04d}" for i in range(n)], dtype="str"),
            "first_purchase": pd.Timestamp(first_purchase),
            "trailing_value": values,
            "trailing_occasions": np.maximum(1, np.round(values / 10)),
            "T": 300.0,
            "recency": 200.0,
        }
    )
    return frame.assign(**extra)


# Values on a coarse grid so ties are common.
value_lists = st.lists(
    st.one_of(st.integers(0, 30).map(float), st.floats(0.5, 1e4, allow_nan=False)),
    min_size=3,
    max_size=80,
)
scheme_names = st.sampled_from(sorted(SCHEMES))


def graded_of(grading):
    c = grading.customers
    return c[c["status"] == "graded"]


@settings(max_examples=150, deadline=None)
@given(values=value_lists, name=scheme_names)
def test_grades_partition_positive_customers_and_are_monotone_in_ranking(values, name):
    scheme = make_scheme(name, scale=1e-3) if name == "absolute_tiers" else make_scheme(name)
    grading = grade_customers(summary_from(values), scheme)
    c = grading.customers
    positive = np.asarray(values) > 0
    # Partition: every positive-value customer has exactly one grade; the others none.
    assert c["grade"].notna().to_numpy().tolist() == positive.tolist()
    assert (c.loc[~positive, "status"] == "no positive value").all()
    # Monotone: a higher ranking never gets a worse grade; equal rankings share a grade.
    g = c[positive]
    codes, ranking = g["grade"].cat.codes.to_numpy(), g["ranking"].to_numpy()
    order = np.argsort(-ranking, kind="stable")
    assert np.all(np.diff(codes[order]) >= 0)
    for value in np.unique(ranking):
        assert len(set(codes[ranking == value])) == 1


@settings(max_examples=150, deadline=None)
@given(values=value_lists, cuts=st.sampled_from([(0.75, 0.95), (0.8, 0.95), (0.5, 0.9), (0.3, 0.6)]))
def test_value_share_respects_cuts_up_to_ties(values, cuts):
    scheme = Scheme("s", "value_share", cuts=cuts)
    grading = grade_customers(summary_from(values), scheme)
    g = graded_of(grading)
    if g.empty:
        return
    total = g["value"].sum()
    for k, cut in enumerate(cuts):
        better = g["grade"].cat.codes <= k
        cutoff = grading.cutoffs["cutoff"].iloc[k]
        # The grade reaches its cumulative share...
        assert g.loc[better, "value"].sum() / total >= cut - 1e-12
        # ...and without the tie group at its cut-off it would not.
        strictly_above = g["value"] > cutoff
        assert g.loc[strictly_above, "value"].sum() / total < cut + 1e-12


@settings(max_examples=150, deadline=None)
@given(values=value_lists, kind=st.sampled_from(["rank_share", "quota"]))
def test_rank_shares_and_quotas_respected_up_to_ties(values, kind):
    if kind == "quota":
        scheme = make_scheme("quota_20_30_40_10")
        cumulative = np.cumsum(scheme.cuts)[:-1]
    else:
        scheme = make_scheme("rank_share_5_15_80")
        cumulative = np.array(scheme.cuts)
    grading = grade_customers(summary_from(values), scheme)
    g = graded_of(grading)
    n = len(g)
    if n == 0:
        return
    for k, cut in enumerate(cumulative):
        target = max(1, math.ceil(round(cut * n, 9)))
        cutoff = grading.cutoffs["cutoff"].iloc[k]
        assert (g["grade"].cat.codes <= k).sum() >= target
        assert (g["ranking"] > cutoff).sum() < target


def test_quota_fills_exact_quotas_without_ties():
    values = np.random.default_rng(0).permutation(np.arange(1, 1001)).astype(float)
    summary = summary_from(values).assign(trailing_occasions=values, recency=values, T=1000.0)
    table = grade_table(grade_customers(summary, "quota_20_30_40_10"))
    assert table["customers"].head(4).tolist() == [200, 300, 400, 100]


@settings(max_examples=100, deadline=None)
@given(
    values=value_lists,
    coefficient=st.sampled_from([0.8, 0.85, 0.9, 1.0]),
    scale=st.sampled_from([1e-4, 1e-3, 1.0]),
)
def test_absolute_tiers_respect_thresholds_times_coefficient(values, coefficient, scale):
    scheme = make_scheme("absolute_tiers", coefficient=coefficient, scale=scale)
    g = graded_of(grade_customers(summary_from(values), scheme))
    bounds = [*(t * coefficient * scale for t in scheme.thresholds), 0.0]
    for k, label in enumerate(scheme.labels):
        members = g.loc[g["grade"] == label, "value"]
        assert (members >= bounds[k]).all()
        if k > 0:
            assert (members < bounds[k - 1]).all()


def test_regional_coefficient_moves_customers_up():
    values = [4_500_000.0, 1_800_000.0, 180_000.0, 9_000.0, 100.0]
    base = graded_of(grade_customers(summary_from(values), "absolute_tiers"))
    small_region = graded_of(grade_customers(summary_from(values), make_scheme("absolute_tiers", coefficient=0.85)))
    assert base["grade"].tolist() == ["Platinum", "Gold", "VIP", "not key", "not key"]
    assert small_region["grade"].tolist() == ["Diamond", "Platinum", "Gold", "VIP", "not key"]


def test_provisional_customers_get_a_grade_but_do_not_move_the_cutoffs():
    values = np.arange(1, 101, dtype=float)
    established = summary_from(values, first_purchase="2023-01-01")
    newcomers = summary_from([5_000.0, 3.0], first_purchase="2024-05-01").assign(customer_id=["n1", "n2"])
    both = pd.concat([established, newcomers], ignore_index=True)
    alone = grade_customers(established, "value_share_75_20_5", as_of="2024-06-30", min_tenure_days=182)
    mixed = grade_customers(both, "value_share_75_20_5", as_of="2024-06-30", min_tenure_days=182)
    pd.testing.assert_frame_equal(alone.cutoffs, mixed.cutoffs)
    new = mixed.customers.set_index("customer_id").loc[["n1", "n2"]]
    assert new["status"].tolist() == ["provisional", "provisional"]
    assert new["grade"].tolist() == ["A", "C"]
    table = grade_table(mixed)
    assert table["grade"].tolist() == ["A", "B", "C", "provisional"]
    assert table["customers"].iloc[:3].sum() == 100


def test_no_positive_value_is_reported_not_graded():
    grading = grade_customers(summary_from([10.0, 0.0, -5.0, np.nan, 3.0, 1.0]), "rank_share_5_15_80")
    table = grade_table(grading)
    assert table.set_index("grade").loc["no positive value", "customers"] == 3
    assert table["customers"].iloc[:3].sum() == 3


def test_scheme_validation_names_the_problem():
    with pytest.raises(ParameterError, match="strictly increasing shares inside"):
        Scheme("s", "value_share", cuts=(0.95, 0.75))
    with pytest.raises(ParameterError, match="strictly increasing shares inside"):
        Scheme("s", "rank_share", cuts=(0.05, 1.2))
    with pytest.raises(ParameterError, match="sum to 1"):
        Scheme("s", "quota", cuts=(0.2, 0.3, 0.4, 0.2), labels=tuple("ABCD"))
    with pytest.raises(ParameterError, match="'kind' = 'pareto'"):
        Scheme("s", "pareto")
    with pytest.raises(ParameterError, match="'scheme' = 'abc'"):
        make_scheme("abc")
    with pytest.raises(ParameterError, match="coefficient"):
        make_scheme("absolute_tiers", coefficient=0)
    with pytest.raises(DataError, match="trailing_margin"):
        grade_customers(summary_from([1.0, 2.0, 3.0]), "value_share_75_20_5", value="trailing_margin")


def test_composite_score_orients_components_and_uses_weights():
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "trailing_value": [100.0, 50.0, 10.0],
            "trailing_occasions": [1.0, 2.0, 3.0],
            "T": [10.0, 10.0, 10.0],
            "recency": [9.0, 5.0, 0.0],  # a bought most recently
        }
    )
    only_value = composite_score(summary, {"value": 1})
    assert only_value.tolist() == pytest.approx([100, 200 / 3, 100 / 3])
    only_recency = composite_score(summary, {"recency": 1})
    assert only_recency.idxmax() == 0
    equal = composite_score(summary)
    assert equal.between(0, 100).all()
    with pytest.raises(ParameterError, match="score_weights"):
        composite_score(summary, {"loyalty": 1})


# --------------------------------------------------------------------------- computed ABC


def test_computed_abc_small_example_matches_reference_implementation():
    # The Python port of the R package gives A = {7, 8, 9} for 1..9.
    limits = computed_abc_limits(np.arange(1, 10))
    grading = grade_customers(summary_from(np.arange(1, 10)), "computed_abc")
    assert graded_of(grading).query("grade == 'A'")["value"].tolist() == [7.0, 8.0, 9.0]
    assert limits["a_cutoff"] == 7.0


def test_computed_abc_matches_the_analytic_exponential_curve():
    # For exponential values the ABC curve is y = x (1 - ln x): slope 1 at
    # x = 1/e (break-even, y = 2/e); the Pareto point minimises x^2 + (1-y)^2.
    values = np.random.default_rng(0).exponential(size=200_000)
    limits = computed_abc_limits(values)

    def curve(x):
        return x * (1 - np.log(x))

    pareto_x = optimize.minimize_scalar(lambda x: x**2 + (1 - curve(x)) ** 2, bounds=(1e-6, 1), method="bounded").x
    be_x, be_y = limits["break_even_point"]
    assert be_x == pytest.approx(1 / np.e, abs=0.004)
    assert be_y == pytest.approx(2 / np.e, abs=0.004)
    assert limits["pareto_point"][0] == pytest.approx(pareto_x, abs=0.004)
    # A/B at the smaller-effort point, B/C nearest to (x of the other, 1).
    a_x = min(limits["pareto_point"][0], be_x)
    other = max(limits["pareto_point"][0], be_x)
    submarginal = optimize.minimize_scalar(
        lambda x: (x - other) ** 2 + (1 - curve(x)) ** 2, bounds=(1e-6, 1), method="bounded"
    ).x
    assert limits["submarginal_point"][0] == pytest.approx(submarginal, abs=0.004)
    share_a = (values >= limits["a_cutoff"]).mean()
    assert share_a == pytest.approx(a_x, abs=0.002)


def test_fmm_spline_reproduces_cubics_exactly():
    from analysis.grading.schemes import _fmm_spline

    x = np.sort(np.random.default_rng(1).uniform(0, 3, 12))

    def cubic(t):
        return 2 * t**3 - t**2 + 0.5 * t - 1

    spline = _fmm_spline(x, cubic(x))
    t = np.linspace(x[0], x[-1], 200)
    np.testing.assert_allclose(spline(t), cubic(t), atol=1e-10)
    np.testing.assert_allclose(spline.derivative()(t), 6 * t**2 - 2 * t + 0.5, atol=1e-9)


# --------------------------------------------------------------------------- sweep


def test_cutoff_sweep_bends_where_the_concentration_slope_falls_to_one():
    values = np.random.default_rng(3).pareto(1.5, 5_000) + 1
    sweep = cutoff_sweep(values, kind="rank_share")
    assert sweep["share_of_customers"].is_monotonic_increasing
    assert sweep["share_of_value"].is_monotonic_increasing
    bend = sweep[sweep["bend"]].iloc[0]
    # At the bend the marginal customer is worth about an average customer.
    assert bend["cutoff_value"] == pytest.approx(values.mean(), rel=0.15)
    value_sweep = cutoff_sweep(values, kind="value_share")
    assert (value_sweep["share_of_value"] >= value_sweep["cut"] - 1e-12).all()


def test_grade_table_shares_add_up(cdnow_summary):
    table = grade_table(grade_customers(cdnow_summary, "value_share_75_20_5"))
    graded = table[table["grade"].isin(["A", "B", "C"])]
    assert graded["share_of_customers"].sum() == pytest.approx(1.0)
    assert graded["share_of_value"].sum() == pytest.approx(1.0)
    assert graded["share_of_value"].iloc[0] == pytest.approx(0.75, abs=0.01)
    assert (graded["lowest_value"] >= graded["cutoff"] - 1e-9).all()


@pytest.fixture(scope="module")
def cdnow_summary(cdnow):
    from analysis.engines.summaries import customer_summary

    return customer_summary(cdnow, "1997-12-31")


def test_quota_grades_do_not_depend_on_customers_who_are_not_graded():
    rng = np.random.default_rng(4)
    values = rng.lognormal(3, 1, 400)
    base = summary_from(values).assign(trailing_occasions=rng.integers(1, 20, 400).astype(float))
    inactive = summary_from(np.zeros(300)).assign(customer_id=[f"z{i}" for i in range(300)])
    inactive = inactive.assign(trailing_occasions=rng.integers(0, 30, 300).astype(float))
    alone = grade_customers(base, "quota_20_30_40_10").customers
    mixed = grade_customers(pd.concat([base, inactive], ignore_index=True), "quota_20_30_40_10").customers
    merged = alone.merge(mixed, on="customer_id", suffixes=("", "_mixed"))
    assert len(merged) == 400
    assert (merged["grade"] == merged["grade_mixed"]).all()
    np.testing.assert_allclose(merged["ranking"], merged["ranking_mixed"])


def test_score_percentiles_match_pandas_average_rank_for_members():
    from analysis.grading.score import _percentile_against

    x = np.random.default_rng(2).integers(0, 10, 50).astype(float)
    np.testing.assert_allclose(_percentile_against(x, x), pd.Series(x).rank(method="average", pct=True))
