"""Every evidence page and endpoint against every persona: hidden → 404, not allowed → 403,
and a denied write changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from compliance.models import AuditEvent
from evidence import services
from evidence.models import Cadence, EvidenceItem, EvidenceRevision
from tests.conftest import PERSONAS, World
from tests.evidence.conftest import add_evidence
from tests.matrix import (
    ADMIN_ONLY_READ,
    HIDDEN_FROM_ALL,
    LOGIN,
    READ_PROGRAM,
    Case,
    admin_only_write,
)

# Owners of the control, the member granted it, and admins may add evidence to it.
EVIDENCE_WRITERS: dict[str, Any] = {**ADMIN_ONLY_READ, "owner": 302, "granted": 302, "admin": 302}
EVIDENCE_WRITERS_FORM: dict[str, Any] = {
    **ADMIN_ONLY_READ,
    "owner": 200,
    "granted": 200,
    "admin": 200,
}


@pytest.fixture
def scene(world: World) -> World:
    add_evidence(world, world.control)
    foreign = services.evidence_create(
        actor=world.users["outsider"],
        organization=world.other_org,
        title="Globex evidence",
        kind="note",
        effective_date=dt.date(2026, 1, 5),
        controls=[world.foreign_control],
        note="secret",
    )
    request = services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Access review",
        cadence=Cadence.ONE_OFF,
        first_due_date=dt.date(2026, 12, 31),
        owner=world.users["owner"],
        controls=[world.control],
    )
    services.request_schedule(request)
    world.clients["foreign_item"] = foreign
    world.clients["request"] = request
    return world


def item(w: World) -> EvidenceItem:
    return EvidenceItem.objects.get(organization=w.org)


def revision(w: World) -> EvidenceRevision:
    return item(w).revisions.get()


def note_payload(w: World) -> dict[str, Any]:
    return {
        "title": "Note",
        "kind": "note",
        "note": "Checked.",
        "controls": [w.control.pk],
        "effective_date": "2026-11-01",
    }


CASES = [
    Case("evidence list", "get", lambda w: reverse("evidence_list", args=["acme"]), READ_PROGRAM),
    Case(
        "evidence detail",
        "get",
        lambda w: reverse("evidence_detail", args=["acme", item(w).pk]),
        READ_PROGRAM,
    ),
    Case(
        "download",
        "get",
        lambda w: reverse("evidence_download", args=["acme", revision(w).pk]),
        READ_PROGRAM,
    ),
    Case(
        "another organization's evidence",
        "get",
        lambda w: reverse("evidence_detail", args=["acme", w.clients["foreign_item"].pk]),
        {**HIDDEN_FROM_ALL, "auditor": 403},
    ),
    Case(
        "another organization's file",
        "get",
        lambda w: reverse(
            "evidence_download", args=["acme", w.clients["foreign_item"].revisions.get().pk]
        ),
        {**HIDDEN_FROM_ALL, "auditor": 403},
    ),
    Case(
        "add evidence form",
        "get",
        lambda w: reverse("evidence_create", args=["acme"]),
        EVIDENCE_WRITERS_FORM,
    ),
    Case(
        "add evidence",
        "post",
        lambda w: reverse("evidence_create", args=["acme"]),
        EVIDENCE_WRITERS,
        data=note_payload,
        state=lambda w: EvidenceItem.objects.count(),
    ),
    Case(
        "add a revision",
        "post",
        lambda w: reverse("evidence_detail", args=["acme", item(w).pk]),
        {**EVIDENCE_WRITERS, "granted": 302},
        data=lambda w: {
            "file": __import__("tests.evidence.conftest", fromlist=["pdf_upload"]).pdf_upload()
        },
        state=lambda w: EvidenceRevision.objects.count(),
    ),
    Case(
        "review",
        "post",
        lambda w: reverse("evidence_review", args=["acme", revision(w).pk]),
        admin_only_write(302),
        data=lambda w: {"decision": "accepted"},
        state=lambda w: revision(w).review_status,
    ),
    Case(
        "request list",
        "get",
        lambda w: reverse("evidence_request_list", args=["acme"]),
        READ_PROGRAM,
    ),
    Case(
        "request detail",
        "get",
        lambda w: reverse("evidence_request_detail", args=["acme", w.clients["request"].pk]),
        READ_PROGRAM,
    ),
    Case(
        "new request form",
        "get",
        lambda w: reverse("evidence_request_create", args=["acme"]),
        admin_only_write(200),
    ),
    Case(
        "new request",
        "post",
        lambda w: reverse("evidence_request_create", args=["acme"]),
        admin_only_write(302),
        data=lambda w: {
            "title": "Backups",
            "cadence": "monthly",
            "first_due_date": "2026-12-31",
            "remind_days_before": 7,
            "active": "on",
        },
        state=lambda w: w.org.evidence_requests.count(),
    ),
    Case(
        "upload for the request's occurrence",
        "get",
        lambda w: (
            reverse("evidence_create", args=["acme"])
            + f"?occurrence={w.clients['request'].occurrences.get().pk}"
        ),
        EVIDENCE_WRITERS_FORM,
    ),
    Case(
        "integrity", "get", lambda w: reverse("evidence_integrity", args=["acme"]), ADMIN_ONLY_READ
    ),
]
PARAMS = [param for case in CASES for param in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_evidence_page_permissions(scene: World, case: Case, persona: str) -> None:
    before_state = case.state(scene)
    before_events = AuditEvent.objects.count()
    response = getattr(scene.client(persona), case.method)(case.url(scene), data=case.data(scene))
    expected = case.expected[persona]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:300]
    if response.status_code >= 400 or expected == LOGIN:
        assert AuditEvent.objects.count() == before_events
        assert case.state(scene) == before_state


API = "/api/organizations/acme"
API_READ: dict[str, Any] = {**READ_PROGRAM, "anonymous": 401}
API_CASES = [
    Case("api evidence list", "get", lambda w: f"{API}/evidence/", API_READ),
    Case("api evidence detail", "get", lambda w: f"{API}/evidence/{item(w).pk}/", API_READ),
    Case(
        "api another organization's evidence",
        "get",
        lambda w: f"{API}/evidence/{w.clients['foreign_item'].pk}/",
        {**dict.fromkeys(PERSONAS, 404), "anonymous": 401, "auditor": 403},
    ),
    Case(
        "api download",
        "get",
        lambda w: f"{API}/evidence-revisions/{revision(w).pk}/download/",
        API_READ,
    ),
    Case(
        "api push evidence",
        "post",
        lambda w: f"{API}/evidence/",
        {**API_READ, "viewer": 400, "member": 400, "owner": 201, "granted": 201, "admin": 201},
        data=note_payload,
        state=lambda w: EvidenceItem.objects.count(),
    ),
    Case(
        "api review",
        "post",
        lambda w: f"{API}/evidence-revisions/{revision(w).pk}/review/",
        {**API_READ, "viewer": 403, "member": 403, "granted": 403, "owner": 403, "admin": 200},
        data=lambda w: {"decision": "accepted"},
        state=lambda w: revision(w).review_status,
    ),
    Case("api requests", "get", lambda w: f"{API}/evidence-requests/", API_READ),
    Case(
        "api new request",
        "post",
        lambda w: f"{API}/evidence-requests/",
        {**API_READ, "viewer": 403, "member": 403, "granted": 403, "owner": 403, "admin": 201},
        data=lambda w: {"title": "Backups", "cadence": "monthly", "first_due_date": "2026-12-31"},
        state=lambda w: w.org.evidence_requests.count(),
    ),
]
API_PARAMS = [param for case in API_CASES for param in case.params()]


@pytest.mark.parametrize(
    ("case", "persona"), API_PARAMS, ids=[f"{c.name}-{p}" for c, p in API_PARAMS]
)
def test_evidence_api_permissions(scene: World, case: Case, persona: str) -> None:
    before_state = case.state(scene)
    before_events = AuditEvent.objects.count()
    response = getattr(scene.api(persona), case.method)(
        case.url(scene), data=case.data(scene), format="json"
    )
    assert response.status_code == case.expected[persona], getattr(response, "data", response)
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events
        assert case.state(scene) == before_state
