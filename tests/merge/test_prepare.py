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
from digiops.merge.evaluate import evaluate
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
    assert evaluate(parallel.crosswalk, truth)["pairwise_f1"] == 1.0


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
