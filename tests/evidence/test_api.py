"""Machines push evidence through the API with a personal token."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from compliance import services as core
from compliance.models import AuditEvent
from evidence.models import EvidenceItem, EvidenceRevision, IdempotencyRecord, ReviewStatus
from tests.conftest import World
from tests.evidence.conftest import PDF, pdf_upload

URL = "/api/organizations/acme/evidence/"


def token_client(world: World, persona: str = "owner") -> APIClient:
    _, secret = core.api_token_create(actor=world.users[persona], name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def scan_report(**extra: object) -> dict[str, object]:
    return {
        "title": "Dependency scan",
        "kind": "file",
        "controls": [extra.pop("control")],
        "effective_date": "2026-11-20",
        "file": SimpleUploadedFile("scan.json", b'{"critical": 0, "high": 1}\n'),
        **extra,
    }


def test_a_pipeline_pushes_a_scan_report_as_evidence(world: World) -> None:
    client = token_client(world)
    response = client.post(URL, scan_report(control=world.control.pk), format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["controls"] == ["IAM-01"]
    assert body["revision_count"] == 1
    revision = body["latest_revision"]
    assert revision["sha256"] == hashlib.sha256(b'{"critical": 0, "high": 1}\n').hexdigest()
    assert revision["review_status"] == ReviewStatus.PENDING
    download = client.get(revision["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b'{"critical": 0, "high": 1}\n'


def test_links_and_notes_post_as_json(world: World) -> None:
    client = token_client(world)
    link = {
        "title": "CI run",
        "kind": "link",
        "url": "https://ci.example.com/run/42",
        "controls": [world.control.pk],
        "effective_date": "2026-11-20",
    }
    note = {**link, "kind": "note", "note": "Quarterly review done.", "url": ""}
    assert client.post(URL, link, format="json").status_code == 201
    assert client.post(URL, note, format="json").status_code == 201


def test_the_same_idempotency_key_adds_evidence_once(world: World, evidence_dir: Path) -> None:
    client = token_client(world)
    first = client.post(
        URL,
        scan_report(control=world.control.pk),
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="build-981",
    )
    second = client.post(
        URL,
        scan_report(control=world.control.pk),
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="build-981",
    )
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert EvidenceItem.objects.count() == 1
    files = [p for p in evidence_dir.rglob("*") if p.is_file()]
    assert len(files) == 1  # the retry stored nothing


def test_a_reused_key_with_a_different_request_is_refused(world: World) -> None:
    client = token_client(world)
    client.post(
        URL, scan_report(control=world.control.pk), format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    other = scan_report(control=world.control.pk, title="Another scan")
    response = client.post(URL, other, format="multipart", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 400
    assert "already used for a different request" in response.json()["Idempotency-Key"][0]
    assert EvidenceItem.objects.count() == 1


def test_idempotency_keys_are_per_user(world: World) -> None:
    token_client(world, "owner").post(
        URL, scan_report(control=world.control.pk), format="multipart", HTTP_IDEMPOTENCY_KEY="same"
    )
    response = token_client(world, "admin").post(
        URL, scan_report(control=world.control.pk), format="multipart", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 201
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "video"}, "kind"),
        ({"effective_date": "soon"}, "effective_date"),
        ({"title": "x" * 201}, "title"),
        ({"colour": "blue"}, "colour"),
        ({"file": SimpleUploadedFile("empty.pdf", b"")}, "file"),
        ({"file": SimpleUploadedFile("a.pdf", b"not a pdf at all")}, "file"),
        ({"file": SimpleUploadedFile("a.bat", b"echo hi")}, "file"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: World, change: dict, field: str
) -> None:
    events = AuditEvent.objects.count()
    payload = {**scan_report(control=world.control.pk), **change}
    response = token_client(world).post(URL, payload, format="multipart")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert EvidenceItem.objects.count() == 0
    assert AuditEvent.objects.count() == events + 1  # only the token's creation


def test_a_control_the_token_owner_cannot_change_is_refused(world: World) -> None:
    response = token_client(world).post(
        URL, scan_report(control=world.unowned_control.pk), format="multipart"
    )
    assert response.status_code == 400
    assert "controls" in response.json()
    response = token_client(world, "admin").post(
        URL, scan_report(control=world.foreign_control.pk), format="multipart"
    )
    assert response.status_code == 400


def test_an_oversized_upload_is_a_json_error(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024
    payload = scan_report(
        control=world.control.pk, file=SimpleUploadedFile("big.pdf", PDF + b"0" * 4096)
    )
    response = token_client(world).post(URL, payload, format="multipart")
    assert response.status_code == 400
    assert "larger than" in response.json()["file"][0]
    assert EvidenceItem.objects.count() == 0


def test_review_through_the_api(world: World) -> None:
    token_client(world).post(URL, scan_report(control=world.control.pk), format="multipart")
    revision = EvidenceRevision.objects.get()
    review_url = f"/api/organizations/acme/evidence-revisions/{revision.pk}/review/"
    assert (
        token_client(world, "owner")
        .post(review_url, {"decision": "accepted"}, format="json")
        .status_code
        == 403
    )
    rejected = token_client(world, "admin").post(
        review_url, {"decision": "rejected"}, format="json"
    )
    assert rejected.status_code == 400
    assert "reason" in rejected.json()
    accepted = token_client(world, "admin").post(
        review_url, {"decision": "accepted"}, format="json"
    )
    assert accepted.status_code == 200
    assert accepted.json()["review_status"] == "accepted"
    again = token_client(world, "admin").post(
        review_url, {"decision": "rejected", "reason": "x"}, format="json"
    )
    assert again.status_code == 400


def test_a_new_revision_through_the_api(world: World) -> None:
    client = token_client(world)
    item_id = client.post(URL, scan_report(control=world.control.pk), format="multipart").json()[
        "id"
    ]
    response = client.post(
        f"{URL}{item_id}/revisions/", {"file": pdf_upload("v2.pdf")}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["number"] == 2
    viewer = token_client(world, "viewer").post(
        f"{URL}{item_id}/revisions/", {"file": pdf_upload()}, format="multipart"
    )
    assert viewer.status_code == 403
