"""The question bank and the indicator threshold tables.

The default bank (``resources/maturity/question_bank.yaml``) holds 24 questions, six per dimension, written for
retail and consumer brands; an engagement may extend it (same id replaces a question) or replace it. Indicator
threshold tables (``resources/maturity/indicators.yaml``) turn a quantitative indicator into a level 1–5.

Example:
    >>> bank = default_bank()
    >>> len(bank), bank.ids_of("data_assetization")[:3]
    (24, ['DA1', 'DA2', 'DA3'])
    >>> tables = default_indicators()
    >>> indicator_level(tables["data_silos"], 4), indicator_level(tables["online_process_share"], 0.6)
    (3, 4)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from digiops import paths
from digiops.errors import QuestionBankError
from digiops.settings.maturity import DIMENSION_KEYS, IndicatorSpec

BANK_RESOURCE = "maturity/question_bank.yaml"
INDICATORS_RESOURCE = "maturity/indicators.yaml"


class Question(BaseModel):
    """One question of the bank."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Question id, e.g. `PD1`; the answers' question_id (or wide column) uses it")
    dimension: Literal[DIMENSION_KEYS] = Field(description="The dimension the question scores")  # type: ignore[valid-type]
    text_zh: str = Field(description="Question text in Chinese")
    text_en: str = Field(description="Question text in English")
    weight: float = Field(1.0, gt=0, description="Relative weight within its dimension")
    answer_type: Literal["likert5", "yes_no"] = Field(
        "likert5", description="`likert5`: 1–5 or N/A; `yes_no`: yes (是) = 5, no (否) = 1, or N/A")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        value = normalize_id(value)
        if not value:
            raise ValueError("a question id cannot be empty")
        return value


def normalize_id(value: object) -> str:
    """A question id as compared: NFKC (full-width ``ＰＤ１`` → ``PD1``), stripped, upper case.

    >>> normalize_id(" ｐｄ１ ")
    'PD1'
    """
    return unicodedata.normalize("NFKC", str(value)).strip().upper()


@dataclass(frozen=True)
class QuestionBank:
    """The questions in bank order, by id."""

    questions: tuple[Question, ...]
    label: str = "question bank"

    def __len__(self) -> int:
        return len(self.questions)

    def __contains__(self, question_id: object) -> bool:
        return normalize_id(question_id) in self.by_id

    @property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def ids_of(self, dimension: str) -> list[str]:
        return [q.id for q in self.questions if q.dimension == dimension]

    def table(self):
        """The bank as a DataFrame (id, dimension, text_zh, text_en, weight, answer_type)."""
        import pandas as pd

        return pd.DataFrame([q.model_dump() for q in self.questions])

    def extended(self, other: "QuestionBank") -> "QuestionBank":
        """This bank with ``other``'s questions added; a question with an existing id replaces it in place."""
        merged = dict(self.by_id)
        for question in other.questions:
            merged[question.id] = question
        return QuestionBank(tuple(merged.values()), f"{self.label} + {other.label}")


def _load_yaml(path: Path, label: str) -> dict:
    if not path.is_file():
        raise QuestionBankError(label, "file not found", fix="check the path in the engagement file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise QuestionBankError(label, f"{where}not valid YAML ({getattr(exc, 'problem', exc)})",
                                fix="check indentation and quoting at that line") from None
    if not isinstance(data, dict):
        raise QuestionBankError(label, "must be a YAML mapping", fix="see resources/maturity/ for the layout")
    return data


def _validation_problem(exc: ValidationError) -> tuple[str, str]:
    item = exc.errors()[0]
    loc = ".".join(str(p) for p in item["loc"])
    return loc, item["msg"].removeprefix("Value error, ")


def load_items(path: str | Path, label: str, key: str, model: type[BaseModel], what: str, *, list_fix: str,
               item_fix: str) -> list:
    """The ``key:`` list of a YAML file, each entry validated by ``model`` and ids unique; errors name the entry."""
    data = _load_yaml(Path(path), label)
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise QuestionBankError(label, f"has no `{key}:` list", field=key, fix=list_fix)
    parsed, seen = [], {}
    for number, item in enumerate(items, start=1):
        ident = item.get("id", f"#{number}") if isinstance(item, dict) else f"#{number}"
        try:
            entry = model.model_validate(item)
        except ValidationError as exc:
            loc, msg = _validation_problem(exc)
            raise QuestionBankError(label, f"{what} {ident}: {msg}", field=f"{key}.{ident}.{loc}",
                                    fix=item_fix) from None
        if entry.id in seen:
            raise QuestionBankError(label, f"{what} id {entry.id} appears twice (entries {seen[entry.id]} and "
                                    f"{number})", field=f"{key}.id", fix=f"give each {what} its own id")
        seen[entry.id] = number
        parsed.append(entry)
    return parsed


def load_bank(path: str | Path, label: str | None = None) -> QuestionBank:
    """Read a question-bank YAML (``questions:`` list). Raises :class:`QuestionBankError` naming the question."""
    label = label or str(path)
    questions = load_items(path, label, "questions", Question, "question",
                           list_fix="list the questions under `questions:` (id, dimension, text_zh, text_en, weight)",
                           item_fix="see the default bank resources/maturity/question_bank.yaml")
    return QuestionBank(tuple(questions), label)


def default_bank() -> QuestionBank:
    """The bank shipped with the package (24 questions for retail and consumer brands)."""
    return load_bank(paths.resource(BANK_RESOURCE), "default question bank")


def bank_for(settings, folder: Path | None = None) -> QuestionBank:
    """The bank an engagement uses: the default, extended or replaced by ``settings.question_bank``."""
    base = default_bank()
    if not settings.question_bank:
        return base
    own_path = Path(settings.question_bank)
    own_path = own_path if own_path.is_absolute() or folder is None else folder / own_path
    own = load_bank(own_path, settings.question_bank)
    return own if settings.question_bank_mode == "replace" else base.extended(own)


# --- indicators ---------------------------------------------------------------------------------------------------
def load_indicators(path: str | Path, label: str | None = None) -> dict[str, IndicatorSpec]:
    """Read an indicator threshold YAML (``indicators:`` mapping id → spec)."""
    path = Path(path)
    label = label or str(path)
    data = _load_yaml(path, label)
    items = data.get("indicators")
    if not isinstance(items, dict):
        raise QuestionBankError(label, "has no `indicators:` mapping", field="indicators",
                                fix="map each indicator id to dimension, direction and thresholds")
    tables = {}
    for ident, item in items.items():
        try:
            tables[str(ident)] = IndicatorSpec.model_validate(item)
        except ValidationError as exc:
            loc, msg = _validation_problem(exc)
            raise QuestionBankError(label, f"indicator {ident}: {msg}", field=f"indicators.{ident}.{loc}",
                                    fix="four thresholds, ascending (higher is better) or descending") from None
    return tables


def default_indicators() -> dict[str, IndicatorSpec]:
    """The threshold tables shipped with the package (online_process_share, data_silos, automated_decision_share)."""
    return load_indicators(paths.resource(INDICATORS_RESOURCE), "default indicator tables")


def indicators_for(settings) -> dict[str, IndicatorSpec]:
    """The defaults with the engagement's ``maturity.indicators`` added (same id replaces)."""
    return default_indicators() | dict(settings.indicators)


def indicator_level(spec: IndicatorSpec, value: float) -> int:
    """The level 1–5 of an indicator value from its threshold table (boundaries belong to the higher level).

    >>> spec = IndicatorSpec(dimension="data_assetization", direction="lower", thresholds=[8, 5, 3, 1])
    >>> [indicator_level(spec, v) for v in (12, 8, 6, 5, 3, 2, 1, 0)]
    [1, 2, 2, 3, 4, 4, 5, 5]
    """
    if spec.direction == "higher":
        return 1 + sum(value >= t for t in spec.thresholds)
    return 1 + sum(value <= t for t in spec.thresholds)
