"""Payment reliability and the payment-terms downgrade: hand-built invoices with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import DataError, ParameterError
from analysis.grading.payments import downgrade_table, invoice_status, payment_record, payment_terms_downgrades

AS_OF = pd.Timestamp("2024-06-30")


def invoices(rows: list[tuple]) -> pd.DataFrame:
    """Invoices from ``(customer, issued, due, paid or None[, paid_amount])`` with amount 100."""
    frame = pd.DataFrame(
        [(*r[:4], 100.0, r[4] if len(r) > 4 else None) for r in rows],
        columns=["customer_id", "invoice_date", "due_date", "paid_date", "amount", "paid_amount"],
    )
    for column in ("invoice_date", "due_date", "paid_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["paid_amount"] = frame["paid_amount"].astype(float)
    return frame


def test_status_on_time_late_open_and_payments_after_as_of_unknown():
    table = invoices(
        [
            ("a", "2024-05-01", "2024-05-31", "2024-05-31"),  # paid on the due day: on time
            ("a", "2024-05-01", "2024-05-31", "2024-06-01"),  # a day late
            ("a", "2024-05-01", "2024-05-31", None),  # unpaid past due: late
            ("a", "2024-05-01", "2024-05-31", "2024-07-15"),  # paid after as_of: unpaid at as_of, late
            ("a", "2024-06-01", "2024-06-30", "2024-07-01"),  # due on as_of, paid after: unknown (open)
            ("a", "2024-06-01", "2024-07-31", "2024-06-10"),  # not due by as_of: not judged
            ("a", "2024-07-01", "2024-07-15", "2024-07-02"),  # issued after as_of: not seen
            ("a", "2024-05-01", "2024-05-31", "2024-05-20", 60.0),  # partly paid: late
        ]
    )
    status = invoice_status(table, as_of=AS_OF)
    assert status["status"].tolist() == ["on time", "late", "late", "late", "open", "late"]
    assert status["days_late"].tolist() == [0, 1, 30, 30, 0, 30]
    assert status["paid_date"].isna().tolist() == [False, False, True, True, True, True]


def test_on_time_share_matches_a_hand_count_over_the_window():
    table = invoices(
        [
            ("a", "2024-01-01", "2024-02-01", "2024-01-20"),  # on time
            ("a", "2024-03-01", "2024-04-01", "2024-04-10"),  # late
            ("a", "2024-04-01", "2024-05-01", "2024-04-30"),  # on time
            ("a", "2023-01-01", "2023-02-01", "2023-03-01"),  # late, but due before the 365-day window
            ("b", "2024-05-01", "2024-06-30", None),  # open: no judged invoice
        ]
    )
    record = payment_record(table, as_of=AS_OF, window_days=365).set_index("customer_id")
    assert record.loc["a", ["invoices_due", "on_time", "late"]].tolist() == [3, 2, 1]
    assert record.loc["a", "on_time_share"] == pytest.approx(2 / 3)
    assert record.loc["b", "invoices_due"] == 0 and pd.isna(record.loc["b", "on_time_share"])


def test_late_payments_in_the_quarter_are_dated_by_due_date():
    table = invoices(
        [
            ("two", "2024-04-01", "2024-04-15", "2024-05-01"),  # due in the quarter, late
            ("two", "2024-05-01", "2024-05-15", None),  # due in the quarter, unpaid: late
            ("one", "2024-04-01", "2024-04-15", "2024-05-01"),
            ("one", "2024-02-01", "2024-03-01", "2024-04-20"),  # paid late inside the quarter, due before it
        ]
    )
    record = payment_record(table, as_of=AS_OF, window_days=365).set_index("customer_id")
    assert record["late_last_quarter"].to_dict() == {"one": 1, "two": 2}


def grades(rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(rows), "grade": list(rows.values())})


def test_two_late_payments_drop_one_level_one_does_not_and_d_cannot_drop():
    record = pd.DataFrame({"customer_id": ["a2", "a1", "b3", "c2", "d5"], "late_last_quarter": [2, 1, 3, 2, 5]})
    people = grades({"a2": "A", "a1": "A", "b3": "B", "c2": "C", "d5": "D", "quiet": "B"})
    moves = payment_terms_downgrades(people, record).set_index("customer_id")
    assert moves["moved"].to_dict() == {"a2": True, "a1": False, "b3": True, "c2": True, "d5": False, "quiet": False}
    assert moves.loc["a2", ["terms_before", "terms_after"]].tolist() == ["A", "B"]
    assert moves.loc["a2", ["credit_days_before", "credit_days_after"]].tolist() == [90, 30]
    assert moves.loc["c2", "terms_after"] == "D" and moves.loc["d5", "terms_after"] == "D"
    assert moves["at_floor"].sum() == 1 and moves.loc["d5", "at_floor"] and moves.loc["d5", "late_payer"]
    assert moves.loc["quiet", "late_last_quarter"] == 0  # no invoices: no late payments
    three = payment_terms_downgrades(people, record, min_late=3).set_index("customer_id")
    assert three["moved"].sum() == 1 and three.loc["b3", "moved"]


def test_downgrade_table_counts_per_grade_with_the_policy_words():
    record = pd.DataFrame({"customer_id": ["x", "y", "z"], "late_last_quarter": [2, 0, 4]})
    moves = payment_terms_downgrades(grades({"x": "A", "y": "A", "z": "D"}), record)
    table = downgrade_table(moves, ["A", "B", "C", "D"]).set_index("grade")
    assert table.loc["A", ["customers", "late_payers", "moved"]].tolist() == [2, 1, 1]
    assert table.loc["A", "terms_before"] == "up to 3 months after delivery"
    assert table.loc["A", "terms_after"] == "cash on delivery or up to 30 days"
    assert table.loc["B", "customers"] == 0
    assert table.loc["D", ["late_payers", "moved", "at_floor"]].tolist() == [1, 0, 1]
    assert table.loc["total", ["customers", "moved", "at_floor"]].tolist() == [3, 1, 1]
    tiers = payment_terms_downgrades(
        grades({"g": "Gold", "v": "VIP"}), pd.DataFrame({"customer_id": ["g", "v"], "late_last_quarter": [2, 2]})
    )
    assert tiers["terms_after"].tolist() == ["C", "D"]  # Gold has B's terms, VIP C's


def test_bad_inputs_are_refused_naming_what_is_wrong():
    with pytest.raises(DataError, match=r"invoices.*due_date"):
        invoice_status(pd.DataFrame({"customer_id": ["a"], "invoice_date": [AS_OF]}), as_of=AS_OF)
    with pytest.raises(ParameterError, match="min_late_payments"):
        payment_terms_downgrades(
            grades({"a": "A"}), pd.DataFrame({"customer_id": [], "late_last_quarter": []}), min_late=0
        )
    with pytest.raises(ParameterError, match=r"terms_level.*'Z'"):
        payment_terms_downgrades(grades({"a": "Z"}), pd.DataFrame({"customer_id": [], "late_last_quarter": []}))
