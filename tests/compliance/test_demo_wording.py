"""The demo and the library read as written by a person: "an annual review", not "a annual", and
narratives that say how a control operates instead of repeating its name."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from compliance import demo
from compliance.models import Organization, User
from compliance.text import article, article_mistakes, with_article
from controls.models import Control, Frequency
from controls.services import control_sets_parse

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = [ROOT / "controls/library/control-sets", ROOT / "policies/library"]
APPS = {"compliance", "controls", "evidence", "policies", "people", "vendors"}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("annual", "an"), ("hourly", "an"), ("event-driven", "an"), ("hour", "an"),
        ("honest", "an"), ("open", "an"), ("quarterly", "a"), ("weekly", "a"), ("daily", "a"),
        ("continuous", "a"), ("user", "a"), ("university", "a"), ("one-off", "a"),
        ("European", "a"), ("AWS", "an"), ("HR", "an"), ("SSO", "an"), ("MFA", "an"),
        ("NDA", "an"), ("URL", "a"), ("SOC", "a"), ("GitHub", "a"), ("8-hour", "an"),
        ("11-step", "an"), ("110-page", "a"), ("“Amazon Web Services”", "an"),
    ],
)  # fmt: skip
def test_the_article_follows_the_sound_of_the_word(word: str, expected: str) -> None:
    assert article(word) == expected
    assert with_article(word) == f"{expected} {word}"


def test_article_mistakes_finds_each_wrong_article_and_nothing_else() -> None:
    text = (
        "Reviewed at a annual cadence by an user; a hourly job and an quarterly review. "
        "A SOC 2 report, an HR record, Annex A of ISO 27001, an hour, a one-off check."
    )
    assert article_mistakes(text) == ["a annual", "an user", "a hourly", "an quarterly"]


def starter_controls() -> list[Control]:
    [starter] = [s for s in control_sets_parse() if s.key.endswith("soc2-starter")]
    return [
        Control(ref_id=c.ref_id, name=c.name, description=c.description, frequency=c.frequency)
        for c in starter.controls
    ]


def test_every_demo_narrative_says_how_the_control_operates_without_repeating_its_name() -> None:
    owner = User(full_name="Priya Raman", email="priya@example.test")
    organization = Organization(name="Northwind Cloud", slug="northwind")
    controls = starter_controls()
    assert {c.frequency for c in controls} == set(Frequency.values)  # every cadence is seen

    for control in controls:
        narrative = demo.demo_narrative(control, owner=owner, organization=organization)
        assert not narrative.lower().startswith(control.name.lower()[:30]), narrative
        assert control.name.lower() not in narrative.lower(), narrative
        assert article_mistakes(narrative) == [], (control.ref_id, narrative)
        assert "the company" not in narrative.lower(), narrative  # told of this company
        assert narrative.endswith("."), narrative


@pytest.mark.parametrize("folder", LIBRARIES, ids=[str(f.relative_to(ROOT)) for f in LIBRARIES])
def test_the_library_text_uses_the_right_article(folder: Path) -> None:
    files = sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".md"})
    assert files
    mistakes = {str(f): article_mistakes(f.read_text()) for f in files}
    assert {f: m for f, m in mistakes.items() if m} == {}


def text_columns() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        if fields:
            found.append((model, fields))
    return found


@pytest.mark.django_db
def test_no_text_of_the_seeded_demo_uses_the_wrong_article() -> None:
    northwind = demo.seed_demo()

    mistakes: dict[str, list[str]] = {}
    for model, fields in text_columns():
        for row in model.objects.values_list("pk", *fields).iterator():
            for value in row[1:]:
                if isinstance(value, str) and (found := article_mistakes(value)):
                    mistakes[f"{model.__name__} #{row[0]}"] = found
    assert mistakes == {}

    narratives = Control.objects.filter(organization=northwind).exclude(narrative="")
    assert narratives.count() >= 30
    for control in narratives:
        assert not control.narrative.startswith(control.name), control.narrative
