"""Data-quality figures: validity is valid content (conformity is the standard form), conditional fields are
measured where they apply, uniqueness only for identifying fields, and n/a is never a 0."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_engagement
from digiops.io import ROW
from digiops.merge import prepare
from digiops.merge.clean import clean_source
from digiops.merge.quality import QUALITY_COLUMNS, UNDETERMINED, measure, quality_rows

AS_OF, EARLIEST = dt.date(2026, 11, 1), dt.date(1900, 1, 1)


def _quality(tmp_path, frame: pd.DataFrame, kind: str, *, id_column: str | None = None, chunk_rows: int = 1000):
    """The quality rows of one source, indexed by (field, phase)."""
    columns = {c: c for c in frame.columns}
    spec = {"kind": kind, "columns": columns, **({"id_column": id_column} if id_column else {})}
    engagement = write_engagement(tmp_path, {"src": (frame, spec)})
    prepared = prepare.prepare_source(engagement, "src", tmp_path / f"work-{chunk_rows}", as_of=AS_OF,
                                      earliest=EARLIEST, test_markers=["测试"], chunk_rows=chunk_rows)
    assert list(prepared.quality.columns) == QUALITY_COLUMNS
    return prepared.quality.set_index(["field", "phase"])


def test_clean_phones_and_gender_words_are_valid_before_cleaning_though_not_in_standard_form(tmp_path):
    people = pd.DataFrame({"member_id": ["M1", "M2", "M3", "M4"], "full_name": ["张三", "李四", "王五", "赵六"],
                           "phone": ["13800138000", "13900139000", "13700137000", "13600136000"],
                           "gender": ["男", "女", "男", "女"]})
    quality = _quality(tmp_path, people, "customers", id_column="member_id")

    for field in ("phone", "gender", "full_name", "member_id"):
        assert quality.loc[(field, "before"), "validity"] == 1.0
        assert quality.loc[(field, "after"), "validity"] == 1.0
        assert quality.loc[(field, "after"), "conformity"] == 1.0
    assert quality.loc[("phone", "before"), "conformity"] == 0.0  # not E.164 yet
    assert quality.loc[("gender", "before"), "conformity"] == 0.0  # not M / F yet
    assert quality.loc[("full_name", "before"), "conformity"] == 1.0  # already as cleaning writes it


def test_validity_before_counts_what_cleaning_cannot_use_and_quarantined_rows_too(tmp_path):
    orders = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4", "O5"],
        "order_time": ["2026-01-02 10:00:00", "2026/1/3 9点5分", "2031-01-01", "2026-01-04", "2026-01-05"],
        "amount": ["¥1,299.00", "5.00", "5.00", "abc", "8.00"],
        "phone": ["+86 138-0013-8000", "13800000000", "138****8000", "", "8613800138000"]})
    quality = _quality(tmp_path, orders, "orders", id_column="order_id")

    # O3 (future order time) and O4 (unreadable amount) are quarantined, and still count before cleaning
    assert quality.loc[("order_time", "before"), "validity"] == pytest.approx(4 / 5)
    assert quality.loc[("amount", "before"), "validity"] == pytest.approx(4 / 5)
    assert quality.loc[("amount", "before"), "conformity"] == pytest.approx(3 / 5)
    assert quality.loc[("phone", "before"), "validity"] == pytest.approx(2 / 4)  # placeholder and masked: invalid
    assert quality.loc[("phone", "before"), "completeness"] == pytest.approx(4 / 5)
    assert quality.loc[("phone", "after"), "completeness"] == pytest.approx(2 / 3)  # the placeholder was dropped
    assert quality.loc[("phone", "after"), "validity"] == 1.0
    assert (quality["conformity"].dropna() <= quality.loc[quality["conformity"].notna(), "validity"]).all()


def test_refund_of_is_complete_over_refunds_only(tmp_path):
    sales = [[f"O{i}", "2026-01-02", "10", "已完成", ""] for i in range(1, 9)]
    refunds = [["R1", "2026-01-03", "-10", "退款成功", "O1"],  # refund by amount and status
               ["R2", "2026-01-03", "-10", "已完成", "O2"],  # by amount
               ["R3", "2026-01-03", "10", "已退款", ""]]  # by status, its original order not given
    orders = pd.DataFrame(sales + refunds, columns=["order_id", "order_time", "amount", "status", "refund_of"])
    quality = _quality(tmp_path, orders, "orders", id_column="order_id")

    assert quality.loc[("refund_of", "before"), "completeness"] == pytest.approx(2 / 3)
    assert quality.loc[("refund_of", "after"), "completeness"] == pytest.approx(2 / 3)
    assert quality.loc[("refund_of", "before"), "applies_to"] == "refunds"
    assert quality.loc[("status", "before"), "applies_to"] == "all"


def test_refund_of_without_amount_or_status_is_undetermined_not_zero(tmp_path):
    orders = pd.DataFrame({"order_id": ["O1", "O2", "R1"], "order_time": ["2026-01-02"] * 3,
                           "refund_of": ["", "", "O1"]})
    quality = _quality(tmp_path, orders, "orders", id_column="order_id")

    for phase in ("before", "after"):
        assert pd.isna(quality.loc[("refund_of", phase), "completeness"])
        assert quality.loc[("refund_of", phase), "applies_to"] == UNDETERMINED
        assert quality.loc[("refund_of", phase), "validity"] == 1.0


def test_signed_and_shipped_times_are_complete_over_the_shipments_they_apply_to(tmp_path):
    shipments = pd.DataFrame([
        ["S1", "O1", "已签收", "2026-01-02", "2026-01-04"],
        ["S2", "O2", "已签收", "2026-01-02", ""],  # signed without a time: a real gap
        ["S3", "O3", "运输中", "2026-01-02", ""],
        ["S4", "O4", "未签收", "2026-01-02", ""],  # not 签收
        ["S5", "O5", "派送失败", "2026-01-02", ""],
        ["S6", "O6", "待发货", "", ""],  # not shipped yet
    ], columns=["shipment_id", "order_id", "status", "shipped_at", "signed_at"])
    quality = _quality(tmp_path, shipments, "shipments", id_column="shipment_id")

    assert quality.loc[("signed_at", "before"), "completeness"] == pytest.approx(1 / 2)
    assert quality.loc[("signed_at", "before"), "applies_to"] == "delivered"
    assert quality.loc[("shipped_at", "before"), "completeness"] == 1.0
    assert quality.loc[("shipped_at", "before"), "applies_to"] == "shipped"


def test_uniqueness_only_for_fields_that_identify_a_row(tmp_path):
    orders = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O3", "O5"], "order_time": ["2026-01-02"] * 5,
                           "amount": ["10", "10", "5", "5", "10"], "status": ["已完成"] * 5,
                           "phone": ["13800138000"] * 5})
    quality = _quality(tmp_path, orders, "orders", id_column="order_id")

    assert quality.loc[("order_id", "before"), "uniqueness"] == pytest.approx(4 / 5)
    assert quality.loc[("order_id", "after"), "uniqueness"] == 1.0  # the duplicate is quarantined
    for field in ("phone", "status", "amount", "order_time"):
        assert quality.loc[(field, "before"), "uniqueness"] != quality.loc[(field, "before"), "uniqueness"]  # NaN
        assert pd.isna(quality.loc[(field, "after"), "uniqueness"])


def test_identifying_fields_depend_on_the_kind(tmp_path):
    people = pd.DataFrame({"member_id": ["M1", "M2", "M3"], "full_name": ["张三", "李四", "王五"],
                           "national_id": ["11010519491231002X", "11010519491231002X", ""],
                           "phone": ["13800138000", "13800138000", "13900139000"]})
    quality = _quality(tmp_path, people, "customers", id_column="member_id")

    assert quality.loc[("national_id", "before"), "uniqueness"] == pytest.approx(1 / 2)
    assert quality.loc[("member_id", "after"), "uniqueness"] == 1.0
    assert pd.isna(quality.loc[("phone", "before"), "uniqueness"])
    assert pd.isna(quality.loc[("full_name", "before"), "uniqueness"])


def test_optional_fields_and_flags_are_not_applicable_rather_than_zero(tmp_path):
    orders = pd.DataFrame({"order_id": ["O1", "O2", "O3"], "order_time": ["2026-01-02"] * 3,
                           "amount": ["10", "10", "5"], "note": ["", "少冰", ""], "is_test": ["", "", "是"]})
    quality = _quality(tmp_path, orders, "orders", id_column="order_id")

    for phase in ("before", "after"):
        assert pd.isna(quality.loc[("note", phase), "completeness"])
        assert quality.loc[("note", phase), "applies_to"] == "optional"
        assert pd.isna(quality.loc[("is_test", phase), "completeness"])
        assert pd.isna(quality.loc[("is_test", phase), "conformity"])  # a flag has no standard text
        assert quality.loc[("is_test", phase), "validity"] == 1.0
    assert quality.loc[("note", "before"), "validity"] == 1.0


def test_slices_give_the_figures_one_pass_gives(tmp_path):
    n = 30
    orders = pd.DataFrame({"order_id": [f"O{i % 25}" for i in range(n)],
                           "order_time": ["2026-01-02", "2031-01-01", "2026/1/3"] * (n // 3),
                           "amount": ["10", "-10", "abc"] * (n // 3), "refund_of": ["", "O1", ""] * (n // 3),
                           "phone": ["13800138000", "", "138****8000"] * (n // 3)})
    whole = _quality(tmp_path, orders, "orders", id_column="order_id")
    sliced = _quality(tmp_path, orders, "orders", id_column="order_id", chunk_rows=7)

    pd.testing.assert_frame_equal(sliced, whole)
    assert whole.loc[("order_id", "before"), "uniqueness"] == pytest.approx(25 / 30)


PHONES = st.sampled_from(["13800138000", "+86 138-0013-8000", "+8613800138000", "138 0013 8000", "13800000000",
                          "138****8000", "12345", "", "  ", "8613800138000", "010-12345678"])
GENDERS = st.sampled_from(["男", "女", "M", "F", "先生", "x", "", "female"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(PHONES, GENDERS), min_size=1, max_size=12))
def test_shares_are_ordered_and_within_bounds(rows):
    raw = pd.DataFrame({"source": "crm", "record_id": [str(i) for i in range(len(rows))],
                        "phone": pd.Series([p for p, _ in rows], dtype="str"),
                        "gender": pd.Series([g for _, g in rows], dtype="str"), ROW: range(2, len(rows) + 2)})
    cleaned = clean_source(raw, name="crm", kind="other", as_of=AS_OF, earliest=EARLIEST, has_id_column=False)
    measured = measure(raw, prepare.arrow_table(cleaned.clean), kind="customers", as_of=AS_OF, earliest=EARLIEST)
    quality = quality_rows("crm", measured.counts, {}, {})

    for measure_name in ("completeness", "validity", "conformity"):
        values = quality[measure_name].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    before = quality[quality["phase"] == "before"].set_index("field")
    filled = before["completeness"] > 0
    assert before.loc[filled, "validity"].notna().all() and before.loc[filled, "conformity"].notna().all()
    assert (before.loc[filled, "conformity"] <= before.loc[filled, "validity"]).all()
    assert quality["uniqueness"].isna().all()
