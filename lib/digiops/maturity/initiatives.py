"""Initiatives with owners (issue 23; seed 004: execution goals such as "Q3 完成 CRM 系统升级", a digital-operation
committee, phases with budget): the client's initiative register joined to the roadmap, and the decisions the
committee must take.

**The register** (source kind ``initiatives``, ``maturity.initiatives_source``) has one row per milestone:
``initiative_id`` (the roadmap's ids, e.g. ``DA-01``), ``owner`` (role and name, ``数据中心负责人 王磊``),
``milestone``, ``due`` (date), ``status`` (:data:`STATUSES`: not started / on track / at risk / late / done, or
未开始 / 进行中 / 有风险 / 已延期 / 已完成 and their usual variants; blank = not started), ``budget`` (approved, CNY)
and ``spent`` (CNY) of that milestone, ``kpi_id`` (the KPI it should move), ``decision`` (a decision the committee
must take, optional free text).

**Per initiative** (:func:`join`): its owner (the first owner its rows name), milestones done / total, the next
open milestone (earliest due first) and its due date, the overdue ones (due before the as-of date and not done),
the approved budget and the spent amount (sums over its rows) against the roadmap's planned budget, the KPI and —
when the run's KPI review ran — that KPI's attainment and status in the review month (whole business), and a
progress status, the first that holds of: no register rows → ``no_register``; every milestone done → ``done``; a
milestone overdue or marked late → ``late``; a milestone at risk, or spent above the approved budget → ``at_risk``;
a milestone done or on track → ``on_track``; else ``not_started``. Register initiatives the roadmap does not hold
and roadmap initiatives the register lacks are both kept (``in_roadmap`` / ``in_register``).

**Decisions needed** (:func:`decisions`): the register's ``decision`` texts, and derived ones — an initiative over
budget (the overrun), a milestone overdue, an initiative without an owner, and a KPI red while the initiative's
register says on track (the status of its next open milestone) — each with owner and due date.

Example:
    >>> parse_status("进行中"), parse_status("At risk"), parse_status(""), parse_status("maybe")
    ('on_track', 'at_risk', 'not_started', None)
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

from digiops.errors import QuestionBankError
from digiops.io import ROW
from digiops.masking import mask_text

#: status codes in order of progress.
STATUSES = ("not_started", "on_track", "at_risk", "late", "done")
#: words a register may use → status code (lower case, spaces collapsed).
STATUS_WORDS: dict[str, str] = {
    **{w: "not_started" for w in ("not started", "not_started", "planned", "todo", "to do", "未开始", "未启动",
                                  "计划中", "待启动")},
    **{w: "on_track" for w in ("on track", "on_track", "in progress", "ongoing", "green", "进行中", "正常",
                               "按计划", "正常推进")},
    **{w: "at_risk" for w in ("at risk", "at_risk", "risk", "amber", "有风险", "风险", "预警")},
    **{w: "late" for w in ("late", "delayed", "overdue", "behind", "red", "已延期", "延期", "逾期", "已逾期",
                           "滞后")},
    **{w: "done" for w in ("done", "completed", "complete", "closed", "finished", "已完成", "完成", "已关闭",
                           "关闭", "已验收")},
}
MILESTONE_COLUMNS = ["initiative_id", "owner", "milestone", "due", "status", "budget", "spent", "kpi_id", "decision",
                     ROW]
INITIATIVE_COLUMNS = ["initiative_id", "name_zh", "name_en", "dimension", "phase", "phase_zh", "phase_en",
                      "in_roadmap", "in_register", "owner", "milestones", "milestones_done", "next_milestone",
                      "next_due", "next_status", "overdue", "overdue_milestones", "budget_planned",
                      "budget_approved", "spent", "spent_share", "over_budget", "overrun", "kpi_id", "kpi_period",
                      "kpi_attainment", "kpi_status", "status"]
#: decision kinds, in the order a committee takes them up on the same day.
DECISION_KINDS = ("decision", "overdue", "over_budget", "kpi_red_on_track", "no_owner")
DECISION_COLUMNS = ["initiative_id", "name_zh", "name_en", "kind", "owner", "due", "milestone", "amount", "kpi_id",
                    "kpi_status", "text"]
FIX_STATUS = ("write one of: not started / on track / at risk / late / done, or 未开始 / 进行中 / 有风险 / 已延期 / "
              "已完成")


class RegisterError(QuestionBankError):
    """A row of the initiative register that cannot be read (the maturity stage's input error)."""


def _raw(value: object) -> str:
    """A cell as the client wrote it (free text keeps its full-width punctuation)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _text(value: object) -> str:
    """A cell normalized for parsing (full-width digits and letters folded)."""
    return unicodedata.normalize("NFKC", _raw(value)).strip()


def parse_status(raw: object) -> str | None:
    """The status code of a register cell, ``not_started`` when blank, ``None`` when not a known status."""
    text = re.sub(r"\s+", " ", _text(raw).lower())
    if not text:
        return "not_started"
    return STATUS_WORDS.get(text)


_AMOUNT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_amount(raw: object) -> float | None:
    """A CNY amount: ``1,200,000``, ``¥120000``, ``120万`` (×10 000), ``12.5w``; ``nan`` when blank, ``None`` when
    not a number or negative.

    >>> parse_amount("120万"), parse_amount("¥1,200.50"), parse_amount(""), parse_amount("-5"), parse_amount("abc")
    (1200000.0, 1200.5, nan, None, None)
    """
    text = _text(raw).replace(",", "").replace("，", "").replace(" ", "").lstrip("¥￥").removesuffix("元")
    if not text:
        return float("nan")
    factor = 1.0
    if text[-1:] in ("万", "w", "W"):
        text, factor = text[:-1], 10_000.0
    if not _AMOUNT.match(text):
        return None
    value = float(text) * factor
    return value if value >= 0 else None


def register_from_frame(frame: pd.DataFrame, label: str = "initiatives") -> pd.DataFrame:
    """Validate the register (canonical names): one row per milestone, :data:`MILESTONE_COLUMNS`.

    Rows without an initiative id and without any other value are skipped (blank lines of a sheet).

    Raises:
        RegisterError: a row with values but no initiative id, an unknown status, a due date that is not a date, an
            amount that is not a non-negative number, or an initiative naming two KPIs — naming file, row, field.
    """
    frame = frame.copy()
    if ROW not in frame.columns:
        frame[ROW] = np.arange(2, len(frame) + 2)
    if "initiative_id" not in frame.columns:
        raise RegisterError(label, "has no initiative_id column", field="initiative_id",
                            fix="map the initiative-id column to initiative_id in the engagement's sources")
    fields = [c for c in MILESTONE_COLUMNS if c not in (ROW,)]
    rows, kpis = [], {}
    for record in frame.to_dict("records"):
        row = int(record[ROW])
        values = {f: (_raw if f in ("owner", "milestone", "decision") else _text)(record.get(f)) for f in fields}
        ident = values["initiative_id"].upper()
        if not ident:
            if any(values.values()):
                raise RegisterError(label, "a milestone row has no initiative id", field="initiative_id", row=row,
                                    fix="give each row the id of its initiative (e.g. DA-01)")
            continue
        status = parse_status(values["status"])
        if status is None:
            raise RegisterError(label, f"initiative {ident}: status '{values['status']}' is not known",
                                field="status", row=row, fix=FIX_STATUS)
        due = pd.NaT
        if values["due"]:
            due = pd.to_datetime(values["due"], errors="coerce", format="mixed")
            if pd.isna(due):
                raise RegisterError(label, f"initiative {ident}: due date '{values['due']}' is not a date",
                                    field="due", row=row, fix="write the due date as YYYY-MM-DD")
        amounts = {}
        for name in ("budget", "spent"):
            amounts[name] = parse_amount(values[name])
            if amounts[name] is None:
                raise RegisterError(label, f"initiative {ident}: {name} '{values[name]}' is not an amount",
                                    field=name, row=row, fix="write amounts in CNY as numbers ≥ 0 (1200000, "
                                    "1,200,000 or 120万)")
        kpi = values["kpi_id"]
        if kpi:
            first = kpis.setdefault(ident, (kpi, row))
            if first[0] != kpi:
                raise RegisterError(label, f"initiative {ident} names two KPIs: '{first[0]}' (row {first[1]}) and "
                                    f"'{kpi}'", field="kpi_id", row=row,
                                    fix="name the one KPI the initiative should move on its rows")
        rows.append({"initiative_id": ident, "owner": values["owner"] or None,
                     "milestone": mask_text(values["milestone"]) or None,
                     "due": due.date() if pd.notna(due) else None, "status": status,
                     "budget": amounts["budget"], "spent": amounts["spent"], "kpi_id": kpi or None,
                     "decision": mask_text(values["decision"]) or None, ROW: row})
    return pd.DataFrame(rows, columns=MILESTONE_COLUMNS)


def overdue(milestones: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Whether each milestone is overdue: due before ``as_of`` and not done."""
    due = pd.to_datetime(milestones["due"])
    return (due.dt.date.lt(as_of) & due.notna() & milestones["status"].ne("done")).astype(bool)


def kpi_review(attainment: pd.DataFrame | None) -> pd.DataFrame:
    """Per KPI, its whole-business attainment and status in the review month (``kpi/attainment`` rows marked
    reviewed at level ``all``); empty without the table."""
    columns = ["kpi", "period", "attainment", "status"]
    if attainment is None or attainment.empty:
        return pd.DataFrame(columns=columns).set_index("kpi")
    rows = attainment[attainment["reviewed"].astype(bool) & attainment["level"].eq("all")]
    return rows.drop_duplicates("kpi")[columns].set_index("kpi")


def _progress_status(own: pd.DataFrame, late: pd.Series, over_budget: bool) -> str:
    statuses = set(own["status"])
    if own.empty:
        return "no_register"
    if statuses == {"done"}:
        return "done"
    if late.any() or "late" in statuses:
        return "late"
    if "at_risk" in statuses or over_budget:
        return "at_risk"
    if statuses & {"done", "on_track"}:
        return "on_track"
    return "not_started"


def _sum(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.sum()) if len(values) else float("nan")


def join(roadmap: pd.DataFrame, milestones: pd.DataFrame, as_of: dt.date, library: dict[str, dict] | None = None,
         attainment: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per initiative of the roadmap (its order) then per register initiative not in it (file order):
    :data:`INITIATIVE_COLUMNS`. ``library`` gives names and dimensions of initiatives outside the roadmap (id →
    ``name_zh``, ``name_en``, ``dimension``); ``attainment`` is the run's ``kpi/attainment`` table."""
    library = library or {}
    review = kpi_review(attainment)
    late_all = overdue(milestones, as_of) if len(milestones) else pd.Series(dtype=bool)
    planned = roadmap.set_index("initiative_id") if len(roadmap) else pd.DataFrame()
    ids = list(roadmap["initiative_id"]) + [i for i in dict.fromkeys(milestones["initiative_id"])
                                            if i not in set(roadmap["initiative_id"])]
    rows = []
    for ident in ids:
        own = milestones[milestones["initiative_id"] == ident]
        late = late_all[own.index] if len(own) else pd.Series(dtype=bool)
        in_roadmap = ident in planned.index
        plan = planned.loc[ident] if in_roadmap else None
        info = library.get(ident, {})
        owners = own["owner"].dropna()
        open_ = own[own["status"] != "done"].assign(_due=pd.to_datetime(own["due"]))
        open_ = open_.sort_values("_due", kind="stable", na_position="last")
        nxt = open_.iloc[0] if len(open_) else None
        approved, spent = _sum(own["budget"]), _sum(own["spent"])
        over = bool(not np.isnan(approved) and not np.isnan(spent) and spent > approved + 0.005)
        kpis = own["kpi_id"].dropna()
        kpi = kpis.iloc[0] if len(kpis) else None
        reviewed = review.loc[kpi] if kpi is not None and kpi in review.index else None
        rows.append({
            "initiative_id": ident,
            "name_zh": plan["name_zh"] if in_roadmap else info.get("name_zh"),
            "name_en": plan["name_en"] if in_roadmap else info.get("name_en"),
            "dimension": plan["dimension"] if in_roadmap else info.get("dimension"),
            "phase": plan["phase"] if in_roadmap else None, "phase_zh": plan["phase_zh"] if in_roadmap else None,
            "phase_en": plan["phase_en"] if in_roadmap else None,
            "in_roadmap": in_roadmap, "in_register": bool(len(own)),
            "owner": owners.iloc[0] if len(owners) else None,
            "milestones": int(len(own)), "milestones_done": int((own["status"] == "done").sum()),
            "next_milestone": nxt["milestone"] if nxt is not None else None,
            "next_due": nxt["due"] if nxt is not None else None,
            "next_status": nxt["status"] if nxt is not None else None,
            "overdue": int(late.sum()),
            "overdue_milestones": "; ".join(f"{m} ({d.isoformat()})" for m, d in
                                            zip(own.loc[late, "milestone"].fillna("–"), own.loc[late, "due"]))
            or None,
            "budget_planned": float(plan["budget"]) if in_roadmap else float("nan"),
            "budget_approved": approved, "spent": spent,
            "spent_share": spent / approved if approved and not np.isnan(approved) and not np.isnan(spent)
            else float("nan"),
            "over_budget": over, "overrun": spent - approved if over else float("nan"),
            "kpi_id": kpi, "kpi_period": reviewed["period"] if reviewed is not None else None,
            "kpi_attainment": float(reviewed["attainment"]) if reviewed is not None else float("nan"),
            "kpi_status": reviewed["status"] if reviewed is not None else None,
            "status": _progress_status(own, late, over),
        })
    table = pd.DataFrame(rows, columns=INITIATIVE_COLUMNS)
    return table.astype({"in_roadmap": bool, "in_register": bool, "over_budget": bool})


def _owner(milestone: dict, initiative: dict) -> str | None:
    owner = milestone["owner"] if isinstance(milestone["owner"], str) else initiative["owner"]
    return owner if isinstance(owner, str) else None


def decisions(initiatives: pd.DataFrame, milestones: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The decisions the committee must take (:data:`DECISION_COLUMNS`), earliest due first (none last).

    ``text`` is the register's own words (``decision`` kind only; masked); the other kinds are codes the report
    words. ``amount`` is the overrun of an initiative over budget; ``due`` the milestone's due date for a register
    decision or an overdue milestone, else the initiative's next due date.
    """
    late = overdue(milestones, as_of) if len(milestones) else pd.Series(dtype=bool)
    rows = []
    for record in initiatives.to_dict("records"):
        ident = record["initiative_id"]
        base = {"initiative_id": ident, "name_zh": record["name_zh"], "name_en": record["name_en"],
                "owner": record["owner"], "kpi_id": record["kpi_id"], "kpi_status": record["kpi_status"],
                "amount": float("nan"), "milestone": None, "text": None}
        own = milestones[milestones["initiative_id"] == ident]
        for m in own[own["decision"].notna()].to_dict("records"):
            rows.append(base | {"kind": "decision", "due": m["due"], "milestone": m["milestone"],
                                "owner": _owner(m, record), "text": m["decision"]})
        for m in own[late[own.index]].to_dict("records") if len(own) else []:
            rows.append(base | {"kind": "overdue", "due": m["due"], "milestone": m["milestone"],
                                "owner": _owner(m, record)})
        if record["over_budget"]:
            rows.append(base | {"kind": "over_budget", "due": record["next_due"], "amount": record["overrun"]})
        if record["kpi_status"] == "red" and record["next_status"] == "on_track":
            rows.append(base | {"kind": "kpi_red_on_track", "due": record["next_due"],
                                "milestone": record["next_milestone"]})
        if pd.isna(record["owner"]) and record["status"] != "done":
            rows.append(base | {"kind": "no_owner", "due": record["next_due"]})
    table = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    if table.empty:
        return table
    order = {k: i for i, k in enumerate(DECISION_KINDS)}
    table["_due"] = pd.to_datetime(table["due"])
    table["_kind"] = table["kind"].map(order)
    return table.sort_values(["_due", "_kind"], kind="stable", na_position="last").drop(
        columns=["_due", "_kind"]).reset_index(drop=True)


def as_of_date(settings, engagement) -> dt.date:
    """The date milestones are overdue against: ``maturity.initiatives_as_of``, else ``kpi.as_of``, else the end of
    the engagement period."""
    return settings.initiatives_as_of or engagement.kpi.as_of or engagement.period.end


__all__ = ["DECISION_KINDS", "STATUSES", "RegisterError", "as_of_date", "decisions", "join",
           "kpi_review", "overdue", "parse_amount", "parse_status", "register_from_frame"]
