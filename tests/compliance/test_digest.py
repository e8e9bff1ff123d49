"""The weekly emails (compliance.digest): the admins' digest and each person's "your week",
queued once per week after the snapshot, each with its own one-click unsubscribe link, and
received by a real SMTP server (aiosmtpd on loopback) as a mail program would see them."""

from __future__ import annotations

import datetime as dt
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.digest import (
    digest_context,
    organizations_due_for_weekly_emails,
    unsubscribe_token,
    weekly_emails_queue,
)
from compliance.emails import email_deliver
from compliance.meetings import services as meetings
from compliance.models import ActionItem, Membership, OutboundEmail, User, WeeklyDigest
from compliance.snapshots import latest_due_week, snapshots_create, week_label
from tests.compliance.test_snapshot_api import LAST, make_snapshots
from tests.compliance.test_snapshots import backdate_world
from tests.conftest import World
from tests.controls.test_readiness_as_of import EveryBlocker, _backdate, _grow
from tests.controls.test_readiness_as_of import every_blocker as every_blocker  # the fixture
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.django_db

TEMPLATES = ["weekly_digest", "your_week"]


def queued(template: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


def item_for(world: World, persona: str, title: str = "Collect the Q4 access review") -> None:
    """An open action item of ``persona``'s, two days overdue."""
    item = meetings.action_item_create(
        actor=world.users["admin"],
        organization=world.org,
        title=title,
        owner=world.users[persona],
        due_on=timezone.localdate() + dt.timedelta(days=2),
    )
    ActionItem.objects.filter(pk=item.pk).update(due_on=timezone.localdate() - dt.timedelta(days=2))


@pytest.fixture
def weeks(world: World) -> World:
    """Four weeks of snapshots up to last week, a target audit date, and open items."""
    make_snapshots(world, [10, 20, 30, 40])
    world.adoption.target_audit_date = LAST + dt.timedelta(weeks=12)
    world.adoption.save()
    item_for(world, "owner")
    return world


# --- Who gets what ------------------------------------------------------------------------------


def test_admins_get_the_digest_and_people_with_open_items_their_week(weeks: World) -> None:
    world = weeks
    result = weekly_emails_queue(organization=world.org, week=LAST)

    assert result is not None and (result.digests, result.your_week) == (1, 1)
    [digest] = queued("weekly_digest")
    assert digest.to == ["admin@acme.test"]
    assert digest.subject == f"Acme, {week_label(LAST)}: TSC 40% (+10)"
    assert "40% ready (40 of 100 requirements), up 10 from the week before" in digest.text_body
    assert "Forecast: On track" in digest.text_body
    assert digest.inline_images and digest.inline_images[0]["cid"] == "trend"
    assert 'src="cid:trend"' in digest.html_body
    [week] = queued("your_week")
    assert week.to == ["owner@acme.test"]  # the only person with an open item
    assert "Collect the Q4 access review" in week.text_body
    assert "Overdue" in week.text_body
    # Nobody else: the member and viewer have nothing open, auditors never get these.
    addresses = {a for e in OutboundEmail.objects.filter(template__in=TEMPLATES) for a in e.to}
    assert addresses == {"admin@acme.test", "owner@acme.test"}
    record = WeeklyDigest.objects.get(organization=world.org)
    assert (record.week, record.digests, record.your_week) == (LAST, 1, 1)


def test_the_weeks_emails_are_queued_once(weeks: World) -> None:
    assert weekly_emails_queue(organization=weeks.org, week=LAST) is not None
    before = OutboundEmail.objects.count()

    assert weekly_emails_queue(organization=weeks.org, week=LAST) is None

    assert OutboundEmail.objects.count() == before
    assert WeeklyDigest.objects.count() == 1


def test_each_email_can_be_turned_off_per_person(weeks: World) -> None:
    world = weeks
    Membership.objects.filter(user=world.users["admin"]).update(email_weekly_digest=False)
    Membership.objects.filter(user=world.users["owner"]).update(email_your_week=False)
    item_for(world, "admin", "Approve the incident response policy")

    weekly_emails_queue(organization=world.org, week=LAST)

    assert queued("weekly_digest") == []
    [week] = queued("your_week")
    assert week.to == ["admin@acme.test"]  # her own week is still on


def test_each_email_carries_its_own_one_click_unsubscribe(weeks: World) -> None:
    weekly_emails_queue(organization=weeks.org, week=LAST)
    [digest], [week] = queued("weekly_digest"), queued("your_week")
    for email, kind in ((digest, "digest"), (week, "your_week")):
        link = email.headers["List-Unsubscribe"]
        assert re.fullmatch(r"<https?://[^/]+/email/unsubscribe/[^/]+/>", link)
        assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = link.rsplit("/", 2)[-2]
        assert signing.loads(token, salt="attest.email.unsubscribe")[1] == kind
        assert link[1:-1] in email.text_body and link[1:-1] in email.html_body


# --- Unsubscribing ------------------------------------------------------------------------------


def path_of(membership: Membership, kind: str) -> str:
    return f"/email/unsubscribe/{unsubscribe_token(membership, kind)}/"


def test_a_mail_programs_one_click_post_turns_the_email_off(world: World) -> None:
    membership = Membership.objects.get(user=world.users["admin"], organization=world.org)
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # no session, no form token: a mail program

    response = client.post(
        path_of(membership, "digest"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.email_weekly_digest is False
    assert membership.email_your_week is True  # only the one email


def test_opening_the_link_asks_first_and_changes_nothing(world: World) -> None:
    from django.test import Client

    membership = Membership.objects.get(user=world.users["owner"], organization=world.org)
    page = Client().get(path_of(membership, "your_week"))

    assert page.status_code == 200
    assert b"Stop \xe2\x80\x9cYour week\xe2\x80\x9d?" in page.content
    membership.refresh_from_db()
    assert membership.email_your_week is True


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        signing.dumps([1, "digest"], salt="another.salt"),  # signed, but not for this
        signing.dumps([1, "everything"], salt="attest.email.unsubscribe"),
    ],
    # Stable ids: a signed token holds a timestamp, and pytest-xdist's workers must collect
    # the same tests.
    ids=["garbage", "another-salt", "unknown-email"],
)
def test_a_forged_or_cut_link_changes_nothing(world: World, token: str) -> None:
    from django.test import Client

    before = list(Membership.objects.values_list("email_weekly_digest", "email_your_week"))
    response = Client().post(f"/email/unsubscribe/{token}/")
    assert response.status_code == 404
    assert b"This link does not work" in response.content
    assert list(Membership.objects.values_list("email_weekly_digest", "email_your_week")) == before


def test_the_settings_page_turns_emails_back_on_and_offers_the_digest_to_admins_only(
    world: World,
) -> None:
    admin = Membership.objects.get(user=world.users["admin"], organization=world.org)
    admin.email_weekly_digest = False
    admin.save()

    page = world.client("admin").get("/account/email/").content.decode()
    assert f'name="digest-{admin.pk}"' in page and f'name="your_week-{admin.pk}"' in page
    world.client("admin").post(
        "/account/email/", {f"digest-{admin.pk}": "on", f"your_week-{admin.pk}": "on"}
    )
    admin.refresh_from_db()
    assert admin.email_weekly_digest is True

    member = Membership.objects.get(user=world.users["member"], organization=world.org)
    page = world.client("member").get("/account/email/").content.decode()
    assert f'name="digest-{member.pk}"' not in page and "For admins" in page
    # A crafted post cannot give a member the digest, nor touch someone else's settings.
    world.client("member").post(
        "/account/email/", {f"digest-{member.pk}": "on", f"your_week-{admin.pk}": ""}
    )
    member.refresh_from_db()
    admin.refresh_from_db()
    assert member.email_weekly_digest is True  # unchanged default, never offered
    assert member.email_your_week is False  # the unticked box of their own form
    assert admin.email_your_week is True
    # Auditors get no weekly email and see no row for their engagement's organization.
    page = world.client("auditor").get("/account/email/").content.decode()
    assert "no organization that sends weekly emails" in page


def test_the_settings_page_needs_a_sign_in() -> None:
    from django.test import Client

    response = Client().get("/account/email/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- Cost ---------------------------------------------------------------------------------------


def test_the_digest_costs_the_same_queries_at_two_sizes(every_blocker: EveryBlocker) -> None:
    world = every_blocker.world

    def measure(first: int, count: int) -> int:
        _grow(world, count, first=first)
        _backdate(world, timezone.now() - dt.timedelta(weeks=4))
        from compliance.models import ReadinessSnapshot
        from compliance.snapshots import snapshots_create

        ReadinessSnapshot.objects.all().delete()
        snapshots_create(organization=world.org, weeks=[LAST - dt.timedelta(weeks=1), LAST])
        admin = User.objects.get(pk=world.users["admin"].pk)  # no cached memberships
        with CaptureQueriesContext(connection) as captured:
            digest_context(organization=world.org, week=LAST, user=admin)
        return len(captured)

    assert measure(0, 2) == measure(2, 12)


# --- The tick, a real worker and a real SMTP server ---------------------------------------------


def test_the_tick_knows_an_organization_whose_emails_were_not_queued(world: World) -> None:
    backdate_world(world, 3)
    week = latest_due_week(world.org)
    assert organizations_due_for_weekly_emails() == []  # no snapshot of the week yet
    snapshots_create(organization=world.org, weeks=[week])
    assert organizations_due_for_weekly_emails() == [world.org.pk]
    weekly_emails_queue(organization=world.org, week=week)
    assert organizations_due_for_weekly_emails() == []


def received_by(server: Any, address: str, deadline: float) -> EmailMessage:
    while True:
        for message in server.messages():
            if address in message["To"]:
                return message
        assert time.monotonic() < deadline, f"no email reached {address}"
        time.sleep(0.2)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_after_the_snapshot_a_worker_sends_the_digest_over_smtp(
    tmp_path: Path, settings: Any
) -> None:
    from celery.contrib.testing.worker import start_worker

    from compliance import tasks
    from compliance.celery import app
    from tests.conftest import build_world

    world = build_world()
    backdate_world(world, 3)
    item_for(world, "owner")
    app.control.purge()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_server(tmp_path / "mail") as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            tasks.snapshot_tick.delay()
            deadline = time.monotonic() + 60
            digest = received_by(server, "admin@acme.test", deadline)
            week = received_by(server, "owner@acme.test", deadline)
            # A second tick finds everything done: nothing more is sent.
            tasks.snapshot_tick.delay()
            time.sleep(3)
            assert len(server.messages()) == 2

    assert WeeklyDigest.objects.filter(organization=world.org).count() == 1
    assert OutboundEmail.objects.filter(sent_at__isnull=True).count() == 0
    # The digest as a mail program sees it: text and HTML alternatives, the chart inline.
    assert digest["Subject"].startswith("Acme, ")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # (A long header is folded onto its next line: the value is the same once unfolded.)
    assert re.fullmatch(
        r"<http://[^/]+/email/unsubscribe/[^/]+/>", digest["List-Unsubscribe"].strip()
    )
    assert digest.get_content_type() == "multipart/related"
    text = digest.get_body(preferencelist=("plain",))
    html = digest.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "compliance program for the week" in text.get_content()
    assert 'src="cid:trend"' in html.get_content()
    [image] = [part for part in digest.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<trend>"
    assert image.get_content().startswith(b"\x89PNG")
    assert "Collect the Q4 access review" in week.get_body(preferencelist=("plain",)).get_content()
    # The bodies (one-time links, names) are not kept once sent.
    assert not OutboundEmail.objects.exclude(text_body="").filter(template__in=TEMPLATES).exists()


def test_a_delivered_email_keeps_no_image(weeks: World, tmp_path: Path, settings: Any) -> None:
    weekly_emails_queue(organization=weeks.org, week=LAST)
    [digest] = queued("weekly_digest")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_server(tmp_path / "mail") as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        assert email_deliver(digest.pk) is True
        [message] = server.messages()
    digest.refresh_from_db()
    assert digest.inline_images == [] and digest.html_body == ""
    assert message["To"] == "admin@acme.test"
