"""Vendor documents: type-dependent validation, stored and hashed files, exceptions, CUECs."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import AuditEvent
from evidence import storage
from evidence.models import IntegrityAlert
from evidence.services import integrity_sweep
from tests.conftest import World
from tests.factories import ControlFactory
from tests.vendors.factories import VendorFactory
from vendors.documents import cuec_add, report_exception_add, vendor_document_upload
from vendors.models import AuditOpinion, DocumentType, VendorDocument

BODY = b"%PDF-1.4 a SOC 2 report\n" * 1000


def upload(name: str = "soc2.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, BODY, content_type="application/pdf")


def type2(world: World, **kwargs: object) -> VendorDocument:
    vendor = VendorFactory(organization=world.org)
    values: dict[str, object] = {
        "doc_type": DocumentType.SOC2_TYPE2,
        "opinion": AuditOpinion.UNQUALIFIED,
        "period_start": dt.date(2025, 1, 1),
        "period_end": dt.date(2025, 12, 31),
        "issued_on": dt.date(2026, 2, 1),
        "valid_until": dt.date(2027, 2, 1),
    }
    values.update(kwargs)
    return vendor_document_upload(
        actor=world.users["admin"], vendor=vendor, upload=upload(), **values
    )


def stored_files(root: Path) -> list[Path]:
    """Every file under the storage root, "." folders included."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_type2_report_is_stored_hashed_and_audited(world: World) -> None:
    document = type2(world)
    assert document.sha256 == hashlib.sha256(BODY).hexdigest()
    assert document.size == len(BODY)
    assert document.original_name == "soc2.pdf"
    assert "soc2" not in document.storage_key  # never derived from the uploader's filename
    with storage.open_file(document.storage_key) as handle:
        assert handle.read() == BODY
    assert AuditEvent.objects.filter(action="vendor.document.upload").count() == 1


def test_a_documents_file_is_not_reported_as_an_orphaned_evidence_file(
    world: World, evidence_dir: Path
) -> None:
    document = type2(world)
    assert document.storage_key.startswith(f".vendor-documents/{world.org.pk}/")
    an_hour_ago = time.time() - 7200  # old enough for the orphan check to consider it
    path = evidence_dir / document.storage_key
    os.utime(path, (an_hour_ago, an_hour_ago))
    assert document.storage_key not in set(storage.all_keys())
    run = integrity_sweep()
    assert run.orphaned == 0
    assert not IntegrityAlert.objects.filter(kind=IntegrityAlert.Kind.ORPHANED).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_start": None}, "period_start"),
        ({"period_end": dt.date(2024, 1, 1)}, "period_end"),
        ({"opinion": ""}, "opinion"),
        ({"valid_until": dt.date(2026, 1, 1)}, "valid_until"),
    ],
)
def test_bad_document_facts_name_the_field_and_store_nothing(
    world: World, evidence_dir: Path, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        type2(world, **changes)
    assert field in exc.value.message_dict
    assert not VendorDocument.objects.exists()
    assert stored_files(evidence_dir) == []


def test_a_type1_report_needs_its_as_of_date_and_a_dpa_no_opinion(world: World) -> None:
    vendor = VendorFactory(organization=world.org)
    admin = world.users["admin"]
    with pytest.raises(ValidationError) as exc:
        vendor_document_upload(
            actor=admin, vendor=vendor, upload=upload(), doc_type=DocumentType.SOC2_TYPE1,
            opinion=AuditOpinion.QUALIFIED,
        )  # fmt: skip
    assert "as_of" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        vendor_document_upload(
            actor=admin, vendor=vendor, upload=upload(), doc_type=DocumentType.DPA,
            opinion=AuditOpinion.QUALIFIED,
        )  # fmt: skip
    assert "opinion" in exc.value.message_dict
    dpa = vendor_document_upload(
        actor=admin, vendor=vendor, upload=upload("dpa.pdf"), doc_type=DocumentType.DPA
    )
    assert dpa.get_doc_type_display() == "Data processing agreement"


@pytest.mark.parametrize("persona", ["member", "viewer", "auditor"])
def test_only_vendor_managers_upload(world: World, persona: str) -> None:
    vendor = VendorFactory(organization=world.org)
    with pytest.raises(PermissionDenied):
        vendor_document_upload(
            actor=world.users[persona], vendor=vendor, upload=upload(),
            doc_type=DocumentType.DPA,
        )  # fmt: skip
    assert not VendorDocument.objects.exists()


def test_exceptions_and_cuecs_link_only_our_controls(world: World) -> None:
    document = type2(world)
    admin = world.users["admin"]
    exception = report_exception_add(
        actor=admin, document=document, description="Two leavers kept access", criterion="CC6.2"
    )
    assert exception.get_assessment_display() == "Not assessed yet"
    ours = ControlFactory(organization=world.org)
    cuec = cuec_add(
        actor=admin, document=document, description="Review user access", controls=[ours]
    )
    assert list(cuec.controls.all()) == [ours]
    theirs = ControlFactory(organization=world.other_org)
    with pytest.raises(ValidationError) as exc:
        cuec_add(actor=admin, document=document, description="x", controls=[theirs])
    assert "controls" in exc.value.message_dict
    assert document.cuecs.count() == 1
