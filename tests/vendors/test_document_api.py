"""The vendor documents API: every endpoint against every persona, multipart upload, errors that
name the field and store nothing, the file download, pagination and query counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import AuditEvent
from tests.conftest import PERSONAS, World
from tests.factories import ControlFactory
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, READ_PROGRAM, Case
from tests.vendors.conftest import Vendors
from tests.vendors.test_document_views import PDF, add_type2, pdf
from vendors import documents as services
from vendors.models import ReportException, UserEntityControl, VendorDocument

ORG = "/api/organizations/acme"
API_READ = {**READ_PROGRAM, "anonymous": 401}
API_HIDDEN = {**HIDDEN_FROM_ALL, "anonymous": 401, "auditor": 403}
# Writes need a vendor manager: others are refused (403) before the vendor is looked up.
API_MANAGERS = {**ADMIN_ONLY_READ, "anonymous": 401, "admin": 201}
API_MANAGERS_404 = {**ADMIN_ONLY_READ, "anonymous": 401, "admin": 404}


@pytest.fixture
def docs(world: World, vendors: Vendors, today: dt.date) -> None:
    admin = world.users["admin"]
    ours = add_type2(vendors.owned, admin, today)
    services.report_exception_add(actor=admin, document=ours, description="Leavers kept access")
    services.cuec_add(
        actor=admin, document=ours, description="Review access", controls=[world.control]
    )
    services.cuec_add(actor=admin, document=ours, description="Encrypt uploads")
    add_type2(vendors.foreign, world.users["outsider"], today)


def ours(w: World) -> VendorDocument:
    return VendorDocument.objects.get(vendor__organization=w.org)


def theirs(w: World) -> VendorDocument:
    return VendorDocument.objects.get(vendor__organization=w.other_org)


def base(w: World) -> str:
    return f"{ORG}/vendors/{ours(w).vendor_id}/documents/"


def state(w: World) -> Any:
    return (
        sorted(VendorDocument.objects.values_list("pk", flat=True)),
        ReportException.objects.count(),
        UserEntityControl.objects.count(),
    )


def upload(w: World) -> dict[str, Any]:
    return {"doc_type": "iso27001", "valid_until": "2027-03-03", "file": pdf("iso.pdf")}


CASES = [
    Case("list", "get", base, API_READ),
    Case("detail", "get", lambda w: base(w) + f"{ours(w).pk}/", API_READ),
    Case("file", "get", lambda w: base(w) + f"{ours(w).pk}/download/", API_READ),
    Case("upload", "post", base, API_MANAGERS, data=upload, state=state),
    Case("exceptions", "get", lambda w: base(w) + f"{ours(w).pk}/exceptions/", API_READ),
    Case(
        "add an exception",
        "post",
        lambda w: base(w) + f"{ours(w).pk}/exceptions/",
        API_MANAGERS,
        data=lambda w: {"description": "Backups untested", "assessment": "risk"},
        state=state,
    ),
    Case("cuecs", "get", lambda w: base(w) + f"{ours(w).pk}/cuecs/", API_READ),
    Case(
        "add a CUEC",
        "post",
        lambda w: base(w) + f"{ours(w).pk}/cuecs/",
        API_MANAGERS,
        data=lambda w: {"description": "Rotate keys", "controls": [w.control.pk]},
        state=state,
    ),
    Case(
        "another organization's vendor",
        "get",
        lambda w: f"{ORG}/vendors/{theirs(w).vendor_id}/documents/",
        API_HIDDEN,
    ),
    Case(
        "another organization's document under our vendor",
        "get",
        lambda w: base(w) + f"{theirs(w).pk}/download/",
        {**API_READ, **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 404)},
    ),
    Case(
        "upload to another organization's vendor",
        "post",
        lambda w: f"{ORG}/vendors/{theirs(w).vendor_id}/documents/",
        API_MANAGERS_404,
        data=upload,
        state=state,
    ),
    Case(
        "a CUEC on another organization's document",
        "post",
        lambda w: f"{ORG}/vendors/{theirs(w).vendor_id}/documents/{theirs(w).pk}/cuecs/",
        API_MANAGERS_404,
        data=lambda w: {"description": "x"},
        state=state,
    ),
]
PARAMS = [p for case in CASES for p in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_api_permissions(world: World, docs: None, case: Case, persona: str) -> None:
    client = world.api(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()
    data = case.data(world)
    if "file" in data:
        response = client.post(case.url(world), data=data, format="multipart")
    else:
        response = getattr(client, case.method)(case.url(world), data=data, format="json")
    expected = case.expected[persona]
    assert response.status_code == expected, getattr(response, "content", b"")[:800]
    if response.status_code >= 400:
        assert "detail" in response.json()
    if case.method == "get":
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events
        assert case.state(world) == before_state
    else:
        assert AuditEvent.objects.count() > before_events
        assert case.state(world) != before_state


def test_every_persona_has_an_expectation() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name


def test_an_upload_returns_the_document_with_its_validity(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    until = today + dt.timedelta(days=12)
    response = world.api("admin").post(
        f"{ORG}/vendors/{vendors.owned.pk}/documents/",
        {"doc_type": "iso27001", "valid_until": until.isoformat(), "file": pdf("iso.pdf")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["doc_type"] == "iso27001" and body["original_name"] == "iso.pdf"
    assert body["validity"] == {
        "label": "Expires in 12 days",
        "expired": False,
        "valid_through": until.isoformat(),
    }
    assert body["uploaded_by"]["email"] == world.users["admin"].email
    download = world.api("viewer").get(
        f"{ORG}/vendors/{vendors.owned.pk}/documents/{body['id']}/download/"
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"doc_type": "soc2_type2", "opinion": "unqualified"}, "period_start"),
        ({"doc_type": "soc2_type1", "opinion": "unqualified"}, "as_of"),
        ({"doc_type": "dpa", "opinion": "qualified"}, "opinion"),
        ({"doc_type": "soc3"}, "doc_type"),
        ({"doc_type": "dpa", "issued_on": "yesterday"}, "issued_on"),
        ({"doc_type": "dpa", "surprise": "x"}, "surprise"),
        ({"doc_type": "dpa", "file": None}, "file"),
        ({"doc_type": "dpa", "file": "empty"}, "file"),
    ],
)
def test_bad_uploads_name_the_field_and_store_nothing(
    world: World, vendors: Vendors, evidence_dir: Path, data: dict[str, Any], field: str
) -> None:
    data = {"file": pdf(), **data}
    if data["file"] is None:
        del data["file"]
    elif data["file"] == "empty":
        data["file"] = SimpleUploadedFile("e.pdf", b"")
    response = world.api("admin").post(
        f"{ORG}/vendors/{vendors.owned.pk}/documents/", data, format="multipart"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not VendorDocument.objects.exists()
    assert not [p for p in evidence_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts]


def test_a_json_upload_is_told_the_file_is_missing(world: World, vendors: Vendors) -> None:
    response = world.api("admin").post(
        f"{ORG}/vendors/{vendors.owned.pk}/documents/", {"doc_type": "dpa"}, format="json"
    )
    assert response.status_code == 400
    assert "file" in response.json()
    assert not VendorDocument.objects.exists()


def test_cuecs_link_only_our_visible_controls(world: World, docs: None) -> None:
    url = base(world) + f"{ours(world).pk}/cuecs/"
    before = state(world)
    response = world.api("admin").post(
        url, {"description": "x", "controls": [world.foreign_control.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "controls" in response.json()
    assert state(world) == before
    listed = world.api("viewer").get(url).json()["results"]
    assert [c["linked"] for c in listed] == [True, False]
    assert listed[0]["linked_controls"][0]["ref_id"] == world.control.ref_id


def test_exceptions_refuse_bad_input(world: World, docs: None) -> None:
    url = base(world) + f"{ours(world).pk}/exceptions/"
    before = state(world)
    response = world.api("admin").post(
        url, {"description": "", "assessment": "fine"}, format="json"
    )
    assert response.status_code == 400
    assert {"description", "assessment"} <= set(response.json())
    assert state(world) == before


def test_lists_are_paginated_and_cost_the_same_at_two_sizes(
    world: World, docs: None, today: dt.date, django_assert_max_num_queries: Any
) -> None:
    client = world.api("admin")
    document = ours(world)
    urls = [base(world), base(world) + f"{document.pk}/cuecs/",
            base(world) + f"{document.pk}/exceptions/"]  # fmt: skip

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    count(urls[0])
    few = {url: count(url) for url in urls}
    admin = world.users["admin"]
    controls = [ControlFactory(organization=world.org) for _ in range(3)]
    for i in range(60):
        add_type2(document.vendor, admin, today, title=f"R{i}")
    for i in range(60):
        services.cuec_add(actor=admin, document=document, description=f"C{i}", controls=controls)
        services.report_exception_add(actor=admin, document=document, description=f"E{i}")
    for url, queries in few.items():
        with django_assert_max_num_queries(queries):
            response = client.get(url)
        body = response.json()
        assert body["count"] > len(body["results"]) and body["next"]


def test_the_soc2_filter_is_in_the_vendor_api(world: World, vendors: Vendors, docs: None) -> None:
    response = world.api("viewer").get(f"{ORG}/vendors/", {"soc2": "current"})
    assert [v["name"] for v in response.json()["results"]] == [vendors.owned.name]
    response = world.api("viewer").get(f"{ORG}/vendors/", {"soc2": "missing"})
    assert [v["name"] for v in response.json()["results"]] == [vendors.unowned.name]
    response = world.api("viewer").get(f"{ORG}/vendors/", {"soc2": "stale"})
    assert response.status_code == 400 and "soc2" in response.json()
