"""The DuckDB summaries must match a plain pandas implementation exactly.

The reference below is deliberately naive (groupby on Python objects) and
lives only here; it encodes the documented conventions of
``analysis.summaries`` independently of the SQL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis.engines.periods import period_table
from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import DataError, ParameterError
from reference_returns import reference_occasions

# --------------------------------------------------------------------------- reference


def reference_summary(t: pd.DataFrame, as_of, *, unit: float = 1.0, trailing_days: int = 365, window: int = 30):
    as_of = pd.Timestamp(as_of).normalize()
    window_start = as_of - pd.Timedelta(days=trailing_days)
    t = t.assign(day=t["date"].dt.normalize())
    t = t[t["day"] <= as_of]
    occasions = reference_occasions(t, window)
    rows = []
    for customer, g in t.groupby("customer_id", sort=True):
        mine = occasions[occasions["customer_id"] == customer].sort_values("day")
        if mine.empty:
            continue
        spend = mine.set_index("day")["spend"]
        n = len(spend)
        first, last = spend.index[0], spend.index[-1]
        row = {
            "customer_id": customer,
            "first_purchase": first,
            "last_purchase": last,
            "occasions": n,
            "frequency": n - 1,
            "recency": (last - first).days / unit,
            "T": (as_of - first).days / unit,
            "monetary_value": spend.iloc[1:].mean() if n > 1 else np.nan,
            "total_value": g["amount"].sum(),
            "trailing_occasions": int((spend.index > window_start).sum()),
            "trailing_value": g.loc[g["day"] > window_start, "amount"].sum(),
        }
        if "margin" in t:
            row["total_margin"] = g["margin"].sum()
            row["trailing_margin"] = g.loc[g["day"] > window_start, "margin"].sum()
            margins = mine.set_index("day")["margin_spend"]
            row["monetary_margin"] = margins.iloc[1:].mean() if n > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def reference_holdout(t, calibration_end, holdout_end, *, unit=1.0):
    start = pd.Timestamp(calibration_end)
    end = pd.Timestamp(holdout_end)
    base = reference_summary(t, start, unit=unit)
    if base.empty:
        return base
    t = t.assign(day=t["date"].dt.normalize())
    t = t[t["day"] <= end]
    # Holdout occasions: returns matched among all rows up to the holdout end; none reaches back.
    occasions = reference_occasions(t)
    freq = occasions[occasions["day"] > start].groupby("customer_id")["day"].nunique()
    later = t[t["day"] > start]
    value = later.groupby("customer_id")["amount"].sum()
    return base.assign(
        frequency_holdout=base["customer_id"].map(freq).fillna(0).astype("int64"),
        value_holdout=base["customer_id"].map(value).fillna(0.0),
        duration_holdout=(end - start).days / unit,
    )


def reference_periods(t, freq_alias: str):
    t = t.assign(day=t["date"].dt.normalize())
    t = t.assign(period=t["day"].dt.to_period(freq_alias).dt.start_time)
    occasions = reference_occasions(t)
    occasions["period"] = occasions["day"].dt.to_period(freq_alias).dt.start_time
    counts = occasions.groupby(["customer_id", "period"])["day"].nunique()
    grouped = t.groupby(["customer_id", "period"])
    out = pd.DataFrame({"value": grouped["amount"].sum()})
    out.insert(0, "occasions", counts.reindex(out.index).fillna(0).astype("int64"))
    out = out.reset_index()
    return out.sort_values(["customer_id", "period"], ignore_index=True)


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for column in actual.columns:
        a, e = actual[column], expected[column]
        if pd.api.types.is_float_dtype(a):
            # Money is summed exactly as DECIMAL in SQL; the reference adds floats.
            np.testing.assert_allclose(a.to_numpy(), e.to_numpy(dtype=float), rtol=1e-12, atol=1e-9, err_msg=column)
        else:
            assert a.tolist() == e.tolist(), column


# --------------------------------------------------------------------------- strategies

START = pd.Timestamp("2024-01-01")


@st.composite
def transaction_logs(draw, with_margin: bool = False):
    n_customers = draw(st.integers(1, 8))
    n_rows = draw(st.integers(1, 60))
    ids = [f"c{i}" for i in range(n_customers)]
    # Amounts on a 1-cent grid (money), some negative (returns) and zeros.
    cents = st.integers(-2_000, 50_000)
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.integers(0, 400), st.integers(0, 23), cents),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "hour", "cents"])
    t = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("str"),
            "date": START + pd.to_timedelta(frame["day"], unit="D") + pd.to_timedelta(frame["hour"], unit="h"),
            "amount": frame["cents"] / 100.0,
        }
    )
    if with_margin:
        t["margin"] = (frame["cents"] * 0.3).round() / 100.0
    return t


# Every example runs a query on the engine: fewer in the quick run (see conftest.py).
settings.register_profile(
    "summaries",
    max_examples=min(60, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@settings(settings.get_profile("summaries"))
@given(t=transaction_logs(), offset=st.integers(0, 420), weeks=st.booleans())
def test_summary_matches_reference(t, offset, weeks):
    as_of = START + pd.Timedelta(days=offset)
    unit = 7.0 if weeks else 1.0
    expected = reference_summary(t, as_of, unit=unit)
    if expected.empty:
        assert customer_summary(t, as_of).empty
        return
    actual = customer_summary(t, as_of, time_unit="weeks" if weeks else "days")
    assert_same(actual, expected)


@settings(settings.get_profile("summaries"))
@given(t=transaction_logs(with_margin=True), offset=st.integers(0, 420), window=st.integers(1, 200))
def test_summary_with_margin_and_window_matches_reference(t, offset, window):
    as_of = START + pd.Timedelta(days=offset)
    expected = reference_summary(t, as_of, trailing_days=window)
    if expected.empty:
        return
    assert_same(customer_summary(t, as_of, trailing_days=window), expected)


@settings(settings.get_profile("summaries"))
@given(t=transaction_logs(), split=st.integers(0, 300), length=st.integers(1, 200))
def test_holdout_matches_reference(t, split, length):
    calibration_end = START + pd.Timedelta(days=split)
    holdout_end = calibration_end + pd.Timedelta(days=length)
    expected = reference_holdout(t, calibration_end, holdout_end, unit=7.0)
    if expected.empty:
        return
    actual = calibration_holdout(t, calibration_end, holdout_end, time_unit="weeks")
    assert_same(actual, expected)


@settings(settings.get_profile("summaries"))
@given(t=transaction_logs(), freq=st.sampled_from(["week", "month", "quarter"]))
@example(  # found by hypothesis: a log of one return only
    t=pd.DataFrame({"customer_id": ["c0"], "date": pd.to_datetime(["2024-01-01"]), "amount": [-0.01]}), freq="week"
)
def test_sparse_periods_match_reference(t, freq):
    alias = {"week": "W-SUN", "month": "M", "quarter": "Q"}[freq]
    assert_same(period_table(t, freq=freq), reference_periods(t, alias))


@settings(settings.get_profile("summaries"))
@given(t=transaction_logs())
def test_dense_periods_fill_gaps_and_agree_with_sparse(t):
    dense = period_table(t, dense=True)
    sparse = period_table(t)
    last = t["date"].max().to_period("M").start_time
    for customer, g in dense.groupby("customer_id"):
        periods = pd.DatetimeIndex(g["period"])
        first = sparse.loc[sparse["customer_id"] == customer, "period"].min()
        assert periods[0] == first and periods[-1] == last
        assert (periods[1:] == periods[:-1] + pd.offsets.MonthBegin(1)).all()
    active = dense[(dense["occasions"] > 0) | (dense["value"] != 0)]
    merged = sparse.merge(dense, on=["customer_id", "period"], suffixes=("", "_dense"))
    assert len(merged) == len(sparse)
    assert (merged["occasions"] == merged["occasions_dense"]).all()
    np.testing.assert_allclose(merged["value"], merged["value_dense"])
    assert len(active) <= len(sparse)


# --------------------------------------------------------------------------- named cases


def frame(rows, margin=False):
    t = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    t = t.assign(date=pd.to_datetime(t["date"], format="ISO8601"), customer_id=t["customer_id"].astype("str"))
    return t


def test_same_day_purchases_are_one_occasion_and_first_is_excluded_from_mean():
    t = frame(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-01 17:00", 5.0),  # same day: one occasion worth 15
            ("a", "2024-01-08", 30.0),
            ("a", "2024-01-15", 50.0),
        ]
    )
    s = customer_summary(t, "2024-01-31", time_unit="weeks").iloc[0]
    assert s["occasions"] == 3 and s["frequency"] == 2
    assert s["recency"] == 2.0 and s["T"] == 30 / 7
    assert s["monetary_value"] == 40.0  # mean of 30 and 50; first occasion (15) left out


def test_single_purchase_customer_has_zero_frequency_and_no_mean():
    s = customer_summary(frame([("a", "2024-03-01", 9.0)]), "2024-03-01").iloc[0]
    assert s["frequency"] == 0 and s["recency"] == 0 and s["T"] == 0
    assert np.isnan(s["monetary_value"])


def test_returns_are_netted_in_value_but_not_occasions():
    t = frame(
        [
            ("a", "2024-01-01", 100.0),
            ("a", "2024-01-05", -40.0),  # a return: no occasion
            ("a", "2024-01-09", 20.0),
            ("b", "2024-01-03", -5.0),  # only a return: not a customer
        ]
    )
    s = customer_summary(t, "2024-02-01")
    assert s["customer_id"].tolist() == ["a"]
    assert s.loc[0, "occasions"] == 2
    assert s.loc[0, "total_value"] == 80.0
    assert s.loc[0, "monetary_value"] == 20.0


def test_customer_whose_first_purchase_is_after_split_is_excluded_from_holdout_table():
    t = frame([("a", "2024-01-01", 1.0), ("a", "2024-03-01", 2.0), ("late", "2024-02-15", 3.0)])
    h = calibration_holdout(t, "2024-01-31", "2024-03-31")
    assert h["customer_id"].tolist() == ["a"]
    assert h.loc[0, "frequency_holdout"] == 1 and h.loc[0, "value_holdout"] == 2.0
    assert h.loc[0, "duration_holdout"] == 60


def test_rows_after_as_of_cannot_change_the_summary():
    """No leakage: anything after as_of, however odd, leaves the summary unchanged."""
    t = frame([("a", "2024-01-01", 10.0), ("a", "2024-01-20", 12.0), ("b", "2024-01-10", 4.0)])
    future = frame([("a", "2024-02-02", 1e6), ("b", "2024-02-01", -50.0), ("c", "2024-03-01", 1.0)])
    before = customer_summary(t, "2024-01-31")
    after = customer_summary(pd.concat([t, future], ignore_index=True), "2024-01-31")
    pd.testing.assert_frame_equal(before, after)


def test_input_frame_is_not_modified():
    t = frame([("a", "2024-01-01", 10.0), ("a", "2024-01-20", 12.0)])
    copy = t.copy(deep=True)
    customer_summary(t, "2024-01-31")
    period_table(t, dense=True)
    pd.testing.assert_frame_equal(t, copy)


def test_parquet_file_in_place_matches_dataframe(tmp_path):
    t = frame([("a", "2024-01-01", 10.0), ("a", "2024-01-20", 12.0), ("b", "2024-01-10", 4.0)])
    path = tmp_path / "t.parquet"
    t.to_parquet(path)
    pd.testing.assert_frame_equal(customer_summary(path, "2024-01-31"), customer_summary(t, "2024-01-31"))
    folder = tmp_path / "parts"
    folder.mkdir()
    t.iloc[:2].to_parquet(folder / "p1.parquet")
    t.iloc[2:].to_parquet(folder / "p2.parquet")
    pd.testing.assert_frame_equal(period_table(folder, dense=True), period_table(t, dense=True))


def test_file_with_bad_amounts_is_refused_in_sql(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,date,amount\na,2024-01-01,10\nb,2024-01-02,ten\n")
    with pytest.raises(DataError, match=r"t\.csv, column 'amount'.* in 1 row of 2.*'ten'"):
        customer_summary(path, "2024-01-31")


def test_bad_parameters_are_refused():
    t = frame([("a", "2024-01-01", 10.0)])
    with pytest.raises(ParameterError, match="time_unit"):
        customer_summary(t, "2024-01-31", time_unit="months")
    with pytest.raises(ParameterError, match="as_of"):
        customer_summary(t, "not a date")
    with pytest.raises(ParameterError, match="trailing_days"):
        customer_summary(t, "2024-01-31", trailing_days=0)
    with pytest.raises(ParameterError, match="holdout_end"):
        calibration_holdout(t, "2024-01-31", "2024-01-01")
    with pytest.raises(ParameterError, match="freq"):
        period_table(t, freq="fortnight")


def test_results_are_deterministic():
    rng = np.random.default_rng(7)
    n = 50_000
    t = pd.DataFrame(
        {
            "customer_id": pd.Series(rng.integers(0, 3_000, n).astype(str), dtype="str"),
            "date": START + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "amount": np.round(rng.lognormal(3, 1, n), 2),
        }
    )
    first = customer_summary(t, "2024-12-31")
    for _ in range(3):
        pd.testing.assert_frame_equal(customer_summary(t, "2024-12-31"), first, check_exact=True)


def test_cdnow_summary_is_consistent_with_raw_counts(cdnow):
    s = customer_summary(cdnow, "1998-06-30", time_unit="weeks")
    assert len(s) == cdnow["customer_id"].nunique() == 23_570
    assert s["occasions"].sum() == cdnow.groupby(["customer_id", "date"]).ngroups
    assert s["first_purchase"].max() <= pd.Timestamp("1997-03-31")  # the Q1-1997 cohort
    np.testing.assert_allclose(s["total_value"].sum(), cdnow["amount"].sum(), rtol=1e-12)


@pytest.mark.parametrize(
    ("column", "bad", "pattern"),
    [
        ("amount", np.nan, r"column 'amount': non-numeric, missing, infinite or too large amounts .* in 1 row of 3"),
        (
            "amount",
            np.inf,
            r"column 'amount': non-numeric, missing, infinite or too large amounts .* in 1 row of 3.*inf",
        ),
        ("customer_id", None, r"column 'customer_id': missing, blank or untrimmed customer ids in 1 row"),
        ("customer_id", " a ", r"column 'customer_id': missing, blank or untrimmed customer ids.*' a '"),
        ("customer_id", "", r"column 'customer_id': missing, blank or untrimmed customer ids"),
        ("date", pd.NaT, r"column 'date': unparseable or missing dates in 1 row of 3"),
        ("margin", -np.inf, r"column 'margin': non-numeric, infinite or too large margins .* in 1 row of 3"),
    ],
)
def test_typed_parquet_scanned_in_place_refuses_bad_values(tmp_path, column, bad, pattern):
    """Typed Parquet is validated optimistically (footer null counts, strict casts, id check)."""
    t = frame([("a", "2024-01-01", 10.0), ("b", "2024-01-20", 12.0), ("c", "2024-01-10", 4.0)])
    t = t.assign(margin=[1.0, 2.0, 3.0])
    t[column] = t[column].astype(object) if column == "customer_id" else t[column]
    t.loc[1, column] = bad
    path = tmp_path / "t.parquet"
    t.to_parquet(path)
    before = path.read_bytes()
    with pytest.raises(DataError, match=pattern):
        customer_summary(path, "2024-01-31")
    assert path.read_bytes() == before


def test_csv_scanned_in_place_matches_dataframe(tmp_path):
    t = frame([("a", "2024-01-01", 10.0), ("a", "2024-01-20", -2.5), ("b", "2024-01-10", 4.0)])
    path = tmp_path / "t.csv"
    t.to_csv(path, index=False)
    pd.testing.assert_frame_equal(customer_summary(path, "2024-01-31"), customer_summary(t, "2024-01-31"))


@pytest.mark.parametrize(
    ("column", "bad", "pattern"),
    [
        (
            "amount",
            np.nan,
            r"<DataFrame>, column 'amount': missing, infinite or too large amounts .* in 1 row of 3; first: index 1",
        ),
        ("date", pd.NaT, r"<DataFrame>, column 'date': missing dates in 1 row of 3; first: index 1"),
        ("customer_id", " b", r"<DataFrame>, column 'customer_id': missing, blank or untrimmed"),
    ],
)
def test_dataframe_rows_that_sql_would_drop_are_refused(column, bad, pattern):
    t = frame([("a", "2024-01-01", 10.0), ("a", "2024-01-20", 12.0), ("b", "2024-01-10", 4.0)])
    if column == "customer_id":
        t[column] = t[column].astype(object)
    t.loc[1, column] = bad
    with pytest.raises(DataError, match=pattern):
        customer_summary(t, "2024-01-31")


def test_time_zone_aware_dates_keep_their_local_day(tmp_path):
    t = frame([("a", "2024-01-01", 10.0), ("a", "2024-01-20", 12.0)])
    aware = t.assign(date=pd.to_datetime(["2024-01-01 00:30", "2024-01-20 23:30"]).tz_localize("Europe/Berlin"))
    s = customer_summary(aware, "2024-01-31")
    assert s.loc[0, "first_purchase"] == pd.Timestamp("2024-01-01")
    assert s.loc[0, "last_purchase"] == pd.Timestamp("2024-01-20")
    aware.to_parquet(tmp_path / "aware.parquet")
    with pytest.raises(DataError, match="time-zone-aware"):
        customer_summary(tmp_path / "aware.parquet", "2024-01-31")


def test_parquet_without_statistics_is_checked_value_by_value(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = frame([("a", "2024-01-01", 10.0), ("b", "2024-01-20", 12.0)])
    t.loc[1, "amount"] = None
    pq.write_table(pa.Table.from_pandas(t), tmp_path / "t.parquet", write_statistics=False)
    with pytest.raises(DataError, match=r"column 'amount'.* in 1 row of 2"):
        customer_summary(tmp_path / "t.parquet", "2024-01-31")


def test_a_cohort_is_selected_on_the_engine_as_filtering_the_rows_would(cdnow):
    from analysis.engines.periods import period_table

    cohort = sorted(cdnow["customer_id"].unique())[::7]
    selected = period_table(cdnow, freq="week", end="1998-06-30", customers=cohort)
    filtered = period_table(cdnow[cdnow["customer_id"].isin(cohort)], freq="week", end="1998-06-30")
    pd.testing.assert_frame_equal(selected, filtered)
    assert set(selected["customer_id"]) <= set(cohort) and len(selected)


def test_next_purchases_and_date_range_match_pandas(cdnow):
    from analysis.engines.rows import date_range, next_purchases

    first, last = date_range(cdnow)
    assert (first, last) == (cdnow["date"].min().normalize(), cdnow["date"].max().normalize())
    after, end = pd.Timestamp("1997-09-30"), pd.Timestamp("1997-12-31")
    day = cdnow["date"].dt.normalize()
    window = cdnow[(day > after) & (day <= end) & (cdnow["amount"] >= 0)]
    expected = (
        window.assign(next_purchase=day[window.index]).groupby("customer_id")["next_purchase"].min().reset_index()
    )
    got = next_purchases(cdnow, after, end)
    pd.testing.assert_frame_equal(got, expected.astype({"customer_id": "str", "next_purchase": "datetime64[ns]"}))
