"""The sections of every stage report, declared once: their keys, titles, and which are technical.

A section is a run of cells of a stage notebook, from the cell that opens it to the next one that opens another
(``tools/nbgen.py`` tags each cell ``section-<stage>.<id>`` from the notebook's cell list). The key
``<stage>.<id>`` is what a consultant names in the commentary file (:mod:`digiops.commentary`), what the deck
takes a section's charts by, and what the client version of a report leaves out: a *technical* section
(matching weights, quarantine rows, the model's settings, file lists) is kept in the internal version only.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import nbformat

from digiops.text import in_language

TAG_PREFIX = "section-"
#: The cell-tag class nbconvert's lab template puts on a cell's ``div`` (``celltag_<tag>``).
CELL_CLASS_PREFIX = "celltag_" + TAG_PREFIX


@dataclass(frozen=True)
class Section:
    stage: str
    id: str
    zh: str
    en: str
    technical: bool = False

    @property
    def key(self) -> str:
        return f"{self.stage}.{self.id}"

    @property
    def tag(self) -> str:
        return TAG_PREFIX + self.key

    def title(self, language: str) -> str:
        return in_language(language, self.zh, self.en)


def _sections(stage: str, *rows: tuple) -> tuple[Section, ...]:
    return tuple(Section(stage, *row) for row in rows)


TECHNICAL = True
SECTIONS: tuple[Section, ...] = (
    *_sections("inventory",
               ("intro", "概览", "Overview"),
               ("sources", "来源一览", "Sources"),
               ("unreadable", "无法读取的来源", "Sources that cannot be read", TECHNICAL),
               ("fill", "字段填充率", "Column fill rates"),
               ("unmapped", "未映射的字段", "Unmapped columns", TECHNICAL)),
    *_sections("merge",
               ("intro", "概览", "Overview"),
               ("accounting", "每一行原始数据的去向", "Where every raw row went"),
               ("quality", "清洗前后的数据质量", "Data quality before and after cleaning"),
               ("customers", "多少记录背后是多少真实客户", "How many real customers hide behind how many records"),
               ("clusters", "客户簇大小分布", "Cluster-size distribution", TECHNICAL),
               ("model", "匹配模型：比较层级的权重", "The match model: weights of the comparison levels", TECHNICAL),
               ("dirt", "真实导出中的脏数据", "The dirt the exports carry"),
               ("keys", "键关联：确定同一客户的编号", "Key links: numbers that name the same customer", TECHNICAL),
               ("states", "订单状态：哪些订单计入 GMV", "Order states: which orders count toward GMV"),
               ("journey", "一笔订单的全链路", "One order from channel to delivery"),
               ("quarantine", "隔离的数据及原因", "What was quarantined and why"),
               ("quarantine_detail", "隔离明细示例", "Quarantined rows, an example", TECHNICAL),
               ("review", "待人工复核的边界样本对", "Borderline pairs for clerical review", TECHNICAL)),
    *_sections("labels",
               ("intro", "概览", "Overview"),
               ("catalog", "标签目录", "Tag catalog"),
               ("coverage", "覆盖率", "Coverage"),
               ("rfm", "RFM 分群", "RFM segments"),
               ("migration", "分群迁移", "Segment migration"),
               ("plays", "分群策略与机会", "Segment plays and their opportunity"),
               ("behaviour", "行为标签：浏览、加购与未购", "Behaviour tags: visits, carts and browsing without buying"),
               ("profiles", "客户画像示例", "Example profiles"),
               ("candidates", "标签设计辅助：从数据出发的候选标签", "Design aid: candidate tags from the data",
                TECHNICAL),
               ("files", "输出文件", "Output files", TECHNICAL)),
    *_sections("maturity",
               ("intro", "概览", "Overview"),
               ("scores", "四维评分", "Scores by dimension"),
               ("gaps", "差距分析", "Gaps to target"),
               ("benchmark", "行业对标", "Industry benchmark"),
               ("consistency", "评估一致性", "Consistency of the assessment", TECHNICAL),
               ("indicators", "量化指标", "Quantitative indicators"),
               ("value_stream", "价值流诊断", "Value-stream diagnosis"),
               ("evidence", "证据与问卷", "Evidence beside opinion"),
               ("progress", "两次评估之间的进步", "Progress since the previous assessment"),
               ("roadmap", "实施路线图", "Roadmap"),
               ("initiatives", "举措进展与待决事项", "Initiative progress and decisions needed"),
               ("sensitivity", "敏感性分析", "Sensitivity", TECHNICAL)),
    *_sections("kpi",
               ("intro", "概览", "Overview"),
               ("situation", "作战态势", "Battle situation"),
               ("units", "各大区与门店达成", "Attainment by region and store"),
               ("cascade", "目标拆解与一致性", "Target cascade and coherence"),
               ("variance", "GMV 为什么变化", "Why GMV moved"),
               ("spend", "投入与回报", "Spend and return"),
               ("funnel", "漏斗", "Funnel"),
               ("runrate", "跑动率", "Run-rate"),
               ("smart", "SMART 检查", "SMART findings"),
               ("actions", "行动闭环", "Action log"),
               ("next_actions", "下一周期的行动", "Actions for the next cycle"),
               ("initiatives", "举措进展", "Initiative progress"),
               ("previous", "与上次复盘相比", "Since the previous review")),
    *_sections("summary",
               ("intro", "概览", "Overview"),
               ("maturity", "数字化成熟度与最大差距", "Digital maturity and the largest gaps"),
               ("data", "数据告诉我们什么", "What the data showed"),
               ("labels", "标签体系与客户分群", "Tag system and customer segments"),
               ("kpi", "KPI 达成与展望", "KPI attainment and outlook"),
               ("roadmap", "路线图：试点举措", "Roadmap: pilot initiatives"),
               ("decisions", "举措进展与委员会待决事项", "Initiatives and the committee's decisions"),
               ("changes", "自上次运行以来的变化", "What changed since the previous run"),
               ("trends", "历次复盘的趋势", "Across reviews"),
               ("links", "各阶段报告", "Stage reports", TECHNICAL)),
    *_sections("deliver",
               ("intro", "交付文件", "What is handed over"),
               ("hidden", "客户版不含的章节", "Sections the client version leaves out")),
)
BY_KEY: dict[str, Section] = {s.key: s for s in SECTIONS}


def of_stage(stage: str) -> tuple[Section, ...]:
    return tuple(s for s in SECTIONS if s.stage == stage)


def technical_tags(stage: str) -> set[str]:
    """The cell tags the client version of ``stage``'s report leaves out."""
    return {s.tag for s in of_stage(stage) if s.technical}


def section_of(cell: dict) -> str | None:
    """The section key a notebook cell belongs to (from its tag), or ``None``."""
    for tag in cell.get("metadata", {}).get("tags", []):
        if tag.startswith(TAG_PREFIX):
            return tag[len(TAG_PREFIX):]
    return None


def images(notebook: str | Path | nbformat.NotebookNode) -> dict[str, list[bytes]]:
    """Every PNG an executed notebook shows, by the section it is in, in order."""
    node = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(notebook, as_version=4)
    found: dict[str, list[bytes]] = {}
    for cell in node.cells:
        key = section_of(cell)
        if key is None or cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                found.setdefault(key, []).append(base64.b64decode(png))
    return found
