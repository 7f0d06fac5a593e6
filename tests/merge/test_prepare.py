"""Preparing sources: slices and worker processes give what one pass gives, errors cross processes whole, and a
tab-separated export below title rows prepares as its CSV does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from conftest import person_sources, write_engagement
from digiops.errors import SourceError
from digiops.merge import prepare
from tests.merge.accuracy import accuracy
from digiops.merge.pipeline import run_merge
from digiops.merge.quality import standard_text

AS_OF, EARLIEST = dt.date(2026, 11, 1), dt.date(1900, 1, 1)


def _orders(n: int) -> pd.DataFrame:
    ids = [f"O{i}" for i in range(n)]
    ids[n - 2] = "O3"  # a duplicate id far from its first row, in another slice
    return pd.DataFrame({"order_id": ids, "order_time": ["2026-01-02 10:00", "2026/1/3 9点5分"] * (n // 2),
                         "amount": ["¥1,299.00", "5"] * (n // 2), "phone": ["138 0013 8000", ""] * (n // 2)})


def _prepare(engagement, tmp_path, chunk_rows):
    return prepare.prepare_source(engagement, "orders", tmp_path / f"work-{chunk_rows}", as_of=AS_OF,
                                  earliest=EARLIEST, test_markers=["测试"], chunk_rows=chunk_rows)


def test_slices_give_what_one_pass_gives(tmp_path):
    engagement = write_engagement(tmp_path, {"orders": (_orders(40), {
        "kind": "orders", "id_column": "order_id",
        "columns": {"order_time": "order_time", "amount": "amount", "phone": "phone"}})})
    whole, sliced = _prepare(engagement, tmp_path, 1000), _prepare(engagement, tmp_path, 7)
    assert sliced.quarantine.to_dict("records") == whole.quarantine.to_dict("records")
    assert sliced.quarantine.loc[0, "reason"] == "duplicate id (first on row 5)"
    assert sliced.quarantine.loc[0, "row"] == 40
    pd.testing.assert_frame_equal(sliced.clean(), whole.clean())
    pd.testing.assert_frame_equal(sliced.quality, whole.quality)
    assert (sliced.rows_in, sliced.rows_clean) == (40, 39)
    validity = whole.quality.set_index(["field", "phase"])["validity"]
    assert validity[("order_time", "before")] == 1.0 and validity[("phone", "before")] == 1.0
    assert whole.quality["uniqueness"].isna().all()  # no field here identifies an order (the id is record_id)


def test_worker_processes_give_what_one_process_gives(tmp_path, monkeypatch):
    sources, truth = person_sources(60, seed=5)
    engagement = write_engagement(tmp_path, sources)
    alone = run_merge(engagement)
    monkeypatch.setattr(prepare, "PARALLEL_BYTES", 0)
    parallel = run_merge(engagement)
    pd.testing.assert_frame_equal(parallel.crosswalk, alone.crosswalk)
    pd.testing.assert_frame_equal(parallel.data_quality, alone.data_quality)
    assert accuracy(parallel.crosswalk, truth)["pairwise_f1"] == 1.0


def test_an_error_in_a_worker_reaches_the_caller_whole(tmp_path, monkeypatch):
    sources, _ = person_sources(20, seed=5)
    data = "order_id,order_time,amount\nO1,2026-01-02,10\n".encode() + b"O2,\xff\xfe\xfa,10\n"
    sources["orders"] = (None, {"_bytes": data, "kind": "orders", "id_column": "order_id", "encoding": "utf-8",
                                "columns": {"order_time": "order_time", "amount": "amount"}})
    engagement = write_engagement(tmp_path, sources)
    monkeypatch.setattr(prepare, "PARALLEL_BYTES", 0)
    with pytest.raises(SourceError) as error:
        run_merge(engagement)
    assert error.value.field == "encoding" and error.value.row == 3 and "raw/orders.csv" in str(error.value)


def test_work_folder_goes_with_the_result(tmp_path):
    sources, _ = person_sources(20, seed=5)
    result = run_merge(write_engagement(tmp_path, sources))
    folder = result.folder
    assert (folder / "crosswalk.parquet").is_file() and not (folder / "spill").exists()
    del result
    assert not folder.exists()


def test_standard_text_of_cleaned_values():
    stamps = pa.array([pd.Timestamp("2025-05-01 10:00:07"), pd.Timestamp("2025-05-01"), None], pa.timestamp("us"))
    assert standard_text(stamps).to_pylist() == ["2025-05-01 10:00:07", "2025-05-01", None]
    money = pa.array([Decimal("1299.00"), Decimal("-5")], pa.decimal128(18, 2))
    assert standard_text(money).to_pylist() == ["1299.00", "-5.00"]
    assert standard_text(pa.array([dt.date(1990, 1, 2)], pa.date32())).to_pylist() == ["1990-01-02"]
    assert standard_text(pa.array([True, None])).to_pylist() == [None, None]
    assert standard_text(pa.array([1299, -5], pa.int64())).to_pylist() == ["1299", "-5"]


def _tab_separated(frame: pd.DataFrame, encoding: str) -> bytes:
    return ("订单导出\n导出时间 2026-11-01, 第1页\n" + frame.to_csv(sep="\t", index=False)).encode(encoding)


@pytest.mark.parametrize("delimiter", ["auto", "tab"])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_tab_separated_orders_below_title_rows_prepare_as_csv_does(tmp_path, delimiter, encoding):
    spec = {"kind": "orders", "id_column": "order_id",
            "columns": {"order_time": "order_time", "amount": "amount", "phone": "phone"}}
    as_csv = write_engagement(tmp_path / "csv", {"orders": (_orders(40), spec)})
    as_tsv = write_engagement(tmp_path / "tsv", {"orders": (None, {
        **spec, "_bytes": _tab_separated(_orders(40), encoding), "header_row": 3, "delimiter": delimiter})})

    expected, prepared = _prepare(as_csv, tmp_path / "csv", 1000), _prepare(as_tsv, tmp_path / "tsv", 1000)

    assert (prepared.rows_in, prepared.rows_clean) == (40, 39)
    shifted = expected.clean().assign(_row=lambda f: f["_row"] + 2)  # two title rows above the header
    pd.testing.assert_frame_equal(prepared.clean(), shifted)
    assert prepared.quarantine.loc[0, "row"] == 42


def test_orders_read_with_the_wrong_delimiter_name_the_right_one(tmp_path):
    engagement = write_engagement(tmp_path, {"orders": (None, {
        "kind": "orders", "id_column": "order_id", "columns": {"order_time": "order_time", "amount": "amount"},
        "_bytes": _tab_separated(_orders(4), "gb18030"), "header_row": 3, "delimiter": ";"})})

    with pytest.raises(SourceError) as error:
        _prepare(engagement, tmp_path, 1000)

    assert error.value.field.startswith("sources.orders.columns.") and error.value.row == 3
    assert error.value.fix == "the file is tab-separated: set delimiter: tab (or auto)"


# --- one bad value is one quarantined row, never a failed stage ---------------------------------------------------
ORDER_COLUMNS = {"order_time": "order_time", "amount": "amount", "quantity": "quantity"}
FORMAT = "(decimal separator '.', thousands separator ',' between groups of 3 digits)"


def _order_rows(rows: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["order_id", "order_time", "amount", "quantity"])


def test_one_bad_value_is_quarantined_with_row_field_and_reason_and_the_rest_prepares(tmp_path):
    orders = _order_rows([
        ["O1", "2026-01-02T10:00:00+08:00", "¥1,299.00", "1"],
        ["O2", "2026-01-01 21:00:00-05:00", "5", "2"],
        ["O3", "2026-01-02 10:00:00", "12345678901234567890123456789", "1"],
        ["O4", "2026-01-02", "1,23", "1"],
        ["O5", "2026-01-02", "1.234,50", "1"],
        ["O6", "2026-01-02", "1.23457E+11", "1"],
        ["O7", "2026-01-02", "12345678901234567", "1"],
        ["O8", "2026-01-02", "8", "9" * 29],
        ["O9", "2026-01-02", "8", "1.5"],
        ["O10", "2026-01-02", "abc", "1"],
        ["O11", "2026-01-02T02:00:00Z", "５", "1"],
        ["O12", "2026-01-02 10:00:00.123456789", "7", "1"]])
    engagement = write_engagement(tmp_path, {"orders": (orders, {"kind": "orders", "id_column": "order_id",
                                                                 "columns": ORDER_COLUMNS})})
    prepared = _prepare(engagement, tmp_path, 1000)

    assert prepared.quarantine[["row", "field", "reason"]].values.tolist() == [
        [4, "amount", "amount does not fit 16 digits before the point: 12345678901234567890123456789"],
        [5, "amount", f"amount does not match the source's number format {FORMAT}: 1,23"],
        [6, "amount", f"amount does not match the source's number format {FORMAT}: 1.234,50"],
        [7, "amount", "amount is in scientific notation (digits may have been lost in a spreadsheet; export the "
                      "number in full): 1.23457E+11"],
        [8, "amount", "amount does not fit 16 digits before the point: 12345678901234567"],
        [9, "quantity", "quantity does not fit a 64-bit whole number: " + "9" * 29],
        [10, "quantity", "quantity is not a whole number: 1.5"],
        [11, "amount", "unreadable amount: abc"]]
    assert set(prepared.quarantine["source"]) == {"orders"}
    clean = prepared.clean()
    assert clean["record_id"].tolist() == ["O1", "O2", "O11", "O12"]
    # offsets and Z become Beijing time, stored naive like every other time; nanoseconds are cut to microseconds
    assert clean["order_time"].tolist() == [pd.Timestamp("2026-01-02 10:00")] * 3 + [
        pd.Timestamp("2026-01-02 10:00:00.123456")]
    assert [str(a) for a in clean["amount"]] == ["1299.00", "5.00", "5.00", "7.00"]
    assert (prepared.rows_in, prepared.rows_clean) == (12, 4)


def test_a_source_declares_its_number_format_and_the_engagement_its_time_zone(tmp_path):
    orders = _order_rows([["O1", "2026-01-02T10:00:00+08:00", "1.234,50", "1.000"],
                          ["O2", "2026-01-02 10:00", "¥12,5", "2"],
                          ["O3", "2026-01-02 10:00", "1,234.50", "1"]])
    engagement = write_engagement(tmp_path, {"orders": (orders, {
        "kind": "orders", "id_column": "order_id", "columns": ORDER_COLUMNS, "decimal_separator": ",",
        "thousands_separator": "."})}, merge={"timezone": "UTC"})
    prepared = _prepare(engagement, tmp_path, 1000)

    clean = prepared.clean()
    assert [str(a) for a in clean["amount"]] == ["1234.50", "12.50"]
    assert clean["quantity"].tolist() == [1000, 2]
    assert clean["order_time"].tolist() == [pd.Timestamp("2026-01-02 02:00"), pd.Timestamp("2026-01-02 10:00")]
    assert prepared.quarantine[["row", "field", "reason"]].values.tolist() == [
        [4, "amount", "amount does not match the source's number format (decimal separator ',', thousands "
                      "separator '.' between groups of 3 digits): 1,234.50"]]


def test_a_product_with_a_price_too_large_is_quarantined_not_a_failed_stage(tmp_path):
    products = pd.DataFrame({"sku": ["S1", "S2", "S3"], "price": ["99.00", "1" * 30, "12,3"]})
    engagement = write_engagement(tmp_path, {"products": (products, {
        "kind": "products", "id_column": "sku", "columns": {"price": "price"}})})
    prepared = prepare.prepare_source(engagement, "products", tmp_path / "work", as_of=AS_OF, earliest=EARLIEST,
                                      test_markers=[])

    assert prepared.clean()["record_id"].tolist() == ["S1"]
    assert prepared.quarantine[["row", "field"]].values.tolist() == [[3, "price"], [4, "price"]]
    assert prepared.quarantine.loc[0, "reason"] == "price does not fit 16 digits before the point: " + "1" * 30
