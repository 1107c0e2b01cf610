"""A user's own data, end to end: realistic exports read, dates and sizes chosen from them, runs elsewhere."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.churn.models import fit_logistic
from analysis.cli import command_line_words
from analysis.data.sources import data_sources
from analysis.errors import DataError, ParameterError
from analysis.studies.dates import HistoryTooShort, choose_from_data
from analysis.studies.parameters import ChurnParameters, GradingParameters, ValueParameters
from analysis.studies.sources import load_tables, load_transactions
from cli_run import run_outside
from exports import CRM_COLUMNS, chinese_crm_export, retail_export, short_history
from report_text import PYTHON_WARNING

RETAIL = {
    "column_map": {
        "customer_id": "CustomerID",
        "date": "InvoiceDate",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
        "order_id": "InvoiceNo",
    },
    "date_format": "%m/%d/%Y %H:%M",
}


def test_retail_export_reads_with_guest_rows_left_out_and_amount_from_price(tmp_path):
    path = retail_export(tmp_path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    with pytest.raises(DataError, match=r"CustomerID.*missing customer ids.*missing_ids='drop'"):
        load_transactions(str(path), columns=RETAIL["column_map"], date_format=RETAIL["date_format"])
    frame = load_transactions(
        str(path), columns=RETAIL["column_map"], date_format=RETAIL["date_format"], missing_ids="drop"
    )
    guests = (raw["CustomerID"] == "").sum()
    assert guests > 0 and frame.attrs["rows_without_customer_id"] == guests
    assert len(frame) == len(raw) - guests
    kept = raw[raw["CustomerID"] != ""]
    expected = (kept["Quantity"].astype(float) * kept["UnitPrice"].astype(float)).round(4).to_numpy()
    assert frame["amount"].to_numpy() == pytest.approx(expected)
    cancelled = kept["InvoiceNo"].str.startswith("C").to_numpy()
    assert (frame["amount"].to_numpy()[cancelled] < 0).all() and (frame["amount"].to_numpy()[~cancelled] > 0).all()
    assert raw.equals(pd.read_csv(path, dtype=str, keep_default_na=False))  # the input is never modified


def test_chinese_crm_export_reads_all_five_tables_from_its_source_file(tmp_path):
    sources = chinese_crm_export(tmp_path / "crm")
    tables = load_tables(str(sources))
    assert set(tables) == set(CRM_COLUMNS)
    raw = pd.read_csv(tmp_path / "crm" / "订单.csv", encoding="gb18030", dtype=str)
    yuan = raw["金额(元)"].str.replace("¥", "").str.replace(",", "").astype(float)
    assert tables["transactions"]["amount"].to_numpy() == pytest.approx(yuan.to_numpy())
    assert tables["transactions"]["date"].iloc[0] == pd.Timestamp(raw["订单日期"].iloc[0].replace("/", "-"))
    assert tables["complaints"]["resolved"].dtype == bool  # 是/否
    assert data_sources(str(sources)).files()[0] == str(sources)


def test_chinese_export_without_its_options_is_refused_with_the_option_that_reads_it(tmp_path):
    chinese_crm_export(tmp_path / "crm")
    file = str(tmp_path / "crm" / "订单.csv")
    columns = CRM_COLUMNS["transactions"]
    with pytest.raises(DataError, match=r"not valid utf-8.*encoding='gb18030'") as caught:
        load_transactions(file, columns=columns)
    assert "--encoding gb18030" in command_line_words(str(caught.value))
    with pytest.raises(DataError, match=r"金额\(元\).*non-numeric.*currency_symbol='¥'"):
        load_transactions(file, columns=columns, encoding="gb18030", date_format="%Y/%m/%d")
    with pytest.raises(DataError, match=r"non-numeric.*thousands=','"):
        load_transactions(file, columns=columns, encoding="gb18030", date_format="%Y/%m/%d", currency_symbol="¥")


def test_a_source_file_cannot_point_outside_its_folder_or_carry_unknown_options(tmp_path):
    (tmp_path / "escape.yaml").write_text("transactions:\n  path: ../../etc/passwd\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"transactions.path.*inside"):
        data_sources(tmp_path / "escape.yaml")
    (tmp_path / "absolute.yaml").write_text("transactions:\n  path: /etc/passwd\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="inside"):
        data_sources(tmp_path / "absolute.yaml")
    (tmp_path / "typo.yaml").write_text("transactions:\n  path: a.csv\n  encodeing: gbk\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="encodeing"):
        data_sources(tmp_path / "typo.yaml")
    (tmp_path / "tag.yaml").write_text("transactions: !!python/object:os.system {}\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="tag"):
        data_sources(tmp_path / "tag.yaml")


def test_dates_and_sizes_of_a_four_month_history_come_from_the_data(tmp_path):
    path = str(short_history(tmp_path))
    transactions = load_transactions(path)
    first, last = transactions["date"].min(), transactions["date"].max()
    grading, chosen = choose_from_data(GradingParameters(data_source=path), transactions)
    assert grading.as_of == str(last.date())
    assert pd.Timestamp(grading.as_of) - pd.Timedelta(days=grading.validation_horizon_days) >= first
    assert 1 <= grading.value_window_months <= 3 and grading.min_tenure_months >= 1
    assert set(chosen["rule"]) != {"given"} and "as_of" in chosen["parameter"].tolist()
    churn = choose_from_data(ChurnParameters(data_source=path), transactions)[0]
    assert pd.Timestamp(churn.validation_as_of) + pd.Timedelta(days=churn.horizon_days) <= last
    assert pd.Timestamp(churn.as_of) < pd.Timestamp(churn.validation_as_of)
    assert pd.Timestamp(churn.as_of) - pd.Timedelta(days=churn.lookback_days) >= first
    assert all(pd.Timestamp(churn.validation_as_of) + pd.Timedelta(days=h) <= last for h in churn.horizons)
    customers = transactions["customer_id"].nunique()
    assert churn.capacity < customers and max(churn.capacities) < customers
    value = choose_from_data(ValueParameters(data_source=path), transactions)[0]
    assert first < pd.Timestamp(value.calibration_end) < pd.Timestamp(value.as_of) == last
    given = choose_from_data(GradingParameters(data_source=path, value_window_months=2), transactions)[1]
    assert given.set_index("parameter").loc["value_window_months", "rule"] == "given"


def test_a_history_too_short_names_the_study_the_need_and_the_history(tmp_path):
    path = str(short_history(tmp_path))
    transactions = load_transactions(path)
    weeks = transactions[transactions["date"] < transactions["date"].min() + pd.Timedelta(days=70)]
    with pytest.raises(
        HistoryTooShort, match=r"grading study: needs at least 90 days of history, the data has \d+ days"
    ):
        choose_from_data(GradingParameters(data_source=path), weeks)
    assert choose_from_data(ValueParameters(data_source=path), weeks)[0].calibration_end  # 60 days suffice


def test_shipped_data_keeps_its_published_dates():
    cdnow = load_transactions("cdnow", up_to="1998-06-30")
    churn, chosen = choose_from_data(ChurnParameters(), cdnow)
    assert (churn.as_of, churn.validation_as_of, churn.capacity) == ("1997-09-30", "1997-12-31", 500)
    dated = chosen[chosen["parameter"] != "left_censored_until"]
    assert dated["rule"].str.contains("reference").all()
    # CDNOW is a cohort (every customer's first purchase in Q1 1997): nobody's history starts before the data.
    censoring = chosen.set_index("parameter").loc["left_censored_until"]
    assert censoring["value"] == "1997-01-01" and "cohort" in censoring["rule"]


@pytest.mark.e2e
def test_chinese_crm_export_runs_all_three_studies_from_outside_the_checkout(tmp_path):
    chinese_crm_export(tmp_path / "crm")
    before = {p.name: p.read_bytes() for p in (tmp_path / "crm").iterdir()}
    done = run_outside(tmp_path, "run", "--data", "crm/sources.yaml", "--currency", "CNY")
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "reports").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert {s: o["status"] for s, o in manifest["studies"].items()} == {"grading": "ok", "churn": "ok", "value": "ok"}
    assert run.name == f"main-{manifest['as_of']}" and manifest["as_of"].startswith("2024-12")
    names = [p.name for p in run.rglob("*")]
    assert not any("cdnow" in n.lower() for n in names)
    assert (run / "data" / "sources_profile.csv").exists() and (
        run / "data" / "sources_customer_summary.parquet"
    ).exists()
    for html in run.glob("*.html"):
        text = html.read_text()
        assert "CDNOW" not in text and "1997" not in text and "1998" not in text, html.name
        assert not PYTHON_WARNING.search(text), html.name  # every warning became a sentence or an error
    assert "Not run for this data" in (run / "02_churn_signals.html").read_text()
    inputs = set(manifest["inputs"])
    assert {str(tmp_path / "crm" / name) for name in ("sources.yaml", "订单.csv", "拜访.csv")} <= inputs
    assert manifest["studies"]["grading"]["dated_parameters"]["absolute_scale"] == 1.0
    calls = pd.read_csv(run / "exports" / "call_list.csv", encoding="utf-8-sig", dtype={"customer_id": str})
    assert (run / "exports" / "call_list.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese
    sheet = pd.read_excel(run / "exports" / "call_list.xlsx", engine="calamine", dtype={"customer_id": str})
    assert sheet["customer_id"].tolist() == calls["customer_id"].tolist()
    assert calls["name"].str.startswith("华东机械有限公司").all() and "churned" not in calls
    assert (calls["as_of"] == manifest["as_of"]).all() and calls["value_at_risk"].is_monotonic_decreasing
    assert len(calls) == manifest["studies"]["churn"]["dated_parameters"]["capacity"]
    joined = pd.read_csv(run / "exports" / "customers.csv", encoding="utf-8-sig", dtype={"customer_id": str})
    assert joined["customer_id"].is_unique and set(calls["customer_id"]) <= set(joined["customer_id"])
    assert {"grade", "segment", "tier", "clv", "p_alive", "risk", "action"} <= set(joined.columns)
    assert joined["p_alive"].dropna().between(0, 1).all() and (run / "exports" / "customers.xlsx").exists()
    assert before == {p.name: p.read_bytes() for p in (tmp_path / "crm").iterdir()}  # inputs untouched


@pytest.mark.e2e
def test_a_history_too_short_for_one_study_skips_it_and_runs_the_others(tmp_path):
    path = short_history(tmp_path)
    frame = pd.read_csv(path)
    frame[frame["date"] < "2024-03-15"].to_csv(tmp_path / "ten_weeks.csv", index=False)
    done = run_outside(tmp_path, "run", "--data", "ten_weeks.csv", "--name", "short")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "grading: skipped: grading study: needs at least 90 days of history" in done.stderr
    manifest = json.loads((tmp_path / "reports" / "short" / "manifest.json").read_text())
    assert manifest["skipped"] == ["grading"]
    assert manifest["studies"]["churn"]["status"] == "ok" and manifest["studies"]["value"]["status"] == "ok"


def test_the_call_list_scores_the_last_day_and_names_what_fired(tmp_path):
    from analysis.churn.frames import transaction_churn_frame
    from analysis.studies import churn as study
    from analysis.studies.call_list import WARNING_SIGNS, call_list

    path = str(short_history(tmp_path))
    transactions = load_transactions(path)
    params = choose_from_data(ChurnParameters(data_source=path), transactions)[0]
    grades = study.current_grades(transactions, params.as_of)
    frame = study.with_grade_flags(
        transaction_churn_frame(transactions, as_of=params.as_of, grades=grades, **params.frame_options())
    )
    model = fit_logistic(frame, study.transaction_formula(frame))
    calls = call_list(model, {"transactions": transactions}, params)
    last = transactions["date"].max()
    assert (calls["as_of"] == str(last.date())).all() and "churned" not in calls
    assert len(calls) == params.capacity and calls["value_at_risk"].is_monotonic_decreasing
    # The same list from data with any later row changed would need a later date: nothing after `last` exists,
    # and the signals at `last` are those of the frame computed there.
    now = transaction_churn_frame(
        transactions, as_of=last, outcomes=False, **(params.frame_options() | {"data_end": last})
    ).set_index("customer_id")
    for row in calls.itertuples():
        fired = [words for sign, words in WARNING_SIGNS.items() if sign in now and now.loc[row.customer_id, sign] == 1]
        assert row.signals == ("; ".join(fired) or "-")
    assert set(calls["risk"]) <= {"low", "medium", "high"} and calls["action"].ne("-").all()


@pytest.mark.e2e
def test_the_periodic_report_runs_on_a_source_file(tmp_path):
    chinese_crm_export(tmp_path / "crm")
    done = run_outside(tmp_path, "report", "--data", "crm/sources.yaml", "--from", "2024-11", "--to", "2024-12")
    assert done.returncode == 0, done.stderr[-3000:]
    november = json.loads((tmp_path / "reports" / "2024-11" / "manifest.json").read_text())
    assert november["studies"]["grading"]["dated_parameters"]["as_of"] == "2024-11-30"
    assert november["studies"]["churn"]["dated_parameters"]["data_end"] == "2024-11-30"
    assert november["as_of"] <= "2024-11-30"  # nothing after the period end entered it
    assert (tmp_path / "reports" / "index.html").exists()


def test_the_churn_frame_measures_the_b2b_signs_of_the_crm_tables_and_nothing_after_as_of(tmp_path):
    from analysis.studies import churn as study

    tables = load_tables(str(chinese_crm_export(tmp_path / "crm")))
    params = choose_from_data(ChurnParameters(data_source="x.yaml"), tables["transactions"])[0]
    frame = study.study_frame(tables, params, params.as_of)
    for sign in ("late_payments", "overdue_receivables", "collections_imbalance", "complaint", "contact_gap"):
        assert sign in frame and sign in study.frame_signals(frame)
    # the export has no salesperson or credit limit column: those signs are named with what would enable them
    missing = study.describe_unmeasured(tables)
    assert "needs transactions.salesperson or contacts.salesperson" in missing
    assert "customers.credit_limit" in missing and "needs a complaints table" not in missing
    # Anything after as_of (later invoices, payments, complaints, visits) changes nothing at as_of.
    cut = pd.Timestamp(params.as_of)
    changed = dict(tables)
    invoices = tables["invoices"].copy()
    later = invoices["invoice_date"] > cut
    invoices.loc[later, "amount"] *= 7
    invoices.loc[invoices["paid_date"] > cut, "paid_date"] = pd.NaT
    changed["invoices"] = invoices
    changed["complaints"] = tables["complaints"][tables["complaints"]["date"] <= cut]
    visits = tables["contacts"]
    changed["contacts"] = pd.concat([visits, visits.assign(date=cut + pd.Timedelta(days=1))], ignore_index=True)
    again = study.study_frame(changed, params, params.as_of)
    signals = [c for c in frame.columns if c not in ("churned", "time_to_next_purchase", "bought_again")]
    pd.testing.assert_frame_equal(frame[signals], again[signals])
    # Without a complaints table its signs are not measured, and the report says which table would enable them.
    fewer = {name: table for name, table in tables.items() if name != "complaints"}
    partial = study.study_frame(fewer, params, params.as_of)
    assert "complaint" not in partial and "late_payments" in partial
    assert "needs a complaints table" in study.describe_unmeasured(fewer)


@pytest.mark.e2e
def test_the_retail_export_runs_with_cancellations_matched_and_no_warning_text(tmp_path):
    retail_export(tmp_path)
    done = run_outside(
        tmp_path,
        *("run", "--data", "online_retail.csv", "-c", "customer_id=CustomerID", "-c", "date=InvoiceDate"),
        *("-c", "quantity=Quantity", "-c", "unit_price=UnitPrice", "-c", "order_id=InvoiceNo"),
        *("--date-format", "%m/%d/%Y %H:%M", "--drop-missing-ids", "--name", "retail"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "reports" / "retail"
    manifest = json.loads((run / "manifest.json").read_text())
    assert {s: o["status"] for s, o in manifest["studies"].items()} == {"grading": "ok", "churn": "ok", "value": "ok"}
    profile = pd.read_csv(run / "data" / "online_retail_profile.csv")
    assert profile.astype(str).apply(lambda c: c.str.contains("order id")).any().any()  # returns matched and counted
    for html in run.glob("*.html"):
        assert not PYTHON_WARNING.search(html.read_text()), html.name
