"""The public trust page: publishing, sections, certifications from an engagement, the live
status of control categories, the cache and its headers, security.txt, the admin side's
permissions and the public page's query count."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits import services as audit_services
from audits.models import AuditStatus, AuditType
from compliance.models import AuditEvent
from controls.models import Control, ControlTest, RunStatus, TestRun, Trigger
from controls.models.readiness import ControlReadiness
from tests.conftest import World
from tests.controls.monitoring_helpers import make_test
from tests.evidence.conftest import add_evidence
from tests.factories import ControlFactory, recompute
from tests.trust.page_helpers import admin, own_cache, published
from tests.vendors.factories import VendorFactory
from trust import selectors, services
from trust.models import TrustControlCategory
from trust.selectors import LiveStatus, category_statuses

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
__all__ = ["own_cache"]

PUBLIC = "/trust/acme/"


def get(path: str = PUBLIC, **headers: Any) -> Any:
    return Client().get(path, headers=headers)


# --- publishing ---------------------------------------------------------------------------------


def test_unpublished_and_unknown_are_the_same_404(world: World) -> None:
    services.trust_page_update(actor=admin(world), organization=world.org, headline="Hello")
    unpublished, unknown = get(), get("/trust/nobody/")
    assert unpublished.status_code == unknown.status_code == 404

    def strip(body: bytes) -> bytes:
        body = re.sub(rb'nonce="[^"]*"', b"", body)
        body = re.sub(rb'"X-CSRFToken": "[^"]*"', b"", body)
        return body.replace(b"acme", b"nobody")

    assert strip(unpublished.content) == strip(unknown.content)
    assert get("/trust/acme/security.txt").status_code == 404


def test_publish_and_unpublish_are_audited_and_switch_the_page(world: World) -> None:
    published(world)
    assert get().status_code == 200
    assert AuditEvent.objects.filter(action="trust.page.publish").count() == 1
    services.trust_page_unpublish(actor=admin(world), organization=world.org)
    assert AuditEvent.objects.filter(action="trust.page.unpublish").count() == 1
    assert get().status_code == 404


def test_sections_turned_off_are_not_shown(world: World) -> None:
    published(world)
    services.trust_faq_create(
        actor=admin(world),
        organization=world.org,
        question="Do you encrypt data at rest?",
        answer="Yes, AES-256.",
        is_published=True,
    )
    assert "Do you encrypt data at rest?" in get().content.decode()
    services.trust_page_update(actor=admin(world), organization=world.org, show_faq=False)
    assert "Do you encrypt data at rest?" not in get().content.decode()


def test_bad_settings_change_nothing(world: World) -> None:
    from django.core.exceptions import ValidationError

    page = published(world)
    with pytest.raises(ValidationError):
        services.trust_page_update(
            actor=admin(world), organization=world.org, security_email="not an email"
        )
    page.refresh_from_db()
    assert page.security_email == "security@acme.test"


def test_a_policy_url_typed_without_a_scheme_is_read_as_https() -> None:
    from trust.page_forms import PageSettingsForm

    form = PageSettingsForm(
        data={
            "headline": "Security at Acme",
            "security_email": "security@acme.test",
            "security_policy_url": "acme.test/disclosure",
            "preferred_languages": "en",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["security_policy_url"] == "https://acme.test/disclosure"


# --- certifications -----------------------------------------------------------------------------


def test_certification_from_engagement_follows_the_engagement(world: World) -> None:
    published(world)
    audit = audit_services.audit_create(
        actor=admin(world),
        organization=world.org,
        adoption=world.adoption,
        scope=[world.security],
        name="SOC 2 Type I",
        kind=AuditType.TYPE_1,
        as_of=dt.date(2026, 3, 1),
    )
    cert = services.trust_certification_from_audit(
        actor=admin(world), organization=world.org, audit=audit, is_published=True
    )
    assert cert.name == "TSC Type I"
    body = get().content.decode()
    assert "Type I as of 1 Mar 2026" in body and "Planned" in body
    # The engagement moves on: the page reads it at render, and its save invalidates the cache.
    audit_services.audit_update(
        actor=admin(world),
        audit=audit,
        scope=[world.security],
        name="SOC 2 Type I",
        kind=AuditType.TYPE_1,
        as_of=dt.date(2026, 3, 1),
        status=AuditStatus.CLOSED,
        report_date=dt.date(2026, 4, 20),
    )
    body = get().content.decode()
    assert "Achieved" in body and "report dated 20 Apr 2026" in body
    view = selectors.certification_view(type(cert).objects.select_related("audit").get(pk=cert.pk))
    assert view.status == "achieved"


def test_certification_by_hand_and_unpublished_hidden(world: World) -> None:
    published(world)
    services.trust_certification_create(
        actor=admin(world),
        organization=world.org,
        name="ISO/IEC 27001:2022",
        status="achieved",
        report_date=dt.date(2026, 2, 2),
        is_published=True,
    )
    services.trust_certification_create(
        actor=admin(world), organization=world.org, name="PCI DSS draft", is_published=False
    )
    body = get().content.decode()
    assert "ISO/IEC 27001:2022" in body and "report dated 2 Feb 2026" in body
    assert "PCI DSS draft" not in body


def test_engagement_of_another_organization_is_refused(world: World) -> None:
    from django.core.exceptions import ValidationError

    from controls.models import AdoptedFramework

    other = audit_services.audit_create(
        actor=world.users["outsider"],
        organization=world.other_org,
        adoption=AdoptedFramework.objects.get(organization=world.other_org),
        scope=[world.security],
        name="Globex SOC 2",
        kind=AuditType.TYPE_1,
        as_of=dt.date(2026, 3, 1),
    )
    with pytest.raises(ValidationError):
        services.trust_certification_from_audit(
            actor=admin(world), organization=world.org, audit=other
        )


# --- live status --------------------------------------------------------------------------------


def _category(world: World, *controls: Control) -> TrustControlCategory:
    return services.trust_category_create(
        actor=admin(world),
        organization=world.org,
        controls=list(controls),
        title="Access control",
        is_published=True,
    )


def _run(test: ControlTest, status: str, at: dt.datetime) -> TestRun:
    run = TestRun.objects.create(
        control_test=test,
        organization_id=test.organization_id,
        trigger=Trigger.MANUAL,
        status=status,
        started_at=at,
        finished_at=at,
    )
    ControlTest.objects.filter(pk=test.pk).update(last_run=run)
    return run


def _status(category: TrustControlCategory) -> selectors.CategoryStatus:
    return category_statuses([category])[0]


def test_no_tests_and_no_evidence_is_not_monitored(world: World) -> None:
    category = _category(world, world.control)
    row = _status(category)
    assert row.status == LiveStatus.NOT_MONITORED and row.last_verified is None
    assert _status(_category_empty(world)).status == LiveStatus.NOT_MONITORED


def _category_empty(world: World) -> TrustControlCategory:
    return services.trust_category_create(
        actor=admin(world), organization=world.org, controls=[], title="Empty", is_published=True
    )


def test_passing_test_gives_passing_and_last_verified(world: World) -> None:
    category = _category(world, world.control)
    test = make_test(world)
    at = timezone.now() - dt.timedelta(hours=2)
    _run(test, RunStatus.PASSED, at)
    recompute(world.org)
    ControlReadiness.objects.filter(control=world.control).update(ready=True)
    row = _status(category)
    assert row.status == LiveStatus.PASSING
    assert row.last_verified == at


def test_failing_test_needs_attention_and_keeps_the_last_pass_of_another(world: World) -> None:
    other = ControlFactory(organization=world.org, status="implemented")
    category = _category(world, world.control, other)
    passing, failing = make_test(world), make_test(world, other, name="MFA enforced")
    at = timezone.now() - dt.timedelta(hours=3)
    _run(passing, RunStatus.PASSED, at)
    _run(failing, RunStatus.FAILED, timezone.now())
    row = _status(category)
    assert row.status == LiveStatus.ATTENTION
    assert row.failing == 1
    # Only a passing run verifies: the newer failing run does not move "last verified".
    assert row.last_verified == at


def test_stale_evidence_needs_attention(world: World) -> None:
    control = ControlFactory(
        organization=world.org,
        status="implemented",
        frequency="quarterly",
        owner=world.users["owner"],
    )
    category = _category(world, control)
    item = add_evidence(
        world, control, effective=dt.date.today() - dt.timedelta(days=400), accept=True
    )
    recompute(world.org)
    readiness = ControlReadiness.objects.get(control=control)
    assert not readiness.ready  # stale evidence: the stored state says so
    row = _status(category)
    assert row.status == LiveStatus.ATTENTION
    revision = item.revisions.get()
    assert row.last_verified == revision.reviewed_at


def test_fresh_accepted_evidence_passes(world: World) -> None:
    control = ControlFactory(
        organization=world.org,
        status="implemented",
        frequency="quarterly",
        owner=world.users["owner"],
    )
    category = _category(world, control)
    add_evidence(world, control, effective=dt.date.today(), accept=True)
    recompute(world.org)
    assert ControlReadiness.objects.get(control=control).ready
    assert _status(category).status == LiveStatus.PASSING


def test_category_takes_only_the_organizations_controls(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _category(world, world.foreign_control)
    assert not TrustControlCategory.objects.exists()


# --- cache and headers --------------------------------------------------------------------------


def test_headers_csp_etag_last_modified_no_cookie(world: World) -> None:
    published(world)
    response = get()
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    assert "unsafe-inline" not in csp and "script-src" not in csp and "nonce" not in csp
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers and not response.cookies
    body = response.content.decode()
    assert "<script" not in body and "style=" not in body and "<style" not in body
    assert "csrfmiddlewaretoken" not in body


def test_unchanged_page_answers_304(world: World) -> None:
    published(world)
    first = get()
    again = get(If_None_Match=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    since = get(If_Modified_Since=first["Last-Modified"])
    assert since.status_code == 304
    assert get(If_None_Match='"other"').status_code == 200


def test_change_gives_new_body_and_etag(world: World) -> None:
    published(world)
    first = get()
    services.trust_page_update(actor=admin(world), organization=world.org, headline="New words")
    second = get(If_None_Match=first["ETag"])
    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]
    assert "New words" in second.content.decode()


def test_subprocessor_flag_removed_removes_it_from_the_cached_page(world: World) -> None:

    published(world)
    vendor = VendorFactory(
        organization=world.org,
        name="Cloudy Hosting",
        is_subprocessor=True,
        description="Hosting",
        location="EU",
    )
    assert "Cloudy Hosting" in get().content.decode()
    vendor.is_subprocessor = False
    vendor.save()  # however it is changed (vendors' form, the admin site, an import)
    assert "Cloudy Hosting" not in get().content.decode()


def test_cached_page_is_served_without_queries_but_the_page_lookup(world: World) -> None:
    published(world)
    get()
    with CaptureQueriesContext(connection) as queries:
        assert get().status_code == 200
    assert len(queries) <= 1, [q["sql"] for q in queries.captured_queries]


# --- security.txt -------------------------------------------------------------------------------


def test_security_txt_follows_rfc_9116(world: World) -> None:
    published(
        world,
        security_policy_url="https://acme.test/disclosure",
        security_txt_expires=dt.date(2027, 6, 30),
        preferred_languages="en, DE",
    )
    response = get("/trust/acme/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines == [
        "Contact: mailto:security@acme.test",
        "Expires: 2027-06-30T00:00:00Z",
        "Preferred-Languages: en, de",
        "Policy: https://acme.test/disclosure",
        "Canonical: http://testserver/trust/acme/security.txt",
    ]
    assert "Set-Cookie" not in response.headers


def test_security_txt_expires_by_default_within_a_year(world: World) -> None:
    published(world)
    body = get("/trust/acme/security.txt").content.decode()
    match = re.search(r"^Expires: (\S+)$", body, re.M)
    assert match
    expires = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert timezone.now() < expires <= timezone.now() + dt.timedelta(days=366)


# --- preview ------------------------------------------------------------------------------------


def test_preview_is_exactly_the_public_page(world: World) -> None:
    published(world)
    services.trust_faq_create(
        actor=admin(world), organization=world.org, question="Q?", answer="A.", is_published=True
    )
    preview = world.client("admin").get("/o/acme/trust/preview/")
    assert preview.status_code == 200
    assert preview.content == get().content


# --- permissions --------------------------------------------------------------------------------

EDIT_GETS = [
    "/o/acme/trust/",
    "/o/acme/trust/certifications/new/",
    "/o/acme/trust/categories/new/",
    "/o/acme/trust/faq/new/",
]
EDIT_POSTS = [
    "/o/acme/trust/publish/",
    "/o/acme/trust/unpublish/",
    "/o/acme/trust/certifications/from-engagement/",
]
EXPECTED_EDIT = {
    "anonymous": 302,
    "outsider": 404,
    "auditor": 404,
    "viewer": 403,
    "member": 403,
    "owner": 403,
    "admin": 200,
}


@pytest.mark.parametrize("persona", list(EXPECTED_EDIT))
def test_permission_matrix(world: World, persona: str) -> None:
    client = world.client(persona) if persona != "anonymous" else Client()
    for url in EDIT_GETS:
        assert client.get(url).status_code == EXPECTED_EDIT[persona], url
    for url in EDIT_POSTS:
        status = client.post(url).status_code
        expected = 302 if persona == "admin" else EXPECTED_EDIT[persona]
        assert status == expected, url
    preview = client.get("/o/acme/trust/preview/").status_code
    assert preview == {"viewer": 200, "member": 200, "owner": 200}.get(
        persona, EXPECTED_EDIT[persona]
    )


def test_rows_of_another_organization_are_404(world: World) -> None:
    from trust.selectors import page_for

    globex = page_for(world.other_org)
    faq = globex.faqs.create(question="Globex?", answer="Yes", is_published=True)
    cert = globex.certifications.create(name="Globex cert")
    category = globex.categories.create(title="Globex category")
    client = world.client("admin")
    for url in (
        f"/o/acme/trust/faq/{faq.pk}/",
        f"/o/acme/trust/certifications/{cert.pk}/",
        f"/o/acme/trust/categories/{category.pk}/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url.rstrip("/") + "/delete/").status_code == 404
    assert globex.faqs.count() == 1


def test_admin_adds_a_category_with_the_multi_select(world: World) -> None:
    client = world.client("admin")
    page = client.get("/o/acme/trust/categories/new/").content.decode()
    assert world.control.name in page and world.foreign_control.name not in page
    response = client.post(
        "/o/acme/trust/categories/new/",
        {"title": "Access", "position": 0, "is_published": "on", "controls": [world.control.pk]},
    )
    assert response.status_code == 302
    category = TrustControlCategory.objects.get()
    assert list(category.controls.all()) == [world.control]
    bad = client.post(
        "/o/acme/trust/categories/new/",
        {"title": "Other", "position": 0, "controls": [world.foreign_control.pk]},
    )
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert TrustControlCategory.objects.count() == 1


# --- query counts -------------------------------------------------------------------------------


def _fill(world: World, n: int) -> None:
    for i in range(n):
        control = ControlFactory(organization=world.org, status="implemented")
        make_test(world, control, name=f"T{i}")
        services.trust_category_create(
            actor=admin(world),
            organization=world.org,
            controls=[control],
            title=f"Category {world.org.pk}-{i}-{n}",
            is_published=True,
        )
        services.trust_faq_create(
            actor=admin(world),
            organization=world.org,
            question=f"Q{i}",
            answer="A",
            is_published=True,
        )
        services.trust_certification_create(
            actor=admin(world), organization=world.org, name=f"Cert {i}", is_published=True
        )
        VendorFactory(organization=world.org, is_subprocessor=True)


def _cold_queries() -> int:
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert get().status_code == 200
    return len(queries)


def test_public_page_queries_are_flat(world: World) -> None:
    published(world)
    _fill(world, 2)
    small = _cold_queries()
    _fill(world, 8)
    assert _cold_queries() == small
