"""Safe runs: parameters are data, keyed pseudonyms, formula-safe exports, names and paths, clear errors.

Each test here failed before the safe-runs change (issue #11).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.errors import DataError, ParameterError
from analysis.parameters import check_injected_source, check_plain, load_yaml_data, safe_name

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- fixtures


def _sales(path: Path, *, customers: int = 120, rows: int = 1500, seed: int = 5, prefix: str = "C") -> Path:
    """A small transactions CSV in CDNOW's time range (1997-01 to 1998-06)."""
    rng = np.random.default_rng(seed)
    pd.DataFrame(
        {
            "customer_id": [f"{prefix}{i:04d}" for i in rng.integers(0, customers, rows)],
            "date": (pd.Timestamp("1997-01-01") + pd.to_timedelta(rng.integers(0, 546, rows), unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "amount": np.round(rng.lognormal(3, 1, rows), 2),
        }
    ).to_csv(path, index=False)
    return path


def _injection(sentinel: Path) -> str:
    """A value that, pasted unescaped into Python source, creates ``sentinel``."""
    return f'" + __import__("os").system("touch {sentinel}").__str__() + "'


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --------------------------------------------------------------------------- 1. parameters are data


@pytest.mark.parametrize(
    "text",
    [
        "!!binary aGVsbG8=",
        "{customer_id: !!binary aGVsbG8=}",
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system",
        "!!set {a, b}",
        "!!omap [{a: 1}]",
        "!!timestamp 2024-01-01",
        "!custom value",
        "{1: Kunde}",
        "{customer_id: {nested: [1, {2: x}]}}",
        ".inf",
        "[.nan]",
    ],
)
def test_yaml_builds_plain_data_only(text):
    with pytest.raises(ParameterError, match=r"plain data|finite"):
        load_yaml_data(text, "column_map")


def test_yaml_keeps_dates_and_awkward_strings_as_text():
    assert load_yaml_data("1998-06-30", "as_of") == "1998-06-30"
    awkward = 'a "quoted" \\ back\\slash\nnew line \' single'
    assert load_yaml_data(json.dumps(awkward), "x") == awkward
    assert load_yaml_data("{a: [1, 2.5, true, null, text]}", "x") == {"a": [1, 2.5, True, None, "text"]}


def test_yaml_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(6)
    )
    with pytest.raises(ParameterError, match="at most"):
        load_yaml_data(bomb, "--params")


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), {"a": b"x"}, [1, {"k": {3: "v"}}], float("inf")])
def test_check_plain_refuses_what_is_not_data(value):
    with pytest.raises(ParameterError):
        check_plain("p", value)


def test_injected_source_must_be_literals_equal_to_the_values():
    from papermill.translators import translate_parameters

    awkward = {"s": "q\"uo'te \\ back\nline \t tab \x00 nul 中文", "d": {"k": ["x", 1, 2.5, None, True]}}
    check_injected_source(translate_parameters("python3", "python", awkward), awkward)
    with pytest.raises(ParameterError, match="'s'"):
        check_injected_source('s = __import__("os").getcwd()\n', {"s": "x"})
    with pytest.raises(ParameterError, match="plain assignments"):
        check_injected_source("import os\n", {})
    # bytes pasted by papermill's fallback: the injected text is not the value
    with pytest.raises(ParameterError):
        check_injected_source(translate_parameters("python3", "python", {"b": b"x"}), {"b": b"x"})


@pytest.mark.parametrize("how", ["-p", "--params"])
def test_binary_tag_in_a_dict_parameter_executes_nothing_and_writes_nothing(tmp_path, capsys, how):
    sentinel = tmp_path / "pwned"
    payload = base64.b64encode(_injection(sentinel).encode()).decode()
    reports = tmp_path / "reports"
    if how == "-p":
        argv = ["run", "grading", "--reports", str(reports), "-p", f"column_map={{customer_id: !!binary {payload}}}"]
    else:
        params = tmp_path / "params.yaml"
        params.write_text(f"grading:\n  column_map:\n    customer_id: !!binary {payload}\n")
        argv = ["run", "grading", "--reports", str(reports), "--params", str(params)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "column_map" in err and "!!binary" in err
    assert not sentinel.exists()
    assert not reports.exists()


def test_a_study_never_receives_bytes_even_from_the_python_api(tmp_path):
    from analysis.reporting.execute import run_study

    sentinel = tmp_path / "pwned"
    with pytest.raises(ParameterError):
        run_study("grading", tmp_path, {"column_map": {"customer_id": _injection(sentinel).encode()}})
    assert not sentinel.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_strings_full_of_quotes_reach_the_notebook_unchanged(tmp_path, monkeypatch):
    """A tiny study notebook echoes its parameters: papermill's real path, awkward strings intact."""
    import dataclasses

    import nbformat

    from analysis.reporting.execute import run_study
    from analysis.studies import registry as studies

    notebook = tmp_path / "echo.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('text: str = ""\nmapping: dict = {}\nmetrics_path: str = ""')
    parameters.metadata["tags"] = ["parameters"]
    echo = nbformat.v4.new_code_cell(
        "import json\nopen(metrics_path, 'w').write(json.dumps({'text': text, 'mapping': mapping}))"
    )
    nb.cells = [parameters, echo]
    nbformat.write(nb, notebook)

    @dataclasses.dataclass(frozen=True)
    class Echo:
        text: str = ""
        mapping: dict = dataclasses.field(default_factory=dict)
        metrics_path: str = ""

    monkeypatch.setitem(studies.STUDIES, "echo", studies.Study("echo", str(notebook), Echo))
    sentinel = tmp_path / "pwned"
    text = _injection(sentinel) + '\\" \\\\ \n \'\'\' """ {metrics_path}'
    mapping = {'k"ey': [text, 1, None], "中文": "值"}
    run = tmp_path / "run {x}"
    (run / "metrics").mkdir(parents=True)
    outcome = run_study("echo", run, {"text": text, "mapping": mapping})
    assert outcome["status"] == "ok", outcome
    echoed = json.loads((run / "metrics" / "echo.json").read_text())
    assert echoed == {"text": text, "mapping": mapping}
    assert not sentinel.exists()


# --------------------------------------------------------------------------- 2. keyed pseudonyms


def test_pseudonym_is_hmac_sha256_rfc4231():
    from analysis.privacy import pseudonym

    # RFC 4231, test case 1: key 0x0b * 20, data "Hi There".
    assert pseudonym("Hi There", b"\x0b" * 20) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_pseudonyms_cannot_be_recomputed_without_the_key(tmp_path):
    from analysis.churn.alerts import export_alerts_csv

    key = b"k" * 32
    alerts = pd.DataFrame({"customer_id": ["C1", "=cmd|x"], "value_at_risk": [2.0, 1.0]})
    path = export_alerts_csv(alerts, tmp_path / "alerts.csv", pseudonym_key=key)
    exported = pd.read_csv(path, encoding="utf-8-sig")
    assert "C1" not in exported.to_string()
    for real, shown in zip(alerts["customer_id"], exported["customer_id"], strict=True):
        assert shown != hashlib.sha256(real.encode()).hexdigest()
        assert shown != hashlib.sha256((key.decode() + real).encode()).hexdigest()  # not the old salted hash
    assert os.stat(path).st_mode & 0o077 == 0  # owner-only


def test_key_comes_from_the_environment_or_a_file_and_is_never_quoted(tmp_path):
    from analysis.privacy import KEY_VARIABLE, read_pseudonym_key

    with pytest.raises(ParameterError, match=KEY_VARIABLE):
        read_pseudonym_key("", environ={})
    with pytest.raises(ParameterError, match="at least 16") as short:
        read_pseudonym_key("", environ={KEY_VARIABLE: "tiny-secret"})
    assert "tiny-secret" not in str(short.value)
    assert read_pseudonym_key("", environ={KEY_VARIABLE: "s" * 20}) == b"s" * 20
    key_file = tmp_path / "key.txt"
    key_file.write_text("f" * 24 + "\n")
    assert read_pseudonym_key(str(key_file), environ={}) == b"f" * 24
    with pytest.raises(ParameterError, match="pseudonym_key_file"):
        read_pseudonym_key(str(tmp_path / "missing.txt"))


def test_pseudonymise_without_a_key_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    from analysis.privacy import KEY_VARIABLE

    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    reports = tmp_path / "reports"
    assert main(["run", "churn", "--reports", str(reports), "-p", "pseudonymise=true"]) == 2
    assert KEY_VARIABLE in capsys.readouterr().err
    assert not reports.exists()
    # The salt parameter is gone: it would be recorded in clear.
    assert main(["run", "churn", "--reports", str(reports), "-p", "pseudonym_salt=abc"]) == 2


@pytest.mark.e2e
def test_churn_run_pseudonymised_shows_no_id_and_records_no_key(tmp_path, monkeypatch):
    from analysis.privacy import KEY_VARIABLE

    key = "k3y-" + "7f3a9c" * 5
    monkeypatch.setenv(KEY_VARIABLE, key)
    data = _sales(tmp_path / "sales.csv", customers=400, rows=6000, prefix="ZQX-")
    ids = set(pd.read_csv(data)["customer_id"])
    reports = tmp_path / "reports"
    argv = ["run", "churn", "--reports", str(reports), "--name", "p", "-p", f"data_source={data}"]
    argv += ["-p", "pseudonymise=true", "-p", "alerts_path=alerts.csv"]
    argv += ["-p", "capacity=50", "-p", "capacities=[25, 50]"]
    assert main(argv) == 0
    run = reports / "p"
    exported = pd.read_csv(run / "exports" / "alerts.csv", encoding="utf-8-sig")
    assert len(exported) == 50 and not set(exported["customer_id"]) & ids
    for path in run.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert key.encode() not in content, path
            if path.suffix in (".html", ".ipynb", ".csv", ".json"):
                text = content.decode("utf-8-sig")
                leaked = [i for i in ids if i in text]
                assert not leaked, (path, leaked[:3])


# --------------------------------------------------------------------------- 3. formula-safe CSV


def test_every_csv_the_package_writes_is_formula_safe(tmp_path):
    sales = tmp_path / "sales.csv"
    sales.write_text(
        'customer_id,date,amount\n"=HYPERLINK(""http://x"",""y"")",2024-01-01,5\n+1,2024-01-02,7\n'
        "@SUM(A1),2024-01-03,1\n-2,2024-01-04,2\nplain,2024-01-05,3\n"
    )
    out = tmp_path / "summary.csv"
    assert main(["summarize", str(sales), "--as-of", "2024-01-31", "--out", str(out)]) == 0
    cells = pd.read_csv(out, dtype=str)["customer_id"].tolist()
    assert sorted(cells) == sorted(['\'=HYPERLINK("http://x","y")', "'+1", "'@SUM(A1)", "'-2", "plain"])
    from analysis.files import write_table

    write_table(tmp_path / "t.csv", pd.DataFrame({"=x": ["\tcmd", "\rcmd", "ok"], "n": [-1, 2, 3]}))
    table = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert list(table.columns) == ["'=x", "n"]
    assert table["'=x"].tolist() == ["'\tcmd", "'\rcmd", "ok"]
    assert table["n"].tolist() == ["-1", "2", "3"]  # numbers stay numbers


# --------------------------------------------------------------------------- 4. names


@pytest.mark.parametrize(
    "name", ["-2/../../escaped", "../x", "a/b", "/abs", ".", "..", ".hidden", "", "a\\b", "x" * 101]
)
def test_run_names_are_one_safe_component(tmp_path, capsys, name):
    reports = tmp_path / "reports"
    reports.mkdir()
    assert main(["run", "--no-studies", "--reports", str(reports), f"--name={name}"]) == 2
    assert "'name'" in capsys.readouterr().err
    assert _listing(tmp_path) == ["reports"]


def test_safe_names_accepted():
    for name in ("main-1998-06-30", "2024-06", "r_1.v2", "-2"):
        assert safe_name("name", name) == name


def test_export_names_cannot_leave_the_run(tmp_path, capsys):
    reports = tmp_path / "reports"
    for bad in ("../alerts.csv", "/tmp/alerts.csv", "sub/alerts.csv", "alerts.txt", ".alerts.csv"):
        assert main(["run", "churn", "--reports", str(reports), "-p", f"alerts_path={bad}"]) == 2
    assert "alerts_path" in capsys.readouterr().err
    assert not reports.exists()


def test_periods_and_studies_are_checked_names(tmp_path):
    reports = tmp_path / "reports"
    assert main(["report", "--period", "../1998-06", "--reports", str(reports)]) == 2
    assert main(["run", "../grading", "--reports", str(reports)]) == 2
    assert not reports.exists()


# --------------------------------------------------------------------------- 5. relative paths


@pytest.mark.e2e
def test_relative_paths_mean_the_directory_the_command_ran_from(tmp_path, monkeypatch, capsys):
    work = tmp_path / "elsewhere"
    work.mkdir()
    _sales(work / "sales.csv")
    monkeypatch.chdir(work)
    notebooks_before = _listing(REPO / "notebooks")
    argv = ["run", "grading", "--reports", "relreports", "--name", "r", "-p", "data_source=sales.csv"]
    assert main(argv) == 0
    run = work / "relreports" / "r"
    assert (run / "metrics" / "01_grading_thresholds.json").exists()
    manifest = json.loads((run / "manifest.json").read_text())
    recorded = manifest["studies"]["grading"]["parameters"]["data_source"]
    assert recorded == str(work / "sales.csv")
    assert str(work / "sales.csv") in manifest["inputs"]
    assert manifest["command"]["reports"] == str(work / "relreports")
    assert _listing(REPO / "notebooks") == notebooks_before  # nothing lands in the source tree
    capsys.readouterr()
    # The README's reproduce command, with a relative manifest path, from yet another folder.
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    assert main(["reproduce", "../elsewhere/relreports/r/manifest.json"]) == 0
    assert "identical" in capsys.readouterr().out
    assert (work / "relreports" / "r-reproduced" / "manifest.json").exists()


# --------------------------------------------------------------------------- 6. operational errors


def test_disk_full_is_one_line_exit_3_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    from analysis.reporting import run as runner

    def full(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runner, "write_json", full)
    reports = tmp_path / "reports"
    assert main(["run", "--reports", str(reports), "--no-studies"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "No space left on device" in err and "metrics.json" in err
    assert _listing(reports) == []


def test_reports_path_that_is_a_file_exits_3(tmp_path, capsys):
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    assert main(["run", "--reports", str(blocker), "--no-studies"]) == 3
    err = capsys.readouterr().err
    assert str(blocker) in err and "Traceback" not in err
    assert blocker.read_text() == "not a folder"


@pytest.fixture
def small_filesystem(tmp_path):
    """A 256 kB tmpfs (root only): real ENOSPC and a real read-only remount."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_real_disk_full_and_read_only_folders(small_filesystem, capsys):
    reports = small_filesystem / "reports"
    assert main(["run", "--reports", str(reports), "--no-studies"]) == 3  # a 500 kB summary
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert str(reports) in err  # the path, also when the writer (pyarrow) gives none
    assert _listing(reports) == []
    subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)
    assert main(["run", "--reports", str(reports), "--no-studies"]) == 3
    assert "Read-only file system" in capsys.readouterr().err


def test_stale_staging_folders_are_removed_or_reported(tmp_path, caplog):
    import fcntl
    import socket

    from analysis.reporting.folders import OWNER_FILE, atomic_run_folder

    stale = tmp_path / ".main.abc123.partial"
    stale.mkdir()
    (stale / OWNER_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": 999_999}))
    (stale / "half.json").write_text("{")
    unknown = tmp_path / ".old.xyz.partial"
    unknown.mkdir()
    os.utime(unknown, (1_000_000_000, 1_000_000_000))  # old: not a run being set up
    live = tmp_path / ".live.q1.partial"
    live.mkdir()
    # A live run holds its owner record locked, whatever its host or process id says (PID namespaces).
    holder = open(live / OWNER_FILE, "w")  # noqa: SIM115
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    holder.write(json.dumps({"host": "elsewhere", "pid": 1}))
    holder.flush()
    try:
        with caplog.at_level("WARNING", logger="analysis"), atomic_run_folder(tmp_path, "run") as run:
            (run.staging / "x.txt").write_text("x")
            # While this run writes, another run's clean-up must leave it alone.
            from analysis.reporting.folders import remove_stale_staging

            assert remove_stale_staging(tmp_path) == []
            assert run.staging.exists()
    finally:
        holder.close()
    assert not stale.exists() and unknown.exists() and live.exists()
    assert str(stale) in caplog.text and str(unknown) in caplog.text
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["x.txt"]  # owner record not published


def _echo_study(tmp_path, monkeypatch, body: str):
    """A one-cell study notebook registered as ``echo`` (runs on CDNOW's data options)."""
    import dataclasses

    import nbformat

    from analysis.studies import registry as studies

    notebook = tmp_path / "echo.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('text: str = ""\nmapping: dict = {}\nmetrics_path: str = ""')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, notebook)

    @dataclasses.dataclass(frozen=True)
    class Echo:
        text: str = ""
        mapping: dict = dataclasses.field(default_factory=dict)
        metrics_path: str = ""

        def data_options(self):
            return {"source": "cdnow", "up_to": "1998-06-30"}

    monkeypatch.setitem(studies.STUDIES, "echo", studies.Study("echo", str(notebook), Echo))


@pytest.mark.e2e
def test_a_full_disk_inside_a_study_publishes_nothing(tmp_path, monkeypatch, capsys):
    from analysis.reporting.run import execute_run

    body = "raise OSError(28, 'No space left on device', 'big.parquet')"
    _echo_study(tmp_path, monkeypatch, body)
    reports = tmp_path / "reports"
    with pytest.raises(OSError, match="No space left"):
        execute_run({"echo": {}}, reports=reports, name="r")
    assert _listing(reports) == []


def test_relative_engine_files_are_made_absolute(tmp_path, monkeypatch):
    from analysis.reporting.execute import run_parameters

    monkeypatch.chdir(tmp_path)
    values = run_parameters("grading", {"engine": "duckdb://local.ddb", "compare": ("a", ("b",))})
    assert values["engine"] == f"duckdb://{tmp_path / 'local.ddb'}"
    assert values["compare"] == ["a", ["b"]]  # tuples reach the notebook as the lists papermill writes
    assert run_parameters("grading", {"engine": "duckdb://"})["engine"] == "duckdb://"


def test_a_study_that_cannot_use_the_data_is_refused_up_front(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert main(["run", "grading", "--reports", str(reports), "-p", "value_metric=margin"]) == 1
    assert "margin" in capsys.readouterr().err
    assert not reports.exists()


def test_an_unreadable_manifest_is_left_out_of_the_index(tmp_path, caplog):
    from analysis.reporting.index import write_index

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    with caplog.at_level("WARNING", logger="analysis"):
        index = write_index(tmp_path)
    assert "0 run(s)" in index.read_text() and "broken" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "index.html"]


def test_a_corrupt_compressed_file_is_a_data_problem(tmp_path, capsys):
    fake = tmp_path / "sales.csv.gz"
    fake.write_text("customer_id,date,amount\nA,2024-01-01,5\n")
    assert main(["profile", str(fake)]) == 1
    assert "not a readable .gz compressed file" in capsys.readouterr().err


# --------------------------------------------------------------------------- 7. bad data refused up front


def test_bad_data_publishes_nothing_and_says_it_once(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\nA,1998-01-01,5\nB,1998-01-02,abc\n")
    reports = tmp_path / "reports"
    assert main(["run", "--reports", str(reports), "-p", f"data_source={bad}"]) == 1
    err = capsys.readouterr().err
    assert err.count("non-numeric values") == 1 and "bad.csv" in err and "line 3" in err
    assert not reports.exists()


# --------------------------------------------------------------------------- 8. dates and magnitudes


def test_summarize_refuses_rows_after_as_of_unless_asked(tmp_path, capsys):
    sales = tmp_path / "sales.csv"
    sales.write_text("customer_id,date,amount\nA,2024-01-01,5\nA,2024-02-10,7\nB,2024-03-01,1\n")
    out = tmp_path / "s.csv"
    assert main(["summarize", str(sales), "--as-of", "2024-01-31", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "dates after the analysis date 2024-01-31 in 2 rows of 3" in err and "line 3" in err
    assert not out.exists()
    assert main(["summarize", str(sales), "--as-of", "2024-01-31", "--out", str(out), "--drop-later-rows"]) == 0
    assert "2 rows dated after 2024-01-31 left out" in capsys.readouterr().out
    assert len(pd.read_csv(out)) == 1


def test_summarize_in_place_counts_later_rows_on_the_engine(tmp_path, capsys):
    folder = tmp_path / "sales.parquet"
    pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "date": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-03-01"]),
            "amount": [5.0, 7.0, 1.0],
        }
    ).to_parquet(folder, index=False)
    out = tmp_path / "s.parquet"
    assert main(["summarize", str(folder), "--as-of", "2024-01-31", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "in 2 rows" in err and "2024-02-10" in err
    assert main(["summarize", str(folder), "--as-of", "2024-01-31", "--out", str(out), "--drop-later-rows"]) == 0
    assert pd.read_parquet(out)["customer_id"].tolist() == ["A"]


def test_runs_refuse_future_dated_rows_before_publishing(tmp_path, capsys):
    sales = _sales(tmp_path / "sales.csv")
    future = (pd.Timestamp.today().normalize() + pd.Timedelta(days=40)).date()
    with open(sales, "a") as handle:
        handle.write(f"C0001,{future},10\n")
    reports = tmp_path / "reports"
    assert main(["run", "churn", "--reports", str(reports), "-p", f"data_source={sales}"]) == 1
    err = capsys.readouterr().err
    assert "dates after today" in err and "1 row of" in err and str(future) in err
    assert not reports.exists()


def test_a_study_date_before_the_data_end_refuses_later_rows_or_drops_them_when_asked():
    from analysis.studies.sources import load_transactions

    with pytest.raises(DataError, match="after the analysis date 1998-03-31 in 5,906 rows"):
        load_transactions("cdnow", up_to="1998-03-31")
    kept = load_transactions("cdnow", up_to="1998-03-31", later_rows="drop")
    assert kept["date"].max() <= pd.Timestamp("1998-03-31") and kept.attrs["rows_after_as_of"] == 5_906
    from analysis.engines.profile import profile_transactions

    profile = profile_transactions(kept).set_index("measure")["value"]
    assert profile["rows dated after the analysis date, left out"] == "5906"


def test_a_message_after_dropping_later_rows_quotes_the_right_line(tmp_path):
    from analysis.data.readers import read_transactions

    sales = tmp_path / "sales.csv"
    sales.write_text("customer_id,date,amount\nA,2024-03-01,999\nB,2024-01-02,-7\n")
    with pytest.raises(DataError, match=r"first: line 3: '-7'"):
        read_transactions(sales, as_of="2024-01-31", later_rows="drop", returns="error")


def test_huge_amounts_are_refused_at_reading_with_the_line(tmp_path):
    from analysis.data.readers import read_transactions

    sales = tmp_path / "sales.csv"
    sales.write_text("customer_id,date,amount\nA,2024-01-01,5\nB,2024-01-02,1e308\nC,2024-01-03,-2e14\n")
    expected = r"sales.csv, column 'amount': amounts too large.* in 2 rows of 3; first: line 3"
    with pytest.raises(DataError, match=expected):
        read_transactions(sales)
