"""The Package tab, asking for a package and downloading it: who may (admins and this
engagement's auditors), who may not (members, viewers, another engagement's auditor, an expired
or revoked auditor, another organization, anonymous), what a download leaves in the access log;
and the build itself (the task's function, and once on a real Celery worker)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits import services as audit_services
from audits.models import AccessLogEntry, Audit, AuditorAccess, AuditPackage, PackageStatus
from audits.package import services
from audits.package.build import MANIFEST
from compliance.models import AuditEvent, Role, User
from evidence import storage
from evidence.models import EvidenceItem
from tests.conftest import World, enable_mfa
from tests.evidence import test_storage_s3
from tests.factories import MembershipFactory, UserFactory, days_from_now

pytestmark = pytest.mark.django_db

ALLOWED = ("admin", "auditor")
# Evidence on S3-compatible storage (moto's server on loopback), as the evidence tests have it.
moto_endpoint = test_storage_s3.moto_endpoint
bucket = test_storage_s3.bucket


@pytest.fixture
def other_auditor(world: World, make_audit: Callable[..., Audit]) -> User:
    """An auditor of another engagement of the same organization."""
    other = make_audit(name="ISO 27001 2026")
    user = UserFactory(email="other-auditor@cpa.test", full_name="Other Auditor")
    MembershipFactory(
        user=user, organization=world.org, role=Role.AUDITOR, expires_at=days_from_now(30)
    )
    enable_mfa(user)
    audit_services.auditor_invite(actor=world.users["admin"], audit=other, email=user.email)
    return user


@pytest.fixture
def revoked_auditor(world: World, engagement: Audit) -> User:
    user = UserFactory(email="revoked@cpa.test", full_name="Revoked Auditor")
    MembershipFactory(
        user=user, organization=world.org, role=Role.AUDITOR, expires_at=days_from_now(30)
    )
    enable_mfa(user)
    access = audit_services.auditor_invite(
        actor=world.users["admin"], audit=engagement, email=user.email
    )
    audit_services.auditor_revoke(actor=world.users["admin"], access=access)
    return user


def client_for(world: World, persona: str, extra: dict[str, User]) -> Client:
    if persona in extra:
        client = Client()
        client.force_login(extra[persona])
        return client
    return Client() if persona == "anonymous" else world.client(persona)


EXPECTED = {
    "admin": 200,
    "auditor": 200,
    "member": 403,
    "owner": 403,
    "viewer": 403,
    "other_auditor": 404,
    "revoked_auditor": 404,
    "expired_auditor": 404,
    "outsider": 404,
    "anonymous": 302,
}


def built_package(world: World, audit: Audit, persona: str = "admin") -> AuditPackage:
    package = AuditPackage.objects.create(audit=audit, requested_by=world.users[persona])
    assert services.package_build(package.pk) == PackageStatus.DONE
    package.refresh_from_db()
    return package


def test_who_may_open_the_package_tab_and_download_a_package(
    world: World, engagement: Audit, other_auditor: User, revoked_auditor: User
) -> None:
    extra = {"other_auditor": other_auditor, "revoked_auditor": revoked_auditor}
    package = built_package(world, engagement)
    page = reverse("audit_package", args=["acme", engagement.pk])
    download = reverse("audit_package_download", args=["acme", engagement.pk, package.pk])
    got_page = {p: client_for(world, p, extra).get(page).status_code for p in EXPECTED}
    got_download = {p: client_for(world, p, extra).get(download).status_code for p in EXPECTED}
    assert got_page == EXPECTED
    assert got_download == EXPECTED


def test_who_may_ask_for_a_package(
    world: World, engagement: Audit, other_auditor: User, revoked_auditor: User,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:  # fmt: skip
    extra = {"other_auditor": other_auditor, "revoked_auditor": revoked_auditor}
    start = reverse("audit_package_start", args=["acme", engagement.pk])
    refused = {p: s for p, s in EXPECTED.items() if p not in ALLOWED}
    events = AuditEvent.objects.count()
    got = {p: client_for(world, p, extra).post(start).status_code for p in refused}
    assert got == refused
    assert not AuditPackage.objects.exists() and AuditEvent.objects.count() == events
    for persona in ALLOWED:
        response = client_for(world, persona, extra).post(start)
        assert response.status_code == 302, persona
        AuditPackage.objects.update(status=PackageStatus.DONE, storage_key="x")
    assert sorted(p.requested_by.email for p in AuditPackage.objects.all()) == [
        "admin@acme.test",
        "auditor@acme.test",
    ]


def test_only_admins_and_the_engagements_auditors_see_the_tab(
    world: World, engagement: Audit
) -> None:
    link = reverse("audit_package", args=["acme", engagement.pk])
    overview = reverse("audit_detail", args=["acme", engagement.pk])
    shown = {
        persona: link in world.client(persona).get(overview).content.decode()
        for persona in ("admin", "auditor", "owner", "viewer")
    }
    assert shown == {"admin": True, "auditor": True, "owner": False, "viewer": False}


def test_asking_twice_while_one_is_prepared_makes_one_package(
    world: World, engagement: Audit
) -> None:
    first = services.package_request(actor=world.users["admin"], audit=engagement)
    second = services.package_request(actor=world.users["auditor"], audit=engagement)
    assert first.pk == second.pk and AuditPackage.objects.count() == 1
    assert AuditEvent.objects.filter(action="audit.package_request").count() == 1


def test_a_download_is_an_attachment_and_is_logged_as_an_export(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    make_evidence(dt.date(2026, 3, 1))
    package = built_package(world, engagement, "auditor")
    response = world.client("auditor").get(
        reverse("audit_package_download", args=["acme", engagement.pk, package.pk])
    )
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"acme-audit-{engagement.pk}-package-{package.pk}.zip" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert len(body) == package.size
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert MANIFEST in archive.namelist()
    entry = AccessLogEntry.objects.get(action="export")
    assert (entry.user, entry.audit_id, entry.object_id) == (
        world.users["auditor"],
        engagement.pk,
        str(package.pk),
    )


def test_a_package_not_ready_or_of_another_engagement_is_not_served(
    world: World, engagement: Audit, make_audit: Callable[..., Audit]
) -> None:
    waiting = AuditPackage.objects.create(audit=engagement, requested_by=world.users["admin"])
    other = make_audit(name="Other")
    foreign = built_package(world, other)
    client = world.client("admin")
    for package, audit in ((waiting, engagement), (foreign, engagement)):
        url = reverse("audit_package_download", args=["acme", audit.pk, package.pk])
        assert client.get(url).status_code == 404
    assert not AccessLogEntry.objects.filter(action="export").exists()


def test_the_page_shows_progress_polls_while_building_and_shows_the_key(
    world: World, engagement: Audit
) -> None:
    AuditPackage.objects.create(
        audit=engagement, requested_by=world.users["admin"], status=PackageStatus.RUNNING,
        files_done=40, files_total=160,
    )  # fmt: skip
    url = reverse("audit_package", args=["acme", engagement.pk])
    html = world.client("auditor").get(url).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "Being built" in html and "40 of 160" in html
    assert "made with its first package" in html
    logged = AccessLogEntry.objects.filter(action="view").count()
    partial = world.client("auditor").get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert AccessLogEntry.objects.filter(action="view").count() == logged  # polls aren't visits
    AuditPackage.objects.all().delete()
    built_package(world, engagement)
    html = world.client("admin").get(url).content.decode()
    assert 'hx-trigger="every 2s"' not in html
    assert world.org.signing_key.public_key in html


def test_the_page_reads_a_fixed_number_of_queries(world: World, engagement: Audit) -> None:
    url = reverse("audit_package", args=["acme", engagement.pk])
    client = world.client("admin")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    count()  # the first visit also remembers the organization in the session
    for _ in range(2):
        AuditPackage.objects.create(audit=engagement, requested_by=world.users["admin"])
    few = count()
    for _ in range(20):
        AuditPackage.objects.create(audit=engagement, requested_by=world.users["auditor"])
    assert count() == few


# --- the build ------------------------------------------------------------------------------------


def test_building_again_a_finished_package_changes_nothing(world: World, engagement: Audit) -> None:
    package = built_package(world, engagement)
    assert services.package_build(package.pk) == PackageStatus.DONE
    again = AuditPackage.objects.get(pk=package.pk)
    assert (again.storage_key, again.sha256, again.attempts) == (
        package.storage_key,
        package.sha256,
        1,
    )
    assert services.package_build(987654) == "gone"


def test_a_package_stored_in_the_evidence_storage_is_no_orphan(
    world: World, engagement: Audit
) -> None:
    package = built_package(world, engagement)
    assert package.storage_key.startswith(".packages/")
    assert storage.exists(package.storage_key)
    assert package.storage_key not in set(storage.all_keys())


def test_a_requester_who_lost_access_gets_no_package(world: World, engagement: Audit) -> None:
    package = AuditPackage.objects.create(audit=engagement, requested_by=world.users["auditor"])
    access = AuditorAccess.objects.get(audit=engagement, email="auditor@acme.test")
    audit_services.auditor_revoke(actor=world.users["admin"], access=access)
    assert services.package_build(package.pk) == PackageStatus.FAILED
    package.refresh_from_db()
    assert "no longer has access" in package.error and not package.storage_key


def test_a_file_altered_in_storage_fails_the_package_and_names_it(
    world: World,
    engagement: Audit,
    make_evidence: Callable[..., EvidenceItem],
    evidence_dir: object,
) -> None:
    item = make_evidence(dt.date(2026, 3, 1), title="Quarterly access review")
    path = storage.evidence_storage().path(item.latest_revision.storage_key)
    with open(path, "r+b") as handle:
        handle.write(b"X")
    package = AuditPackage.objects.create(audit=engagement, requested_by=world.users["admin"])
    assert services.package_build(package.pk) == PackageStatus.FAILED
    package.refresh_from_db()
    assert "“Quarterly access review” (revision 1) no longer matches" in package.error
    assert not [k for k in storage.all_keys() if k.startswith(".packages")]


def test_a_package_given_up_after_repeated_worker_deaths(world: World, engagement: Audit) -> None:
    package = AuditPackage.objects.create(
        audit=engagement, requested_by=world.users["admin"], status=PackageStatus.RUNNING,
        attempts=services.MAX_ATTEMPTS,
    )  # fmt: skip
    assert services.package_build(package.pk) == PackageStatus.FAILED


@pytest.fixture
def worker() -> Iterator[None]:
    from compliance.celery import app

    app.control.purge()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_package_asked_for_on_the_page(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem], worker: None
) -> None:
    import time

    make_evidence(dt.date(2026, 3, 1))
    client = world.client("auditor")
    assert (
        client.post(reverse("audit_package_start", args=["acme", engagement.pk])).status_code == 302
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        package = AuditPackage.objects.get()
        if not package.is_pending:
            break
        time.sleep(0.2)
    assert package.status == PackageStatus.DONE, package.error
    assert package.files_total == 3  # one evidence file and the matrix's two files
    assert AuditEvent.objects.filter(action="audit.package_done").count() == 1


def test_on_object_storage_a_package_is_served_and_is_no_orphan(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem],
    bucket: object, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from evidence import services as evidence_services

    make_evidence(dt.date(2026, 3, 1))
    package = built_package(world, engagement)
    url = reverse("audit_package_download", args=["acme", engagement.pk, package.pk])
    body = b"".join(world.client("admin").get(url).streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(body).hexdigest() == package.sha256
    monkeypatch.setattr(evidence_services, "ORPHAN_MIN_AGE", dt.timedelta(0))
    assert evidence_services.integrity_sweep().orphaned == 0
