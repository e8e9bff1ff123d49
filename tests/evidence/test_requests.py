"""Evidence requests: occurrences fulfilled by evidence, reviewed, overdue, reminded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from compliance.emails import email_deliver
from compliance.models import OutboundEmail
from evidence import services
from evidence.models import (
    Cadence,
    OccurrenceStatus,
    OccurrenceStatusChange,
    RequestOccurrence,
    ReviewStatus,
)
from tests.conftest import World
from tests.evidence.conftest import pdf_upload

D = dt.date


@pytest.fixture
def request_(world: World):  # type: ignore[no-untyped-def]
    return services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Quarterly access review",
        cadence=Cadence.QUARTERLY,
        first_due_date=services.organization_today(world.org) + dt.timedelta(days=5),
        owner=world.users["owner"],
        controls=[world.control],
        remind_days_before=7,
    )


def deliver_all() -> None:
    for email in OutboundEmail.objects.filter(sent_at__isnull=True):
        email_deliver(email.pk)


def test_evidence_for_an_occurrence_submits_it_and_review_decides_it(
    world: World, request_
) -> None:  # type: ignore[no-untyped-def]
    [occurrence] = services.request_schedule(request_)
    item = services.evidence_create(
        actor=world.users["owner"],
        organization=world.org,
        title="Review",
        kind="file",
        effective_date=services.organization_today(world.org),
        occurrence=occurrence,
        upload=pdf_upload(),
    )
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.SUBMITTED
    assert list(item.controls.all()) == [world.control]  # taken from the request

    services.revision_review(
        actor=world.users["admin"],
        revision=item.revisions.get(),
        decision=ReviewStatus.REJECTED,
        reason="Wrong quarter",
    )
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.REJECTED
    deliver_all()
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]
    assert "Wrong quarter" in mail.outbox[0].body

    services.evidence_add_revision(
        actor=world.users["owner"], item=item, upload=pdf_upload("q.pdf")
    )
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.SUBMITTED
    services.revision_review(
        actor=world.users["admin"],
        revision=item.revisions.get(number=2),
        decision=ReviewStatus.ACCEPTED,
    )
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.ACCEPTED
    changes = list(
        OccurrenceStatusChange.objects.filter(occurrence=occurrence)
        .order_by("pk")
        .values_list("to_status", flat=True)
    )
    assert changes == ["open", "submitted", "rejected", "submitted", "accepted"]


def test_reminders_go_once_before_the_due_date_and_once_when_overdue(
    world: World, request_
) -> None:  # type: ignore[no-untyped-def]
    [occurrence] = services.request_schedule(request_)
    today = services.organization_today(world.org)
    assert services.occurrences_remind(world.org, today=today) == 1
    assert services.occurrences_remind(world.org, today=today) == 0  # a second tick: nothing
    deliver_all()
    assert "due" in mail.outbox[0].subject.lower()
    assert mail.outbox[0].alternatives  # HTML part

    after_due = occurrence.due_date + dt.timedelta(days=1)
    assert services.occurrences_mark_overdue(world.org, today=after_due) == 1
    assert services.occurrences_mark_overdue(world.org, today=after_due) == 0
    assert services.occurrences_remind(world.org, today=after_due) == 1
    assert services.occurrences_remind(world.org, today=after_due) == 0
    deliver_all()
    assert mail.outbox[1].subject.startswith("Overdue:")
    assert RequestOccurrence.objects.get(pk=occurrence.pk).status == OccurrenceStatus.OVERDUE


def test_a_reminder_waits_until_the_window_opens(world: World, request_) -> None:  # type: ignore[no-untyped-def]
    [occurrence] = services.request_schedule(request_)
    too_early = occurrence.due_date - dt.timedelta(days=8)
    assert services.occurrences_remind(world.org, today=too_early) == 0


def test_an_overdue_occurrence_blocks_its_controls_and_shows_in_my_work(
    world: World, request_
) -> None:  # type: ignore[no-untyped-def]
    from compliance.readiness import control_blockers

    [occurrence] = services.request_schedule(request_)
    services.occurrences_mark_overdue(world.org, today=occurrence.due_date + dt.timedelta(days=1))
    blockers = control_blockers(organization=world.org, control_ids=[world.control.pk])[
        world.control.pk
    ]
    assert any("overdue" in b.reason for b in blockers)
    page = world.client("owner").get(reverse("my_work", args=["acme"])).content.decode()
    assert "Quarterly access review" in page
    assert f"?occurrence={occurrence.pk}" in page


def test_a_request_missed_several_times_is_one_blocker_naming_the_first_due_date(
    world: World,
) -> None:
    from django.utils.formats import date_format

    from compliance.readiness import control_blockers

    today = services.organization_today(world.org)
    request = services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Quarterly access review",
        cadence=Cadence.QUARTERLY,
        first_due_date=today - dt.timedelta(days=400),
        owner=world.users["owner"],
        controls=[world.control],
        remind_days_before=7,
    )
    services.request_schedule(request)
    missed = services.occurrences_mark_overdue(world.org, today=today)
    assert missed >= 4
    first = RequestOccurrence.objects.filter(request=request).order_by("due_date").first()
    assert first is not None

    blockers = control_blockers(organization=world.org, control_ids=[world.control.pk])
    reasons = [b.reason for b in blockers[world.control.pk] if b.kind == "request_overdue"]

    assert reasons == [
        f"“Quarterly access review” has {missed} overdue occurrences, the first due "
        f"{date_format(first.due_date, 'j M Y')}."
    ]


def test_an_event_driven_request_opens_an_occurrence_per_logged_event(world: World) -> None:
    request = services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Background check",
        cadence=Cadence.EVENT_DRIVEN,
        first_due_date=D(2026, 1, 1),
        controls=[world.control],
    )
    assert services.request_schedule(request) == []
    first = services.occurrence_log_event(
        actor=world.users["admin"], request=request, due_date=D(2026, 2, 1)
    )
    second = services.occurrence_log_event(
        actor=world.users["admin"], request=request, due_date=D(2026, 3, 1)
    )
    assert (first.sequence, second.sequence) == (1, 2)


def test_the_schedule_of_a_request_with_history_cannot_change(world: World, request_) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    services.request_schedule(request_)
    with pytest.raises(ValidationError, match="cannot change"):
        services.request_update(
            actor=world.users["admin"], request=request_, changes={"cadence": Cadence.MONTHLY}
        )


def test_the_request_page_counts_expected_and_delivered(world: World, request_) -> None:  # type: ignore[no-untyped-def]
    services.request_schedule(request_)
    page = world.client("viewer").get(
        reverse("evidence_request_detail", args=["acme", request_.pk])
    )
    assert "0 of 1 occurrences accepted" in page.content.decode()
