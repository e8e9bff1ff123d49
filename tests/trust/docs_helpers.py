"""Shared set-up for the trust documents tests: acme's published trust page with a public and
a gated document, NDA v1, and globex's page with a gated document of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from compliance.models import OutboundEmail
from tests.conftest import World
from trust.documents import services
from trust.models import AccessRequest, TrustDocument, TrustNda, TrustPage

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 3000
GATED_BYTES = PDF + b"SOC 2 report body"
PUBLIC_BYTES = b"# Security overview\n\nWe encrypt everything.\n"


@dataclass
class Docs:
    world: World
    page: TrustPage
    gated: TrustDocument
    public: TrustDocument
    nda: TrustNda
    foreign_page: TrustPage
    foreign_gated: TrustDocument


def pdf_upload(name: str = "report.pdf", content: bytes = GATED_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def build_docs(world: World) -> Docs:
    cache.clear()
    admin = world.users["admin"]
    page = services.page_for(world.org)
    page.published_at = timezone.now()
    page.save()
    gated = services.document_upload(
        actor=admin,
        organization=world.org,
        title="SOC 2 Type I report",
        upload=pdf_upload(),
        access="gated",
        is_published=True,
    )
    public = services.document_upload(
        actor=admin,
        organization=world.org,
        title="Security overview",
        upload=SimpleUploadedFile("overview.md", PUBLIC_BYTES, content_type="text/markdown"),
        access="public",
        is_published=True,
    )
    nda = services.nda_publish(actor=admin, organization=world.org, text="Keep it secret.")
    outsider = world.users["outsider"]
    foreign_page = services.page_for(world.other_org)
    foreign_page.published_at = timezone.now()
    foreign_page.save()
    foreign_gated = services.document_upload(
        actor=outsider,
        organization=world.other_org,
        title="Globex pen test",
        upload=pdf_upload("pentest.pdf", PDF + b"globex"),
        access="gated",
        is_published=True,
    )
    return Docs(world, page, gated, public, nda, foreign_page, foreign_gated)


@pytest.fixture(name="docs")
def docs_fixture(world: World) -> Docs:
    return build_docs(world)


def request_form(docs: Docs, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Casey Customer",
        "email": "casey@customer.test",
        "company": "Customer Inc",
        "reason": "Vendor review",
        "documents": [docs.gated.pk],
        "accept_nda": "on",
        "nda_version": str(docs.nda.version),
        "website": "",
    }
    data.update(overrides)
    return data


def submit(docs: Docs, client: Client | None = None, **overrides: Any) -> Any:
    client = client or Client(HTTP_USER_AGENT="CaseyBrowser/1.0")
    return client.post(f"/trust/{docs.world.org.slug}/request/", request_form(docs, **overrides))


def link_from_last_email(to: str) -> str:
    email = OutboundEmail.objects.filter(template="trust_access_granted", to__contains=[to]).latest(
        "pk"
    )
    match = re.search(r"https?://[^\s]+/trust/[^\s]+/access/[^\s/]+/", email.text_body)
    assert match, email.text_body
    return match.group(0)


def approve(docs: Docs, email: str = "casey@customer.test") -> str:
    """Submit a request and approve it as the admin; returns the link's path."""
    assert submit(docs, email=email).status_code == 200
    access_request = AccessRequest.objects.get(email=email)
    services.access_request_approve(actor=docs.world.users["admin"], access_request=access_request)
    return path_of(link_from_last_email(email))


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
