"""A small client of our own for the maturity stage: a custom 8-question bank, answers as XLSX (long) with Chinese
headers, indicators and a value stream as CSV, and an engagement file that validates with ``load_engagement``."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml
from openpyxl import Workbook

BANK = {"questions": [
    {"id": "PD1", "dimension": "process_digitalization", "weight": 2, "text_zh": "流程一", "text_en": "Process 1"},
    {"id": "PD2", "dimension": "process_digitalization", "weight": 1, "text_zh": "流程二", "text_en": "Process 2"},
    {"id": "DA1", "dimension": "data_assetization", "weight": 1, "text_zh": "数据一", "text_en": "Data 1"},
    {"id": "DA2", "dimension": "data_assetization", "weight": 3, "text_zh": "数据二", "text_en": "Data 2"},
    {"id": "BO1", "dimension": "business_online", "weight": 1, "text_zh": "在线一", "text_en": "Online 1"},
    {"id": "BO2", "dimension": "business_online", "weight": 1, "text_zh": "在线二", "text_en": "Online 2"},
    {"id": "DI1", "dimension": "decision_intelligence", "weight": 1.5, "text_zh": "决策一", "text_en": "Decision 1"},
    {"id": "DI2", "dimension": "decision_intelligence", "weight": 0.5, "text_zh": "决策二", "text_en": "Decision 2"},
]}
QUESTION_IDS = [q["id"] for q in BANK["questions"]]

#: respondent → (department, answers in QUESTION_IDS order)
ANSWERS = {
    "r1": ("门店运营", ["4", "2", "3", "N/A", "5", "4", "2", "1"]),
    "r2": ("信息技术", ["3", "不适用", "2", "4", "3", "3", "1", "3"]),
    "r3": ("门店运营", ["5", "5", "N/A", "不适用", "4", "2", "3", "3"]),
}
INDICATORS = [("data_silos", "4"), ("online_process_share", "65%"), ("automated_decision_share", "0.1")]
NODES = [
    # process, node, sequence, owner, hours, error rate, systems, mode, root cause
    ("线上订单履约", "订单接收", "1", "电商部", "0.1", "0.01", "小程序商城", "automatic", ""),
    ("线上订单履约", "库存查询", "2", "电商部", "0.5", "5%", "ERP;WMS", "manual", "技术架构老旧"),
    ("线上订单履约", "订单分配", "3", "仓储部", "0.8", "0.06", "OMS", "manual", "数据标准缺失"),
    ("线上订单履约", "物流对接", "4", "物流部", "0.7", "0.05", "顺丰系统", "manual", "组织协同不足"),
    ("线上订单履约", "签收回传", "5", "物流部", "0.2", "0.01", "顺丰系统", "automatic", ""),
    ("会员积分", "积分核对", "1", "会员中心", "3", "0.02", "CRM", "manual", "部门职责不清"),
]
MATURITY = {
    "question_bank": "question_bank.yaml", "question_bank_mode": "replace",
    "indicator_weight": 0.4,
    "dimension_weights": {"process_digitalization": 0.3, "data_assetization": 0.3, "business_online": 0.2,
                          "decision_intelligence": 0.2},
    "targets": {"process_digitalization": 4.0, "data_assetization": 4.0, "business_online": 3.5,
                "decision_intelligence": 3.6},
    "total_budget": 1000000,
}
LONG_COLUMNS = {"答卷编号": "respondent_id", "部门": "department", "题号": "question_id", "答案": "answer"}


def write_long_xlsx(path: Path, answers: dict[str, tuple[str, list[str]]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "答卷"
    sheet.append(list(LONG_COLUMNS))
    for respondent, (department, values) in answers.items():
        for question, value in zip(QUESTION_IDS, values):
            sheet.append([respondent, department, question, value])
    workbook.save(path)


def write_wide_csv(path: Path, answers: dict[str, tuple[str, list[str]]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["答卷编号", "部门", *QUESTION_IDS])
        for respondent, (department, values) in answers.items():
            writer.writerow([respondent, department, *values])


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def make_client(folder: Path, *, answers=ANSWERS, form: str = "long", maturity: dict | None = None,
                bank: dict | None = BANK, industry: str = "retail") -> Path:
    """Write a client folder and return the engagement file's path."""
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if bank is not None:
        (folder / "question_bank.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True), encoding="utf-8")
    if form == "long":
        write_long_xlsx(raw / "answers.xlsx", answers)
        answers_source = {"path": "raw/answers.xlsx", "kind": "questionnaire", "sheet": "答卷",
                          "columns": LONG_COLUMNS}
    else:
        write_wide_csv(raw / "answers.csv", answers)
        answers_source = {"path": "raw/answers.csv", "kind": "questionnaire",
                          "columns": {"答卷编号": "respondent_id", "部门": "department"}}
    write_csv(raw / "indicators.csv", ["指标编号", "数值"], INDICATORS)
    write_csv(raw / "value_stream.csv", ["流程", "节点", "顺序", "负责部门", "耗时小时", "差错率", "涉及系统", "方式",
                                         "根因"], NODES)
    engagement = {
        "schema_version": 1,
        "client": {"id": "fixture", "name_zh": "测试客户", "name_en": "Fixture Co.", "industry": industry},
        "engagement": "maturity fixture", "language": "zh",
        "period": {"start": "2026-01-01", "end": "2026-06-30"}, "stages": ["maturity"],
        "sources": {
            "maturity_answers": answers_source,
            "maturity_indicators": {"path": "raw/indicators.csv", "kind": "indicators",
                                    "columns": {"指标编号": "indicator_id", "数值": "value"}},
            "value_stream": {"path": "raw/value_stream.csv", "kind": "value_stream", "columns": {
                "流程": "process", "节点": "node", "顺序": "sequence", "负责部门": "owner", "耗时小时": "duration_hours",
                "差错率": "error_rate", "涉及系统": "systems", "方式": "mode", "根因": "root_cause"}},
        },
        "maturity": MATURITY if maturity is None else maturity,
    }
    path = folder / "engagement.yaml"
    path.write_text(yaml.safe_dump(engagement, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
