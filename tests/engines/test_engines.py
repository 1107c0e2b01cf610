"""The summaries give identical results on every engine.

The Spark tests start a local[2] session (Java 17+ and the ``spark`` extra,
both installed by ``.ci/run``). Other Ibis backends are exercised through a
DuckDB database file opened by URL, which goes through the same generic path
(a table name, an uploaded DataFrame, one-pass validation) as a warehouse.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.engines.periods import period_table
from analysis.engines.select import check_engine, engine_label
from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import DataError, ParameterError

START = pd.Timestamp("2023-01-01")


def random_log(seed: int, *, n_customers: int = 60, n_rows: int = 1500, margin: bool = False) -> pd.DataFrame:
    """A transaction log with what makes summaries tricky.

    Several rows per customer-day, returns (some on days without a purchase),
    zero amounts, customers with one purchase or only returns, times of day,
    and ids that sort differently as bytes and as letters (upper/lower case,
    digits, accents, a CJK name).
    """
    rng = np.random.default_rng(seed)
    names = np.array([f"c{i:03d}" for i in range(n_customers - 4)] + ["Zoë", "zoe", "Émile", "顾客"])
    customer = rng.choice(names, n_rows, p=rng.dirichlet(np.full(n_customers, 0.7)))
    day = rng.integers(0, 700, n_rows)
    cents = rng.integers(0, 30_000, n_rows)
    cents[rng.random(n_rows) < 0.08] *= -1  # returns
    cents[rng.random(n_rows) < 0.02] = 0
    frame = pd.DataFrame(
        {
            "customer_id": customer,
            "date": START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.integers(0, 86_400, n_rows), unit="s"),
            "amount": cents / 100,
        }
    )
    if margin:
        frame["margin"] = np.round(frame["amount"] * rng.uniform(0.1, 0.5, n_rows), 2)
    return frame


def identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Exactly equal: same columns, dtypes, order and every value to the last bit."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)


# --------------------------------------------------------------------------- parameters


def test_engine_names_urls_and_backends_are_accepted_and_anything_else_refused():
    import ibis

    assert check_engine("duckdb") == "duckdb"
    assert check_engine("spark") == "spark"
    assert check_engine("bigquery://project/dataset") == "bigquery://project/dataset"
    backend = ibis.duckdb.connect()
    assert check_engine(backend) is backend
    for bad in ("postgres", "", "://nothing", 3, None):
        with pytest.raises(ParameterError, match="engine"):
            check_engine(bad)


def test_engine_label_never_shows_a_password():
    assert (
        engine_label("trino://analyst:s3cret@warehouse:8080/hive/sales") == "trino://analyst@warehouse:8080/hive/sales"
    )
    assert "s3cret" not in engine_label("snowflake://me:s3cret@account/db/schema?warehouse=wh")
    assert engine_label("duckdb") == "duckdb"


def test_memory_limit_is_refused_for_other_engines():
    with pytest.raises(ParameterError, match="memory_limit"):
        customer_summary(random_log(0, n_rows=10), "2024-01-01", engine="duckdb:///:memory:", memory_limit="1GB")


# --------------------------------------------------------------------------- another Ibis backend by URL


@pytest.fixture()
def warehouse(tmp_path):
    """A DuckDB database file with a transactions table, as a warehouse would hold it."""
    log = random_log(7, margin=True)
    path = tmp_path / "warehouse.db"
    with duckdb.connect(str(path)) as con:
        con.register("log", log)
        con.execute("CREATE TABLE sales AS SELECT * FROM log")
    return f"duckdb:///{path}", log


def test_a_table_named_in_a_database_gives_the_embedded_results(warehouse):
    url, log = warehouse
    identical(customer_summary("sales", "2024-06-30", engine=url), customer_summary(log, "2024-06-30"))
    identical(
        calibration_holdout("sales", "2024-01-31", "2024-10-31", time_unit="weeks", engine=url),
        calibration_holdout(log, "2024-01-31", "2024-10-31", time_unit="weeks"),
    )
    identical(
        period_table("sales", freq="quarter", dense=True, engine=url),
        period_table(log, freq="quarter", dense=True),
    )


def test_a_dataframe_is_uploaded_to_the_backend(warehouse):
    url, log = warehouse
    identical(customer_summary(log, "2024-03-31", engine=url), customer_summary(log, "2024-03-31"))


def test_bad_values_in_a_warehouse_table_are_named(tmp_path):
    log = random_log(3, n_rows=50).astype({"amount": "str"})
    log.loc[[4, 9], "amount"] = ["n/a", "twelve"]
    path = tmp_path / "warehouse.db"
    with duckdb.connect(str(path)) as con:
        con.register("log", log)
        con.execute("CREATE TABLE sales AS SELECT * FROM log")
    with pytest.raises(DataError) as error:
        customer_summary("sales", "2024-06-30", engine=f"duckdb:///{path}")
    assert error.value.column == "amount" and error.value.n_bad == 2 and error.value.n_rows == 50
    assert {value for _, value in error.value.examples} == {"n/a", "twelve"}


def test_a_missing_table_or_column_is_a_data_error(warehouse, tmp_path):
    url, _ = warehouse
    with pytest.raises(DataError, match="no_such_table"):
        customer_summary("no_such_table", "2024-06-30", engine=url)
    path = tmp_path / "other.db"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sales AS SELECT 'a' AS client, DATE '2024-01-01' AS date, 1.0 AS amount")
    with pytest.raises(DataError, match=r"missing required column\(s\) \['customer_id'\]"):
        customer_summary("sales", "2024-06-30", engine=f"duckdb:///{path}")


# --------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark():
    """A local Spark session with two cores, stopped after this module."""
    pytest.importorskip("pyspark", reason="the 'spark' extra is not installed (make test installs it)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("analysis-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


FREQS = ["week", "month", "quarter", "year"]


@pytest.mark.parametrize("seed", range(5))
def test_spark_and_duckdb_give_identical_summaries_and_period_tables(spark, seed):
    log = random_log(seed, margin=seed % 2 == 1)
    as_of = START + pd.Timedelta(days=200 + 90 * seed)
    for kwargs in ({}, {"time_unit": "weeks", "trailing_days": 90}):
        identical(customer_summary(log, as_of, engine="spark", **kwargs), customer_summary(log, as_of, **kwargs))
    end = as_of + pd.Timedelta(days=180)
    identical(
        calibration_holdout(log, as_of, end, time_unit="weeks", engine="spark"),
        calibration_holdout(log, as_of, end, time_unit="weeks"),
    )
    freq = FREQS[seed % 4]
    identical(period_table(log, freq=freq, engine="spark"), period_table(log, freq=freq))
    dense = {"freq": FREQS[(seed + 1) % 4], "start": START + pd.Timedelta(days=30), "end": end, "dense": True}
    identical(period_table(log, engine="spark", **dense), period_table(log, **dense))


def test_spark_scans_parquet_folders_and_csv_files_like_duckdb(spark, tmp_path):
    log = random_log(11)
    folder = tmp_path / "sales"
    for month, rows in log.groupby(log["date"].dt.strftime("%Y-%m")):
        (folder / f"month={month}").mkdir(parents=True)
        rows.to_parquet(folder / f"month={month}" / "part-0.parquet", index=False)
    csv = tmp_path / "sales.csv"
    log.to_csv(csv, index=False)
    expected = customer_summary(log, "2024-08-31")
    identical(customer_summary(folder, "2024-08-31", engine="spark"), expected)
    identical(customer_summary(folder, "2024-08-31"), expected)
    identical(customer_summary(csv, "2024-08-31", engine="spark"), expected)


def test_spark_names_bad_values_as_duckdb_does(spark, tmp_path):
    log = random_log(5, n_rows=40).astype({"amount": "str", "customer_id": "str"})
    log.loc[3, "customer_id"] = " c001"
    log.loc[[6, 7, 8], "amount"] = ["", "1,5", "inf"]
    csv = tmp_path / "bad.csv"
    log.to_csv(csv, index=False)
    errors = {}
    for engine in ("duckdb", "spark"):
        with pytest.raises(DataError) as error:
            customer_summary(csv, "2024-06-30", engine=engine)
        errors[engine] = error.value
    assert errors["spark"].column == errors["duckdb"].column == "customer_id"
    assert errors["spark"].n_bad == errors["duckdb"].n_bad == 1
    log.loc[3, "customer_id"] = "c001"
    log.to_csv(csv, index=False)
    for engine in ("duckdb", "spark"):
        with pytest.raises(DataError) as error:
            customer_summary(csv, "2024-06-30", engine=engine)
        assert (error.value.column, error.value.n_bad, error.value.n_rows) == ("amount", 3, 40), engine


def test_spark_refuses_a_dataframe_with_rows_it_would_drop(spark):
    log = random_log(2, n_rows=30)
    log.loc[[2, 5], "date"] = pd.NaT
    with pytest.raises(DataError) as error:
        customer_summary(log, "2024-06-30", engine="spark")
    assert error.value.column == "date" and [row for row, _ in error.value.examples] == [2, 5]


def test_spark_summary_of_the_shipped_data_matches(spark, cdnow):
    identical(
        calibration_holdout(cdnow, "1997-09-30", "1998-06-30", time_unit="weeks", engine="spark"),
        calibration_holdout(cdnow, "1997-09-30", "1998-06-30", time_unit="weeks"),
    )


def test_study_parameters_take_an_engine_and_refuse_a_bad_one():
    from analysis.studies.churn import ChurnParameters
    from analysis.studies.grading import GradingParameters
    from analysis.studies.value import ValueParameters

    for declaration in (GradingParameters, ChurnParameters, ValueParameters):
        assert declaration().engine == "duckdb"
        assert declaration(engine="spark").engine == "spark"
        with pytest.raises(ParameterError, match="engine"):
            declaration(engine="sqlserver")


def test_churn_signals_on_spark_equal_those_on_duckdb(spark, cdnow):
    from analysis.churn.frames import transaction_churn_frame

    options = {"as_of": "1997-12-31", "horizon_days": 90, "data_end": "1998-06-30"}
    identical(transaction_churn_frame(cdnow, engine="spark", **options), transaction_churn_frame(cdnow, **options))


# --------------------------------------------------------------------------- out of core (embedded DuckDB)


def test_a_small_memory_limit_spills_to_disk_with_identical_results_or_says_it_is_too_small(tmp_path):
    log = random_log(1, n_customers=20_000, n_rows=400_000)
    path = tmp_path / "sales.parquet"
    log.to_parquet(path, index=False)
    for table in (
        lambda **kw: customer_summary(path, "2024-10-01", **kw),
        lambda **kw: period_table(path, freq="week", dense=True, **kw),
    ):
        identical(table(memory_limit="100MB"), table())
    with pytest.raises(ParameterError, match=r"memory_limit.*ran out of memory"):
        period_table(path, freq="week", dense=True, memory_limit="10MB")


@pytest.mark.e2e
@pytest.mark.slow
def test_a_study_run_on_spark_reports_the_same_numbers_as_on_duckdb(spark, tmp_path):
    import json

    from analysis.cli import main

    reports = tmp_path / "reports"
    assert main(["run", "grading", "--reports", str(reports), "--name", "duckdb"]) == 0
    assert main(["run", "grading", "--reports", str(reports), "--name", "spark", "--engine", "spark"]) == 0
    manifest = json.loads((reports / "spark" / "manifest.json").read_text())
    assert manifest["engine"] == "spark" and manifest["studies"]["grading"]["parameters"]["engine"] == "spark"
    for metrics in ("metrics.json", "metrics/01_grading_thresholds.json"):
        assert (reports / "spark" / metrics).read_bytes() == (reports / "duckdb" / metrics).read_bytes(), metrics


# --------------------------------------------------------------------------- what a review found


def embedded_and_url(source, as_of="2024-12-31", **kwargs):
    """The embedded result and the result through the generic Ibis path (a DuckDB URL)."""
    return customer_summary(source, as_of, **kwargs), customer_summary(source, as_of, engine="duckdb://", **kwargs)


def test_dates_after_2262_and_amounts_with_many_decimals_upload_exactly():
    rng = np.random.default_rng(4)
    log = random_log(4, n_rows=2000)
    log["amount"] = np.round(rng.uniform(-50, 500, len(log)), 6)  # sub-cent amounts round like the embedded path
    log.loc[0, "date"] = pd.Timestamp("2300-01-01")  # later than datetime64[ns] can hold: must not wrap around
    log["date"] = log["date"].astype("datetime64[us]")
    embedded, url = embedded_and_url(log)
    identical(url, embedded)


def test_csv_columns_are_read_as_text_on_every_engine(tmp_path):
    path = tmp_path / "ids.csv"
    pd.DataFrame({"customer_id": ["007", "7", "00042"], "date": ["2024-01-05"] * 3, "amount": [1.0, 2.0, 3.0]}).to_csv(
        path, index=False
    )
    embedded, url = embedded_and_url(path)
    assert embedded["customer_id"].tolist() == ["00042", "007", "7"]
    identical(url, embedded)
    pd.DataFrame({"customer_id": ["a"], "date": ["01/05/2024"], "amount": [1.0]}).to_csv(path, index=False)
    for engine in ("duckdb", "duckdb://"):
        with pytest.raises(DataError, match="unparseable"):
            customer_summary(path, "2024-12-31", engine=engine)


@pytest.mark.parametrize("engine", ["duckdb", "duckdb://"])
def test_amounts_too_large_for_money_are_named(tmp_path, engine):
    log = random_log(6, n_rows=20)
    log.loc[[3, 4], "amount"] = [2e14, -1e15]
    with pytest.raises(DataError, match="too large") as error:
        customer_summary(log, "2024-12-31", engine=engine)
    assert (error.value.column, error.value.n_bad, [r for r, _ in error.value.examples]) == ("amount", 2, [3, 4])
    path = tmp_path / "big.csv"
    log.to_csv(path, index=False)
    with pytest.raises(DataError, match="too large") as error:
        customer_summary(path, "2024-12-31", engine=engine)
    assert (error.value.column, error.value.n_bad) == ("amount", 2)


def test_nan_in_typed_parquet_is_named_through_ibis_despite_statistics(tmp_path):
    log = random_log(8, n_rows=200)
    log.loc[150, "amount"] = np.nan
    path = tmp_path / "nan.parquet"
    log.to_parquet(path, index=False)
    for engine in ("duckdb", "duckdb://"):
        with pytest.raises(DataError) as error:
            customer_summary(path, "2024-12-31", engine=engine)
        assert error.value.column == "amount", engine


def test_time_zone_aware_columns_are_refused_on_every_engine(tmp_path):
    path = tmp_path / "w.db"
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'America/New_York'")
        con.execute(
            "CREATE TABLE sales AS SELECT 'a' AS customer_id, TIMESTAMPTZ '2024-01-31 23:30:00' AS date, 1.0 AS amount"
        )
        con.execute("COPY sales TO '" + str(tmp_path / "tz.parquet") + "'")
    for source, engine in ((tmp_path / "tz.parquet", "duckdb"), ("sales", f"duckdb:///{path}")):
        with pytest.raises(DataError, match="time-zone-aware"):
            customer_summary(source, "2024-12-31", engine=engine)


def test_passwords_are_never_recorded_but_environment_placeholders_work(tmp_path, monkeypatch, warehouse):
    from analysis.studies.grading import GradingParameters

    with pytest.raises(ParameterError, match="literal password") as error:
        GradingParameters(engine="trino://analyst:s3cret@host/hive/sales")
    assert "s3cret" not in str(error.value)
    with pytest.raises(ParameterError, match="literal password"):
        check_engine("snowflake://analyst@account/db?password=s3cret", recorded=True)
    assert GradingParameters(engine="trino://analyst:${TRINO_PASSWORD}@host/hive/sales")
    url, log = warehouse
    folder = url.removeprefix("duckdb:///").rsplit("/", 1)[0]
    monkeypatch.setenv("WAREHOUSE_DIR", folder)
    identical(
        customer_summary("sales", "2024-06-30", engine="duckdb:///${WAREHOUSE_DIR}/warehouse.db"),
        customer_summary(log, "2024-06-30"),
    )
    monkeypatch.delenv("WAREHOUSE_DIR")
    with pytest.raises(ParameterError, match="WAREHOUSE_DIR"):
        customer_summary("sales", "2024-06-30", engine="duckdb:///${WAREHOUSE_DIR}/warehouse.db")


def test_an_unreadable_memory_limit_is_a_parameter_error():
    with pytest.raises(ParameterError, match="memory_limit"):
        customer_summary(random_log(0, n_rows=10), "2024-01-01", memory_limit="lots")


def test_spark_leaves_no_views_and_restores_the_session_settings(spark, tmp_path):
    import gc

    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "false")
    before = {t.name for t in spark.catalog.listTables()}
    log = random_log(9, n_rows=300)
    path = tmp_path / "sales.parquet"
    log.to_parquet(path, index=False)
    customer_summary(log, "2024-06-30", engine="spark")
    customer_summary(path, "2024-06-30", engine="spark")
    period_table(log, dense=True, engine="spark")
    gc.collect()
    assert {t.name for t in spark.catalog.listTables()} - before == set()
    assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "false"
    spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_spark_agrees_on_the_review_cases(spark, tmp_path):
    rng = np.random.default_rng(4)
    log = random_log(4, n_rows=2000)
    log["amount"] = np.round(rng.uniform(-50, 500, len(log)), 6)
    log.loc[0, "date"] = pd.Timestamp("2300-01-01")
    log["date"] = log["date"].astype("datetime64[us]")
    identical(customer_summary(log, "2024-12-31", engine="spark"), customer_summary(log, "2024-12-31"))
    path = tmp_path / "ids.csv"
    pd.DataFrame({"customer_id": ["007", "7", "00042"], "date": ["2024-01-05"] * 3, "amount": [1.0, 2.0, 3.0]}).to_csv(
        path, index=False
    )
    identical(customer_summary(path, "2024-12-31", engine="spark"), customer_summary(path, "2024-12-31"))
    big = random_log(6, n_rows=20)
    big.loc[3, "amount"] = 2e14
    with pytest.raises(DataError, match="too large"):
        customer_summary(big, "2024-12-31", engine="spark")
    spaced = random_log(13, n_rows=12)
    spaced.loc[2, "customer_id"] = "c001\t"
    spaced.to_csv(path, index=False)
    with pytest.raises(DataError, match="untrimmed"):
        customer_summary(path, "2024-12-31", engine="spark")
    spaced.loc[2, "customer_id"] = "c001\u00a0"
    spaced.to_csv(path, index=False)
    identical(customer_summary(path, "2024-12-31", engine="spark"), customer_summary(path, "2024-12-31"))


# --------------------------------------------------------------------------- a database server: PostgreSQL


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of its own (initdb in a temporary folder, a free port), stopped afterwards.

    Stands for the warehouses the package cannot reach here (BigQuery,
    Snowflake, Trino): another SQL dialect, a client-server connection and
    uploads through Ibis. ``.ci/run`` installs Debian's PostgreSQL.
    """
    import glob
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    pytest.importorskip("psycopg", reason="the test extra installs psycopg")
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("PostgreSQL is not installed (.ci/run installs it)")
    bin_dir = os.path.dirname(binaries[-1])
    folder = tempfile.mkdtemp(prefix="analysis-postgres-")
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(folder, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = os.path.join(folder, "data")
    run = {"check": True, "capture_output": True}
    subprocess.run([*as_postgres, f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "analysis"], **run)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    log = os.path.join(folder, "log")
    subprocess.run([*as_postgres, f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"], **run)
    try:
        yield f"postgres://analysis@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("seed", range(3))
def test_postgres_and_duckdb_give_identical_summaries_and_period_tables(postgres, seed):
    log = random_log(seed, margin=seed == 1)
    as_of = START + pd.Timedelta(days=300 + 60 * seed)
    end = as_of + pd.Timedelta(days=150)
    for kwargs in ({}, {"time_unit": "weeks", "trailing_days": 90}):
        identical(customer_summary(log, as_of, engine=postgres, **kwargs), customer_summary(log, as_of, **kwargs))
    identical(
        calibration_holdout(log, as_of, end, time_unit="weeks", engine=postgres),
        calibration_holdout(log, as_of, end, time_unit="weeks"),
    )
    for freq in FREQS:
        dense = seed % 2 == 0
        identical(
            period_table(log, freq=freq, end=end, dense=dense, engine=postgres),
            period_table(log, freq=freq, end=end, dense=dense),
        )


def test_a_postgres_table_is_summarised_where_it_is_and_bad_text_is_named(postgres):
    import ibis

    log = random_log(12)
    bad = log.astype({"amount": "str"})
    bad.loc[[5, 8], "amount"] = ["twelve", "n/a"]
    con = ibis.connect(postgres)
    try:
        con.create_table("sales", ibis.memtable(log), overwrite=True)
        con.create_table("bad_sales", ibis.memtable(bad), overwrite=True)
    finally:
        con.disconnect()
    identical(customer_summary("sales", "2024-05-31", engine=postgres), customer_summary(log, "2024-05-31"))
    with pytest.raises(DataError, match="cannot read") as error:
        customer_summary("bad_sales", "2024-05-31", engine=postgres)
    assert error.value.column == "amount" and error.value.file == "bad_sales"


@pytest.mark.parametrize("engine", ["duckdb", "duckdb://"])
def test_untrimmed_means_the_same_on_every_engine(tmp_path, engine):
    """Spaces, tabs and line breaks around an id are refused; other characters (a no-break space) are part of it."""
    log = random_log(13, n_rows=12)
    log.loc[2, "customer_id"] = "c001\t"
    path = tmp_path / "tab.csv"
    log.to_csv(path, index=False)
    for source in (log, path):
        with pytest.raises(DataError, match="untrimmed") as error:
            customer_summary(source, "2024-12-31", engine=engine)
        assert error.value.n_bad == 1
    log.loc[2, "customer_id"] = "c001\u00a0"
    log.to_csv(path, index=False)
    assert "c001\u00a0" in set(customer_summary(path, "2024-12-31", engine=engine)["customer_id"])
    assert "c001\u00a0" in set(customer_summary(log, "2024-12-31", engine=engine)["customer_id"])


def test_b2b_signals_use_the_engine_too():
    from analysis.churn.b2b import b2b_churn_frame
    from analysis.synthetic.generate import generate_b2b

    data = generate_b2b(300, seed=1)
    tables = (data.customers, data.transactions, data.invoices, data.complaints, data.contacts)
    options = {"as_of": data.as_of, "horizon_days": data.horizon_days}
    identical(b2b_churn_frame(*tables, engine="duckdb://", **options), b2b_churn_frame(*tables, **options))
    with pytest.raises(ParameterError, match="engine"):
        b2b_churn_frame(*tables, engine="oracle", **options)
