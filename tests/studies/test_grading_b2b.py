"""Study 1 on the CRM tables: score inputs, payment-terms downgrade and contact check, on the Chinese CRM export."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.engines.summaries import customer_summary
from analysis.studies import grading as study
from analysis.studies import grading_b2b as b2b
from analysis.studies.dates import choose_from_data
from analysis.studies.sources import load_tables
from cli_run import run_outside
from exports import chinese_crm_export


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    source = chinese_crm_export(tmp_path_factory.mktemp("crm") / "crm")
    tables = load_tables(str(source))
    params = choose_from_data(study.GradingParameters(data_source=str(source)), tables["transactions"])[0]
    return tables, params


def steps(tables, params):
    summary = customer_summary(tables["transactions"], params.as_of, trailing_days=params.window_days)
    summary = b2b.score_inputs(summary, tables, params)
    grading = study.grade(summary, params)
    moves = b2b.payment_terms(grading, summary, params)
    served = b2b.contact_check(grading, summary, tables, params)
    return summary, grading, moves, served


def test_the_crm_export_gives_downgrades_and_actual_against_policy_contact(crm):
    tables, params = crm
    summary, grading, moves, served = steps(tables, params)
    terms = b2b.downgrades_by_grade(moves, grading)
    total = terms.set_index("grade").loc["total"]
    assert 0 < total["moved"] <= total["late_payers"] <= total["customers"]
    assert total["moved"] == (moves["late_last_quarter"] >= 2).sum() - moves["at_floor"].sum()
    sentence = b2b.describe_payment_terms(terms, tables, params)
    assert f"the rule moves {int(total['moved']):,} of {int(total['customers']):,}" in sentence
    contacts = b2b.contacts_by_grade(served, grading)
    assert list(contacts["grade"]) == [*grading.scheme.labels, "all"]
    assert contacts["under_served"].between(0, 1).all() and contacts["over_served"].between(0, 1).all()
    assert "under-served" in b2b.describe_contacts(contacts, tables, params)
    words = b2b.describe_score_inputs(summary, tables, params)
    assert "payment reliability" in words and "order quantity (needs a quantity column" in words
    assert b2b.b2b_metrics(moves, served)["payment_terms_moved"] == total["moved"]


def test_the_contact_rates_are_a_hand_count_of_the_log(crm):
    tables, params = crm
    summary, _, _, served = steps(tables, params)
    one = served.sort_values("contacts_per_month").iloc[-1]
    log = tables["contacts"]
    day = pd.Timestamp(params.as_of)
    mine = log[(log["customer_id"] == one["customer_id"]) & (log["date"] > day - pd.Timedelta(days=params.window_days))]
    mine = mine[mine["date"] <= day]
    visits = mine["channel"].isin(["拜访", "上门"]).sum()
    start = summary.set_index("customer_id").loc[one["customer_id"], ["first_purchase", "dealing_start"]].min()
    begin = max(start, day - pd.Timedelta(days=params.window_days - 1))
    months = max(((day - begin).days + 1) / (365.25 / 12), 1.0)
    assert one["visits_per_month"] == pytest.approx(visits / months)
    assert one["calls_per_month"] == pytest.approx((len(mine) - visits) / months)


def test_rows_after_as_of_change_neither_the_downgrades_nor_the_contact_check(crm):
    tables, full = crm
    params = full.at(pd.Timestamp(full.as_of) - pd.Timedelta(days=120))
    cut = pd.Timestamp(params.as_of)
    _, _, moves, served = steps(tables, params)
    changed = dict(tables)
    invoices = tables["invoices"].copy()
    late = invoices["paid_date"] > cut
    assert late.any()
    invoices.loc[late, "paid_date"] = pd.NaT  # payments after as_of were never made
    invoices.loc[invoices["invoice_date"] > cut, "amount"] *= 3
    changed["invoices"] = invoices
    visits = tables["contacts"]
    changed["contacts"] = pd.concat([visits, visits.assign(date=cut + pd.Timedelta(days=1))], ignore_index=True)
    _, _, moves_again, served_again = steps(changed, params)
    pd.testing.assert_frame_equal(moves, moves_again)
    pd.testing.assert_frame_equal(served, served_again)


def test_without_crm_tables_each_step_says_which_table_would_enable_it(crm):
    tables, params = crm
    only = {"transactions": tables["transactions"]}
    summary, grading, moves, served = steps(only, params)
    assert moves.empty and served.empty
    terms = b2b.downgrades_by_grade(moves, grading)
    assert terms["grade"].tolist() == ["total"]
    assert "an invoices table (invoice_date, due_date" in b2b.describe_payment_terms(terms, only, params)
    contacts = b2b.contacts_by_grade(served, grading)
    assert "a contacts table" in b2b.describe_contacts(contacts, only, params)
    assert "payment reliability (needs an invoices table" in b2b.describe_score_inputs(summary, only, params)
    assert b2b.b2b_metrics(moves, served) == {}


@pytest.mark.e2e
def test_the_grading_report_on_the_crm_export_shows_downgrades_and_actual_against_policy_contact(tmp_path):
    chinese_crm_export(tmp_path / "crm")
    done = run_outside(tmp_path, "run", "grading", "--data", "crm/sources.yaml", "--currency", "CNY")
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "reports").iterdir()
    html = (run / "01_grading_thresholds.html").read_text()
    for words in ("Payment terms: the manuals", "Terms before", "Late payers", "the rule moves"):
        assert words in html, words
    for words in ("Actual contact against the policy", "Policy contacts a month", "Under-served", "under-served"):
        assert words in html, words
    metrics = json.loads(next((run / "metrics").glob("*grading*.json")).read_text())
    assert metrics["payment_terms_moved"] > 0 and 0 <= metrics["under_served_share"] <= 1
