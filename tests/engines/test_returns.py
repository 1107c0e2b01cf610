"""Returns matched to what they return (analysis.engines.returns): occasions, spend, the profile, the retail export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_summaries import START, assert_same, reference_summary

from analysis.engines.periods import period_table
from analysis.engines.profile import profile_transactions
from analysis.engines.rows import next_purchases
from analysis.engines.summaries import calibration_holdout, customer_summary
from analysis.errors import ParameterError
from analysis.studies.sources import load_transactions
from analysis.value.clv import GammaGammaModel, ParetoNBDModel, customer_lifetime_value
from exports import retail_export


def frame(rows, orders: bool = False) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "order_id"][: len(rows[0])])
    t = t.assign(date=pd.to_datetime(t["date"]))
    return t if orders else t.drop(columns="order_id", errors="ignore")


def profile(t, **kwargs) -> pd.Series:
    return profile_transactions(t, **kwargs).set_index("measure")["value"]


# A same-day full cancellation, a partial return, a return of an older order, only returns.
ROWS = [
    ("big", "2024-01-05", 2.90, "100"),
    ("big", "2024-03-01", 168_469.60, "101"),
    ("big", "2024-03-01", -168_469.60, "C101"),  # cancelled the same day
    ("part", "2024-01-10", 50.0, "102"),
    ("part", "2024-02-10", 80.0, "103"),
    ("part", "2024-02-12", -30.0, "C103"),  # 30 of 80 returned
    ("old", "2024-01-02", 40.0, "104"),
    ("old", "2024-03-20", 15.0, "105"),
    ("old", "2024-03-25", -40.0, "C104"),  # returns the January order, 83 days later
    ("refund", "2024-02-01", -12.0, "C999"),  # only a return
]


def test_a_same_day_full_cancellation_is_no_occasion_and_no_spend():
    s = customer_summary(frame(ROWS, orders=True), "2024-03-31").set_index("customer_id")
    big = s.loc["big"]
    assert big["occasions"] == 1 and big["frequency"] == 0 and np.isnan(big["monetary_value"])
    assert big["last_purchase"] == pd.Timestamp("2024-01-05")
    assert big["total_value"] == pytest.approx(2.90)
    # Without the cancellation the purchase is a repeat occasion of 168,469.60 (the gross rule's figure).
    gross = customer_summary(frame([r for r in ROWS if r[2] >= 0], orders=True), "2024-03-31").set_index("customer_id")
    assert gross.loc["big", "monetary_value"] == pytest.approx(168_469.60)


def test_a_partial_return_counts_net():
    s = customer_summary(frame(ROWS, orders=True), "2024-03-31").set_index("customer_id")
    assert s.loc["part", "occasions"] == 2 and s.loc["part", "monetary_value"] == pytest.approx(50.0)
    assert s.loc["part", "total_value"] == pytest.approx(100.0)


def test_matching_by_order_id_reaches_beyond_the_window_and_the_window_matches_the_latest_purchase():
    by_order = customer_summary(frame(ROWS, orders=True), "2024-03-31").set_index("customer_id").loc["old"]
    # The order id finds the January order: it is fully returned, the March purchase stays whole.
    assert by_order["occasions"] == 1 and by_order["first_purchase"] == pd.Timestamp("2024-03-20")
    without = frame(ROWS, orders=False)
    by_window = customer_summary(without, "2024-03-31").set_index("customer_id").loc["old"]
    # Without order ids the return (40) meets the latest purchase within 30 days (15): fully returned.
    assert by_window["occasions"] == 1 and by_window["first_purchase"] == pd.Timestamp("2024-01-02")
    # A window too short for any purchase: the return changes no occasion.
    none = customer_summary(without, "2024-03-31", return_window_days=3).set_index("customer_id").loc["old"]
    assert none["occasions"] == 2 and none["monetary_value"] == pytest.approx(15.0)
    counts = profile(frame(ROWS, orders=True))
    assert counts["return rows matched by order id"] == "3"
    assert counts["return rows matched to no purchase (netted in value only)"] == "1"  # the refund
    assert profile(without)["return rows matched within 30 days"] == "3"


def test_customers_with_only_returns_or_every_purchase_returned_are_reported():
    rows = [*ROWS, ("gone", "2024-02-03", 20.0, "106"), ("gone", "2024-02-04", -20.0, "C106")]
    t = frame(rows, orders=True)
    summary = customer_summary(t, "2024-03-31")
    assert {"refund", "gone"}.isdisjoint(summary["customer_id"])
    p = profile(t)
    assert p["customers with only returns (in no summary)"] == "1"
    assert p["customers with only returns (in no summary): ids"] == "refund"
    assert p["customers whose every purchase was returned (in no summary)"] == "1"
    assert p["customers whose every purchase was returned (in no summary): ids"] == "gone"
    assert p["purchase days fully returned (no occasion, no spend)"] == "3"  # big, old, gone
    assert p["purchase days partly returned (spend counted net)"] == "1"  # part
    # What the rule moved: spend before minus after is what the matched returns returned.
    before = float(p["spend of purchase days before matching returns"])
    after = float(p["spend of purchase occasions after matching returns"])
    matched_returns = -sum(r[2] for r in rows if r[2] < 0 and r[0] != "refund")
    assert before - after == pytest.approx(matched_returns)
    assert int(p["purchase occasions"]) == summary["occasions"].sum()


def test_the_matching_rule_leaves_every_value_total_unchanged():
    """Only occasions and spend per occasion depend on the rule; net value never does."""
    t = frame(ROWS, orders=False)
    figures = [
        customer_summary(t, "2024-03-31", return_window_days=w, trailing_days=40).set_index("customer_id")
        for w in (0, 30, 365)
    ]
    common = figures[0].index.intersection(figures[1].index).intersection(figures[2].index)
    for column in ("total_value", "trailing_value"):
        for other in figures[1:]:
            np.testing.assert_allclose(figures[0].loc[common, column], other.loc[common, column])
    raw = t[t["date"] <= "2024-03-31"].groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(figures[1]["total_value"], raw.loc[figures[1].index])
    months = [period_table(t, return_window_days=w) for w in (0, 365)]
    assert months[0]["value"].sum() == pytest.approx(months[1]["value"].sum()) == pytest.approx(t["amount"].sum())
    assert months[1]["occasions"].sum() < months[0]["occasions"].sum()


def test_a_return_after_the_calibration_end_changes_no_calibration_occasion():
    t = frame([("a", "2024-01-01", 30.0), ("a", "2024-01-20", 50.0), ("a", "2024-02-05", -50.0)])
    h = calibration_holdout(t, "2024-01-31", "2024-03-31").iloc[0]
    assert h["occasions"] == 2 and h["monetary_value"] == 50.0  # as known on 2024-01-31
    assert h["frequency_holdout"] == 0 and h["value_holdout"] == -50.0
    assert customer_summary(t, "2024-03-31").iloc[0]["occasions"] == 1  # known later: returned
    assert next_purchases(
        frame([("a", "2024-02-01", 5.0), ("a", "2024-02-01", -5.0)]), "2024-01-31", "2024-03-31"
    ).empty


def test_a_bad_window_is_refused():
    with pytest.raises(ParameterError, match=r"return_window_days.*0 or more"):
        customer_summary(frame(ROWS, orders=True), "2024-03-31", return_window_days=-1)


def test_data_without_returns_has_the_same_summary_whatever_the_window(cdnow):
    assert (cdnow["amount"] >= 0).all()
    a = customer_summary(cdnow, "1998-06-30", return_window_days=0)
    b = customer_summary(cdnow, "1998-06-30", return_window_days=365)
    pd.testing.assert_frame_equal(a, b)
    assert int(a["occasions"].sum()) == 67_591  # the published count of purchase occasions (data/README.md)
    assert not profile(cdnow).index.str.contains("return rows matched").any()


@st.composite
def logs_with_orders(draw):
    n_rows = draw(st.integers(1, 40))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]),
                st.integers(0, 120),
                st.integers(-3_000, 20_000),
                st.sampled_from(["1", "2", "3", "C1", "C2", "C3", None]),
            ),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    t = pd.DataFrame(rows, columns=["customer_id", "day", "cents", "order_id"])
    return pd.DataFrame(
        {
            "customer_id": t["customer_id"].astype("str"),
            "date": START + pd.to_timedelta(t["day"], unit="D"),
            "amount": t["cents"] / 100.0,
            "order_id": t["order_id"].astype("str"),
        }
    )


@settings(settings.get_profile("summaries"))
@given(t=logs_with_orders(), window=st.integers(0, 60))
def test_order_and_window_matching_match_the_row_by_row_reference(t, window):
    as_of = START + pd.Timedelta(days=120)
    expected = reference_summary(t, as_of, window=window)
    actual = customer_summary(t, as_of, return_window_days=window)
    if expected.empty:
        assert actual.empty
        return
    assert_same(actual, expected)


RETAIL = {"customer_id": "CustomerID", "date": "InvoiceDate", "quantity": "Quantity", "unit_price": "UnitPrice"}


def test_retail_export_cancellations_no_longer_make_a_top_customer(tmp_path):
    """The wholesaler's case: 2.90 bought, later 168,469.60 bought and cancelled the same day."""
    path = retail_export(tmp_path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    planted = pd.DataFrame(
        {
            "InvoiceNo": ["600000", "600001", "C600001"],
            "StockCode": "23843",
            "Description": "PAPER CRAFT , LITTLE BIRDIE",
            "Quantity": ["2", "80995", "-80995"],
            "InvoiceDate": ["5/18/2011 10:00", "12/9/2011 9:15", "12/9/2011 9:27"],
            "UnitPrice": ["1.45", "2.08", "2.08"],
            "CustomerID": "16446",
            "Country": "United Kingdom",
        }
    )
    pd.concat([raw, planted]).to_csv(path, index=False)
    t = load_transactions(
        str(path), columns=RETAIL | {"order_id": "InvoiceNo"}, date_format="%m/%d/%Y %H:%M", missing_ids="drop"
    )
    as_of = t["date"].max().normalize()

    def clv_rank(transactions: pd.DataFrame) -> tuple[int, pd.DataFrame]:
        summary = customer_summary(transactions, as_of, time_unit="weeks")
        model = ParetoNBDModel().fit(summary)  # the value study's CLV model
        spend = GammaGammaModel().fit(summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)])
        valued = summary[~((summary["frequency"] > 0) & ~(summary["monetary_value"] > 0))]
        clv = customer_lifetime_value(model, spend, valued, horizon=52, discount_rate=0.0)
        ranks = clv.set_index("customer_id")["clv"].rank(ascending=False)
        return int(ranks.loc["16446"]), summary

    # The gross rule (returns change no occasion and no spend) is the summary of the purchases alone.
    gross_rank, _ = clv_rank(t[t["amount"] >= 0])
    rank, summary = clv_rank(t)
    assert gross_rank <= 3  # the bug: a cancelled order makes a top-3 customer
    assert rank > len(summary) / 4
    assert summary.set_index("customer_id").loc["16446", "frequency"] == 0
    p = profile(t)
    cancellations = int((t["amount"] < 0).sum())
    matched = int(p["return rows matched by order id"]) + int(p["return rows matched within 30 days"])
    assert int(p["return rows (negative amount)"]) == cancellations
    # Every cancellation whose original line kept its customer id is matched by its invoice number.
    kept = set(t.loc[t["amount"] >= 0, "order_id"])
    by_invoice = t.loc[t["amount"] < 0, "order_id"].str[1:].isin(kept).sum()
    assert int(p["return rows matched by order id"]) == by_invoice and matched <= cancellations
    assert float(p["total amount"]) == pytest.approx(t["amount"].sum(), abs=0.01)
