"""Shipped datasets, the data contract and validation of user files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.data.contract import CONTRACT
from analysis.data.datasets import DATASETS, dataset_path, load_dataset
from analysis.data.readers import read_customers, read_events, read_table, read_transactions
from analysis.engines.profile import profile_transactions
from analysis.errors import DataError, ParameterError

# --------------------------------------------------------------------------- shipped data


def test_cdnow_matches_its_published_description(cdnow):
    assert len(cdnow) == 69_659
    assert cdnow["customer_id"].nunique() == 23_570
    assert cdnow["date"].min() == pd.Timestamp("1997-01-01")
    assert cdnow["date"].max() == pd.Timestamp("1998-06-30")
    assert list(cdnow.columns) == ["customer_id", "date", "amount", "quantity"]
    assert cdnow["customer_id"].str.len().eq(5).all()  # zero-padded ids survive as text
    assert (cdnow["amount"] >= 0).all()


def test_telco_matches_its_published_description(telco):
    assert len(telco) == 7_043
    assert telco["customer_id"].is_unique
    assert telco["churned"].dtype == bool
    assert telco["churned"].sum() == 1_869
    blank = telco["total_charges"].isna()
    assert blank.sum() == 11 and (telco.loc[blank, "tenure_months"] == 0).all()
    assert {"contract", "payment_method", "monthly_charges"} <= set(telco.columns)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shipped_files_match_recorded_checksums(name):
    path = dataset_path(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATASETS[name].sha256


def test_a_modified_shipped_file_is_refused(tmp_path):
    for spec in DATASETS.values():
        shutil.copy(dataset_path(spec.name), tmp_path / spec.file)
    with open(tmp_path / "cdnow_master.txt", "ab") as handle:
        handle.write(b" 99999 19980630  1   1.00\r\n")
    with pytest.raises(DataError, match="checksum mismatch"):
        load_dataset("cdnow", data_dir=tmp_path)
    assert len(load_dataset("telco", data_dir=tmp_path)) == 7_043


def test_unknown_dataset_is_a_parameter_error():
    with pytest.raises(ParameterError, match=r"'name' = 'cdnowx'.*'cdnow'"):
        load_dataset("cdnowx")


def test_profile_counts_what_it_says(cdnow):
    profile = profile_transactions(cdnow).set_index("measure")["value"]
    assert profile["rows"] == "69659"
    assert profile["customers"] == "23570"
    assert profile["exact duplicate rows"] == str(cdnow.duplicated().sum())
    assert int(profile["purchase occasions"]) == cdnow.groupby(["customer_id", "date"]).ngroups


# --------------------------------------------------------------------------- user files


def write(tmp_path, text: str | bytes, name: str = "sales.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


GOOD = "customer_id,date,amount\nA1,2024-01-05,10.50\nA2,2024-01-06,3\nA1,2024-02-01,7.25\n"


def test_good_file_reads_with_contract_types(tmp_path):
    t = read_transactions(write(tmp_path, GOOD))
    assert list(t.columns) == ["customer_id", "date", "amount"]
    assert t["date"].dtype == "datetime64[ns]" and t["amount"].dtype == "float64"
    assert t["amount"].tolist() == [10.5, 3.0, 7.25]


def test_column_mapping_spares_renaming(tmp_path):
    path = write(tmp_path, "Kunde;Datum;Umsatz;Marge\n007;05.01.2024;10,5;2\n")
    with pytest.raises(DataError, match="non-numeric"):
        read_transactions(
            path,
            delimiter=";",
            date_format="%d.%m.%Y",
            columns={
                "customer_id": "Kunde",
                "date": "Datum",
                "amount": "Umsatz",
                "margin": "Marge",
            },
        )
    path = write(tmp_path, "Kunde;Datum;Umsatz;Marge\n007;05.01.2024;10.5;2\n")
    t = read_transactions(
        path,
        delimiter=";",
        date_format="%d.%m.%Y",
        columns={"customer_id": "Kunde", "date": "Datum", "amount": "Umsatz", "margin": "Marge"},
    )
    assert t.loc[0, "customer_id"] == "007" and t.loc[0, "margin"] == 2.0
    assert t.loc[0, "date"] == pd.Timestamp("2024-01-05")


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", r"sales\.csv: file is empty"),
        ("customer_id,date,amount\n", r"sales\.csv: header only, no data rows"),
        (
            "customer_id,day,amount\nA,2024-01-01,1\n",
            r"sales\.csv: missing required column\(s\) 'date'.*Found columns",
        ),
        (
            "customer_id;date;amount\nA;2024-01-01;1\n",
            r"looks ';'-delimited; pass delimiter=';'",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01,1\nB,2024-13-45,2\nC,yesterday,3\n",
            r"column 'date': unparseable dates in 2 rows of 3; first: line 3: '2024-13-45', "
            r"line 4: 'yesterday'",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01T10:00+01:00,1\nB,2024-01-01T10:00+02:00,2\n",
            r"column 'date': mixed time zones.* line 3: '2024-01-01T10:00\+02:00'.*timezone=",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01T10:00+01:00,1\nB,2024-01-01T10:00,2\n",
            r"mixing a UTC offset with none",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02,abc\nC,2024-01-03,1;5\n",
            r"column 'amount': non-numeric values in 2 rows of 3; first: line 3: 'abc', "
            r"line 4: '1;5'",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02,inf\n",
            r"column 'amount': infinite values in 1 row of 2; first: line 3: 'inf'",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02,\nC,2024-01-02,NaN\n",
            r"column 'amount': missing values in 2 rows of 3; first: line 3: '', line 4: 'NaN'",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01,1\n  ,2024-01-02,4\n",
            r"column 'customer_id': missing customer ids in 1 row of 2; first: line 3: '  '",
        ),
        (
            "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02\nC,2024-01-02,1,9\n",
            r"number of fields other than the header's 3 in 2 rows; first: line 3: "
            r"'B,2024-01-02', line 4: 'C,2024-01-02,1,9'",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", r"binary content, not a CSV"),
        (b"PAR1\x00\x00", r"is a Parquet file, not CSV"),
        (
            "customer_id,date,amount\nA,2024-01-01,0\nB,2024-01-02,-5\n",
            r"column 'amount': no positive amount at all",
        ),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path, content, pattern):
    path = write(tmp_path, content)
    before = path.read_bytes()
    with pytest.raises(DataError, match=pattern) as caught:
        read_transactions(path)
    assert caught.value.file == str(path)
    assert path.read_bytes() == before  # the input is never modified


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        read_transactions(tmp_path / "nope.csv")


def test_all_missing_columns_are_listed(tmp_path):
    path = write(tmp_path, "id,when,value\nA,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"'customer_id', 'date', 'amount'"):
        read_transactions(path)


def test_mapped_column_missing_names_both_names(tmp_path):
    with pytest.raises(DataError, match=r"'Kunde' \(customer_id\)"):
        read_transactions(write(tmp_path, GOOD), columns={"customer_id": "Kunde"})


def test_dates_after_the_analysis_date_are_refused(tmp_path):
    path = write(tmp_path, GOOD + "A3,2099-01-01,5\n")
    with pytest.raises(DataError, match=r"dates after the analysis date 2024-06-30 in 1 row.*line 5"):
        read_transactions(path, as_of="2024-06-30")
    assert len(read_transactions(path, as_of="2099-01-01")) == 4  # the as_of day itself counts


def test_single_time_zone_keeps_local_wall_time_and_timezone_option_converts(tmp_path):
    path = write(
        tmp_path,
        "customer_id,date,amount\nA,2024-01-01T23:30:00+01:00,1\nB,2024-01-02T08:00:00+02:00,2\n",
    )
    t = read_transactions(path, timezone="UTC")
    assert t["date"].tolist() == [
        pd.Timestamp("2024-01-01 22:30"),
        pd.Timestamp("2024-01-02 06:00"),
    ]
    one_zone = write(tmp_path, "customer_id,date,amount\nA,2024-01-01T23:30:00+01:00,1\n", "b.csv")
    assert read_transactions(one_zone)["date"].tolist() == [pd.Timestamp("2024-01-01 23:30")]


def test_whitespace_around_ids_is_stripped_and_leading_zeros_kept(tmp_path):
    t = read_transactions(write(tmp_path, "customer_id,date,amount\n  007 ,2024-01-01,1\n007,2024-01-02,2\n"))
    assert t["customer_id"].tolist() == ["007", "007"]


def test_utf8_byte_order_mark_is_skipped(tmp_path):
    t = read_transactions(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()))
    assert t.columns[0] == "customer_id" and len(t) == 3


def test_gb18030_file_needs_its_encoding(tmp_path):
    text = "customer_id,date,amount,region\n张三,2024-01-01,12.5,华东\n李四,2024-01-02,3,华南\n"
    path = write(tmp_path, text.encode("gb18030"))
    with pytest.raises(DataError, match=r"not valid utf-8.*line 2.*encoding='gb18030'"):
        read_transactions(path)
    t = read_transactions(path, encoding="gb18030")
    assert t["customer_id"].tolist() == ["张三", "李四"] and t.loc[0, "region"] == "华东"


def test_returns_policy(tmp_path):
    path = write(tmp_path, GOOD + "A1,2024-02-03,-7.25\n")
    assert len(read_transactions(path)) == 4
    assert (read_transactions(path, returns="drop")["amount"] > 0).all()
    with pytest.raises(DataError, match=r"negative amounts.* in 1 row of 4; first: line 5: '-7\.25'"):
        read_transactions(path, returns="error")


def test_duplicates_policy(tmp_path):
    path = write(tmp_path, GOOD + "A2,2024-01-06,3\n")
    assert len(read_transactions(path)) == 4
    assert len(read_transactions(path, duplicates="drop")) == 3
    with pytest.raises(DataError, match=r"exact duplicate rows.* in 1 row of 4; first: line 5"):
        read_transactions(path, duplicates="error")


def test_bad_options_are_parameter_errors(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ParameterError, match="'returns' = 'net'"):
        read_transactions(path, returns="net")
    with pytest.raises(ParameterError, match="'table'"):
        read_table(path, "orders")
    with pytest.raises(ParameterError, match="'columns'"):
        read_transactions(path, columns={"client": "customer_id"})
    with pytest.raises(ParameterError, match="'encoding'"):
        read_transactions(path, encoding="no-such-codec")


def test_parquet_and_dataframe_sources_are_validated_alike(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["A", "B", None],
            "date": pd.to_datetime(["2024-01-01"] * 3),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"t\.parquet, column 'customer_id': missing customer ids.* row 3"):
        read_transactions(tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"<DataFrame>, column 'customer_id'.* index 2"):
        read_transactions(frame)
    good = frame.dropna()
    copy = good.copy(deep=True)
    assert len(read_transactions(good)) == 2
    pd.testing.assert_frame_equal(good, copy)  # a DataFrame source is never modified


def test_non_numeric_dtype_in_parquet_is_reported(tmp_path):
    frame = pd.DataFrame({"customer_id": ["A", "B"], "date": ["2024-01-01", "2024-01-02"], "amount": ["1", "x"]})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"column 'amount': non-numeric values in 1 row of 2; first: row 2: 'x'"):
        read_transactions(tmp_path / "t.parquet")


def test_customers_and_event_tables(tmp_path):
    customers = write(
        tmp_path,
        "customer_id,acquisition_date,churned,segment\nA,2023-01-01,yes,retail\nB,,no,trade\n",
        "customers.csv",
    )
    c = read_customers(customers)
    assert c["churned"].tolist() == [True, False]
    assert c["acquisition_date"].isna().tolist() == [False, True]
    assert c["segment"].tolist() == ["retail", "trade"]  # attributes kept
    bad = write(tmp_path, "customer_id,churned\nA,maybe\n", "bad.csv")
    with pytest.raises(DataError, match=r"column 'churned': values that are not yes/no.*'maybe'"):
        read_customers(bad)
    invoices = write(
        tmp_path,
        "customer_id,invoice_date,due_date,paid_date,amount\nA,2024-01-01,2024-01-31,,100\n",
        "invoices.csv",
    )
    i = read_events(invoices, "invoices")
    assert pd.isna(i.loc[0, "paid_date"])
    with pytest.raises(ParameterError, match="'kind'"):
        read_events(invoices, "visits")


def test_contract_tables_have_customer_id_first_and_required_columns():
    for table, specs in CONTRACT.items():
        assert specs[0].name == "customer_id", table
        assert specs[0].required
    assert [s.name for s in CONTRACT["transactions"] if s.required] == [
        "customer_id",
        "date",
        "amount",
    ]


def test_data_readme_lists_every_contract_column_and_checksum():
    readme = (Path(__file__).resolve().parents[2] / "data" / "README.md").read_text()
    for specs in CONTRACT.values():
        for spec in specs:
            assert f"`{spec.name}`" in readme, spec.name
    for spec in DATASETS.values():
        assert spec.sha256 in readme and f"{spec.rows:,}" in readme


def test_big_file_reads_fast_enough_to_be_practical(tmp_path):
    """Not a timing test: checks a 200k-row file round-trips exactly."""
    rng = np.random.default_rng(1)
    n = 200_000
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 10_000, n).astype(str),
            "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "amount": np.round(rng.lognormal(3, 1, n), 2),
        }
    )
    frame.to_csv(tmp_path / "big.csv", index=False)
    t = read_transactions(tmp_path / "big.csv")
    assert len(t) == n
    np.testing.assert_array_equal(t["amount"].to_numpy(), frame["amount"].to_numpy())
