"""Study 3's figures draw what their tables hold, on the axes they are given (300 CDNOW customers)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import ParameterError
from analysis.plots.value import (
    holdout_frequency_plot,
    purchase_count_plot,
    quantile_plot,
    tracking_plot,
    value_risk_heatmap,
)
from analysis.studies import value as study
from analysis.studies import value_counts
from analysis.studies.dates import dated
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.tiers import risk_bands, value_pyramid, value_risk_matrix


@pytest.fixture(scope="module")
def case(cdnow):
    """The value study's steps (as its notebook runs them) on the first 300 CDNOW customers."""
    params = dated(study.ValueParameters(transaction_model="pareto_nbd"), cdnow)
    transactions = cdnow[cdnow["customer_id"].isin(cdnow["customer_id"].unique()[:300])]
    holdout = calibration_holdout(transactions, params.calibration_end, params.as_of, time_unit="weeks")
    model = study.fit_transaction_models(holdout)[study.TRANSACTION_MODELS[params.transaction_model][0]]
    spend = GammaGammaModel().fit(study.spend_customers(holdout))
    summary = customer_summary(transactions, params.as_of, time_unit="weeks")
    values = study.customer_values(summary, *study.fit_value_models(summary, params), params)
    return {
        "params": params,
        "transactions": transactions,
        "holdout": holdout,
        "model": model,
        "tracking": study.tracking_table(transactions, holdout, model, params),
        "by_frequency": study.holdout_by_frequency(model, holdout),
        "distribution": study.spend_checks(holdout, spend)["distribution"],
        "values": values.assign(clv=values["clv"].fillna(0.0)),
    }


def on_new_axes(plot, *args, **kwargs):
    """Draw on a fresh axes; the figure must not change and no other figure may open."""
    _, ax = plt.subplots()
    figures = plt.get_fignums()
    assert plot(*args, ax=ax, **kwargs) is ax
    assert plt.get_fignums() == figures
    return ax


def legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_tracking_plot_draws_actual_and_model_and_marks_the_holdout(case):
    table = case["tracking"]
    ax = on_new_axes(tracking_plot, table)
    actual, model, start = ax.get_lines()
    np.testing.assert_array_equal(actual.get_xdata(), table["date"].to_numpy())
    np.testing.assert_array_equal(actual.get_ydata(), table["actual"].to_numpy())
    np.testing.assert_allclose(model.get_ydata(), table["expected"].to_numpy())
    assert model.get_linestyle() == "--"
    # Weeks start on Mondays: the week of 1997-09-29 holds calibration_end (09-30), so the holdout starts 10-06.
    assert (
        pd.Timestamp(start.get_xdata()[0])
        == pd.Timestamp("1997-10-06")
        == table.loc[table["period"] == "holdout", "date"].min()
    )
    # Everything the cohort bought after its first purchases: calibration and holdout repeat purchases.
    assert actual.get_ydata()[-1] == case["holdout"]["frequency"].sum() + case["holdout"]["frequency_holdout"].sum()
    assert legend(ax) == ["actual", "model", "holdout starts"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("week", "cumulative repeat purchases")
    assert ax.get_title() == "Tracking: cumulative repeat purchases"


def test_tracking_plot_of_one_customer_and_of_a_calibration_only_table(case):
    holdout = case["holdout"]
    one = holdout[holdout["customer_id"] == "00003"]  # 3 purchases (2 repeats) before, 3 in the holdout
    table = study.tracking_table(case["transactions"], one, case["model"], case["params"])
    ax = tracking_plot(table)
    assert ax.get_lines()[0].get_ydata()[-1] == 2 + 3
    assert ax.figure.get_size_inches().tolist() == [8, 4.5]
    ax = on_new_axes(tracking_plot, table.iloc[:1])  # no holdout week: no holdout marker
    assert len(ax.get_lines()) == 2 and legend(ax) == ["actual", "model"]


def test_holdout_frequency_plot_draws_one_point_per_frequency(case):
    table = case["by_frequency"]
    ax = on_new_axes(holdout_frequency_plot, table)
    actual, model = ax.get_lines()
    assert list(actual.get_xdata()) == list(model.get_xdata()) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    np.testing.assert_allclose(actual.get_ydata(), table["actual"])
    np.testing.assert_allclose(model.get_ydata(), table["predicted"])
    # The points' means, weighted by their customers, give back every holdout purchase.
    assert (table["actual"] * table["customers"]).sum() == pytest.approx(case["holdout"]["frequency_holdout"].sum())
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == table["frequency"].tolist()
    assert (actual.get_marker(), model.get_marker(), model.get_linestyle()) == ("o", "s", "--")
    assert legend(ax) == ["actual", "model"]
    assert ax.get_xlabel() == "repeat purchases in the calibration period"
    assert ax.get_ylabel() == "mean purchases in the holdout period"
    assert ax.get_title().startswith("Conditional expectations")


def test_holdout_frequency_plot_of_one_customer(case):
    table = study.holdout_by_frequency(case["model"], case["holdout"].iloc[[2]])
    ax = on_new_axes(holdout_frequency_plot, table)
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [table["frequency"].tolist()] * 2
    assert ax.get_lines()[0].get_ydata()[0] == case["holdout"]["frequency_holdout"].iloc[2]


def test_quantile_plot_places_each_quantile_and_the_diagonal(case):
    distribution = case["distribution"]
    ax = on_new_axes(quantile_plot, distribution, value_label="order value")
    points, diagonal = ax.get_lines()
    np.testing.assert_allclose(points.get_xdata(), distribution["model"])
    np.testing.assert_allclose(points.get_ydata(), distribution["observed"])
    assert [t.get_text() for t in ax.texts] == ["10%", "25%", "50%", "75%", "90%", "99%"]
    np.testing.assert_allclose([t.xy for t in ax.texts], distribution[["model", "observed"]].to_numpy())
    top = 1.05 * max(distribution["model"].max(), distribution["observed"].max())
    np.testing.assert_allclose([diagonal.get_xdata(), diagonal.get_ydata()], [[0, top], [0, top]])
    np.testing.assert_allclose([ax.get_xlim(), ax.get_ylim()], [[0, top], [0, top]])
    assert legend(ax) == ["perfect fit"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("order value quantile, model", "order value quantile, observed")
    assert ax.get_title() == "Observed vs model distribution of order value"
    assert quantile_plot(distribution).get_xlabel() == "mean spend quantile, model"


def test_quantile_plot_of_a_single_quantile():
    ax = on_new_axes(quantile_plot, pd.DataFrame({"quantile": [0.5], "observed": [20.0], "model": [40.0]}))
    assert [t.get_text() for t in ax.texts] == ["50%"] and ax.get_xlim() == pytest.approx((0, 42))


def grid_of(cells, value):
    """The tier x risk table of ``cells``, built by hand: tiers best first down, risk bands lowest first across."""
    tiers, risks = cells["tier"].cat.categories, cells["risk"].cat.categories
    return np.array(
        [[cells.loc[(cells["tier"] == t) & (cells["risk"] == r), value].sum() for r in risks] for t in tiers]
    )


@pytest.mark.parametrize(("value", "title"), [("value_at_risk", "Value at risk"), ("customers", "Customers")])
def test_value_risk_heatmap_annotates_every_cell_with_the_table(case, value, title):
    values = case["values"]
    cells = value_risk_matrix(values)
    ax = on_new_axes(value_risk_heatmap, cells, value=value)
    expected = grid_of(cells, value)
    assert expected.shape == (4, 3)  # top 1%, next 4%, next 15%, rest x low, medium, high
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).reshape(4, 3), expected)
    assert [t.get_text() for t in ax.texts] == [f"{v:,.0f}" for v in expected.ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(values["tier"].cat.categories)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["low", "medium", "high"]
    assert ax.collections[0].colorbar.ax.get_ylabel() == value.replace("_", " ")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("churn-risk band", "value tier")
    assert ax.get_title() == f"{title} by tier and risk"
    if value == "customers":
        assert expected.sum() == len(values)
    else:
        assert expected.sum() == pytest.approx((values["clv"].clip(lower=0) * values["churn_probability"]).sum())


def test_value_risk_heatmap_of_one_customer():
    one = pd.DataFrame({"clv": [250.0], "churn_probability": [0.8]})
    one = one.assign(tier=value_pyramid(one, value="clv"), risk=risk_bands(one["churn_probability"]))
    ax = on_new_axes(value_risk_heatmap, value_risk_matrix(one))
    # The customer tops the pyramid at high risk: 250 x 0.8 = 200 in the top-right cell, 0 elsewhere.
    assert [t.get_text() for t in ax.texts] == ["0", "0", "200"] + ["0"] * 9


@pytest.mark.parametrize(
    ("period", "make"), [("holdout", "holdout_count_table"), ("calibration", "calibration_count_table")]
)
def test_purchase_count_plot_draws_actual_and_model_bars_with_the_legend_outside(case, period, make):
    table = getattr(value_counts, make)(case["model"], case["holdout"])
    ax = on_new_axes(purchase_count_plot, table, period=period)
    bars = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(bars[: len(table)], table["actual"])
    np.testing.assert_allclose(bars[len(table) :], table["expected"])
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == table["purchases"].tolist()
    assert legend(ax) == ["actual", "model"]
    # The legend sits right of the axes, clear of the bars.
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    assert ax.get_ylabel() == "customers" and period in ax.get_xlabel() and "actual vs model" in ax.get_title()
    with pytest.raises(ParameterError, match="'period'"):
        purchase_count_plot(table, period="later", ax=ax)
