"""The demo client's raw files: their file names, shapes and raw (Chinese) column names, and the mapping to
canonical names that the engagement file's ``sources:`` block carries.

This module is the single description of every export; :func:`sources_yaml` renders the engagement block from it,
and a test checks ``data/clients/demo/engagement.yaml`` agrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str
    path: str
    #: raw column → canonical field (None: a column the export has but stages do not map)
    columns: dict[str, str | None]
    id_column: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1
    description: str = ""
    person_bearing: bool = False
    #: orders sources: ``line`` when a row is an order line (the order number repeats), None for the default
    grain: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def raw_columns(self) -> list[str]:
        return list(self.columns)

    @property
    def mapping(self) -> dict[str, str]:
        return {raw: canonical for raw, canonical in self.columns.items() if canonical is not None}


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("crm", "customers", "raw/crm_customers.csv", {
        "客户编号": "member_id", "姓名": "full_name", "性别": "gender", "出生日期": "birth_date", "手机号": "phone",
        "电子邮箱": "email", "省份": "province", "城市": "city", "区县": "district", "详细地址": "address",
        "会员等级": "member_level", "注册时间": "registered_at"},
        id_column="客户编号", encoding="gb18030", header_row=3, person_bearing=True,
        description="CRM customer export (GB18030, two title rows above the header)"),
    SourceSpec("miniprogram", "customers", "raw/miniprogram_members.xlsx", {
        "会员ID": "member_id", "openid": "openid", "unionid": "unionid", "微信昵称": None, "真实姓名": "full_name",
        "手机号码": "phone", "性别": "gender", "生日": "birth_date", "所在地区": "address", "注册时间": "registered_at",
        "会员等级": "member_level", "积分": None},
        id_column="会员ID", sheet="会员列表", header_row=2, person_bearing=True,
        description="WeChat mini-program members with openid / unionid (merged title row; sheet 说明 is not data)"),
    SourceSpec("pos_members", "customers", "raw/pos_members.csv", {
        "会员卡号": "member_id", "姓名": "full_name", "手机": "phone", "生日": "birth_date", "开卡门店": "store_id",
        "开卡日期": "registered_at"},
        id_column="会员卡号", encoding="utf-8", person_bearing=True,
        description="Store POS members (card numbers with leading zeros; names often in pinyin; some phones "
        "written as numbers)"),
    SourceSpec("social_leads", "leads", "raw/social_leads.csv", {
        "线索编号": "lead_id", "平台昵称": None, "称呼": "full_name", "手机号": "phone", "城市": "city",
        "来源渠道": "channel", "活动名称": "campaign", "留资时间": "captured_at"},
        id_column="线索编号", encoding="utf-8", person_bearing=True,
        description="Social-channel leads (小红书, 抖音, 微信公众号, 微博): first touch and campaign"),
    SourceSpec("mall_orders", "orders", "raw/mall_orders.csv", {
        "订单编号": "order_id", "下单时间": "order_time", "openid": "openid", "买家姓名": "full_name", "买家手机": "phone",
        "收货地址": "address", "商品编码": "sku", "商品名称": None, "数量": "quantity", "实付金额": "amount",
        "订单状态": "status", "退款原单号": "refund_of", "备注": "note"},
        id_column="订单编号", encoding="utf-8-sig", person_bearing=True,
        description="WeChat mini-program mall orders (UTF-8 with BOM), one row per order with the buyer's openid; "
        "refunds are negative rows"),
    SourceSpec("online_orders", "orders", "raw/online_orders.csv", {
        "订单号": "order_id", "子订单号": None, "平台": "channel", "付款时间": "order_time", "买家ID": "buyer_id",
        "收货人": "full_name", "联系电话": "phone", "收货地址": "address", "商品编码": "sku", "购买数量": "quantity",
        "商品金额": "amount", "订单状态": "status", "原订单号": "refund_of", "买家留言": "note"},
        id_column="订单号", encoding="utf-8", person_bearing=True, grain="line",
        description="Tmall / JD / Douyin shop orders, one row per order line (the order number repeats); platform "
        "buyer id; receiver name, phone and address, desensitised by the platform since 2021"),
    SourceSpec("pos_receipts", "orders", "raw/pos_receipts.csv", {
        "小票号": "order_id", "门店编号": "store_id", "交易时间": "order_time", "会员卡号": "customer_key",
        "商品编码": "sku", "数量": "quantity", "金额": "amount", "交易类型": "status", "原小票号": "refund_of"},
        id_column="小票号", encoding="utf-8", person_bearing=True,
        description="Store receipts; the POS member card number (customer_key) or empty for walk-in customers"),
    SourceSpec("shipments", "shipments", "raw/shipments.csv", {
        "发货单号": "shipment_id", "订单号": "order_id", "订单来源": "channel", "快递公司": "carrier",
        "运单号": "tracking_no", "收件人": "full_name", "收件电话": "phone", "收件地址": "address",
        "物流状态": "status", "发货时间": "shipped_at", "签收时间": "signed_at", "承诺送达时间": "promised_at"},
        id_column="发货单号", encoding="utf-8", person_bearing=True,
        description="Logistics shipments of mall and online orders (waybills, desensitised on platform orders)"),
    SourceSpec("products", "products", "raw/products.csv", {
        "商品编码": "sku", "商品名称": "product_name", "品类": "category", "单价": "price", "价格带": "price_band"},
        id_column="商品编码", encoding="utf-8", description="SKU master (60 SKUs of tea drinks and snacks)"),
    SourceSpec("stores", "stores", "raw/stores.csv", {
        "门店编号": "store_id", "门店名称": "store_name", "大区": "region", "省份": "province", "城市": "city",
        "开业日期": "opened_at"},
        id_column="门店编号", encoding="utf-8", description="30 stores in 3 regions"),
    SourceSpec("maturity_answers", "questionnaire", "raw/maturity_answers.xlsx", {
        "答卷编号": "respondent_id", "部门": "department", "题号": "question_id", "答案": "answer",
        "填写日期": "answered_at"},
        sheet="答卷", header_row=1, description="Maturity questionnaire, long form (1–5, N/A, 不适用), two waves "
        "(2025-09 and 2026-09) told apart by the answer date"),
    SourceSpec("initiatives", "initiatives", "raw/initiatives.csv", {
        "举措编号": "initiative_id", "负责人": "owner", "里程碑": "milestone", "截止日期": "due", "状态": "status",
        "批准预算": "budget", "已花费": "spent", "关联指标": "kpi_id", "待决事项": "decision"},
        encoding="utf-8", description="Initiative register of the roadmap: one row per milestone with owner, due "
        "date, status, approved budget and spent (CNY), the KPI it should move and decisions for the committee"),
    SourceSpec("maturity_indicators", "indicators", "raw/maturity_indicators.csv", {
        "指标编号": "indicator_id", "数值": "value", "说明": "note"},
        encoding="utf-8", description="Quantitative maturity indicators"),
    SourceSpec("value_stream", "value_stream", "raw/value_stream.csv", {
        "流程": "process", "节点": "node", "顺序": "sequence", "负责部门": "owner", "耗时小时": "duration_hours",
        "差错率": "error_rate", "涉及系统": "systems", "方式": "mode", "根因类别": "root_cause"},
        encoding="utf-8", description="Value-stream nodes (systems `;`-separated, mode manual / automatic)"),
    SourceSpec("kpi_targets", "targets", "raw/kpi_targets.csv", {
        "指标": "kpi_id", "单元": "unit", "月份": "period", "目标值": "target"},
        encoding="utf-8", description="Monthly KPI targets by unit (all, region, store id, online)"),
    SourceSpec("traffic", "traffic", "raw/traffic.csv", {
        "日期": "date", "单元": "unit", "访客数": "visitors"},
        encoding="utf-8", description="Daily visitors per store and online"),
    SourceSpec("funnel_events", "funnel", "raw/funnel_events.csv", {
        "事件ID": "event_id", "访客ID": "visitor_id", "会员ID": "customer_key", "环节": "stage",
        "发生时间": "event_time", "渠道": "channel"},
        id_column="事件ID", encoding="utf-8", description="Online funnel events: visit → add_to_cart → order → "
        "repurchase; 会员ID (customer_key) is the mini-program member id of a logged-in visitor, empty otherwise"),
    SourceSpec("marketing_spend", "spend", "raw/marketing_spend.csv", {
        "月份": "month", "渠道": "channel", "活动名称": "campaign", "门店/单元": "unit", "投放金额": "amount"},
        encoding="utf-8", description="Marketing spend per channel, campaign, unit and month (yuan)"),
    SourceSpec("action_log", "actions", "raw/action_log.csv", {
        "行动编号": "action_id", "行动项": "action", "负责人": "owner", "关联指标": "kpi_id", "截止日期": "due",
        "状态": "status", "创建日期": "created_at", "备注": "note"},
        id_column="行动编号", encoding="utf-8", description="Action log of the previous review"),
)
SOURCE_BY_NAME = {spec.name: spec for spec in SOURCES}
PERSON_SOURCES = tuple(spec.name for spec in SOURCES if spec.person_bearing)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sources_yaml() -> str:
    """The engagement file's ``sources:`` block for the demo client (YAML text)."""
    lines = ["sources:"]
    for spec in SOURCES:
        lines.append(f"  {spec.name}:")
        lines.append(f"    path: {spec.path}")
        lines.append(f"    kind: {spec.kind}")
        if spec.encoding:
            lines.append(f"    encoding: {spec.encoding}")
        if spec.sheet:
            lines.append(f"    sheet: {spec.sheet}")
        if spec.header_row != 1:
            lines.append(f"    header_row: {spec.header_row}")
        if spec.id_column:
            lines.append(f"    id_column: {spec.id_column}")
        if spec.grain:
            lines.append(f"    grain: {spec.grain}")
        lines.append(f"    description: {_quote(spec.description)}")
        mapping = ", ".join(f"{raw}: {canonical}" for raw, canonical in spec.mapping.items())
        lines.append(f"    columns: {{{mapping}}}")
    return "\n".join(lines) + "\n"
