"""Initiatives with owners: the register read and checked, joined to the roadmap, progress and budget computed
independently, decisions derived."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from digiops.maturity import initiatives as ini
from digiops.maturity.initiatives import RegisterError

AS_OF = dt.date(2026, 10, 16)
ROADMAP = pd.DataFrame({"initiative_id": ["DA-01", "DI-01", "PD-01"], "name_zh": ["统一 ID", "看板", "履约"],
                        "name_en": ["One id", "Dashboard", "Fulfilment"], "dimension": ["data_assetization"] * 3,
                        "phase": ["pilot", "pilot", "scale_up"], "phase_zh": ["试点期", "试点期", "推广期"],
                        "phase_en": ["Pilot", "Pilot", "Scale-up"], "budget": [400000.0, 200000.0, 250000.0]})
ATTAINMENT = pd.DataFrame({"kpi": ["gmv", "gmv", "aov"], "level": ["all", "region", "all"],
                           "period": ["2026-09"] * 3, "attainment": [0.86, 0.5, 1.02],
                           "status": ["red", "red", "green"], "reviewed": [True, True, True]})


def _register(rows):
    columns = ["initiative_id", "owner", "milestone", "due", "status", "budget", "spent", "kpi_id", "decision"]
    return ini.register_from_frame(pd.DataFrame(rows, columns=columns), label="raw/initiatives.csv")


@pytest.fixture
def register():
    return _register([
        ("DA-01", "数据负责人 王磊", "盘点", "2025-11-30", "已完成", "60000", "58000", "aov", ""),
        ("DA-01", "数据负责人 王磊", "POS 接入", "2026-08-31", "进行中", "190000", "236000", "aov", ""),
        ("DI-01", "分析经理 陈静", "原型", "2026-06-30", "done", "40000", "38000", "gmv", ""),
        ("DI-01", "分析经理 陈静", "下钻", "2026-11-30", "On track", "70万", "30000", "gmv", "是否扩到门店层级？"),
        ("XX-09", "", "自发项目", "2026-12-31", "", "", "", "", ""),
    ])


def test_register_joined_to_the_roadmap(register):
    table = ini.join(ROADMAP, register, AS_OF, {}, ATTAINMENT).set_index("initiative_id")
    assert list(table.index) == ["DA-01", "DI-01", "PD-01", "XX-09"]
    da = table.loc["DA-01"]
    assert (da["milestones"], da["milestones_done"], da["overdue"]) == (2, 1, 1)
    assert da["budget_approved"] == 60000 + 190000 and da["spent"] == 58000 + 236000
    assert da["over_budget"] and da["overrun"] == pytest.approx(294000 - 250000)
    assert da["budget_planned"] == 400000 and da["status"] == "late"
    assert da["kpi_status"] == "green" and da["kpi_attainment"] == pytest.approx(1.02)
    di = table.loc["DI-01"]
    assert di["next_milestone"] == "下钻" and di["next_due"] == dt.date(2026, 11, 30)
    assert di["budget_approved"] == 40000 + 700000 and di["status"] == "on_track"
    assert di["kpi_status"] == "red" and di["kpi_attainment"] == pytest.approx(0.86)  # level all, not region
    assert table.loc["PD-01", "status"] == "no_register" and not table.loc["PD-01", "in_register"]
    assert not table.loc["XX-09", "in_roadmap"] and table.loc["XX-09", "status"] == "not_started"


def test_decisions_needed(register):
    table = ini.join(ROADMAP, register, AS_OF, {}, ATTAINMENT)
    needed = ini.decisions(table, register, AS_OF)
    kinds = set(zip(needed["initiative_id"], needed["kind"]))
    assert kinds == {("DA-01", "overdue"), ("DA-01", "over_budget"), ("DI-01", "decision"),
                     ("DI-01", "kpi_red_on_track"), ("PD-01", "no_owner"), ("XX-09", "no_owner")}
    overdue = needed[needed["kind"] == "overdue"].iloc[0]
    assert overdue["owner"] == "数据负责人 王磊" and overdue["due"] == dt.date(2026, 8, 31)
    asked = needed[needed["kind"] == "decision"].iloc[0]
    assert asked["text"] == "是否扩到门店层级？" and asked["due"] == dt.date(2026, 11, 30)
    assert needed["due"].dropna().tolist() == sorted(needed["due"].dropna())


@pytest.mark.parametrize(("row", "field", "word"), [
    (("DA-01", "王磊", "m", "2026-01-01", "差不多", "1", "1", "", ""), "status", "差不多"),
    (("DA-01", "王磊", "m", "下个月", "进行中", "1", "1", "", ""), "due", "下个月"),
    (("DA-01", "王磊", "m", "2026-01-01", "进行中", "-5", "1", "", ""), "budget", "-5"),
    (("", "王磊", "m", "2026-01-01", "进行中", "1", "1", "", ""), "initiative_id", "no initiative id"),
])
def test_bad_register_rows_are_named(row, field, word):
    good = ("DA-01", "王磊", "m0", "2026-01-01", "已完成", "1", "1", "", "")
    with pytest.raises(RegisterError) as error:
        _register([good, row])
    assert error.value.field == field and error.value.row == 3
    assert "raw/initiatives.csv" in str(error.value) and word in str(error.value)


def test_two_kpis_for_one_initiative_is_an_error():
    with pytest.raises(RegisterError, match="two KPIs"):
        _register([("DA-01", "a", "m", "", "", "", "", "gmv", ""), ("DA-01", "a", "n", "", "", "", "", "aov", "")])
