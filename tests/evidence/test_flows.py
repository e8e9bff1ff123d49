"""Uploading, downloading and reviewing evidence through the pages."""

from __future__ import annotations

import hashlib

from django.urls import reverse

from compliance.models import AuditEvent
from controls.models import ControlStatus
from evidence.models import EvidenceItem, EvidenceRevision, ReviewStatus
from tests.conftest import World
from tests.evidence.conftest import PDF, pdf_upload


def test_an_owner_uploads_a_file_and_it_waits_for_review(world: World, evidence_dir) -> None:  # type: ignore[no-untyped-def]
    client = world.client("owner")
    response = client.post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "Q3 access review",
            "kind": "file",
            "file": pdf_upload(),
            "controls": [world.control.pk],
            "effective_date": "2026-09-30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = EvidenceItem.objects.get()
    revision = item.revisions.get()
    assert revision.sha256 == hashlib.sha256(PDF).hexdigest()
    assert revision.size == len(PDF)
    assert revision.content_type == "application/pdf"
    assert revision.review_status == ReviewStatus.PENDING
    stored = evidence_dir / revision.storage_key
    assert stored.read_bytes() == PDF
    assert not list((evidence_dir / ".incoming").iterdir())  # nothing left behind

    download = client.get(reverse("evidence_download", args=["acme", revision.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_the_admin_accepts_and_the_control_becomes_ready(world: World) -> None:
    world.control.status = ControlStatus.IMPLEMENTED
    world.control.frequency = "quarterly"
    world.control.save()
    owner = world.client("owner")
    owner.post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "MFA report",
            "kind": "file",
            "file": pdf_upload(),
            "controls": [world.control.pk],
            "effective_date": "2026-11-01",
        },
    )
    revision = EvidenceRevision.objects.get()
    page = world.client("viewer").get(reverse("control_detail", args=["acme", world.control.pk]))
    assert "No accepted evidence yet" in page.content.decode()
    response = world.client("admin").post(
        reverse("evidence_review", args=["acme", revision.pk]), {"decision": "accepted"}
    )
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.review_status == ReviewStatus.ACCEPTED
    assert AuditEvent.objects.filter(action="evidence.accept").exists()
    page = world.client("viewer").get(reverse("control_detail", args=["acme", world.control.pk]))
    assert "No accepted evidence yet" not in page.content.decode()
