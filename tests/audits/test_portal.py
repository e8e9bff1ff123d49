"""The engagement pages (issue 12, items 3 and 5): who may open and post what (every view,
every persona), what an auditor's visit and download leave in the access log and the audit
trail, and a fixed number of queries whatever the evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.models import AccessLogEntry, Audit, AuditorAccess
from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from tests.conftest import World

pytestmark = pytest.mark.django_db

READERS = {"admin": 200, "owner": 200, "viewer": 200, "auditor": 200}
ADMIN_ONLY = {"admin": 200, "owner": 403, "viewer": 403, "auditor": 403}
NOBODY_ELSE = {"expired_auditor": 404, "outsider": 404, "anonymous": 302}

PAGES = {
    "audit_list": READERS,
    "audit_create": ADMIN_ONLY,
    "audit_detail": READERS,
    "audit_edit": ADMIN_ONLY,
    "audit_controls": READERS,
    "audit_evidence": READERS,
    "audit_tests": READERS,
    "audit_policies": READERS,
    "audit_people": READERS,
    "audit_access_log": ADMIN_ONLY,
    "audit_evidence_download": READERS,
}


def client_of(world: World, persona: str) -> Client:
    return Client() if persona == "anonymous" else world.client(persona)


def url(name: str, audit: Audit, revision_pk: int = 0) -> str:
    if name in ("audit_list", "audit_create"):
        return reverse(name, args=["acme"])
    if name == "audit_evidence_download":
        return reverse(name, args=["acme", audit.pk, revision_pk])
    return reverse(name, args=["acme", audit.pk])


@pytest.mark.parametrize("name", sorted(PAGES))
def test_who_may_open_each_page(
    world: World,
    engagement: Audit,
    make_evidence: Callable[..., EvidenceItem],
    name: str,
) -> None:
    item = make_evidence(dt.date(2026, 3, 1))
    expected = {**PAGES[name], **NOBODY_ELSE}
    got = {
        persona: client_of(world, persona)
        .get(url(name, engagement, item.latest_revision_id or 0))
        .status_code
        for persona in expected
    }
    assert got == expected


@pytest.mark.parametrize(
    "name", ["audit_create", "audit_edit", "audit_auditor_invite", "audit_auditor_revoke"]
)
def test_only_admins_change_an_engagement_or_its_auditors(
    world: World, engagement: Audit, name: str
) -> None:
    access = AuditorAccess.objects.get(audit=engagement)
    if name == "audit_create":
        target = reverse(name, args=["acme"])
    elif name == "audit_auditor_revoke":
        target = reverse(name, args=["acme", engagement.pk, access.pk])
    else:
        target = reverse(name, args=["acme", engagement.pk])
    data = {"email": "new@cpa.test", "name": "Changed"}
    events = AuditEvent.objects.count()
    for persona, status in {
        "owner": 403, "viewer": 403, "auditor": 403, "expired_auditor": 404, "outsider": 404,
    }.items():  # fmt: skip
        assert client_of(world, persona).post(target, data).status_code == status, persona
    assert AuditEvent.objects.count() == events
    engagement.refresh_from_db()
    assert engagement.name == "SOC 2 Type II 2026"
    assert AuditorAccess.objects.get(pk=access.pk).revoked_at is None


def test_the_admin_creates_an_engagement_from_the_form_and_bad_input_is_explained(
    world: World, adoption: object
) -> None:
    client = world.client("admin")
    bad = client.post(
        reverse("audit_create", args=["acme"]),
        {"name": "Type II", "adoption": world.org.adopted_frameworks.get().pk,
         "scope": [world.security.pk], "kind": "type2", "period_start": "2026-01-01",
         "period_end": "2026-02-01", "status": "planning"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "at least 3 months" in bad.content.decode()
    assert not Audit.objects.exists()
    good = client.post(
        reverse("audit_create", args=["acme"]),
        {"name": "Type II", "adoption": world.org.adopted_frameworks.get().pk,
         "scope": [world.security.pk], "kind": "type2", "period_start": "2026-01-01",
         "period_end": "2026-06-30", "status": "planning", "report_date": "2026-08-15"},
    )  # fmt: skip
    audit = Audit.objects.get()
    assert good.status_code == 302 and good["Location"] == url("audit_detail", audit)


def test_an_auditors_visits_and_downloads_are_logged_and_shown_to_admins(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    item = make_evidence(dt.date(2026, 3, 1), title="Quarterly access review")
    auditor = world.client("auditor")
    page = auditor.get(url("audit_evidence", engagement), HTTP_USER_AGENT="Firefox test")
    assert "Quarterly access review" in page.content.decode()
    download = auditor.get(url("audit_evidence_download", engagement, item.latest_revision_id))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    entries = list(AccessLogEntry.objects.order_by("pk"))
    assert [(e.action, e.user_label) for e in entries] == [
        ("view", "auditor@acme.test"),
        ("download", "auditor@acme.test"),
    ]
    assert entries[0].user_agent == "Firefox test" and entries[0].ip == "127.0.0.1"
    assert entries[0].path == url("audit_evidence", engagement)
    assert "Quarterly access review" in entries[1].object_repr
    assert AuditEvent.objects.filter(action="evidence.download").count() == 1
    # The organization's own readers are not logged as auditors.
    world.client("viewer").get(url("audit_evidence", engagement))
    assert AccessLogEntry.objects.count() == 2
    log = world.client("admin").get(url("audit_access_log", engagement)).content.decode()
    assert "Downloaded" in log and "auditor@acme.test" in log
    # The tab is offered to admins only.
    assert (
        "Access log" in world.client("admin").get(url("audit_detail", engagement)).content.decode()
    )
    assert "Access log" not in auditor.get(url("audit_detail", engagement)).content.decode()


def test_a_file_outside_the_window_cannot_be_downloaded_even_by_its_id(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    outside = make_evidence(dt.date(2026, 7, 1))
    response = world.client("auditor").get(
        url("audit_evidence_download", engagement, outside.latest_revision_id)
    )
    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(action="download").exists()
    # Nor through the program's own download: auditors have no program pages.
    program = world.client("auditor").get(
        reverse("evidence_download", args=["acme", outside.latest_revision_id])
    )
    assert program.status_code in (403, 404)


def test_an_auditor_is_offered_no_button_that_changes_anything(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    make_evidence(dt.date(2026, 3, 1))
    auditor = world.client("auditor")
    for name in ("audit_list", "audit_detail", "audit_controls", "audit_evidence", "audit_tests",
                 "audit_policies", "audit_people"):  # fmt: skip
        html = auditor.get(url(name, engagement)).content.decode()
        forms = [f.split("</form>")[0] for f in html.split("<form")[1:]]
        posting = [f for f in forms if 'method="post"' in f and "Sign out" not in f]
        assert not posting, (name, posting)
        for label in ("New engagement", "Edit engagement", "Share with auditor", "Revoke"):
            assert label not in html, (name, label)


@pytest.mark.parametrize("name", ["audit_evidence", "audit_controls", "audit_detail"])
def test_queries_do_not_grow_with_the_evidence(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem], name: str
) -> None:
    def count() -> int:
        client = world.client("auditor")
        client.get(url(name, engagement))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(name, engagement)).status_code == 200
        return len(captured.captured_queries)

    make_evidence(dt.date(2026, 2, 1))
    few = count()
    for day in range(2, 14):
        make_evidence(dt.date(2026, 3, day))
    assert count() == few


def test_every_evidence_download_by_anyone_is_an_audit_event(
    world: World, make_evidence: Callable[..., EvidenceItem]
) -> None:
    item = make_evidence(dt.date(2026, 3, 1))
    revision = item.latest_revision
    assert revision is not None
    web = world.client("viewer").get(reverse("evidence_download", args=["acme", revision.pk]))
    assert web.status_code == 200
    api = world.api("owner").get(
        reverse("api-evidence-revision-download", args=["acme", revision.pk])
    )
    assert api.status_code == 200
    events = AuditEvent.objects.filter(action="evidence.download").order_by("seq")
    assert [(e.actor.email, e.after["via"]) for e in events] == [
        ("viewer@acme.test", "web"),
        ("owner@acme.test", "api"),
    ]
    assert events[0].after["sha256"] == revision.sha256


def test_the_api_lists_the_engagements_each_may_see(
    world: World, engagement: Audit, make_audit: Callable[..., Audit]
) -> None:
    private = make_audit(name="Internal review")
    listed = world.api("auditor").get("/api/organizations/acme/audits/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [engagement.pk]
    assert listed.json()["results"][0]["scope"] == ["SEC"]
    assert (
        world.api("auditor").get(f"/api/organizations/acme/audits/{private.pk}/").status_code == 404
    )
    both = world.api("viewer").get("/api/organizations/acme/audits/").json()["results"]
    assert {row["id"] for row in both} == {engagement.pk, private.pk}
    assert world.api("expired_auditor").get("/api/organizations/acme/audits/").status_code == 404
    assert world.api("outsider").get("/api/organizations/acme/audits/").status_code == 404
    from compliance import mfa

    mfa.mfa_disable(user=world.users["auditor"])
    refused = world.api("auditor").get("/api/organizations/acme/audits/")
    assert refused.status_code == 403 and "two-factor" in refused.json()["detail"]


def test_a_type_1_engagement_shows_each_control_as_it_stood_on_the_date(
    world: World, make_audit: Callable[..., Audit], engagement: Audit
) -> None:
    from audits import services
    from audits.models import AuditType
    from controls.models import Control

    as_of = dt.date.today() - dt.timedelta(days=1)
    type_1 = make_audit(name="Type I", kind=AuditType.TYPE_1, as_of=as_of, report_date=None)
    services.auditor_invite(
        actor=world.users["admin"],
        audit=type_1,
        email="auditor@acme.test",
        expires_on=dt.date.today() + dt.timedelta(days=30),
    )
    # The world's controls exist since last month; one created today did not exist on the date.
    from controls.models import ControlRequirement

    month_ago = timezone.now() - dt.timedelta(days=30)
    Control.objects.filter(organization=world.org).update(created_at=month_ago)
    ControlRequirement.objects.filter(control__organization=world.org).update(created_at=month_ago)
    newer = Control.objects.create(
        organization=world.org, ref_id="NEW-01", name="New control", category="access"
    )
    from tests.factories import map_control

    map_control(newer, world.req_a)
    html = world.client("auditor").get(url("audit_controls", type_1)).content.decode()
    assert html.count('data-testid="as-of-state"') == 3
    assert f"Did not exist on {as_of:%-d %b %Y}" in html
    assert "Not ready on" in html or "Ready on" in html
    # A Type II engagement has no single date to show.
    period = world.client("auditor").get(url("audit_controls", engagement)).content.decode()
    assert 'data-testid="as-of-state"' not in period


def test_an_item_shows_its_newest_revisions_in_the_window_and_counts_the_rest(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    from evidence import services as evidence_services
    from tests.evidence.conftest import pdf_upload

    item = make_evidence(dt.date(2026, 1, 5), title="Weekly log review")
    for week in range(1, 8):
        evidence_services.evidence_add_revision(
            actor=world.users["admin"],
            item=item,
            upload=pdf_upload(f"week-{week}.pdf", b"%PDF-1.4 week " + bytes([48 + week])),
            effective_date=dt.date(2026, 1, 5) + dt.timedelta(weeks=week),
        )
    html = world.client("auditor").get(url("audit_evidence", engagement)).content.decode()
    assert html.count('data-testid="download"') == 5
    assert "and 3 older in the window" in html


def test_an_auditors_reads_through_the_api_are_in_the_access_log(
    world: World, engagement: Audit
) -> None:
    api = world.api("auditor")
    assert api.get(f"/api/organizations/acme/audits/{engagement.pk}/").status_code == 200
    assert api.get(f"/api/organizations/acme/audits/{engagement.pk}/requests/").status_code == 200
    assert api.get("/api/organizations/acme/audits/").status_code == 200
    logged = list(AccessLogEntry.objects.order_by("pk").values_list("audit_id", "path"))
    assert logged == [
        (engagement.pk, f"/api/organizations/acme/audits/{engagement.pk}/"),
        (engagement.pk, f"/api/organizations/acme/audits/{engagement.pk}/requests/"),
        (None, "/api/organizations/acme/audits/"),
    ]
    # A refused read is not a read; the organization's own readers are not logged.
    assert api.get("/api/organizations/acme/audits/999999/").status_code == 404
    world.api("viewer").get(f"/api/organizations/acme/audits/{engagement.pk}/")
    assert AccessLogEntry.objects.count() == 3


def test_an_admin_cannot_revoke_through_another_engagements_url(
    world: World, engagement: Audit, make_audit: Callable[..., Audit]
) -> None:
    other = make_audit(name="Other engagement")
    access = AuditorAccess.objects.get(audit=engagement)
    response = world.client("admin").post(
        reverse("audit_auditor_revoke", args=["acme", other.pk, access.pk])
    )
    assert response.status_code == 404
    assert AuditorAccess.objects.get(pk=access.pk).revoked_at is None


def test_sharing_from_the_page_explains_a_bad_address_and_changes_nothing(
    world: World, engagement: Audit
) -> None:
    events = AuditEvent.objects.count()
    page = world.client("admin").post(
        reverse("audit_auditor_invite", args=["acme", engagement.pk]),
        {"email": "viewer@acme.test"},
    )
    assert page.status_code == 400
    assert "auditors sign in with an account of their own" in page.content.decode()
    assert AuditorAccess.objects.filter(audit=engagement).count() == 1
    assert AuditEvent.objects.count() == events


def test_the_vendors_of_the_people_tab_are_capped_not_paged_with_the_people(
    world: World, engagement: Audit
) -> None:
    from audits.views.portal import VENDORS_SHOWN
    from tests.vendors.factories import VendorFactory

    for n in range(VENDORS_SHOWN + 5):
        VendorFactory(
            organization=world.org, name=f"Vendor {n:03}", onboarded_on=dt.date(2025, 1, 1)
        )
    page = world.client("auditor").get(url("audit_people", engagement)).content.decode()
    assert page.count("Vendor 0") == VENDORS_SHOWN
    assert f"The first {VENDORS_SHOWN} of {VENDORS_SHOWN + 5} vendors" in page
    # The people's ?page= does not move the vendors along.
    second = world.client("auditor").get(url("audit_people", engagement) + "?page=2")
    assert "Vendor 000" in second.content.decode()
