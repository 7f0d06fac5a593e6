"""Text as a reader sees it: the one zh / en chooser, the one HTML escaper, the words for the codes that computations
return, and the status colours.

**Language at the edge.** Computations (the KPI review, SMART checks, variance attribution, tag coverage, segment
summaries, maturity scores) return codes and numbers, never text, so every table a stage writes reads the same
whatever the engagement's language. The functions that show something (``*/report.py``, ``*/charts.py``,
``summary.render``, ``dashboard.views``, exports) translate, with the tables below.

**The default-language rule.** A function that shows text takes ``language`` (``"zh"`` or ``"en"``) as a required
argument with no default; its caller passes the engagement's language (``ctx.language`` in a notebook,
``summary.language`` for a run). Only what carries an engagement's language defaults to it
(:meth:`digiops.context.StageContext.t`, :meth:`digiops.engagement.Engagement.client_name`, the summary's
``name`` / ``note`` / ``section_html`` / ``summary_html``, the dashboard). Any language other than ``"zh"`` reads
English.

Example:
    >>> in_language("zh", "客户", "Customer"), in_language("en", "客户", "Customer")
    ('客户', 'Customer')
    >>> term("en", SEVERITY, "none"), term("zh", SEVERITY, "critical"), term("zh", SEVERITY, "unknown code")
    ('met', '严重', 'unknown code')
    >>> escape_html('<a href="x">Tea & co</a>')
    '&lt;a href=&quot;x&quot;&gt;Tea &amp; co&lt;/a&gt;'
"""

from __future__ import annotations

import html
from collections.abc import Mapping


def in_language(language: str, zh: str, en: str) -> str:
    """The Chinese text for a ``zh`` report, the English one otherwise."""
    return zh if language == "zh" else en


def term(language: str, table: Mapping[str, tuple[str, str]], code: str) -> str:
    """The word for ``code`` in one of the ``code → (zh, en)`` tables; an unknown code is shown as it is."""
    return in_language(language, *table.get(code, (code, code)))


def escape_html(value: object, *, quote: bool = True) -> str:
    """``value`` as text that cannot become markup: ``& < >`` and, unless ``quote=False``, both quotes escaped.

    Quotes matter inside an attribute (``href="…"``); Markdown narrative and cell text escape without them
    (``quote=False``), as pandas' and nbconvert's own text does.

    >>> escape_html("<script>alert(1)</script> & 'co'", quote=False)
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 'co'"
    >>> escape_html(3.5)
    '3.5'
    """
    return html.escape(str(value), quote=quote)


#: KPI status (``attainment.status``) → colour, in charts, the summary and the dashboard.
STATUS_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "none": "#9e9e9e"}

#: KPI status → mark beside its word in a report table.
STATUS_MARKS = {"green": "🟢", "amber": "🟡", "red": "🔴", "none": "–"}

#: KPI status (``attainment.status``) → words.
KPI_STATUS = {"green": ("达成", "met"), "amber": ("预警", "close"), "red": ("未达成", "missed"),
              "none": ("无目标", "no target")}

#: Maturity gap severity (``scores.severity``) → words.
SEVERITY = {"critical": ("严重", "critical"), "moderate": ("中等", "moderate"), "minor": ("轻微", "minor"),
            "none": ("已达标", "met"), "no data": ("无数据", "no data")}

#: Funnel stage (``funnel.stage``) → words; a client's own stage name is shown as it is.
FUNNEL_STAGES = {"visit": ("访问", "visit"), "add_to_cart": ("加购", "add to cart"), "order": ("下单", "order"),
                 "repurchase": ("复购", "repurchase")}

#: SMART criterion (``smart_checks.criterion``) → words.
SMART_CRITERIA = {"specific": ("具体 S", "Specific"), "measurable": ("可衡量 M", "Measurable"),
                  "achievable": ("可实现 A", "Achievable"), "relevant": ("相关 R", "Relevant"),
                  "time_bound": ("有时限 T", "Time-bound")}

#: SMART finding (``smart_checks.reason``) → sentence; the fields are the row's columns (``detail``, ``months``,
#: ``growth``, ``low``, ``high``, ``period_from``, ``period_to``) plus ``goal`` (the goal's name) and ``via``
#: (`` ← parents`` when the KPI has parents), filled in by :func:`digiops.kpi.report.smart_finding`.
SMART_FINDINGS = {
    "defined": ("口径已定义，负责人：{detail}", "defined; owner {detail}"),
    "no_definition": ("缺少口径定义", "missing definition"),
    "no_owner": ("缺少负责人", "missing owner"),
    "no_definition_or_owner": ("缺少口径定义、负责人", "missing definition and owner"),
    "no_formula": ("既无数据来源也无子指标，无法计算", "no data source and no children: cannot be computed"),
    "no_data": ("公式 {detail} 没有取到数据", "formula {detail} resolves to no data"),
    "actuals": ("有 {months} 个月的实际值", "actuals for {months} months"),
    "no_target": ("没有目标值，无法判断", "no target to judge"),
    "no_base": ("目标期之前没有可比的实际值", "no earlier positive actual to grow from"),
    "within_history": ("{period_to} 目标增长 {growth:+.1%}，历史环比区间 {low:+.1%} ~ {high:+.1%}",
                       "{period_to} target growth {growth:+.1%}; historical month-over-month range {low:+.1%} to "
                       "{high:+.1%}"),
    "outside_history": ("{period_to} 目标增长 {growth:+.1%}，历史环比区间 {low:+.1%} ~ {high:+.1%}，超出历史区间",
                        "{period_to} target growth {growth:+.1%}; historical month-over-month range {low:+.1%} to "
                        "{high:+.1%}: outside it"),
    "within_bound": ("{period_to} 目标增长 {growth:+.1%}，历史不足，按上限 ±{high:.0%} 判断",
                     "{period_to} target growth {growth:+.1%}; too little history, judged against the bound "
                     "±{high:.0%}"),
    "outside_bound": ("{period_to} 目标增长 {growth:+.1%}，历史不足，按上限 ±{high:.0%} 判断",
                      "{period_to} target growth {growth:+.1%}; too little history, judged against the bound "
                      "±{high:.0%}"),
    "unlinked": ("没有上级指标或战略目标", "linked to no parent KPI or strategic goal"),
    "no_goal": ("上级 {detail} 未归属任何战略目标", "parents {detail} root in no strategic goal"),
    "goal": ("服务于战略目标「{goal}」{via}", "serves strategic goal '{goal}'{via}"),
    "deadline": ("截止日期 {detail}", "deadline {detail}"),
    "monthly_targets": ("按月目标 {period_from} ~ {period_to}", "monthly targets {period_from} to {period_to}"),
    "no_deadline": ("既无截止日期也无按期目标", "neither a deadline nor targets for given periods"),
}

#: Variance method (``variance.method``) → how a change was attributed where LMDI's logarithm is undefined.
VARIANCE_METHODS = {
    "zero_limit": ("有因子在某一期为 0，对数无定义：取 LMDI 在该值趋于 0 时的极限，变化全部归于为 0 的因子",
                   "a factor is zero in one period, where the logarithm is undefined: LMDI's limit as that value "
                   "tends to 0 is used, so the whole change goes to the factor(s) that are zero"),
    "zero_both": ("两期指标值均为 0，无变化可分解", "the KPI is zero in both periods: there is no change to attribute"),
    "shapley": ("有因子为负数，对数无定义：改用 Shapley 分解（各因子依次替换的平均效应），仍精确加总为总变化",
                "a factor is negative, where the logarithm is undefined: the Shapley decomposition (average effect "
                "over every order of switching factors) is used instead; it still sums exactly to the change"),
    "missing": ("缺少因子数据，无法分解", "a factor has no data, so the change cannot be attributed"),
}
