"""Writes of vendor documents, the exceptions noted in them and the CUECs they ask of us.

Uploads go through ``evidence.storage`` (a key never derived from the filename, hashed in
chunks); a stored document is never replaced. Only vendor managers (Capability.MANAGE_VENDORS)
add documents, exceptions and CUECs.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from compliance.audit import audit_record
from compliance.models import User
from controls.models import Control
from evidence import storage
from evidence.uploads import check_upload
from vendors.models import (
    ExceptionAssessment,
    ReportException,
    UserEntityControl,
    Vendor,
    VendorDocument,
)
from vendors.services import may_manage

logger = logging.getLogger(__name__)

# Under a "." folder: evidence's orphan check skips those, so a vendor document's file is not
# reported as an orphaned evidence file (trust documents and audit packages do the same).
STORAGE_FOLDER = ".vendor-documents"

DOCUMENT_FIELDS = (
    "doc_type", "title", "opinion", "as_of", "period_start", "period_end", "issued_on",
    "valid_until",
)  # fmt: skip


def new_storage_key(organization_id: int) -> str:
    return f"{STORAGE_FOLDER}/{organization_id}/{uuid.uuid4().hex}"


def _require_manager(actor: User, vendor: Vendor) -> None:
    if not may_manage(actor, vendor.organization):
        raise PermissionDenied("Only vendor managers add vendor documents.")


def _discard(key: str) -> None:
    try:
        storage.delete(key)
    except Exception:  # the storage sweep reports what could not be removed
        logger.exception("Could not remove %s after a failed upload.", key)


@transaction.atomic
def vendor_document_upload(
    *,
    actor: User,
    vendor: Vendor,
    upload: Any,
    doc_type: str,
    title: str = "",
    opinion: str = "",
    as_of: dt.date | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    issued_on: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> VendorDocument:
    """Store ``upload`` and record it as one of ``vendor``'s documents (validated first, so a
    bad form stores no file)."""
    _require_manager(actor, vendor)
    if upload is None:
        raise ValidationError({"file": "Choose the file to upload."})
    checked = check_upload(upload)  # empty, too large, a refused extension or a disguised file
    document = VendorDocument(
        vendor=vendor,
        doc_type=doc_type,
        title=title.strip(),
        opinion=opinion,
        as_of=as_of,
        period_start=period_start,
        period_end=period_end,
        issued_on=issued_on,
        valid_until=valid_until,
        original_name=(checked.name or "document")[:255],
        content_type=checked.content_type[:100],
        uploaded_by=actor,
        storage_key="pending",
        sha256="0" * 64,
    )
    document.full_clean(exclude=["storage_key", "sha256"])
    key = new_storage_key(vendor.organization_id)
    storage.store(key, upload)
    try:
        document.storage_key = key
        document.size, document.sha256 = storage.hash_file(key)
        document.save()
        audit_record(
            actor=actor,
            organization=vendor.organization,
            action="vendor.document.upload",
            obj=document,
            after={
                **{name: str(getattr(document, name) or "") for name in DOCUMENT_FIELDS},
                "sha256": document.sha256,
                "size": document.size,
            },
        )
    except BaseException:
        _discard(key)
        raise
    return document


@transaction.atomic
def report_exception_add(
    *,
    actor: User,
    document: VendorDocument,
    description: str,
    criterion: str = "",
    assessment: str = ExceptionAssessment.NOT_ASSESSED,
    assessment_note: str = "",
) -> ReportException:
    _require_manager(actor, document.vendor)
    exception = ReportException(
        document=document,
        description=description.strip(),
        criterion=criterion.strip(),
        assessment=assessment,
        assessment_note=assessment_note.strip(),
    )
    exception.full_clean()
    exception.save()
    audit_record(
        actor=actor,
        organization=document.vendor.organization,
        action="vendor.exception.add",
        obj=exception,
        after={"description": exception.description, "assessment": exception.assessment},
    )
    return exception


@transaction.atomic
def cuec_add(
    *,
    actor: User,
    document: VendorDocument,
    description: str,
    reference: str = "",
    controls: Iterable[Control] = (),
) -> UserEntityControl:
    """Record a CUEC; ``controls`` must be controls of the vendor's organization."""
    _require_manager(actor, document.vendor)
    controls = list(controls)
    if any(control.organization_id != document.vendor.organization_id for control in controls):
        raise ValidationError({"controls": "Link only controls of this organization."})
    cuec = UserEntityControl(
        document=document, description=description.strip(), reference=reference.strip()
    )
    cuec.full_clean()
    cuec.save()
    cuec.controls.set(controls)
    audit_record(
        actor=actor,
        organization=document.vendor.organization,
        action="vendor.cuec.add",
        obj=cuec,
        after={"description": cuec.description, "controls": [c.pk for c in controls]},
    )
    return cuec
