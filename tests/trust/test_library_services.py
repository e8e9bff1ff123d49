"""The answer library's services: entries, staleness, suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from compliance.models import AuditEvent
from controls.models import ControlReadiness
from tests.conftest import World
from tests.trust.library_helpers import LIBRARY, make_library
from trust.library import selectors, services
from trust.models import AnswerEntry

pytestmark = pytest.mark.django_db


def test_admin_adds_an_entry_with_its_audit_event(world: World) -> None:
    entry = services.answer_entry_create(
        actor=world.users["admin"],
        organization=world.org,
        question="  Do you encrypt data?  ",
        answer="Yes.",
        controls=[world.control],
    )
    assert entry.question == "Do you encrypt data?"
    assert list(entry.controls.all()) == [world.control]
    assert AuditEvent.objects.filter(action="answer_entry.create", object_id=str(entry.pk)).exists()


def test_member_cannot_add_entries(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.answer_entry_create(
            actor=world.users["member"], organization=world.org, question="Q?", answer="A."
        )
    assert not AnswerEntry.objects.exists()


def test_entry_needs_a_question_and_an_answer(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.answer_entry_create(
            actor=world.users["admin"], organization=world.org, question=" ", answer=""
        )
    assert {"question", "answer"} <= set(caught.value.message_dict)


def test_entry_refuses_another_organizations_control(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.answer_entry_create(
            actor=world.users["admin"],
            organization=world.org,
            question="Q?",
            answer="A.",
            controls=[world.foreign_control],
        )
    assert "controls" in caught.value.message_dict
    assert not AnswerEntry.objects.exists()


def test_member_edits_the_entries_they_own_only(world: World) -> None:
    admin, member = world.users["admin"], world.users["member"]
    mine = services.answer_entry_create(
        actor=admin, organization=world.org, question="Q1?", answer="A1.", owner=member
    )
    theirs = services.answer_entry_create(
        actor=admin, organization=world.org, question="Q2?", answer="A2."
    )
    services.answer_entry_update(actor=member, entry=mine, changes={"answer": "Better."})
    mine.refresh_from_db()
    assert mine.answer == "Better."
    with pytest.raises(PermissionDenied):
        services.answer_entry_update(actor=member, entry=theirs, changes={"answer": "Mine now."})
    with pytest.raises(PermissionDenied):
        services.answer_entry_update(actor=member, entry=mine, changes={"owner": admin})
    theirs.refresh_from_db()
    assert theirs.answer == "A2."


def test_entry_is_stale_when_its_review_date_passed(world: World) -> None:
    admin = world.users["admin"]
    services.answer_entry_create(
        actor=admin,
        organization=world.org,
        question="Old?",
        answer="Old.",
        review_by=dt.date(2000, 1, 1),
    )
    services.answer_entry_create(
        actor=admin,
        organization=world.org,
        question="Fresh?",
        answer="Fresh.",
        review_by=dt.date(2999, 1, 1),
    )
    stale = selectors.answer_entry_list(user=admin, organization=world.org, stale="stale")
    current = selectors.answer_entry_list(user=admin, organization=world.org, stale="current")
    assert [e.question for e in stale] == ["Old?"]
    assert [e.question for e in current] == ["Fresh?"]


def test_entry_is_stale_when_a_linked_control_is_not_ready(world: World) -> None:
    admin = world.users["admin"]
    entry = services.answer_entry_create(
        actor=admin,
        organization=world.org,
        question="Backed?",
        answer="Yes.",
        controls=[world.control],
    )
    readiness = ControlReadiness.objects.get(control=world.control)
    ControlReadiness.objects.filter(pk=readiness.pk).update(ready=True)
    assert not selectors.answer_entry_list(user=admin, organization=world.org).get().is_stale
    ControlReadiness.objects.filter(pk=readiness.pk).update(ready=False)
    row = selectors.answer_entry_list(user=admin, organization=world.org).get()
    assert row.pk == entry.pk and row.is_stale and row.control_not_ready


def test_the_right_entry_ranks_first_and_an_unrelated_question_gets_no_match(world: World) -> None:
    entries = make_library(world.org, world.users["admin"])
    results = services.suggest(
        [
            "Is customer data encrypted at rest?",
            "Are penetration tests performed annually by a third party?",
            "Do employees use multi-factor authentication?",
            "What is the airspeed velocity of an unladen swallow?",
        ],
        entries,
    )
    assert results[0] is not None and results[0][0].question == LIBRARY[0][0]
    assert results[1] is not None and results[1][0].question == LIBRARY[1][0]
    assert results[2] is not None and results[2][0].question == LIBRARY[2][0]
    assert results[3] is None
    assert 0 < results[0][1] <= 1


def test_other_wordings_are_matched(world: World) -> None:
    entry = services.answer_entry_create(
        actor=world.users["admin"],
        organization=world.org,
        question="Do you keep audit logs?",
        answer="Yes, for a year.",
        aliases="How long is security event logging retained?",
    )
    [result] = services.suggest(["How long is security event logging retained?"], [entry])
    assert result is not None and result[0] == entry and result[1] > 0.9


def test_an_empty_library_suggests_nothing(world: World) -> None:
    assert services.suggest(["Do you encrypt data?"], []) == [None]


def test_threshold_is_a_setting(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    entries = make_library(world.org, world.users["admin"])
    settings.ANSWER_SUGGESTION_THRESHOLD = 0.99
    assert services.suggest(["Is customer data encrypted at rest?"], entries) == [None]
