"""Key links (digiops.merge.keys): a waybill's order number, a receipt's member card and a platform buyer id link
their records with certainty, whatever the personal fields say; keys that find nothing are counted."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import person_sources, write_engagement

from digiops.engagement import load_engagement
from digiops.errors import EngagementError
from digiops.merge.pipeline import run_merge


def _customer(result, source: str, record_id: str) -> str:
    crosswalk = result.crosswalk
    hit = crosswalk[(crosswalk["source"] == source) & (crosswalk["record_id"] == record_id)]
    assert len(hit) == 1, f"{source}:{record_id} is not in the crosswalk"
    return hit["customer_id"].iloc[0]


@pytest.fixture(scope="module")
def keyed_client(tmp_path_factory):
    """The 150-person fixture's sources plus: masked platform orders that share nothing readable with anyone but
    carry a buyer id, waybills naming those orders, and receipts whose card numbers lost their leading zeros or
    gained a tab."""
    sources, truth = person_sources()
    crm = sources["crm"][0]
    first, second = crm.iloc[0], crm.iloc[1]
    orders = pd.DataFrame({
        "order_no": ["T1", "T2", "T3"], "buyer": ["tb_alpha", "TB_ALPHA ", "tb_beta"],
        "receiver": ["张*", "李**", "王*"], "phone": ["138****0001", "139****0002", "137****0003"],
        "time": ["2026-05-01 10:00:00"] * 3, "amount": ["10.00", "20.00", "30.00"]})
    waybills = pd.DataFrame({"waybill": ["W1", "W2", "W9"], "order_no": ["T1", "T3", "T404"],
                             "receiver": ["前台代收", "门卫", "张三"], "phone": ["", "", "13800000000"],
                             "status": ["已签收"] * 3})
    members = pd.DataFrame({"card": ["00012345", "00067890"], "name": [first["full_name"], second["full_name"]],
                            "phone": [first["phone"], second["phone"]]})
    receipts = pd.DataFrame({"receipt": ["R1", "R2", "R3"], "card": ["12345", "\t00067890", "55555"],
                             "time": ["2026-05-02 12:00:00"] * 3, "amount": ["5.00", "6.00", "7.00"]})
    sources.update({
        "tmall": (orders, {"kind": "orders", "id_column": "order_no",
                           "columns": {"order_no": "order_id", "buyer": "buyer_id", "receiver": "full_name",
                                       "phone": "phone", "time": "order_time", "amount": "amount"}}),
        "waybills": (waybills, {"kind": "shipments", "id_column": "waybill",
                                "columns": {"waybill": "shipment_id", "order_no": "order_id",
                                            "receiver": "full_name", "phone": "phone", "status": "status"}}),
        "pos_members": (members, {"kind": "customers", "id_column": "card",
                                  "columns": {"card": "member_id", "name": "full_name", "phone": "phone"}}),
        "receipts": (receipts, {"kind": "orders", "id_column": "receipt",
                                "columns": {"receipt": "order_id", "card": "customer_key", "time": "order_time",
                                            "amount": "amount"}}),
    })
    engagement = write_engagement(tmp_path_factory.mktemp("keyed"), sources, merge={
        "key_links": [{"from": "receipts.customer_key", "to": "pos_members.member_id"}],
        "order_channels": {"receipts": "store", "tmall": "online"}})
    return run_merge(engagement), first


def test_a_waybill_joins_the_customer_of_the_order_it_names(keyed_client):
    result, _ = keyed_client
    assert _customer(result, "waybills", "W1") == _customer(result, "tmall", "T1")
    assert _customer(result, "waybills", "W2") == _customer(result, "tmall", "T3")


def test_a_platform_buyer_id_links_orders_whatever_their_masked_names_say(keyed_client):
    result, _ = keyed_client
    # the same buyer id, written in another case with a trailing space; masked names and phones that disagree
    assert _customer(result, "tmall", "T1") == _customer(result, "tmall", "T2")
    assert _customer(result, "tmall", "T1") != _customer(result, "tmall", "T3")


def test_a_card_number_links_however_the_export_wrote_it(keyed_client):
    result, _ = keyed_client
    # 12345 on the receipt is 00012345 on the member table
    assert _customer(result, "receipts", "R1") == _customer(result, "pos_members", "00012345")
    assert _customer(result, "receipts", "R2") == _customer(result, "pos_members", "00067890")


def test_keys_without_a_partner_are_counted_not_errors(keyed_client):
    result, _ = keyed_client
    links = result.key_links.set_index(["source", "field"])
    assert links.loc[("receipts", "customer_key"), "no_partner"] == 1  # card 55555
    assert links.loc[("receipts", "customer_key"), "linked"] == 2
    assert links.loc[("waybills", "order_id"), "no_partner"] == 1  # order T404
    assert result.headline["keys_without_partner"] >= 2
    receipts = result.crosswalk[result.crosswalk["source"] == "receipts"]
    assert "R3" not in set(receipts["record_id"])  # an unknown card is an anonymous receipt, not a customer


def test_a_declared_link_to_a_field_that_is_not_mapped_names_both_ends(tmp_path):
    sources, _ = person_sources(20)
    engagement = write_engagement(tmp_path, sources)
    text = (tmp_path / "engagement.yaml").read_text(encoding="utf-8")
    (tmp_path / "engagement.yaml").write_text(
        text.replace("merge:\n", "merge:\n  key_links:\n  - {from: crm.card, to: mall.member_id}\n"), encoding="utf-8")
    with pytest.raises(EngagementError) as raised:
        load_engagement(tmp_path / "engagement.yaml")
    message = str(raised.value)
    assert "crm.card → mall.member_id" in message and "'card'" in message and "record_id" in message
    assert engagement.merge.key_links == []
