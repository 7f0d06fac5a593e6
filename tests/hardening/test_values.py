"""One bad value must not kill a stage (issue 24): a cell the merge cannot read exactly is one quarantined row with
its source, row, field and reason; a time with a UTC offset, among naive ones, is converted to the engagement's
time zone; a client of three people is linked by exact rules instead of crashing Splink.

Run alone with ``pytest -m hardening``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from digiops.cli import app
from digiops.engagement import load_engagement
from digiops.merge.pipeline import run_merge
from tests.conftest import tree_hashes

pytestmark = pytest.mark.hardening
FORMAT = "(decimal separator '.', thousands separator ',' between groups of 3 digits)"


def write_mall(folder: Path, second_row: str) -> None:
    """The hardening client's mall export (orders M1 and M2) with ``second_row`` as M2."""
    lines = ["订单号,下单时间,实付金额,买家手机", "M1,2026-01-03 10:00,\"¥1,299.00\",13800138001", second_row]
    (folder / "raw" / "mall.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))


#: (case, the M2 row of mall.csv, the reason M2 is quarantined for its amount)
BAD_AMOUNTS = [
    ("29-digit amount", "M2,2026/01/04,12345678901234567890123456789,139 0013 9002",
     "amount does not fit 16 digits before the point: 12345678901234567890123456789"),
    ("17-digit amount", "M2,2026/01/04,12345678901234567,139 0013 9002",
     "amount does not fit 16 digits before the point: 12345678901234567"),
    ("decimal comma under the default format", "M2,2026/01/04,\"1.234,50\",139 0013 9002",
     f"amount does not match the source's number format {FORMAT}: 1.234,50"),
    ("comma that separates no thousands", "M2,2026/01/04,\"1,23\",139 0013 9002",
     f"amount does not match the source's number format {FORMAT}: 1,23"),
    ("scientific notation", "M2,2026/01/04,1.23457E+11,139 0013 9002",
     "amount is in scientific notation (digits may have been lost in a spreadsheet; export the number in full): "
     "1.23457E+11"),
]


@pytest.mark.parametrize("case, row, reason", BAD_AMOUNTS, ids=[c[0] for c in BAD_AMOUNTS])
def test_an_amount_that_cannot_be_read_exactly_is_one_quarantined_row(hardening_client, case, row, reason):
    write_mall(hardening_client, row)

    result = run_merge(load_engagement(hardening_client))

    assert result.quarantine.to_dict("records") == [
        {"source": "mall", "row": 3, "record_id": "M2", "field": "amount", "reason": reason}]
    assert result.orders["order_id"].tolist() == ["mall:M1"]
    assert str(result.orders.loc[0, "amount"]) == "1299.00"
    assert result.accounting["balanced"].all()


#: (case, the order time of M2, what it is in Beijing time): every one beside M1's naive "2026-01-03 10:00"
TIMES = [
    ("offset +08:00", "2026-01-04T10:00:00+08:00", "2026-01-04 10:00"),
    ("Z", "2026-01-04T02:00:00Z", "2026-01-04 10:00"),
    ("offset -05:00", "2026-01-03T21:00:00-05:00", "2026-01-04 10:00"),
    ("offset without colon", "2026-01-04 10:00:00+0800", "2026-01-04 10:00"),
    ("offset after a space", "2026/01/04 10:00:00 +08:00", "2026-01-04 10:00"),
    ("full-width offset", "２０２６－０１－０４Ｔ１０：００：００＋０８：００", "2026-01-04 10:00"),
    ("fractional seconds", "2026-01-04 10:00:00.5", "2026-01-04 10:00:00.5"),
    ("nanoseconds and an offset", "2026-01-04T10:00:00.123456789+08:00", "2026-01-04 10:00:00.123456"),
]


@pytest.mark.parametrize("case, written, expected", TIMES, ids=[c[0] for c in TIMES])
def test_a_time_with_an_offset_among_naive_ones_is_converted_to_the_engagements_zone(hardening_client, case,
                                                                                    written, expected):
    write_mall(hardening_client, f"M2,{written},35.5,139 0013 9002")

    result = run_merge(load_engagement(hardening_client))

    assert result.quarantine.empty
    times = result.orders.set_index("order_id")["order_time"]
    assert times["mall:M2"] == pd.Timestamp(expected) and times["mall:M1"] == pd.Timestamp("2026-01-03 10:00")


def test_the_engagements_time_zone_decides_the_wall_clock(hardening_client):
    write_mall(hardening_client, "M2,2026-01-04T10:00:00+08:00,35.5,139 0013 9002")
    with open(hardening_client / "engagement.yaml", "a", encoding="utf-8") as handle:
        handle.write("merge: {timezone: Europe/Berlin}\n")

    result = run_merge(load_engagement(hardening_client))

    assert result.orders.set_index("order_id").loc["mall:M2", "order_time"] == pd.Timestamp("2026-01-04 03:00")


def test_a_source_written_with_decimal_commas_reads_when_declared(hardening_client):
    lines = ["订单号,下单时间,实付金额,买家手机", "M1,2026-01-03 10:00,\"¥1299,00\",13800138001",
             "M2,2026/01/04,\"1.234,50\",139 0013 9002"]
    (hardening_client / "raw" / "mall.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    text = (hardening_client / "engagement.yaml").read_text(encoding="utf-8")
    text = text.replace("kind: orders", "kind: orders\n    decimal_separator: ','\n    thousands_separator: '.'")
    (hardening_client / "engagement.yaml").write_text(text, encoding="utf-8")

    result = run_merge(load_engagement(hardening_client))

    assert result.quarantine.empty
    assert [str(a) for a in result.orders["amount"]] == ["1299.00", "1234.50"]


@pytest.mark.parametrize("setting, message", [
    ("    decimal_separator: ','\n", "engagement.yaml: sources.mall: decimal_separator and thousands_separator are "
                                    "both ','; set thousands_separator to another of"),
    ("    thousands_separator: '_'\n", "engagement.yaml: sources.mall.thousands_separator: Input should be ','"),
    ("    decimal_separator: '·'\n", "engagement.yaml: sources.mall.decimal_separator: Input should be '.' or ','"),
], ids=["same separator twice", "unknown thousands separator", "unknown decimal separator"])
def test_a_number_format_that_cannot_be_is_refused_clearly(hardening_client, tmp_path, setting, message):
    text = (hardening_client / "engagement.yaml").read_text(encoding="utf-8")
    (hardening_client / "engagement.yaml").write_text(text.replace("kind: orders\n", "kind: orders\n" + setting),
                                                      encoding="utf-8")

    result = CliRunner().invoke(app, ["run", str(hardening_client), "--out", str(tmp_path / "r")])

    assert result.exit_code != 0
    assert message in " ".join(result.output.split()), result.output


def test_an_unknown_time_zone_is_refused_clearly(hardening_client, tmp_path):
    with open(hardening_client / "engagement.yaml", "a", encoding="utf-8") as handle:
        handle.write("merge: {timezone: Beijing}\n")

    result = CliRunner().invoke(app, ["run", str(hardening_client), "--out", str(tmp_path / "r")])

    assert result.exit_code != 0
    assert ("engagement.yaml: merge.timezone: unknown time zone 'Beijing': give an IANA name such as Asia/Shanghai"
            in " ".join(result.output.split())), result.output


def test_the_merge_stage_of_a_small_client_full_of_bad_values_succeeds(hardening_client, tmp_path):
    # Four people, so no model: exact rules link them (Splink failed on so few with "math domain error"); a 29-digit
    # amount and a comma amount are quarantined; offsets, Z and naive times mix.
    lines = ["订单号,下单时间,实付金额,买家手机", "M1,2026-01-03T10:00:00+08:00,\"¥1,299.00\",13800138001",
             "M2,2026/01/04,12345678901234567890123456789,139 0013 9002",
             "M3,2026-01-05T02:00:00Z,\"1,23\",13800138001", "M4,2026-01-05 10:00:00,35.5,138 0013 8001"]
    (hardening_client / "raw" / "mall.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    text = (hardening_client / "engagement.yaml").read_text(encoding="utf-8")
    (hardening_client / "engagement.yaml").write_text(text.replace("stages: [inventory]", "stages: [merge]"),
                                                      encoding="utf-8")
    raw_before = tree_hashes(hardening_client / "raw")

    result = CliRunner().invoke(app, ["run", str(hardening_client), "--out", str(tmp_path / "r")])

    assert result.exit_code == 0, result.output
    run = next((tmp_path / "r").glob("acme/*/manifest.json")).parent
    assert json.loads((run / "manifest.json").read_text(encoding="utf-8"))["status"] == "succeeded"
    metrics = json.loads((run / "outputs" / "merge" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["deterministic_linking"] == 1 and metrics["rows_quarantined"] == 2
    quarantine = pd.read_parquet(run / "outputs" / "merge" / "quarantine.parquet")
    assert quarantine[["source", "row", "field"]].values.tolist() == [["mall", 3, "amount"], ["mall", 4, "amount"]]
    orders = pd.read_parquet(run / "outputs" / "merge" / "orders.parquet").set_index("order_id")
    assert orders["order_time"].tolist() == [pd.Timestamp("2026-01-03 10:00"), pd.Timestamp("2026-01-05 10:00")]
    assert orders["customer_id"].nunique() == 1  # both bought with 张三's phone, as his members card did
    assert tree_hashes(hardening_client / "raw") == raw_before
