"""Study 3's value metric and churn risk: margin when present, the risk measure that ranks better out of time."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import papermill
import pytest

from analysis.engines.summaries import customer_summary
from analysis.errors import DataError, ParameterError
from analysis.studies import value as study
from analysis.studies import value_risk as risks
from analysis.studies.dates import choose_from_data
from analysis.studies.parameters import ValueParameters
from analysis.studies.value_basis import describe_value_metric, value_summary
from analysis.studies.value_models import DropoutCheck

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_value_tiers.ipynb"
START, END = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-12-31")


def late_payer_tables(seed: int = 5, customers: int = 800, *, future_seed: int | None = None) -> dict:
    """Customers buying about every 15 days; trouble makes them pay late, and then stop within months.

    Half the customers run into trouble on a day from late March 2024 on: from
    then on they pay every invoice 20 days late, and they stop buying 45 days
    plus an exponential time of mean 45 days later; 5% of the others stop on
    a random day.
    At any date a customer in trouble who still buys looks like any other to
    p_alive (the purchase history shows nothing until they stop), while the
    invoices show the late payments. ``future_seed`` redraws every purchase
    after 2024-10-02 (the comparison's test date) and every payment date
    after it, and nothing before it.
    """
    rng = np.random.default_rng(seed)
    trouble = np.where(rng.random(customers) < 0.5, rng.integers(450, 800, customers), 10_000)  # days after START
    other = np.where(rng.random(customers) < 0.05, rng.integers(100, 1000, customers), 10_000)
    stop = np.where(trouble < 10_000, trouble + 45 + rng.exponential(45, customers), other)
    rows = []
    for c in range(customers):
        day = float(rng.integers(0, 90))
        while day < min(stop[c], (END - START).days + 1):
            rows.append((c, int(day)))
            day += rng.exponential(15)
    orders = pd.DataFrame(rows, columns=["c", "day"])
    orders["amount"] = np.round(rng.lognormal(6, 0.5, len(orders)), 2)
    late = orders["day"].to_numpy() >= trouble[orders["c"].to_numpy()]
    orders["paid_after"] = np.where(late, 50, 20)
    test = END - pd.Timedelta(days=90)
    test_day = (test - START).days
    if future_seed is not None:  # another world after the test date
        future = np.random.default_rng(future_seed)
        kept = orders[orders["day"] <= test_day]
        extra = kept.groupby("c")["day"].max().reset_index()
        extra = extra[future.random(len(extra)) < 0.5]
        extra = extra.assign(
            day=test_day + future.integers(1, 90, len(extra)),
            amount=np.round(future.lognormal(5, 1, len(extra)), 2),
            paid_after=future.integers(0, 60, len(extra)),
        )
        orders = pd.concat([kept, extra], ignore_index=True)
    date = START + pd.to_timedelta(orders["day"], unit="D")
    amount = orders["amount"].to_numpy()
    ids = np.array([f"K{c:04d}" for c in range(customers)])[orders["c"].to_numpy()]
    paid = date + pd.to_timedelta(orders["paid_after"], unit="D")
    if future_seed is not None:
        paid = paid.where(paid <= test, paid + pd.Timedelta(days=5))
    transactions = pd.DataFrame(
        {"customer_id": ids, "date": date, "amount": amount, "margin": np.round(amount * 0.3, 2)}
    ).sort_values(["customer_id", "date"], ignore_index=True)
    invoices = pd.DataFrame(
        {
            "customer_id": ids,
            "invoice_date": date,
            "due_date": date + pd.Timedelta(days=30),
            "paid_date": paid.where(paid <= END),
            "amount": amount,
        }
    )
    return {"transactions": transactions, "invoices": invoices}


@pytest.fixture(scope="module")
def late_payers():
    tables = late_payer_tables()
    asked = ValueParameters(data_source="late_payers.csv", transaction_model="pareto_nbd")
    params, _ = choose_from_data(asked, tables["transactions"])
    return tables, params, risks.compare_risks(tables, params)


def test_value_is_margin_when_the_data_has_margins_and_revenue_otherwise(late_payers):
    tables, _, _ = late_payers
    transactions = tables["transactions"]
    chosen = choose_from_data(ValueParameters(data_source="x.csv"), transactions)[1].set_index("parameter")
    assert chosen.loc["value_metric", "value"] == "margin" and "margin column" in chosen.loc["value_metric", "rule"]
    without = transactions.drop(columns="margin")
    revenue, table = choose_from_data(ValueParameters(data_source="x.csv"), without)
    assert revenue.value_metric == "revenue" and "no margin" in table.set_index("parameter").loc["value_metric", "rule"]
    given = choose_from_data(ValueParameters(data_source="x.csv", value_metric="revenue"), transactions)[1]
    assert given.set_index("parameter").loc["value_metric", "rule"] == "given"
    with pytest.raises(DataError, match="value_metric 'margin' needs a margin column"):
        ValueParameters(value_metric="margin").check_data(without)
    with pytest.raises(ParameterError, match="'value_metric' = 'amount'"):
        ValueParameters(value_metric="amount")


def test_margin_is_what_the_tiers_and_the_spend_model_value():
    """Value = margin: M, CLV and the pyramid follow margins; the absolute tiers stay on revenue."""
    days = pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05"] * 3 + ["2024-01-10", "2024-03-01"])
    transactions = pd.DataFrame(
        {
            "customer_id": ["rich"] * 3 + ["thin"] * 3 + ["loss"] * 3 + ["once", "once2"],
            "date": days,
            "amount": [100.0] * 3 + [1000.0] * 3 + [500.0] * 3 + [50.0, 60.0],
            "margin": [40.0] * 3 + [10.0] * 3 + [-5.0] * 3 + [5.0, 6.0],
        }
    )
    params = ValueParameters(value_metric="margin", as_of="2024-03-31")
    raw = customer_summary(transactions, "2024-03-31", time_unit="weeks")
    summary = value_summary(raw, params).set_index("customer_id")
    assert summary.loc["rich", "monetary_value"] == 40.0 and summary.loc["thin", "monetary_value"] == 10.0
    assert summary.loc["thin", "total_value"] == 30.0 and summary.loc["thin", "trailing_revenue"] == 3000.0
    spend = study.spend_customers(summary.reset_index())
    assert set(spend["customer_id"]) == {"rich", "thin"}  # no positive mean margin: not fitted, counted
    assert "1 repeat customers with no positive mean margin" in describe_value_metric(params, summary)
    revenue = value_summary(raw, dataclasses.replace(params, value_metric="revenue")).set_index("customer_id")
    assert revenue.loc["thin", "monetary_value"] == 1000.0
    with pytest.raises(DataError, match="value_metric 'margin' needs the margins"):
        value_summary(raw.drop(columns="monetary_margin"), params)


def test_the_churn_model_wins_when_late_payments_drive_churn(late_payers):
    _, params, comparison = late_payers
    table = comparison.summary().set_index("risk_source")
    assert comparison.test_date == pd.Timestamp(params.as_of) - pd.Timedelta(days=params.risk_horizon_days)
    assert comparison.fit_date == comparison.test_date - pd.Timedelta(days=params.risk_horizon_days)
    assert "late_payments" in comparison.signs
    assert table.loc["churn_model", "auc"] > table.loc["p_alive", "auc_upper_95"]  # clearly better
    assert comparison.chosen == "churn_model" and table.loc["churn_model", "used"]
    assert table.loc["p_alive", "customers"] == table.loc["churn_model", "customers"] == len(comparison.scores)
    sentence = risks.describe_risk_choice(comparison)
    auc = table.loc["churn_model"]
    assert f"AUC {auc['auc']:.2f} ({auc['auc_lower_95']:.2f}-{auc['auc_upper_95']:.2f})" in sentence
    assert "late_payments" in sentence and "better out of time" in sentence


def test_the_better_auc_is_used_unless_a_source_is_given(late_payers):
    tables, params, comparison = late_payers
    aucs = {s: v.auc for s, v in comparison.validations.items()}
    assert comparison.chosen == max(aucs, key=aucs.get) and comparison.rule == "higher out-of-time AUC"
    without_invoices = {"transactions": tables["transactions"]}
    blind = risks.compare_risks(without_invoices, params)
    assert blind.signs == [] and blind.validations["churn_model"].auc < comparison.validations["churn_model"].auc
    blind_aucs = {s: v.auc for s, v in blind.validations.items()}
    assert blind.chosen == max(blind_aucs, key=blind_aucs.get)
    given = risks.compare_risks(tables, dataclasses.replace(params, risk_source="p_alive"))
    assert (
        given.chosen == "p_alive"
        and given.rule == "given"
        and "as risk_source asks" in (risks.describe_risk_choice(given))
    )


def test_nothing_after_the_test_date_reaches_the_scores(late_payers):
    """Another world after the test date changes the outcomes, never the scores or the model behind them."""
    _, params, comparison = late_payers
    other = late_payer_tables(future_seed=11)
    assert not other["transactions"].equals(late_payer_tables()["transactions"])
    again = risks.compare_risks(other, params)
    before, after = comparison.scores.set_index("customer_id"), again.scores.set_index("customer_id")
    assert before.index.equals(after.index)
    pd.testing.assert_series_equal(before["p_alive"], after["p_alive"])
    pd.testing.assert_series_equal(before["churn_model"], after["churn_model"])
    assert (before["churned"] != after["churned"]).any()  # the outcomes did change


def test_value_risk_puts_the_chosen_risk_in_the_grid(late_payers):
    tables, params, comparison = late_payers
    params = dataclasses.replace(params, transaction_model="bgnbd")  # the faster fit on these data
    summary = value_summary(customer_summary(tables["transactions"], params.as_of, time_unit="weeks"), params)
    model, spend = study.fit_value_models(summary, params)
    values = study.customer_values(summary, model, spend, params)
    risked = risks.value_risk(values, comparison, tables, params)
    assert (risked["risk_source"] == "churn_model").mean() > 0.9
    assert not np.allclose(risked["churn_probability"], values["churn_probability"])
    np.testing.assert_allclose(risked["p_alive"], values["p_alive"])  # p_alive itself is kept
    high = risked["risk"].astype(str) == "high"
    assert (risked.loc[high, "churn_probability"] >= params.risk_cuts[1]).all()
    kept = risks.value_risk(values, dataclasses.replace(comparison, chosen="p_alive"), tables, params)
    np.testing.assert_allclose(kept["churn_probability"], values["churn_probability"])


@pytest.mark.e2e
def test_the_value_study_on_a_crm_export_states_its_metric_and_risk_source(tmp_path):
    from exports import chinese_crm_export

    sources = chinese_crm_export(tmp_path / "crm")
    metrics_path = tmp_path / "metrics.json"
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"data_source": str(sources), "currency": "CNY", "metrics_path": str(metrics_path)},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    metrics = json.loads(metrics_path.read_text())
    assert metrics["value_metric"] == "margin"
    text = out.read_text(encoding="utf-8")
    if metrics["dropout_identified"]:
        assert metrics["risk_source"] == max(metrics["risk_auc"], key=metrics["risk_auc"].get)
    else:  # the purchase model cannot estimate dropout: the churn model, and the report says why
        assert metrics["risk_source"] == "churn_model"
        assert "cannot estimate dropout on these data" in text and "no risk measure here" in text
    assert "Value = gross margin" in text
    assert "Value x risk uses" in text and "late_payments" in text


def test_an_unidentified_dropout_forces_the_churn_model_and_says_why(late_payers):
    tables, params, _ = late_payers
    flat = DropoutCheck("Pareto/NBD", False, ("p_alive without spread (10%-90% range 0.000, median 1.000)",), 0.0)
    for source in ("auto", "p_alive"):  # even when 1 - p_alive is asked for
        forced = risks.compare_risks(tables, dataclasses.replace(params, risk_source=source), dropout=flat)
        assert forced.chosen == "churn_model" and forced.rule == "dropout not identified"
        sentence = risks.describe_risk_choice(forced)
        assert "because the purchase model cannot estimate dropout on these data (p_alive without spread" in sentence
        assert "1 - p_alive is no risk measure here" in sentence
