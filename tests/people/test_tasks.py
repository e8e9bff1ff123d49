"""people_tick: the admins get one email per newly overdue item, never twice."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from compliance.celery import app
from compliance.models import AuditEvent, OutboundEmail, Role
from people.models import PersonnelNotice
from people.services import people_notify_overdue, record_create
from people.tasks import people_tick
from tests.conftest import World, build_world
from tests.factories import MembershipFactory, UserFactory
from tests.people.factories import PersonFactory


def outbox() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template="person_overdue").order_by("pk"))


@pytest.fixture
def overdue(world: World) -> dict[str, object]:
    today = timezone.localdate()
    ryan = PersonFactory(
        organization=world.org,
        full_name="Ryan Walsh",
        start_date=dt.date(2020, 1, 1),
        end_date=today - dt.timedelta(days=5),
    )
    noah = PersonFactory(
        organization=world.org, full_name="Noah Williams", start_date=today - dt.timedelta(3)
    )
    for kind in ("agreement", "mfa", "password_manager"):
        record_create(actor=None, person=noah, kind=kind, completed_on=today)
    return {"ryan": ryan, "noah": noah, "today": today}


def test_the_admins_are_emailed_about_overdue_items(world: World, overdue: dict) -> None:
    sent = people_tick()
    # Noah: the background check is overdue (the rest is done or not due); Ryan: access.
    assert sent == 2
    [email] = outbox()
    assert email.to == ["admin@acme.test"]
    assert email.subject == "Acme: 1 access revocation past the SLA and 1 onboarding item overdue"
    assert "Ryan Walsh <" in email.text_body and "revocation was due" in email.text_body
    assert "Noah Williams: Background check, due" in email.text_body
    assert f"/o/acme/people/{overdue['ryan'].pk}/" in email.html_body
    notices = set(PersonnelNotice.objects.values_list("person__full_name", "kind"))
    assert notices == {("Ryan Walsh", "offboarding"), ("Noah Williams", "background_check")}
    assert AuditEvent.objects.get(action="people.overdue_notice").after["to"] == ["admin@acme.test"]


def test_running_the_tick_again_sends_nothing_new(world: World, overdue: dict) -> None:
    people_tick()
    events = AuditEvent.objects.count()
    assert people_tick() == 0
    assert len(outbox()) == 1
    assert AuditEvent.objects.count() == events


def test_a_new_overdue_item_is_sent_alone_the_next_time(world: World, overdue: dict) -> None:
    people_tick()
    today = overdue["today"]
    PersonFactory(
        organization=world.org,
        full_name="Chloe Dubois",
        start_date=dt.date(2021, 1, 1),
        end_date=today - dt.timedelta(days=2),
    )
    assert people_tick() == 1
    latest = outbox()[-1]
    assert "Chloe Dubois" in latest.text_body
    assert "Ryan Walsh" not in latest.text_body


def test_an_item_done_in_time_is_never_sent(world: World, overdue: dict) -> None:
    record_create(
        actor=None,
        person=overdue["ryan"],  # type: ignore[arg-type]
        kind="offboarding",
        completed_on=overdue["today"],  # type: ignore[arg-type]
    )
    people_tick()
    assert "Ryan Walsh" not in outbox()[0].text_body


def test_every_admin_of_the_organization_and_no_one_else_is_emailed(
    world: World, overdue: dict
) -> None:
    second = UserFactory(email="second.admin@acme.test")
    MembershipFactory(user=second, organization=world.org, role=Role.ADMIN)
    people_tick()
    assert outbox()[0].to == ["admin@acme.test", "second.admin@acme.test"]


def test_each_organization_gets_its_own_email(world: World, overdue: dict) -> None:
    PersonFactory(
        organization=world.other_org,
        full_name="Globex Leaver",
        start_date=dt.date(2020, 1, 1),
        end_date=overdue["today"] - dt.timedelta(days=9),  # type: ignore[operator]
    )
    people_tick()
    emails = {tuple(e.to): e.text_body for e in outbox()}
    assert "Globex Leaver" in emails[("outsider@globex.test",)]
    assert "Globex Leaver" not in emails[("admin@acme.test",)]


def test_nothing_is_sent_when_nothing_is_overdue(world: World) -> None:
    PersonFactory(organization=world.org, start_date=timezone.localdate())
    assert people_notify_overdue(organization=world.org, today=timezone.localdate()) == []
    assert outbox() == []


@pytest.fixture
def worker() -> Iterator[None]:
    app.control.purge()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_tick_and_the_email_goes_out(worker: None) -> None:
    world = build_world()
    PersonFactory(
        organization=world.org,
        full_name="Late Leaver",
        start_date=dt.date(2020, 1, 1),
        end_date=timezone.localdate() - dt.timedelta(days=10),
    )
    people_tick.delay()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not mail.outbox:
        time.sleep(0.1)
    [message] = mail.outbox
    assert message.to == ["admin@acme.test"]
    assert "Late Leaver" in message.body
