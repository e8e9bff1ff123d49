"""Vendor questionnaires without side effects: the starter library and scoring."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from vendors.models.questionnaires import ANSWER_LABELS, KIND_ANSWERS, NOT_APPLICABLE, AnswerKind

LIBRARY_DIR = Path(__file__).resolve().parent / "library" / "questionnaires"


@dataclass(frozen=True)
class LibraryTemplate:
    key: str
    version: int
    name: str
    description: str
    questions: list[dict[str, Any]]


@cache
def starter_library() -> dict[str, LibraryTemplate]:
    """The templates shipped with Attest (vendors/library/questionnaires/*.yaml), by key."""
    found: dict[str, LibraryTemplate] = {}
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[data["key"]] = LibraryTemplate(
            key=data["key"],
            version=int(data["version"]),
            name=data["name"],
            description=" ".join(str(data.get("description", "")).split()),
            questions=list(data["questions"]),
        )
    return found


def answer_options(question: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, label) pairs a question offers; empty for free text."""
    if question["kind"] == AnswerKind.CHOICE:
        return [(c, c) for c in question.get("choices") or []]
    return [(v, ANSWER_LABELS[v]) for v in KIND_ANSWERS.get(question["kind"], [])]


def answer_label(question: dict[str, Any], value: str) -> str:
    if question["kind"] in KIND_ANSWERS:
        return ANSWER_LABELS.get(value, value)
    return value


def valid_answer(question: dict[str, Any], value: str) -> bool:
    if not value or question["kind"] == AnswerKind.TEXT:
        return True
    return value in {v for v, _ in answer_options(question)}


@dataclass(frozen=True)
class ScorePart:
    name: str  # the section ("" for questions without one)
    earned: int  # weight of the questions answered with the scoring answer
    possible: int  # weight of the scored questions, "not applicable" answers left out
    questions: int  # scored questions counted

    @property
    def percent(self) -> int | None:
        if not self.possible:
            return None
        return round(100 * self.earned / self.possible)


@dataclass(frozen=True)
class Score:
    overall: ScorePart
    sections: list[ScorePart]


def score(questions: list[dict[str, Any]], answers: dict[str, str]) -> Score:
    """Weighted share of the scored questions answered with their scoring answer. A question
    is scored when it names a scoring answer; "not applicable" leaves it out of the
    denominator; an unanswered question counts as not scoring."""
    order: list[str] = []
    totals: dict[str, list[int]] = {}
    for question in questions:
        target = question.get("scoring_answer") or ""
        if not target:
            continue
        value = answers.get(question["key"], "")
        if value == NOT_APPLICABLE:
            continue
        section = question.get("section") or ""
        if section not in totals:
            order.append(section)
            totals[section] = [0, 0, 0]
        weight = int(question.get("weight") or 0)
        part = totals[section]
        part[1] += weight
        part[2] += 1
        if value == target:
            part[0] += weight
    sections = [ScorePart(name, *totals[name]) for name in order]
    overall = ScorePart(
        "Overall",
        sum(p.earned for p in sections),
        sum(p.possible for p in sections),
        sum(p.questions for p in sections),
    )
    return Score(overall=overall, sections=sections)
