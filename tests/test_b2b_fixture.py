"""The realistic B2B CRM export in ``fixtures/b2b/`` (written by ``tests/b2b_export.py``): exact, readable, measured.

The committed files must be byte-identical to what the generator writes (so
the fixture is reproducible and documented), read through their source file,
and the churn study must find on them the signs the generator built in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.churn.measures import signal_table
from analysis.studies import churn as study
from analysis.studies.churn_signs import warning_sign_table
from analysis.studies.dates import choose_from_data
from analysis.studies.parameters import ChurnParameters
from analysis.studies.sources import load_tables
from b2b_export import B2B_COLUMNS, B2B_FILES, b2b_export
from cli_run import run_outside

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "b2b"


def test_the_committed_fixture_is_what_the_generator_writes(tmp_path):
    b2b_export(tmp_path / "b2b")
    written = {p.name: p.read_bytes() for p in (tmp_path / "b2b").iterdir()}
    committed = {p.name: p.read_bytes() for p in FIXTURE.iterdir() if p.name != "README.md"}
    assert written.keys() == committed.keys()
    for name, content in written.items():
        assert committed[name] == content, f"fixtures/b2b/{name} differs from tests/b2b_export.py's output"


def test_the_fixture_reads_as_a_gbk_crm_export_with_every_contract_column():
    raw = (FIXTURE / B2B_FILES["invoices"]).read_bytes()
    assert "回款金额".encode("gb18030") in raw and "¥".encode("gb18030") in raw  # GBK, Chinese headers, yuan
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    before = {p.name: p.read_bytes() for p in FIXTURE.iterdir()}
    tables = load_tables(str(FIXTURE / "sources.yaml"))
    assert set(tables) == set(B2B_FILES)
    for table, columns in B2B_COLUMNS.items():
        assert set(columns) <= set(tables[table].columns), table
    invoices = tables["invoices"]
    assert (invoices["amount"] > 1000).mean() > 0.9  # "¥34,134.19" read as 34134.19, not refused or cut
    partly = invoices["paid_amount"] < invoices["amount"] - 0.005
    assert 0 < partly.mean() < 0.1  # partial payments exist
    assert tables["complaints"]["resolved_date"].notna().sum() == tables["complaints"]["resolved"].sum()
    assert before == {p.name: p.read_bytes() for p in FIXTURE.iterdir()}  # reading changed nothing


def test_the_churn_study_finds_the_signs_built_into_the_fixture():
    tables = load_tables(str(FIXTURE / "sources.yaml"))
    params = choose_from_data(ChurnParameters(data_source="b2b.yaml"), tables["transactions"])[0]
    frame = study.study_frame(tables, params, params.as_of)
    signals = signal_table(frame, study.frame_signals(frame))
    table = warning_sign_table(signals, frame, tables).set_index("signal")
    # a salesperson left on 2024-05-15, and 35% of their customers followed: the handover raises churn
    assert table.loc["owner_change", "relative_risk_lower_95"] > 1
    assert table.loc["contact_gap", "verdict"] == "raises churn"  # neglected accounts
    assert table.loc["unresolved_complaint", "relative_risk"] > 1
    # nothing is left unmeasured that the tables could measure
    assert set(warning_sign_table(signals, frame, tables)["verdict"]) != {"not measured"}
    unmeasured = warning_sign_table(signals, frame, tables).query("verdict == 'not measured'")
    assert list(unmeasured["warning_sign"]) == ["personnel changes or restructuring at the customer"]


@pytest.mark.e2e
def test_the_b2b_fixture_runs_all_three_studies_end_to_end(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "b2b")
    done = run_outside(tmp_path, "run", "--data", "b2b/sources.yaml", "--currency", "CNY")
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "reports").iterdir()
    manifest = json.loads((run / "manifest.json").read_text())
    assert {s: o["status"] for s, o in manifest["studies"].items()} == {"grading": "ok", "churn": "ok", "value": "ok"}
    churn = (run / "02_churn_signals.html").read_text()
    for sign in ("change of salesperson", "unresolved complaints", "receivables above the credit limit"):
        assert sign in churn
    grading = (run / "01_grading_thresholds.html").read_text()
    assert "drop one level of payment terms: the rule moves" in grading and "under-served" in grading
    calls = pd.read_csv(run / "exports" / "call_list.csv", encoding="utf-8-sig", dtype={"customer_id": str})
    assert calls["name"].str.contains("有限公司").all()  # names from 客户.csv


def test_the_readme_shows_the_fixture_source_file_as_it_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = (FIXTURE / "sources.yaml").read_text(encoding="utf-8").splitlines()
    block = "\n".join(line for line in lines if not line.startswith("#"))
    assert block in readme
