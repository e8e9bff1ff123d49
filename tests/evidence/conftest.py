from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import User
from controls.models import Control
from evidence import services
from evidence.models import EvidenceItem, ReviewStatus
from tests.conftest import World

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_upload(name: str = "access-review.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def add_evidence(
    world: World,
    control: Control,
    *,
    actor: User | None = None,
    effective: dt.date | None = None,
    accept: bool = False,
    title: str = "Access review",
) -> EvidenceItem:
    item = services.evidence_create(
        actor=actor or world.users["owner"],
        organization=world.org,
        title=title,
        kind="file",
        effective_date=effective or dt.date.today(),
        controls=[control],
        upload=pdf_upload(),
    )
    if accept:
        services.revision_review(
            actor=world.users["admin"],
            revision=item.revisions.get(),
            decision=ReviewStatus.ACCEPTED,
        )
    return item
