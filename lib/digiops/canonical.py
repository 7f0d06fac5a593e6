"""Canonical field names, per kind of source.

A source's ``columns`` mapping sends the client's column names (often Chinese) to these names. Stages only ever
see canonical names, so one mechanism serves a Chinese CRM export and an English person file alike.
"""

from __future__ import annotations

PERSON_FIELDS = (
    "full_name", "given_name", "family_name", "birth_date", "gender", "phone", "email", "national_id",
    "address", "address_extra", "street_number", "street", "district", "city", "province", "postcode", "country",
    "member_id", "member_level", "registered_at", "store_id", "buyer_id", "openid", "unionid",
)
ORDER_FIELDS = (
    "order_id", "order_time", "amount", "quantity", "sku", "store_id", "channel", "status", "customer_key",
    "is_test", "paid_at", "refund_of", "note",
)
SHIPMENT_FIELDS = (
    "shipment_id", "order_id", "carrier", "tracking_no", "status", "shipped_at", "signed_at", "promised_at",
    "channel",
)
PRODUCT_FIELDS = ("sku", "product_name", "category", "price", "price_band")
LEAD_FIELDS = ("lead_id", "channel", "campaign", "captured_at")

#: kind → canonical fields a column may map to. Stage modules own the kinds they read.
CANONICAL_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": PERSON_FIELDS,
    "orders": ORDER_FIELDS + PERSON_FIELDS,
    "shipments": SHIPMENT_FIELDS + PERSON_FIELDS,
    "products": PRODUCT_FIELDS,
    "leads": LEAD_FIELDS + PERSON_FIELDS,
    "stores": ("store_id", "store_name", "region", "province", "city", "opened_at"),
    "questionnaire": ("respondent_id", "department", "question_id", "answer", "wave", "answered_at"),
    "indicators": ("indicator_id", "value", "note"),
    "initiatives": ("initiative_id", "owner", "milestone", "due", "status", "budget", "spent", "kpi_id", "decision"),
    "value_stream": ("process", "node", "owner", "duration_hours", "error_rate", "systems", "mode",
                     "root_cause", "sequence"),
    "targets": ("kpi_id", "unit", "period", "target"),
    "funnel": ("event_id", "visitor_id", "stage", "event_time", "channel", "customer_key"),
    "actions": ("action_id", "action", "owner", "kpi_id", "due", "status", "created_at", "note"),
    "traffic": ("date", "unit", "visitors", "channel"),
    "spend": ("channel", "campaign", "unit", "month", "date", "amount"),
    "other": (),
}

#: kinds whose records name a person, so the merge stage resolves them to one customer.
PERSON_BEARING_KINDS = ("customers", "orders", "shipments", "leads")
