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


#: What a table cell shows for a missing value, on every page.
MISSING = "–"

#: KPI status (``attainment.status``) → colour, in charts, the summary and the dashboard.
STATUS_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "none": "#9e9e9e"}

#: KPI status → mark beside its word in a report table. Geometric shapes, not emoji: every Chinese font has them
#: (GB2312) and so does every Latin one (WGL4), so a machine without an emoji font shows no empty box; the shape
#: alone tells the status apart in black-and-white print, and :func:`digiops.kpi.report.status_style` adds colour.
STATUS_MARKS = {"green": "●", "amber": "▲", "red": "■", "none": "–"}

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

#: Tag refresh frequency (``tag.refresh`` in the catalog) → words.
TAG_REFRESH = {"daily": ("每日", "daily"), "weekly": ("每周", "weekly"), "monthly": ("每月", "monthly"),
               "quarterly": ("每季度", "quarterly"), "on_demand": ("按需", "on demand")}

#: Kind of a candidate tag value (``candidates.kind``, :func:`digiops.labels.design.candidate_tags`) → words.
CANDIDATE_KINDS = {"recency window": ("最近购买窗口", "recency window"), "quantile band": ("分位数区间", "quantile band"),
                   "top value": ("头部取值", "top value"), "flag": ("标记", "flag")}

#: KPI unit level (``attainment.level``, ``runrate.level``) and the whole-business unit ``all`` → words.
KPI_LEVELS = {"all": ("全部", "all"), "region": ("大区", "region"), "store": ("门店", "store")}

#: A source's kind (``sources.<name>.kind`` in the engagement file) → words.
SOURCE_KINDS = {"customers": ("客户", "customers"), "orders": ("订单", "orders"), "shipments": ("物流", "shipments"),
                "products": ("商品", "products"), "leads": ("线索", "leads"), "stores": ("门店", "stores"),
                "questionnaire": ("问卷", "questionnaire"), "indicators": ("运营指标", "indicators"),
                "value_stream": ("价值流", "value stream"), "targets": ("目标", "targets"),
                "funnel": ("漏斗事件", "funnel events"), "actions": ("行动记录", "actions"),
                "traffic": ("客流", "traffic"), "spend": ("营销投放", "marketing spend"),
                "initiatives": ("举措台账", "initiative register"), "other": ("其他", "other")}

#: A canonical field (``digiops.canonical.CANONICAL_FIELDS``, ``record_id``) → words; an unknown field shows as it is.
FIELD_NAMES = {
    "record_id": ("记录编号", "record id"), "customer_id": ("客户编号", "customer id"),
    "full_name": ("姓名", "name"), "family_name": ("姓", "family name"), "given_name": ("名", "given name"),
    "gender": ("性别", "gender"), "birth_date": ("出生日期", "birth date"), "phone": ("手机", "phone"),
    "email": ("邮箱", "e-mail"), "national_id": ("证件号", "national id"), "country": ("国家", "country"),
    "province": ("省份", "province"), "city": ("城市", "city"), "district": ("区县", "district"),
    "street": ("街道", "street"), "street_number": ("门牌号", "street number"), "address": ("地址", "address"),
    "address_extra": ("地址补充", "address extra"), "postcode": ("邮编", "postcode"),
    "member_id": ("会员卡号", "member card"), "member_level": ("会员等级", "member level"),
    "registered_at": ("注册时间", "registered at"), "buyer_id": ("平台买家 ID", "platform buyer id"),
    "openid": ("openid", "openid"), "unionid": ("unionid", "unionid"), "customer_key": ("会员卡号（小票）",
    "customer key (receipt)"), "channel": ("渠道", "channel"), "campaign": ("活动", "campaign"),
    "lead_id": ("线索编号", "lead id"), "captured_at": ("留资时间", "captured at"), "note": ("备注", "note"),
    "order_id": ("订单号", "order number"), "order_time": ("下单时间", "order time"), "paid_at": ("付款时间", "paid at"),
    "amount": ("金额", "amount"), "quantity": ("数量", "quantity"), "status": ("状态", "status"),
    "refund_of": ("退款原单号", "refund of"), "is_test": ("测试单", "test order"), "sku": ("商品编码", "SKU"),
    "product_name": ("商品名称", "product name"), "category": ("品类", "category"), "price": ("单价", "price"),
    "price_band": ("价格带", "price band"), "store_id": ("门店编号", "store id"), "store_name": ("门店名称", "store name"),
    "region": ("大区", "region"), "opened_at": ("开业时间", "opened at"), "shipment_id": ("运单编号", "shipment id"),
    "carrier": ("承运商", "carrier"), "tracking_no": ("运单号", "tracking number"), "shipped_at": ("发货时间", "shipped at"),
    "signed_at": ("签收时间", "signed at"), "promised_at": ("承诺送达时间", "promised at"),
    "event_id": ("事件编号", "event id"), "event_time": ("事件时间", "event time"), "visitor_id": ("访客编号", "visitor id"),
    "stage": ("阶段", "stage"), "date": ("日期", "date"), "visitors": ("访客数", "visitors"),
    "created_at": ("创建时间", "created at"), "due": ("截止日期", "due"), "owner": ("负责人", "owner"),
    "action": ("行动", "action"), "action_id": ("行动编号", "action id"), "kpi_id": ("KPI 编号", "KPI id"),
    "period": ("期间", "period"), "unit": ("单元", "unit"), "target": ("目标", "target"), "value": ("值", "value"),
    "question_id": ("题目编号", "question id"), "respondent_id": ("答卷人", "respondent"), "answer": ("回答", "answer"),
    "department": ("部门", "department"), "indicator_id": ("指标编号", "indicator id"), "process": ("流程", "process"),
    "node": ("节点", "node"), "sequence": ("顺序", "sequence"), "duration_hours": ("耗时（小时）", "duration (hours)"),
    "error_rate": ("差错率", "error rate"), "mode": ("方式", "mode"), "systems": ("系统", "systems"),
    "root_cause": ("根因", "root cause"), "wave": ("评估轮次", "assessment wave"),
    "answered_at": ("填写时间", "answered at"), "initiative_id": ("举措编号", "initiative id"),
    "milestone": ("里程碑", "milestone"), "budget": ("批准预算", "approved budget"), "spent": ("已花费", "spent"),
    "decision": ("待决事项", "decision needed"), "month": ("月份", "month"), "*": ("整行", "whole row"),
}

#: The kind of a quarantine reason (``quarantine.reason`` before any ``:`` or ``(``) → words.
QUARANTINE_REASONS = {
    "exact duplicate": ("完全重复的行", "exact duplicate"), "duplicate id": ("编号重复", "duplicate id"),
    "missing id": ("缺少编号", "missing id"), "missing order time": ("缺少下单时间", "missing order time"),
    "unreadable order time": ("下单时间无法识别", "unreadable order time"),
    "missing amount": ("缺少金额", "missing amount"), "unreadable amount": ("金额无法识别", "unreadable amount"),
    "unreadable quantity": ("数量无法识别", "unreadable quantity"), "unreadable price": ("单价无法识别", "unreadable price"),
    "missing order number": ("缺少订单号", "missing order number"), "missing sku": ("缺少商品编码", "missing SKU"),
    "date in the future": ("日期在未来", "date in the future"),
    "nothing identifies a person": ("没有任何可识别个人的信息（姓名、手机、邮箱、证件号或会员卡号）",
                                    "nothing identifies a person (no name, phone, e-mail, id or member card)"),
}

#: A yes / no value (a flag such as ``in_gmv`` or ``balanced``) → words.
#: the segment plays (labels stage, seed 002: segment → strategy)
PLAY_NAMES = {"win_back": ("唤回", "Win back"), "upgrade": ("升级", "Upgrade"), "nurture": ("培育", "Nurture"),
              "retain": ("维系", "Retain")}
YES_NO = {"True": ("是", "yes"), "False": ("否", "no")}
#: Why the KPI review proposes an action for the next cycle (``actions_next.trigger``) → words.
TRIGGER_NAMES = {"red_kpi": ("红灯指标", "red KPI"), "variance_factor": ("拖累因素", "variance driver (factor)"),
                 "variance_region": ("拖累大区", "variance driver (region)"),
                 "funnel_step": ("漏斗薄弱环节", "worst funnel step"), "overdue": ("逾期行动延续", "overdue, carried over")}
#: An initiative's progress (``initiatives.status``) → words.
INITIATIVE_STATUS = {"not_started": ("未开始", "not started"), "on_track": ("按计划", "on track"),
                     "at_risk": ("有风险", "at risk"), "late": ("延期", "late"), "done": ("已完成", "done"),
                     "no_register": ("台账中无记录", "not in the register")}
#: What the steering committee must decide about an initiative (``decisions.kind``) → words.
DECISION_KINDS = {"decision": ("待决事项", "decision requested"), "overdue": ("里程碑逾期", "milestone overdue"),
                  "over_budget": ("超出批准预算", "over the approved budget"),
                  "kpi_red_on_track": ("指标为红但举措报“按计划”", "KPI red while the initiative says on track"),
                  "no_owner": ("没有负责人", "no owner")}
