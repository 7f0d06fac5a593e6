"""Clerical review: the borderline pairs a consultant decides, and honouring those decisions on the next run.

``review_pairs.xlsx`` is written in the report's language. Its first sheet lists the pairs whose match probability
lies in the review band (``review_lower`` up to the match threshold), closest to the threshold first, the two
records side by side: per field record A, record B and (for the matching features) whether they agree (``same`` /
``differs`` / ``missing``, computed on the full values). Names, phones, e-mails, birth dates, id numbers and
streets are masked unless the engagement sets ``merge.review_full_values`` (this internal file only: what a report
shows is always masked, :func:`mask_review`); city, district, postcode and gender are shown as they are. The
decision column has a drop-down (是 / 否 / 不确定, or match / not-match / unsure) and the header row is frozen; a
second sheet lists the decisions already made and how the run applied each, a third tells the reviewer what to do.

**Decisions are remembered through the file.** The consultant fills the decision column and names the file in
``merge.review_file``. The next run reads every decision in it (:func:`read_decisions`: both sheets, both
languages, case-insensitive, blank = not decided yet), applies them (:func:`digiops.merge.identity.link_profiles`:
a match is a link, a not-match a cannot-link constraint, unsure leaves the model's result) and writes a new file
whose first sheet no longer lists a decided pair and whose second sheet carries every decision forward. The newest
reviewed file therefore holds all decisions so far: name that one in ``merge.review_file``. The previous run's
output folder is not read: a file a consultant did not name holds no decisions.

Example:
    >>> normalize_decision("是"), normalize_decision("Not-Match"), normalize_decision(" UNSURE "), normalize_decision("")
    ('match', 'not-match', 'unsure', None)
"""

from __future__ import annotations

import io as _io
from pathlib import Path

import numpy as np
import pandas as pd

from digiops import io
from digiops.errors import SourceError
from digiops.masking import mask_address, mask_birth_date, mask_email, mask_id, mask_name, mask_phone
from digiops.text import in_language, term

#: Decision code → the word the drop-down offers, (zh, en).
DECISION_WORDS = {"match": ("是", "match"), "not-match": ("否", "not-match"), "unsure": ("不确定", "unsure")}
#: What a reviewer may write (compared case-insensitively, without surrounding spaces) → decision code.
DECISIONS = {"match": "match", "matched": "match", "yes": "match", "y": "match", "same": "match", "是": "match",
             "同一人": "match", "匹配": "match", "1": "match", "true": "match",
             "not-match": "not-match", "not match": "not-match", "not_match": "not-match", "notmatch": "not-match",
             "nomatch": "not-match", "no": "not-match", "n": "not-match", "different": "not-match",
             "否": "not-match", "不同人": "not-match", "不匹配": "not-match", "0": "not-match", "false": "not-match",
             "unsure": "unsure", "uncertain": "unsure", "not sure": "unsure", "?": "unsure", "不确定": "unsure",
             "不清楚": "unsure"}
#: How the run applied a decision (the codes :func:`digiops.merge.identity.link_profiles` returns) → words.
APPLIED_WORDS = {"linked": ("按“是”合并", "applied as link"),
           "cannot_link": ("按“否”分开（禁止连接）", "applied as cannot-link"),
           "agreed": ("模型结果已一致", "already agreed"),
           "unsure": ("不确定：沿用模型结果", "unsure: the model's result stands"),
           "overridden": ("与另一条“否”冲突：保持分开", "kept apart by another not-match"),
           "identical": ("两条记录完全相同，无法分开", "identical records: cannot be kept apart"),
           "not_found": ("本次数据中找不到记录", "records not found")}
AGREES = {"same": ("相同", "same"), "differs": ("不同", "differs"), "missing": ("缺失", "missing")}
#: The fields shown for each record, side by side, in this order.
FIELDS = ("name_zh", "name_py", "phone", "email", "birth_date", "national_id", "gender", "city", "district",
          "street_key", "postcode")
#: The fields compared for the ``…_agrees`` columns (on the full values, whatever is shown).
AGREEMENT = ("name_py", "phone", "email", "birth_date", "national_id", "district", "street_key", "postcode")
#: Personal fields and their masks (unless ``merge.review_full_values``); the other fields are shown as they are.
PERSONAL = {"name_zh": mask_name, "name_py": mask_name, "phone": mask_phone, "email": mask_email,
            "birth_date": mask_birth_date, "national_id": mask_id, "street_key": mask_address}
FIELD_WORDS = {"name_zh": ("姓名（汉字）", "name (Hanzi)"), "name_py": ("姓名（拼音）", "name (pinyin)"),
               "phone": ("手机", "phone"), "email": ("邮箱", "e-mail"), "birth_date": ("出生日期", "birth date"),
               "national_id": ("证件号", "national id"), "gender": ("性别", "gender"), "city": ("城市", "city"),
               "district": ("区县", "district"), "street_key": ("街道地址", "street address"),
               "postcode": ("邮编", "postcode")}
#: Column → header, (zh, en); read back in either language (:func:`read_decisions`).
HEADERS = {"unique_id_l": ("记录 A", "record A"), "unique_id_r": ("记录 B", "record B"),
           "decision": ("判定", "decision"), "match_probability": ("匹配概率", "match probability"),
           "match_weight": ("匹配权重", "match weight"), "applied": ("采纳方式", "how applied"),
           **{f"{f}_l": (f"{zh} A", f"{en} A") for f, (zh, en) in FIELD_WORDS.items()},
           **{f"{f}_r": (f"{zh} B", f"{en} B") for f, (zh, en) in FIELD_WORDS.items()},
           **{f"{f}_agrees": (f"{zh}是否一致", f"{en} agrees") for f, (zh, en) in FIELD_WORDS.items()}}
SHEETS = {"review": ("待复核", "to review"), "decided": ("已复核", "decided"), "instructions": ("说明", "instructions")}
#: The columns of the table of decisions (``LinkModel.decisions``) and of the workbook's second sheet.
DECIDED_COLUMNS = ("unique_id_l", "unique_id_r", "decision", "applied")
PAIR_COLUMNS = ("unique_id_l", "unique_id_r", "decision", "match_probability", "match_weight")

INSTRUCTIONS = (
    ("如何复核本文件", "How to review this file"),
    ("“待复核”表列出模型拿不准的记录对（匹配概率介于复核下限与匹配阈值之间），最接近阈值的在前。记录 A 与记录 B 逐字段并排显示；"
     "“是否一致”列按完整值比较，即使显示的是脱敏值。",
     "The sheet 'to review' lists the pairs of records the model is unsure about (match probability between the "
     "review floor and the match threshold), closest to the threshold first. Record A and record B are shown side "
     "by side, field by field; the 'agrees' columns compare the full values even where the values shown are masked."),
    ("在“判定”列的下拉框中选择：是 = 同一人；否 = 不是同一人；不确定 = 无法判断（沿用模型结果）。留空 = 尚未判定。"
     "也可填写英文 match / not-match / unsure（不区分大小写）。",
     "Choose in the drop-down of the 'decision' column: match = the same person; not-match = different people; "
     "unsure = cannot tell (the model's result stands). Blank = not decided yet. The Chinese words 是 / 否 / 不确定 "
     "are accepted too (case does not matter)."),
    ("姓名、手机、邮箱、出生日期、证件号和街道默认脱敏；合作文件设置 merge.review_full_values: true 时本文件显示完整值"
     "（仅限本内部文件，报告中始终脱敏）。请勿修改记录编号。",
     "Names, phones, e-mails, birth dates, id numbers and streets are masked by default; with "
     "merge.review_full_values: true in the engagement file this file shows the full values (this internal file "
     "only: reports stay masked). Do not change the record ids."),
    ("保存后把文件放进客户文件夹，并在合作文件的 merge.review_file 中指定。下次运行：“是”把两条记录合并为同一客户；"
     "“否”让两条记录分属不同客户——即使其他记录把它们连在一起，也会切断两者之间最弱的连接；“不确定”沿用模型结果。",
     "Save the file in the client folder and name it in merge.review_file in the engagement file. The next run: "
     "match makes the two records one customer; not-match keeps them in different customers, even when other "
     "records connect them (the weakest links between them are cut); unsure keeps the model's result."),
    ("已做出的判定不会再次出现在“待复核”表中：它们列在“已复核”表，并注明每条如何采纳；如需更改，直接在该表修改。"
     "每次运行生成的新文件都带上此前全部判定，因此请始终在 merge.review_file 中指定最新复核的文件。",
     "Decisions already made are not asked again: they are listed in the sheet 'decided' with how each was "
     "applied; change one there if needed. Each run's new file carries every earlier decision forward, so always "
     "name the newest reviewed file in merge.review_file."),
)


def normalize_decision(value: object) -> str | None:
    """The decision code (``match``, ``not-match``, ``unsure``) a reviewer's cell means; None when it is blank or
    means none of them."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return DECISIONS.get(str(value).strip().lower())


def review_pairs(pairs: pd.DataFrame, profiles: pd.DataFrame, *, lower: float, threshold: float,
                 max_pairs: int) -> pd.DataFrame:
    """The borderline pairs still to decide, with both records' full values side by side, per-feature agreement
    and an empty ``decision`` column (personal values unmasked: :func:`mask_review` before showing them).

    A pair of ``pairs`` with a ``decision`` (made in an earlier review) is not listed again."""
    band = pairs[(pairs["match_probability"] >= lower) & (pairs["match_probability"] < threshold)]
    if "decision" in band:
        band = band[band["decision"].isna()]
    band = band.assign(_gap=(threshold - band["match_probability"]).abs()).sort_values("_gap").head(max_pairs)
    left = profiles.set_index("unique_id").reindex(band["unique_id_l"])
    right = profiles.set_index("unique_id").reindex(band["unique_id_r"])
    out = pd.DataFrame({"unique_id_l": band["unique_id_l"].to_numpy(), "unique_id_r": band["unique_id_r"].to_numpy(),
                        "decision": "", "match_probability": band["match_probability"].round(4).to_numpy(),
                        "match_weight": band["match_weight"].round(2).to_numpy()})
    for field in FIELDS:
        if field not in profiles:
            continue
        a, b = left[field].to_numpy(), right[field].to_numpy()
        out[f"{field}_l"], out[f"{field}_r"] = a, b
        if field in AGREEMENT:
            missing = pd.isna(a) | pd.isna(b)
            out[f"{field}_agrees"] = np.where(missing, "missing", np.where(a == b, "same", "differs"))
    return out


def mask_review(review: pd.DataFrame) -> pd.DataFrame:
    """A copy of :func:`review_pairs`' table with the personal values masked (:data:`PERSONAL`)."""
    out = review.copy()
    for field, masker in PERSONAL.items():
        for column in (f"{field}_l", f"{field}_r"):
            if column in out:
                out[column] = out[column].map(masker).astype("object")
    return out


def header(column: str, language: str) -> str:
    """A column's header in the workbook (the column's own name when it has none)."""
    return term(language, HEADERS, column)


def _shown(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """Codes in words and headers in the report language."""
    out = frame.copy()
    if "decision" in out:
        out["decision"] = out["decision"].map(lambda d: term(language, DECISION_WORDS, d) if d else d)
    if "applied" in out:
        out["applied"] = out["applied"].map(lambda a: term(language, APPLIED_WORDS, a))
    for column in [c for c in out.columns if c.endswith("_agrees")]:
        out[column] = out[column].map(lambda a: term(language, AGREES, a))
    return out.rename(columns=lambda c: header(c, language))


def _fill(sheet, frame: pd.DataFrame, decision: str, choices: str, wide: tuple[str, ...]) -> None:
    """``frame`` into ``sheet``: frozen header, a drop-down of ``choices`` in column ``decision``, the columns named
    in ``wide`` wider than the rest.

    A text that a spreadsheet would run as a formula (:data:`digiops.io.FORMULA_PREFIXES`) is written as text with
    Excel's own quote prefix (what a leading ``'`` typed in Excel does): shown and read back as it is, never run,
    and it stays text when the reviewer edits the cell — a full phone ``+86…`` stays copyable."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append(list(frame.columns))
    for number, row in enumerate(frame.astype(object).where(frame.notna(), None).itertuples(index=False), start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value.item() if isinstance(value, np.generic) else value)
            if isinstance(value, str) and value.startswith(io.FORMULA_PREFIXES):
                cell.data_type, cell.quotePrefix = "s", True
    sheet.freeze_panes = "C2"  # the header and both record ids stay in view
    for number, name in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = 22 if name in wide else 14
    letter = get_column_letter(list(frame.columns).index(decision) + 1)
    drop_down = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=True)
    drop_down.add(f"{letter}2:{letter}{max(len(frame), 1) + 1}")
    sheet.add_data_validation(drop_down)


def review_workbook(review: pd.DataFrame, decided: pd.DataFrame | None, *, language: str,
                    full_values: bool = False) -> bytes:
    """``review_pairs.xlsx`` in ``language``: the pairs to decide (:func:`review_pairs`, masked unless
    ``full_values``), the decisions already made and how each was applied (``decided``: :data:`DECIDED_COLUMNS`),
    and the instructions. Returns the workbook's bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    review = review.reindex(columns=list(review.columns) or list(PAIR_COLUMNS))
    decided = (decided if decided is not None else pd.DataFrame()).reindex(columns=list(DECIDED_COLUMNS))
    choices = ",".join(in_language(language, *words) for words in DECISION_WORDS.values())
    decision = header("decision", language)
    wide = tuple(header(c, language) for c in ("unique_id_l", "unique_id_r", "applied"))
    workbook = Workbook()
    pairs = workbook.active
    pairs.title = in_language(language, *SHEETS["review"])
    _fill(pairs, _shown(review if full_values else mask_review(review), language), decision, choices, wide)
    _fill(workbook.create_sheet(in_language(language, *SHEETS["decided"])), _shown(decided, language), decision,
          choices, wide)
    notes = workbook.create_sheet(in_language(language, *SHEETS["instructions"]))
    notes.column_dimensions["A"].width = 110
    for number, text in enumerate(INSTRUCTIONS):
        notes.append([in_language(language, *text)])
        notes.cell(row=number + 1, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    notes["A1"].font = Font(bold=True, size=13)
    buffer = _io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def review_table(review: pd.DataFrame, language: str) -> pd.DataFrame:
    """:func:`review_pairs`' table as a report shows it: masked, in words, with the workbook's headers."""
    return _shown(mask_review(review), language)


def decided_table(decisions: pd.DataFrame, language: str) -> pd.DataFrame:
    """The review decisions and how each was applied (``LinkModel.decisions``), in words, for a report."""
    return _shown(decisions.reindex(columns=list(DECIDED_COLUMNS)), language)


def applied_summary(decisions: pd.DataFrame, language: str) -> pd.DataFrame:
    """How many decisions were applied each way (the ways that occurred, in :data:`APPLIED_WORDS` order), for a report.

    >>> decisions = pd.DataFrame({"applied": ["cannot_link", "agreed", "cannot_link"]})
    >>> applied_summary(decisions, "en").values.tolist()
    [['applied as cannot-link', 2], ['already agreed', 1]]
    """
    counts = decisions["applied"].value_counts()
    codes = [c for c in APPLIED_WORDS if c in counts] + [c for c in counts.index if c not in APPLIED_WORDS]
    return pd.DataFrame({header("applied", language): [term(language, APPLIED_WORDS, c) for c in codes],
                         in_language(language, "对数", "pairs"): [int(counts[c]) for c in codes]})


def _canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Headers in either language (or the column names themselves) renamed to the columns they stand for."""
    known = {c.casefold(): c for c in HEADERS} | {w.casefold(): c for c, words in HEADERS.items() for w in words}
    return frame.rename(columns=lambda h: known.get(str(h).strip().casefold(), h))


def read_decisions(path: Path, label: str) -> pd.DataFrame:
    """The decisions of a reviewed file (``unique_id_l``, ``unique_id_r``, ``decision``: ``match``, ``not-match``
    or ``unsure``), undecided rows left out and each pair once.

    A workbook's sheets "to review" and "decided" are read (in either language; the first sheet when it has
    neither), a CSV as it is. Headers and decisions may be in either language. Raises one :class:`SourceError`
    naming every bad row (a decision that is none of the words, a decided row without its record ids, a pair decided
    twice differently), so a reviewer fixes them all at once.
    """
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    first = io.read_table(path, fmt="xlsx" if is_xlsx else "csv", label=label)
    named = {w: key for key, words in SHEETS.items() if key != "instructions" for w in words}
    sheets = [s for s in first.sheets if s in named] if is_xlsx else []
    tables = [(s, io.read_table(path, fmt="xlsx", sheet=s, label=label).frame) for s in sheets] or \
             [(first.sheet if is_xlsx else None, first.frame)]
    problems, parts = [], []
    for sheet, frame in tables:
        where = f"sheet '{sheet}' " if sheet and len(tables) > 1 else ""
        frame = _canonical_columns(frame)
        missing = [c for c in ("unique_id_l", "unique_id_r", "decision") if c not in frame]
        if missing:
            problems.append(f"{where}has no column {', '.join(repr(c) for c in missing)}".strip())
            continue
        written = frame["decision"].fillna("").astype(str).str.strip()
        codes = frame["decision"].map(normalize_decision)
        unknown = written.ne("") & codes.isna()
        for row, value in zip(frame.loc[unknown, "_row"], written[unknown]):
            problems.append(f"{where}row {int(row)}: decision '{value}'")
        ids = frame[["unique_id_l", "unique_id_r"]].fillna("").astype(str).apply(lambda s: s.str.strip())
        for row in frame.loc[codes.notna() & ids.eq("").any(axis=1), "_row"]:
            problems.append(f"{where}row {int(row)}: a decision without both record ids")
        parts.append(pd.DataFrame({"unique_id_l": ids["unique_id_l"], "unique_id_r": ids["unique_id_r"],
                                   "decision": codes, "_where": [f"{where}row {int(r)}" for r in frame["_row"]]})
                     [codes.notna() & ids.ne("").all(axis=1)])
    decided = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["unique_id_l", "unique_id_r", "decision", "_where"])
    # a pair is the same whichever record is A
    pair = pd.Series([" ↔ ".join(sorted(p)) for p in zip(decided["unique_id_l"], decided["unique_id_r"])],
                     index=decided.index, dtype=object)
    for _, group in decided.groupby(pair, sort=False):
        if group["decision"].nunique() > 1:
            problems.append(f"{' and '.join(group['_where'])}: the pair {group.iloc[0]['unique_id_l']} ↔ "
                            f"{group.iloc[0]['unique_id_r']} is decided differently "
                            f"({' / '.join(group['decision'])})")
    if problems:
        raise SourceError(label, (f"{len(problems)} problems: " if len(problems) > 1 else "") + "; ".join(problems),
                          field="decision",
                          fix="write 是 / 否 / 不确定 (or match / not-match / unsure) or leave the cell empty, keep "
                              "both record ids, and decide each pair once")
    decided = decided.loc[~pair.duplicated()]
    return decided[["unique_id_l", "unique_id_r", "decision"]].reset_index(drop=True)


def check_review_file(path: Path, label: str) -> list[SourceError]:
    """The problems of a reviewed file named in ``merge.review_file``, as the next run would meet them (missing,
    unreadable, or bad rows: :func:`read_decisions` names every bad row in one error); empty when it reads."""
    try:
        read_decisions(path, label)
    except SourceError as exc:
        return [exc]
    return []
