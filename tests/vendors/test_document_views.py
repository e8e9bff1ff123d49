"""Vendor documents in the UI: every page and form post against every persona, the download,
validation that stores nothing, validity wording, query counts, and the SOC 2 inventory filter.

Program readers (admins, members, viewers) see a vendor's documents and download them; vendor
managers (admins) upload documents and add exceptions and CUECs (everyone else who sees the
vendor: 403). Auditors get 403 as on every vendor page; another organization's vendor or
document is a 404.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import PERSONAS, World
from tests.factories import ControlFactory
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, READ_PROGRAM, Case, check_page_case
from tests.vendors.conftest import Vendors
from tests.vendors.factories import VendorFactory
from vendors import documents as services
from vendors.models import (
    AuditOpinion,
    DocumentType,
    ReportException,
    RiskTier,
    UserEntityControl,
    Vendor,
    VendorDocument,
)

PDF = b"%PDF-1.4 the vendor's SOC 2 Type II report\n" * 50


def u(name: str, *args: object) -> str:
    return reverse(name, args=args)


def pdf(name: str = "report.pdf", body: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def add_type2(vendor: Vendor, actor: Any, today: dt.date, **changes: Any) -> VendorDocument:
    values: dict[str, Any] = {
        "doc_type": DocumentType.SOC2_TYPE2,
        "opinion": AuditOpinion.UNQUALIFIED,
        "period_start": today - dt.timedelta(days=300),
        "period_end": today - dt.timedelta(days=30),
        "issued_on": today - dt.timedelta(days=20),
    }
    values.update(changes)
    return services.vendor_document_upload(actor=actor, vendor=vendor, upload=pdf(), **values)


@pytest.fixture
def docs(world: World, vendors: Vendors, today: dt.date) -> dict[str, VendorDocument]:
    admin = world.users["admin"]
    ours = add_type2(vendors.owned, admin, today)
    services.report_exception_add(
        actor=admin, document=ours, description="Two leavers kept VPN access", criterion="CC6.2"
    )
    services.cuec_add(
        actor=admin, document=ours, description="Review who has console access",
        reference="CUEC-1", controls=[world.control],
    )  # fmt: skip
    services.cuec_add(actor=admin, document=ours, description="Encrypt what you upload")
    theirs = add_type2(vendors.foreign, world.users["outsider"], today)
    return {"ours": ours, "theirs": theirs}


def ours(w: World) -> VendorDocument:
    return VendorDocument.objects.get(vendor__organization=w.org)


def theirs(w: World) -> VendorDocument:
    return VendorDocument.objects.get(vendor__organization=w.other_org)


def upload_data(w: World) -> dict[str, Any]:
    return {
        "doc_type": DocumentType.DPA,
        "title": "DPA 2026",
        "issued_on": "2026-01-05",
        "file": pdf("dpa.pdf"),
    }


def document_state(w: World) -> Any:
    return sorted(VendorDocument.objects.values_list("pk", "doc_type"))


def exception_state(w: World) -> Any:
    return sorted(ReportException.objects.values_list("pk", "description"))


def cuec_state(w: World) -> Any:
    return sorted(UserEntityControl.objects.values_list("pk", "description"))


READERS_404 = {
    **READ_PROGRAM,
    **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 404),
}
FOREIGN = {**HIDDEN_FROM_ALL, "auditor": 403}
MANAGERS = {**ADMIN_ONLY_READ, "admin": 302}
BACK = {**READ_PROGRAM, **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 302)}
BACK_ADMIN = {**ADMIN_ONLY_READ, "admin": 302}


def owned(w: World) -> int:
    return ours(w).vendor_id


CASES = [
    Case("document list", "get", lambda w: u("vendor_documents", "acme", owned(w)), READ_PROGRAM),
    Case(
        "foreign document list",
        "get",
        lambda w: u("vendor_documents", "acme", theirs(w).vendor_id),
        FOREIGN,
    ),
    Case(
        "upload page",
        "get",
        lambda w: u("vendor_document_create", "acme", owned(w)),
        {**ADMIN_ONLY_READ, "admin": 200},
    ),
    Case(
        "upload",
        "post",
        lambda w: u("vendor_document_create", "acme", owned(w)),
        MANAGERS,
        data=upload_data,
        state=document_state,
    ),
    Case(
        "upload to a foreign vendor",
        "post",
        lambda w: u("vendor_document_create", "acme", theirs(w).vendor_id),
        {**ADMIN_ONLY_READ, "admin": 404},
        data=upload_data,
        state=document_state,
    ),
    Case(
        "document page",
        "get",
        lambda w: u("vendor_document_detail", "acme", owned(w), ours(w).pk),
        READ_PROGRAM,
    ),
    Case(
        "foreign document page",
        "get",
        lambda w: u("vendor_document_detail", "acme", theirs(w).vendor_id, theirs(w).pk),
        FOREIGN,
    ),
    Case(
        "foreign document under our vendor",
        "get",
        lambda w: u("vendor_document_detail", "acme", owned(w), theirs(w).pk),
        READERS_404,
    ),
    Case(
        "download",
        "get",
        lambda w: u("vendor_document_file", "acme", owned(w), ours(w).pk),
        READ_PROGRAM,
    ),
    Case(
        "download a foreign document",
        "get",
        lambda w: u("vendor_document_file", "acme", theirs(w).vendor_id, theirs(w).pk),
        FOREIGN,
    ),
    Case(
        "download a foreign document under our vendor",
        "get",
        lambda w: u("vendor_document_file", "acme", owned(w), theirs(w).pk),
        READERS_404,
    ),
    Case(
        "add an exception",
        "post",
        lambda w: u("vendor_document_exception_create", "acme", owned(w), ours(w).pk),
        MANAGERS,
        data=lambda w: {"description": "Backups untested", "assessment": "risk"},
        state=exception_state,
    ),
    Case(
        "add an exception to a foreign document",
        "post",
        lambda w: u("vendor_document_exception_create", "acme", owned(w), theirs(w).pk),
        {**ADMIN_ONLY_READ, "admin": 404},
        data=lambda w: {"description": "Backups untested", "assessment": "risk"},
        state=exception_state,
    ),
    Case(
        "exception form opened in the browser",
        "get",
        lambda w: u("vendor_document_exception_create", "acme", owned(w), ours(w).pk),
        BACK_ADMIN,
    ),
    Case(
        "add a CUEC",
        "post",
        lambda w: u("vendor_document_cuec_create", "acme", owned(w), ours(w).pk),
        MANAGERS,
        data=lambda w: {"description": "Rotate API keys", "controls": [w.control.pk]},
        state=cuec_state,
    ),
    Case(
        "add a CUEC to a foreign document",
        "post",
        lambda w: u("vendor_document_cuec_create", "acme", theirs(w).vendor_id, theirs(w).pk),
        {**ADMIN_ONLY_READ, "admin": 404},
        data=lambda w: {"description": "Rotate API keys"},
        state=cuec_state,
    ),
    Case(
        "CUEC form opened in the browser",
        "get",
        lambda w: u("vendor_document_cuec_create", "acme", owned(w), ours(w).pk),
        BACK_ADMIN,
    ),
]
PARAMS = [p for case in CASES for p in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_page_permissions(world: World, docs: dict, case: Case, persona: str) -> None:
    check_page_case(world, case, persona)


def test_every_persona_has_an_expectation() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name


def test_only_managers_are_offered_the_forms(world: World, docs: dict) -> None:
    vendor_url = u("vendor_detail", "acme", owned(world))
    detail_url = u("vendor_document_detail", "acme", owned(world), ours(world).pk)
    for persona, allowed in [("admin", True), ("owner", False), ("member", False),
                             ("viewer", False)]:  # fmt: skip
        client = world.client(persona)
        page = client.get(vendor_url).content.decode()
        assert "SOC 2 Type II report" in page and 'data-testid="document-download"' in page
        assert ("Upload a document" in page) is allowed, persona
        detail = client.get(detail_url).content.decode()
        assert "Two leavers kept VPN access" in detail
        assert ('data-testid="exception-form"' in detail) is allowed, persona
        assert ('data-testid="cuec-form"' in detail) is allowed, persona


def test_the_document_page_lists_exceptions_and_cuecs(world: World, docs: dict) -> None:
    page = world.client("viewer").get(
        u("vendor_document_detail", "acme", owned(world), ours(world).pk)
    )
    body = page.content.decode()
    assert "Criterion CC6.2" in body and "Not assessed yet" in body
    assert "CUEC-1" in body and "Review who has console access" in body
    assert u("control_detail", "acme", world.control.pk) in body
    # The CUEC no control of ours does is flagged; the linked one is not.
    assert body.count("Not linked to any of our controls") == 1
    assert "soc2_type2" not in body and "not_assessed" not in body.replace('"not_assessed"', "")


def test_download_is_the_stored_file_as_an_attachment(world: World, docs: dict) -> None:
    document = ours(world)
    response = world.client("viewer").get(
        u("vendor_document_file", "acme", owned(world), document.pk)
    )
    assert response.status_code == 200
    assert response.streaming  # a FileResponse, never the whole file in memory
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"


def test_an_html_file_is_downloaded_as_an_opaque_file(world: World, vendors: Vendors) -> None:
    html = SimpleUploadedFile("letter.html", b"<html><script>alert(1)</script></html>", "text/html")
    document = services.vendor_document_upload(
        actor=world.users["admin"], vendor=vendors.owned, upload=html, doc_type=DocumentType.DPA
    )
    response = world.client("admin").get(
        u("vendor_document_file", "acme", vendors.owned.pk, document.pk)
    )
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")


def test_a_missing_file_is_a_404_not_a_crash(world: World, docs: dict, evidence_dir: Path) -> None:
    document = ours(world)
    (evidence_dir / document.storage_key).unlink()
    response = world.client("admin").get(
        u("vendor_document_file", "acme", owned(world), document.pk)
    )
    assert response.status_code == 404


# --- the upload form ----------------------------------------------------------------------------


def test_a_manager_uploads_a_type2_report(world: World, vendors: Vendors, today: dt.date) -> None:
    response = world.client("admin").post(
        u("vendor_document_create", "acme", vendors.owned.pk),
        {
            "doc_type": "soc2_type2", "opinion": "qualified", "file": pdf(),
            "period_start": "1 Jan 2026", "period_end": "2026-06-30",
            "valid_until": (today + dt.timedelta(days=12)).isoformat(),
        },
    )  # fmt: skip
    document = VendorDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == u(
        "vendor_document_detail", "acme", vendors.owned.pk, document.pk
    )
    assert (document.period_start, document.opinion) == (dt.date(2026, 1, 1), "qualified")
    assert document.storage_key.startswith(".vendor-documents/")
    page = world.client("viewer").get(u("vendor_detail", "acme", vendors.owned.pk)).content
    assert b"Expires in 12 days" in page and b"badge-warn" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"doc_type": ""}, "doc_type", "This field is required."),
        ({"doc_type": "soc3"}, "doc_type", "Select a valid choice."),
        ({"period_start": ""}, "period_start", "Give the start of the period covered."),
        ({"period_end": "2025-01-01"}, "period_end", "The period cannot end before it starts."),
        ({"opinion": ""}, "opinion", "auditor&#x27;s opinion for a SOC 2 report"),
        ({"period_end": "31 Feb 2026"}, "period_end", "Enter a date like"),
        ({"file": None}, "file", "This field is required."),
        ({"file": "empty"}, "file", "The file is empty."),
        ({"file": "exe"}, "file", "not accepted"),
        ({"valid_until": "2025-01-01", "issued_on": "2026-08-01"}, "valid_until", "expire before"),
    ],
)
def test_bad_input_is_a_form_error_and_stores_nothing(
    world: World,
    vendors: Vendors,
    evidence_dir: Path,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    data: dict[str, Any] = {
        "doc_type": "soc2_type2", "opinion": "unqualified", "file": pdf(),
        "period_start": "2026-01-01", "period_end": "2026-06-30",
    }  # fmt: skip
    data.update(changes)
    if data["file"] is None:
        del data["file"]
    elif data["file"] == "empty":
        data["file"] = pdf(body=b"")
    elif data["file"] == "exe":
        data["file"] = SimpleUploadedFile("setup.exe", b"MZ\x90\x00binary")
    response = world.client("admin").post(
        u("vendor_document_create", "acme", vendors.owned.pk), data
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in response.content.decode()
    assert not VendorDocument.objects.exists()
    assert not [p for p in evidence_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts]


def test_the_form_shows_type_dependent_fields_with_their_types(
    world: World, vendors: Vendors
) -> None:
    body = world.client("admin").get(u("vendor_document_create", "acme", vendors.owned.pk))
    text = body.content.decode()
    assert 'data-doc-types="soc2_type1"' in text
    assert 'data-doc-types="soc2_type2 bridge_letter"' in text
    assert 'data-doc-types="soc2_type1 soc2_type2"' in text
    assert "SOC 2 Type II report" in text and ">soc2_type2<" not in text


def test_exception_and_cuec_forms_refuse_bad_input(world: World, docs: dict) -> None:
    client = world.client("admin")
    document = ours(world)
    before = (exception_state(world), cuec_state(world))
    response = client.post(
        u("vendor_document_exception_create", "acme", owned(world), document.pk),
        {"description": "", "assessment": "whatever"},
    )
    assert response.status_code == 400
    assert set(response.context["exception_form"].errors) == {"description", "assessment"}
    foreign = ControlFactory(organization=world.other_org)
    response = client.post(
        u("vendor_document_cuec_create", "acme", owned(world), document.pk),
        {"description": "Rotate keys", "controls": [foreign.pk]},
    )
    assert response.status_code == 400
    assert "Pick only controls of this organization" in response.content.decode()
    assert (exception_state(world), cuec_state(world)) == before


def test_the_cuec_picker_lists_only_our_controls(world: World, docs: dict) -> None:
    response = world.client("admin").get(
        u("vendor_document_detail", "acme", owned(world), ours(world).pk)
    )
    choices = list(response.context["cuec_form"].fields["controls"].queryset)
    assert world.control in choices and world.unowned_control in choices
    assert world.foreign_control not in choices


def test_a_cuec_is_linked_to_a_picked_control(world: World, docs: dict) -> None:
    url = u("vendor_document_cuec_create", "acme", owned(world), ours(world).pk)
    response = world.client("admin").post(
        url, {"reference": "CUEC-9", "description": "Rotate keys", "controls": [world.control.pk]}
    )
    assert response.status_code == 302
    cuec = UserEntityControl.objects.get(reference="CUEC-9")
    assert list(cuec.controls.all()) == [world.control]


# --- validity -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc_type", "changes", "label", "tone"),
    [
        ("dpa", {}, "No expiry", "muted"),
        ("iso27001", {"valid_until": 400}, "Valid until", "ok"),
        ("iso27001", {"valid_until": 12}, "Expires in 12 days", "warn"),
        ("iso27001", {"valid_until": 1}, "Expires in 1 day", "warn"),
        ("iso27001", {"valid_until": 0}, "Expires today", "warn"),
        ("iso27001", {"valid_until": -3}, "Expired", "bad"),
        # No valid-until date: a Type II report speaks for 12 months after its period.
        ("soc2_type2", {"period_end": -400}, "Expired", "bad"),
        ("soc2_type2", {"period_end": -350}, "Expires in 15 days", "warn"),
    ],
)
def test_validity_reads_in_words(
    world: World, vendors: Vendors, today: dt.date, doc_type: str, changes: dict, label: str,
    tone: str,
) -> None:  # fmt: skip
    from vendors.document_selectors import validity

    values: dict[str, Any] = {"doc_type": doc_type}
    if doc_type == "soc2_type2":
        values.update(opinion="unqualified", period_start=today - dt.timedelta(days=800))
    for name, days in changes.items():
        values[name] = today + dt.timedelta(days=days)
    document = services.vendor_document_upload(
        actor=world.users["admin"], vendor=vendors.owned, upload=pdf(), **values
    )
    shown = validity(document, today)
    assert shown.label.startswith(label) and shown.tone == tone


def test_expired_reads_with_its_date(world: World, vendors: Vendors) -> None:
    from vendors.document_selectors import validity

    document = services.vendor_document_upload(
        actor=world.users["admin"], vendor=vendors.owned, upload=pdf(),
        doc_type="iso27001", issued_on=dt.date(2025, 1, 4), valid_until=dt.date(2026, 1, 4),
    )  # fmt: skip
    assert validity(document, dt.date(2026, 3, 1)).label == "Expired 4 Jan 2026"
    assert validity(document, dt.date(2025, 3, 1)).label == "Valid until 4 Jan 2026"


# --- cost ---------------------------------------------------------------------------------------


def test_the_pages_cost_a_fixed_number_of_queries(
    world: World, docs: dict, today: dt.date, django_assert_max_num_queries: Any
) -> None:
    client = world.client("admin")
    document = ours(world)
    vendor = document.vendor
    urls = [
        u("vendor_detail", "acme", vendor.pk),
        u("vendor_documents", "acme", vendor.pk),
        u("vendor_document_detail", "acme", vendor.pk, document.pk),
    ]

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    count(urls[0])
    few = {url: count(url) for url in urls}
    admin = world.users["admin"]
    controls = [ControlFactory(organization=world.org) for _ in range(4)]
    for i in range(25):
        add_type2(vendor, admin, today, title=f"Report {i}")
    for i in range(15):
        services.report_exception_add(actor=admin, document=document, description=f"E{i}")
        services.cuec_add(
            actor=admin, document=document, description=f"C{i}", controls=controls[: i % 4]
        )
    for url, queries in few.items():
        with django_assert_max_num_queries(queries):
            assert client.get(url).status_code == 200
    page = client.get(urls[0]).content.decode()
    assert "10 of 26 shown" in page and "All 26 documents" in page


# --- the inventory filter -----------------------------------------------------------------------


@pytest.fixture
def soc2_inventory(world: World, today: dt.date) -> dict[str, Vendor]:
    admin = world.users["admin"]
    current = VendorFactory(organization=world.org, name="Current Co", risk_tier=RiskTier.CRITICAL)
    add_type2(current, admin, today)
    expired = VendorFactory(organization=world.org, name="Lapsed Co", risk_tier=RiskTier.CRITICAL)
    add_type2(
        expired, admin, today,
        period_start=today - dt.timedelta(days=900), period_end=today - dt.timedelta(days=500),
        issued_on=today - dt.timedelta(days=480),
    )  # fmt: skip
    bridged = VendorFactory(organization=world.org, name="Bridged Co")
    add_type2(
        bridged, admin, today,
        period_start=today - dt.timedelta(days=800), period_end=today - dt.timedelta(days=400),
        issued_on=today - dt.timedelta(days=380),
    )  # fmt: skip
    services.vendor_document_upload(
        actor=admin, vendor=bridged, upload=pdf(), doc_type=DocumentType.BRIDGE_LETTER,
        period_start=today - dt.timedelta(days=400), period_end=today - dt.timedelta(days=10),
    )  # fmt: skip
    missing = VendorFactory(organization=world.org, name="Paperless Co")
    services.vendor_document_upload(
        actor=admin, vendor=missing, upload=pdf(), doc_type=DocumentType.DPA
    )
    return {"current": current, "expired": expired, "bridged": bridged, "missing": missing}


def names_in(response: Any) -> set[str]:
    return {row.vendor.name for row in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("expired", {"Lapsed Co"}),
        ("current", {"Current Co", "Bridged Co"}),
        ("missing", {"Paperless Co"}),
        ("", {"Current Co", "Bridged Co", "Lapsed Co", "Paperless Co"}),
    ],
)
def test_the_inventory_filters_by_soc2_report(
    world: World, soc2_inventory: dict, value: str, expected: set[str]
) -> None:
    response = world.client("viewer").get(u("vendor_list", "acme"), {"soc2": value})
    assert response.status_code == 200
    assert names_in(response) == expected
    # The CSV export follows the filters.
    export = world.client("viewer").get(u("vendor_export", "acme"), {"soc2": value})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {row[0] for row in rows[1:]} == expected


def test_the_filter_agrees_with_the_vendor_review_check(
    world: World, soc2_inventory: dict, today: dt.date
) -> None:
    from controls.checks.vendors import soc2_expired

    expired = soc2_inventory["expired"]
    documents = list(expired.documents.all())
    assert soc2_expired(documents, today) is not None
    assert soc2_expired(list(soc2_inventory["bridged"].documents.all()), today) is None


def test_an_unknown_soc2_value_is_a_filter_error_not_every_vendor(
    world: World, soc2_inventory: dict
) -> None:
    response = world.client("viewer").get(u("vendor_list", "acme"), {"soc2": "stale"})
    assert response.status_code == 200
    assert names_in(response) == set()
    assert "Select a valid choice" in response.content.decode()


def test_the_filter_costs_the_same_at_two_sizes(
    world: World, soc2_inventory: dict, today: dt.date, django_assert_max_num_queries: Any
) -> None:
    client = world.client("admin")
    url = u("vendor_list", "acme") + "?soc2=expired"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    for i in range(20):
        vendor = VendorFactory(organization=world.org, name=f"More {i}")
        add_type2(vendor, world.users["admin"], today)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(url)
    assert names_in(response) == {"Lapsed Co"}
