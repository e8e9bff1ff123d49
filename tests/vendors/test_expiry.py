"""Vendor document expiry: the daily reminders (once per document, kind and date, to the owner or
else the vendor managers) and the documents to renew in "My work"."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance import work
from compliance.emails import email_deliver
from compliance.models import AuditEvent, Membership, Organization, OutboundEmail
from compliance.work import WorkItem, work_groups, work_items
from controls.checks.vendors import document_recency
from people.completion import organization_today
from tests.conftest import World
from tests.smtp_server import smtp_server
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors import expiry
from vendors.documents import vendor_document_upload
from vendors.models import (
    AuditOpinion,
    DocumentType,
    ExpiryReminder,
    RiskTier,
    Vendor,
    VendorDocument,
    VendorStatus,
)
from vendors.tasks import vendor_documents_remind, vendor_documents_tick

DAY = dt.timedelta(days=1)


def add(
    world: World,
    vendor: Vendor,
    doc_type: str = DocumentType.DPA,
    *,
    valid_until: dt.date | None,
    issued_on: dt.date | None = None,
) -> VendorDocument:
    """A document of ``vendor`` through the upload service, with what its type needs."""
    facts: dict[str, Any] = {"valid_until": valid_until, "issued_on": issued_on}
    if doc_type in (DocumentType.SOC2_TYPE1, DocumentType.SOC2_TYPE2):
        facts["opinion"] = AuditOpinion.UNQUALIFIED
    start = (issued_on or valid_until or dt.date(2026, 1, 1)) - dt.timedelta(days=400)
    if doc_type == DocumentType.SOC2_TYPE1:
        facts["as_of"] = start
    if doc_type in (DocumentType.SOC2_TYPE2, DocumentType.BRIDGE_LETTER):
        facts["period_start"], facts["period_end"] = start, start + dt.timedelta(days=300)
    return vendor_document_upload(
        actor=world.users["admin" if vendor.organization_id == world.org.pk else "outsider"],
        vendor=vendor,
        doc_type=doc_type,
        upload=SimpleUploadedFile("doc.pdf", b"%PDF a document", content_type="application/pdf"),
        **facts,
    )


def vendor(world: World, name: str, owner: str | None = "owner", **kwargs: Any) -> Vendor:
    return VendorFactory(
        organization=world.org,
        name=name,
        owner=world.users[owner] if owner else None,
        **kwargs,
    )


def remind(world: World, today: dt.date) -> list[ExpiryReminder]:
    return expiry.vendor_document_reminders_send(organization=world.org, today=today)


def emails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template="vendor_document_expiry").order_by("pk"))


# --- the schedule --------------------------------------------------------------------------------


def test_the_reminders_run_daily_on_beat_and_expire_before_the_next_run() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["vendor_documents_tick"]
    assert entry["task"] == "vendors.tasks.vendor_documents_tick"
    assert entry["options"]["expires"] < 24 * 3600
    schedule = entry["schedule"]
    assert schedule.hour == {6} and schedule.minute == {47}
    assert settings.VENDOR_DOCUMENT_REMINDER_DAYS == 30


# --- which documents, and when -------------------------------------------------------------------


def test_the_window_edges_decide_soon_expired_or_nothing(world: World) -> None:
    today = dt.date(2027, 2, 1)
    stripe = vendor(world, "Stripe")
    in_31 = add(world, stripe, DocumentType.DPA, valid_until=today + 31 * DAY)
    in_30 = add(world, stripe, DocumentType.INSURANCE, valid_until=today + 30 * DAY)
    today_doc = add(world, stripe, DocumentType.ISO27001, valid_until=today)
    expired = add(world, stripe, DocumentType.PENTEST, valid_until=today - DAY)
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=None, issued_on=today - 9 * DAY)

    reminders = remind(world, today)

    kinds = {r.document_id: r.kind for r in reminders}
    assert kinds == {in_30.pk: "soon", today_doc.pk: "soon", expired.pk: "expired"}
    assert in_31.pk not in kinds
    assert all(r.valid_until == r.document.valid_until for r in reminders)
    [email] = emails()
    assert email.to == ["owner@acme.test"]
    assert "The Insurance certificate of Stripe expires on 3 Mar 2027 (in 30 days)." in (
        email.text_body
    )
    assert "The ISO 27001 certificate of Stripe expires today (1 Feb 2027)." in email.text_body
    assert "The Penetration test summary of Stripe expired on 31 Jan 2027." in email.text_body
    assert "Data processing agreement" not in email.text_body
    assert email.subject == "Acme: 3 vendor documents to renew"


def test_a_second_run_sends_nothing_and_expiry_sends_the_expired_reminder(world: World) -> None:
    today = dt.date(2027, 2, 1)
    stripe = vendor(world, "Stripe")
    report = add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=dt.date(2027, 3, 3),
                 issued_on=dt.date(2026, 3, 3))  # fmt: skip

    assert len(remind(world, today)) == 1
    assert remind(world, today) == []
    assert remind(world, today + 10 * DAY) == []  # still "soon": already told
    [soon] = emails()
    assert soon.subject == "Expiring soon: the SOC 2 Type II report of Stripe"
    assert "The SOC 2 Type II report of Stripe expires on 3 Mar 2027 (in 30 days)." in (
        soon.text_body
    )

    [expired] = remind(world, dt.date(2027, 3, 4))
    assert (expired.document_id, expired.kind) == (report.pk, "expired")
    assert remind(world, dt.date(2027, 4, 4)) == []
    assert len(emails()) == 2
    assert emails()[1].subject == "Expired: the SOC 2 Type II report of Stripe"
    assert AuditEvent.objects.filter(action="vendor.document.expiry_reminder").count() == 2


def test_a_replaced_document_does_not_nag(world: World) -> None:
    today = dt.date(2027, 2, 1)
    stripe = vendor(world, "Stripe")
    # A Type I replaced by a later Type II; the Type II itself is valid for a year.
    add(world, stripe, DocumentType.SOC2_TYPE1, valid_until=today - 5 * DAY,
        issued_on=today - 400 * DAY)  # fmt: skip
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=today + 300 * DAY,
        issued_on=today - 60 * DAY)  # fmt: skip
    # A bridge letter made useless by that later report.
    add(world, stripe, DocumentType.BRIDGE_LETTER, valid_until=today - DAY,
        issued_on=today - 200 * DAY)  # fmt: skip
    # A DPA renewed (the new one has no expiry): the old one expiring in 10 days says nothing.
    add(world, stripe, DocumentType.DPA, valid_until=today + 10 * DAY, issued_on=today - 700 * DAY)
    add(world, stripe, DocumentType.DPA, valid_until=None, issued_on=today - 3 * DAY)
    # An ISO certificate is no replacement for an insurance certificate.
    insurance = add(world, stripe, DocumentType.INSURANCE, valid_until=today - DAY,
                    issued_on=today - 365 * DAY)  # fmt: skip
    add(world, stripe, DocumentType.ISO27001, valid_until=today + 365 * DAY, issued_on=today)

    assert [r.document_id for r in remind(world, today)] == [insurance.pk]


def test_the_sql_agrees_with_the_checks_idea_of_the_latest_report(world: World) -> None:
    today = dt.date(2027, 2, 1)
    stripe = vendor(world, "Stripe")
    # Same issue date: the later row wins; no issue date: the upload date counts.
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=today + 99 * DAY, issued_on=today)
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=today + 99 * DAY, issued_on=today)
    add(world, stripe, DocumentType.SOC2_TYPE1, valid_until=today + 99 * DAY, issued_on=None)
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=today + 99 * DAY,
        issued_on=today - 900 * DAY)  # fmt: skip
    reports = list(VendorDocument.objects.filter(vendor=stripe))
    latest = max(reports, key=document_recency)

    current = expiry.current_documents(VendorDocument.objects.filter(vendor=stripe))
    assert [d.pk for d in current] == [latest.pk]


def test_offboarded_vendors_and_documents_without_expiry_send_nothing(world: World) -> None:
    today = dt.date(2027, 2, 1)
    gone = vendor(world, "Gone", status=VendorStatus.OFFBOARDED, offboarded_on=today - DAY)
    add(world, gone, DocumentType.DPA, valid_until=today + 5 * DAY)
    add(world, vendor(world, "Forever"), DocumentType.DPA, valid_until=None)
    assert remind(world, today) == []
    assert emails() == []


# --- who is told ---------------------------------------------------------------------------------


def test_without_an_owner_the_vendor_managers_are_told_never_another_organizations(
    world: World,
) -> None:
    today = dt.date(2027, 2, 1)
    add(world, vendor(world, "Nobody's", owner=None), valid_until=today + 3 * DAY)
    # Owned by someone who belongs only to Globex (an admin there): not a person to tell here.
    add(world, vendor(world, "Stranger's", owner="outsider"), valid_until=today + 4 * DAY)
    # Owned by a member whose membership ended.
    Membership.objects.filter(user=world.users["granted"]).update(
        expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    add(world, vendor(world, "Former's", owner="granted"), valid_until=today + 5 * DAY)
    globex = VendorFactory(organization=world.other_org, name="Globex vendor", owner=None)
    add(world, globex, valid_until=today + 3 * DAY)

    remind(world, today)

    [email] = emails()
    assert email.to == ["admin@acme.test"]
    assert "vendor manager of Acme" in email.text_body
    assert "Globex" not in email.text_body + email.html_body
    for name in ("Nobody&#x27;s", "Stranger&#x27;s", "Former&#x27;s"):
        assert name in email.html_body
    assert not OutboundEmail.objects.filter(to__contains=["outsider@globex.test"]).exists()


def test_with_nobody_left_to_tell_the_reminder_is_recorded_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    today = dt.date(2027, 2, 1)
    add(world, vendor(world, "Nobody's", owner=None), valid_until=today + 3 * DAY)
    type(world.users["admin"]).objects.filter(pk=world.users["admin"].pk).update(is_active=False)

    assert len(remind(world, today)) == 1
    assert emails() == []
    assert (
        "acme: nobody to remind of 1 vendor document(s) to renew (no owner, no manager)."
        in caplog.text
    )
    assert remind(world, today) == []


def test_the_task_reminds_each_organization_in_its_own_time_zone(world: World) -> None:
    # Globex is far ahead of UTC: its "today" may be tomorrow in UTC; the task asks each one.
    Organization.objects.filter(pk=world.other_org.pk).update(time_zone="Pacific/Kiritimati")
    acme_owner = vendor(world, "Stripe")

    acme_today = organization_today(world.org)
    add(world, acme_owner, valid_until=acme_today + 30 * DAY)
    globex = VendorFactory(organization=world.other_org, name="Initech", owner=None)
    globex_today = organization_today(Organization.objects.get(pk=world.other_org.pk))
    add(world, globex, valid_until=globex_today + 30 * DAY)

    assert vendor_documents_tick() == 2
    assert vendor_documents_tick() == 0
    assert sorted(e.to[0] for e in emails()) == ["outsider@globex.test", "owner@acme.test"]
    assert vendor_documents_remind(999_999) == 0  # gone: logged, nothing sent


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once() -> None:
    from tests.conftest import build_world

    world = build_world()
    today = dt.date(2027, 2, 1)
    for index in range(5):
        add(world, vendor(world, f"Vendor {index}"), valid_until=today + index * DAY)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            remind(world, today)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ExpiryReminder.objects.count() == 5
    assert len(emails()) == 1


def test_the_emails_reach_a_real_smtp_server(world: World, settings: Any, tmp_path: Path) -> None:
    today = dt.date(2027, 2, 1)
    stripe = vendor(world, "Stripe")
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=dt.date(2027, 3, 3),
        issued_on=dt.date(2026, 3, 3))  # fmt: skip
    add(world, vendor(world, "Loose ends", owner=None), valid_until=today - 2 * DAY)
    remind(world, today)

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_server(tmp_path / "mail") as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        for email in emails():
            assert email_deliver(email.pk) is True
        received = {m["To"]: m for m in server.messages()}

    assert set(received) == {"owner@acme.test", "admin@acme.test"}
    owner = received["owner@acme.test"]
    assert owner["Subject"] == "Expiring soon: the SOC 2 Type II report of Stripe"
    text = owner.get_body(preferencelist=("plain",)).get_content()
    html = owner.get_body(preferencelist=("html",)).get_content()
    link = settings.SITE_URL + reverse("vendor_detail", args=["acme", stripe.pk]) + "#documents"
    assert text.startswith("Hello Owner,")
    assert "The SOC 2 Type II report of Stripe expires on 3 Mar 2027 (in 30 days)." in text
    assert link in text and f'href="{link}"' in html
    assert "soc2_type2" not in text + html
    admin = received["admin@acme.test"]
    assert admin["Subject"] == "Expired: the Data processing agreement of Loose ends"
    assert "expired on 30 Jan 2027" in admin.get_body(preferencelist=("plain",)).get_content()


def test_the_reminders_cost_the_same_queries_for_few_or_many_documents(world: World) -> None:
    today = dt.date(2027, 2, 1)

    def queries(first: int, count: int) -> int:
        for index in range(first, first + count):
            add(world, vendor(world, f"Owned {index}"), valid_until=today + index % 30 * DAY)
            add(world, vendor(world, f"Loose {index}", owner=None), valid_until=today - DAY)
        with CaptureQueriesContext(connection) as captured:
            sent = remind(world, today)
        assert len(sent) == 2 * count  # the new ones only: one email to the owner, one to admins
        return len(captured.captured_queries)

    few = queries(0, 2)
    assert queries(2, 25) == few
    assert len(emails()) == 4


# --- My work -------------------------------------------------------------------------------------


def renew_items(world: World, persona: str) -> list[WorkItem]:
    user = world.users[persona]
    return [
        i
        for i in work_items(user=user, organization=world.org)
        if i.kind in ("Vendor document", "Vendor documents")
    ]


def test_the_owner_is_asked_to_renew_their_vendors_documents(world: World) -> None:
    today = organization_today(world.org)
    stripe = vendor(world, "Stripe", onboarded_on=today - 900 * DAY, risk_tier=RiskTier.HIGH)
    ReviewFactory(vendor=stripe, reviewed_on=today - 400 * DAY)  # its review is overdue too
    add(world, stripe, DocumentType.SOC2_TYPE2, valid_until=today + 12 * DAY,
        issued_on=today - 300 * DAY)  # fmt: skip
    add(world, stripe, DocumentType.DPA, valid_until=today - 3 * DAY, issued_on=today - 800 * DAY)
    add(world, stripe, DocumentType.INSURANCE, valid_until=today + 31 * DAY)
    add(world, vendor(world, "Adminco", owner="admin"), valid_until=today + 2 * DAY)

    items = renew_items(world, "owner")

    assert [(i.title, i.status, i.tone, i.due) for i in items] == [
        ("Renew Stripe's Data processing agreement", "Expired", "bad", today - 3 * DAY),
        ("Renew Stripe's SOC 2 Type II report", "Expires in 12 days", "warn", today + 12 * DAY),
    ]
    assert items[0].url == reverse("vendor_detail", args=["acme", stripe.pk]) + "#documents"
    reviews = [i for i in work_items(user=world.users["owner"], organization=world.org)
               if i.kind == "Vendor review"]  # fmt: skip
    assert [i.title for i in reviews] == ["Review Stripe (high tier)"]  # still there

    html = world.client("owner").get(reverse("my_work", args=["acme"])).content.decode()
    assert "Vendor documents to renew" in html
    assert "Renew Stripe&#x27;s SOC 2 Type II report" in html
    assert "soc2_type2" not in html


def test_members_see_nothing_and_managers_get_one_line_for_the_others(world: World) -> None:
    today = organization_today(world.org)
    add(world, vendor(world, "Stripe"), valid_until=today + 5 * DAY)
    add(world, vendor(world, "Loose", owner=None), valid_until=today - DAY)
    add(world, vendor(world, "Adminco", owner="admin"), valid_until=today + 20 * DAY)
    add(world, VendorFactory(organization=world.other_org, name="Initech"), valid_until=today)

    for persona in ("member", "viewer", "granted", "auditor", "expired_auditor"):
        assert renew_items(world, persona) == [], persona
    # Globex's admin hears of Globex's vendor only.
    [globex] = [
        i
        for i in work_items(user=world.users["outsider"], organization=world.other_org)
        if i.kind == "Vendor documents"
    ]
    assert globex.title == "1 other vendor has documents to renew"
    assert globex.url == reverse("vendor_list", args=["globex"])

    admin = {i.kind: i for i in renew_items(world, "admin")}
    assert admin["Vendor document"].title == "Renew Adminco's Data processing agreement"
    others = admin["Vendor documents"]
    assert others.title == "2 other vendors have documents to renew"
    assert (others.status, others.tone) == ("Expired", "bad")
    assert others.url == reverse("vendor_list", args=["acme"])


def test_the_renew_group_is_capped_and_costs_the_same_queries_for_few_or_many(
    world: World,
) -> None:
    today = organization_today(world.org)
    admin = world.users["admin"]
    [vendor_work] = [s for s in work._SOURCES if s.__module__ == "vendors.work"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            groups = [g for g in vendor_work(admin, world.org) if g is not None]
        assert {g.key for g in groups} >= {"vendor_documents", "other_vendor_documents"}
        return len(captured.captured_queries)

    for index in range(3):
        add(world, vendor(world, f"Mine {index}", owner="admin"), valid_until=today + index * DAY)
        add(world, vendor(world, f"Theirs {index}"), valid_until=today - index * DAY)
    few = queries()
    for index in range(3, 15):
        add(world, vendor(world, f"Mine {index}", owner="admin"), valid_until=today + index * DAY)
        add(world, vendor(world, f"Theirs {index}"), valid_until=today - index * DAY)
    assert queries() == few

    [group] = [g for g in work_groups(user=admin, organization=world.org)
               if g.key == "vendor_documents"]  # fmt: skip
    assert (len(group.items), group.total) == (work.GROUP_LIMIT, 15)
    assert [i.title for i in group.items][:2] == [
        "Renew Mine 0's Data processing agreement",
        "Renew Mine 1's Data processing agreement",
    ]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_tick_and_sends_the_email() -> None:
    from celery.contrib.testing.worker import start_worker
    from django.core import mail

    from compliance.celery import app
    from tests.conftest import build_world

    world = build_world()
    today = organization_today(world.org)
    add(world, vendor(world, "Stripe"), DocumentType.INSURANCE, valid_until=today + 7 * DAY)
    app.control.purge()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        vendor_documents_tick.delay()
        deadline = dt.datetime.now() + dt.timedelta(seconds=20)
        while not mail.outbox and dt.datetime.now() < deadline:
            threading.Event().wait(0.1)
    [message] = mail.outbox
    assert message.to == ["owner@acme.test"]
    assert message.subject == "Expiring soon: the Insurance certificate of Stripe"
    assert ExpiryReminder.objects.get().kind == "soon"
