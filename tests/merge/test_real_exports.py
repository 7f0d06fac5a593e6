"""What real platform exports carry (issue 17): leads that left a phone and a nickname or a title, a household
sharing one phone, phones written as numbers, masked buyers — resolved on a small client, each with its truth."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import person_sources, write_engagement

from digiops.merge.normalize import normalize_phone
from digiops.merge.pipeline import run_merge


def _customer(result, source: str, record_id: str) -> str | None:
    crosswalk = result.crosswalk
    hit = crosswalk[(crosswalk["source"] == source) & (crosswalk["record_id"] == record_id)]
    return hit["customer_id"].iloc[0] if len(hit) else None


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    sources, _ = person_sources(150)
    crm = sources["crm"][0].reset_index(drop=True)
    people = crm[crm["phone"].map(normalize_phone).notna()].iloc[:4]  # four people with a usable mobile
    phones = [str(p) for p in people["phone"]]
    digits = ["".join(c for c in p if c.isdigit())[-11:] for p in phones]
    # a household: a second CRM record with the first person's phone and address, another name and birth date
    household = pd.DataFrame({"record_id": ["H1"], "full_name": ["钱多多"], "phone": [phones[0]],
                              "birth_date": ["1955-01-01"], "address": [people["address"].iloc[0]],
                              "email": [""]})
    sources["crm"] = (pd.concat([crm, household], ignore_index=True), sources["crm"][1])
    leads = pd.DataFrame({
        "lead": ["L1", "L2", "L3", "L4"],
        "name": ["抖音用户3381", people["full_name"].iloc[1][0] + "先生", "小鱼儿🐟", "前台代收"],
        "phone": [phones[0], phones[1], f"{digits[2]}.0", "13900000000"],
        "city": ["杭州市"] * 4})
    orders = pd.DataFrame({
        "order_no": ["T1", "T2"], "receiver": [people["full_name"].iloc[3][0] + "*", "无"],
        "phone": [f"{digits[3][:3]}****{digits[3][-4:]}", f"{digits[3][:3]}****{digits[3][-4:]}"],
        "address": [people["address"].iloc[3]] * 2, "time": ["2026-05-01 10:00:00"] * 2,
        "amount": ["10.00", "20.00"]})
    sources["leads"] = (leads, {"kind": "leads", "id_column": "lead",
                                "columns": {"lead": "lead_id", "name": "full_name", "phone": "phone",
                                            "city": "city"}})
    sources["tmall"] = (orders, {"kind": "orders", "id_column": "order_no",
                                 "columns": {"order_no": "order_id", "receiver": "full_name", "phone": "phone",
                                             "address": "address", "time": "order_time", "amount": "amount"}})
    engagement = write_engagement(tmp_path_factory.mktemp("exports"), sources,
                                  merge={"order_channels": {"tmall": "online"}})
    return run_merge(engagement), people


def test_a_lead_with_only_a_phone_and_a_nickname_joins_its_member(client):
    result, people = client
    assert _customer(result, "leads", "L1") == _customer(result, "crm", str(people["record_id"].iloc[0]))


def test_a_household_sharing_a_phone_stays_two_customers_and_the_nameless_lead_bridges_nothing(client):
    result, people = client
    assert _customer(result, "crm", "H1") != _customer(result, "crm", str(people["record_id"].iloc[0]))


def test_an_exact_mobile_and_a_surname_with_a_title_link(client):
    result, people = client
    assert _customer(result, "leads", "L2") == _customer(result, "crm", str(people["record_id"].iloc[1]))


def test_a_phone_exported_as_a_number_still_links(client):
    result, people = client
    assert _customer(result, "leads", "L3") == _customer(result, "crm", str(people["record_id"].iloc[2]))


def test_masked_buyers_link_by_the_digits_and_surname_they_show(client):
    result, people = client
    member = _customer(result, "crm", str(people["record_id"].iloc[3]))
    assert _customer(result, "tmall", "T1") == member
    # "无" is no name: the masked phone and the address still place the order with its buyer
    assert _customer(result, "tmall", "T2") == member


def test_a_proxy_receiver_with_a_placeholder_phone_is_nobody(client):
    result, _ = client
    assert _customer(result, "leads", "L4") not in set(result.crosswalk.loc[
        result.crosswalk["source"] == "crm", "customer_id"])
