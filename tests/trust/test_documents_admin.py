"""The admins' side of the trust page's documents: upload (hash, storage), settings, the NDA,
auto-approve domains, the queue and its decisions, the download log; who may see them (admins
only: for everyone else in the organization they do not exist), and their query counts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from compliance.models import AuditEvent
from evidence import storage
from tests.conftest import PERSONAS
from tests.matrix import LOGIN, Case, check_page_case
from tests.trust.docs_helpers import (
    GATED_BYTES,
    Docs,
    approve,
    docs_fixture,  # noqa: F401 - the fixture
    pdf_upload,
    submit,
)
from trust.documents import services
from trust.models import (
    AccessRequest,
    AccessRequestStatus,
    AutoApproveRule,
    DocumentDownload,
    TrustDocument,
    TrustNda,
)

pytestmark = pytest.mark.django_db

ADMINS = {**dict.fromkeys(PERSONAS, 404), "anonymous": LOGIN}


def admins(success: int) -> dict[str, Any]:
    return {**ADMINS, "admin": success}


def u(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def pending(docs: Docs) -> AccessRequest:
    submit(docs, email="pending@customer.test")
    return AccessRequest.objects.get(email="pending@customer.test")


def approved(docs: Docs) -> AccessRequest:
    approve(docs, email="approved@customer.test")
    return AccessRequest.objects.get(email="approved@customer.test")


def request_state(email: str) -> Any:
    def state(w: Any) -> Any:
        r = AccessRequest.objects.filter(email=email).first()
        return r and (r.status, r.grants.count(), r.grants.filter(revoked_at__isnull=True).count())

    return state


CASES = [
    Case("document list", "get", lambda w: u("trust_document_list", "acme"), admins(200)),
    Case("upload form", "get", lambda w: u("trust_document_upload", "acme"), admins(200)),
    Case(
        "upload",
        "post",
        lambda w: u("trust_document_upload", "acme"),
        admins(302),
        data=lambda w: {"title": "Pen test", "access": "gated", "file": pdf_upload("pt.pdf")},
        state=lambda w: TrustDocument.objects.count(),
    ),
    Case(
        "document detail",
        "get",
        lambda w: u(
            "trust_document_detail",
            "acme",
            TrustDocument.objects.get(title="SOC 2 Type I report").pk,
        ),
        admins(200),
    ),
    Case(
        "another organization's document through our URL",
        "get",
        lambda w: u(
            "trust_document_detail", "acme", TrustDocument.objects.get(title="Globex pen test").pk
        ),
        ADMINS,
    ),
    Case(
        "document file",
        "get",
        lambda w: u(
            "trust_document_file", "acme", TrustDocument.objects.get(title="SOC 2 Type I report").pk
        ),
        admins(200),
    ),
    Case(
        "unpublish",
        "post",
        lambda w: u(
            "trust_document_detail",
            "acme",
            TrustDocument.objects.get(title="SOC 2 Type I report").pk,
        ),
        admins(302),
        data=lambda w: {"title": "SOC 2 Type I report", "access": "gated", "description": ""},
        state=lambda w: TrustDocument.objects.get(title="SOC 2 Type I report").is_published,
    ),
    Case("access settings", "get", lambda w: u("trust_access_settings", "acme"), admins(200)),
    Case(
        "new NDA version",
        "post",
        lambda w: u("trust_access_settings", "acme"),
        admins(302),
        data=lambda w: {"action": "nda", "text": "Version two."},
        state=lambda w: TrustNda.objects.count(),
    ),
    Case(
        "add an auto-approve domain",
        "post",
        lambda w: u("trust_access_settings", "acme"),
        admins(302),
        data=lambda w: {"action": "add_domain", "domain": "partner.test"},
        state=lambda w: list(services.page_for(w.org).auto_approve_rules.values_list("domain")),
    ),
    Case("request queue", "get", lambda w: u("trust_request_list", "acme"), admins(200)),
    Case(
        "request detail",
        "get",
        lambda w: u(
            "trust_request_detail",
            "acme",
            AccessRequest.objects.get(email="pending@customer.test").pk,
        ),
        admins(200),
    ),
    Case(
        "approve",
        "post",
        lambda w: u(
            "trust_request_detail",
            "acme",
            AccessRequest.objects.get(email="pending@customer.test").pk,
        ),
        admins(302),
        data=lambda w: {"action": "approve", "note": "ok"},
        state=request_state("pending@customer.test"),
    ),
    Case(
        "deny",
        "post",
        lambda w: u(
            "trust_request_detail",
            "acme",
            AccessRequest.objects.get(email="pending@customer.test").pk,
        ),
        admins(302),
        data=lambda w: {"action": "deny", "note": "no"},
        state=request_state("pending@customer.test"),
    ),
    Case(
        "revoke",
        "post",
        lambda w: u(
            "trust_request_detail",
            "acme",
            AccessRequest.objects.get(email="approved@customer.test").pk,
        ),
        admins(302),
        data=lambda w: {"action": "revoke"},
        state=request_state("approved@customer.test"),
    ),
    Case(
        "re-send the link",
        "post",
        lambda w: u(
            "trust_request_detail",
            "acme",
            AccessRequest.objects.get(email="approved@customer.test").pk,
        ),
        admins(302),
        data=lambda w: {"action": "resend"},
        state=request_state("approved@customer.test"),
    ),
]
PARAMS = [param for case in CASES for param in case.params()]


@pytest.fixture
def queue(docs: Docs) -> Docs:
    pending(docs)
    approved(docs)
    return docs


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_admin_page_permissions(queue: Docs, case: Case, persona: str) -> None:
    check_page_case(queue.world, case, persona)


def test_the_sidebar_of_others_offers_no_link_to_these_pages(queue: Docs) -> None:
    for persona in ("viewer", "member", "owner"):
        html = queue.world.client(persona).get(u("dashboard", "acme")).content.decode()
        assert "/trust/documents/" not in html and "/trust/requests/" not in html


def test_upload_hashes_and_stores_under_a_dot_folder(docs: Docs, evidence_dir: Path) -> None:
    client = docs.world.client("admin")
    response = client.post(
        u("trust_document_upload", "acme"),
        {
            "title": "Pen test summary",
            "access": "gated",
            "is_published": "on",
            "file": pdf_upload("pt.pdf"),
        },
    )
    assert response.status_code == 302
    document = TrustDocument.objects.get(title="Pen test summary")
    assert document.sha256 == hashlib.sha256(GATED_BYTES).hexdigest()
    assert document.size == len(GATED_BYTES) and document.content_type == "application/pdf"
    assert document.storage_key.startswith(f".trust/{docs.world.org.pk}/")
    assert (evidence_dir / document.storage_key).read_bytes() == GATED_BYTES
    assert storage.hash_file(document.storage_key) == (document.size, document.sha256)
    # Evidence's orphan check does not see it.
    assert document.storage_key not in set(storage.all_keys())
    event = AuditEvent.objects.filter(action="trust.document_upload").latest("pk")
    assert event.after["sha256"] == document.sha256


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("x.exe", b"MZ..."), "not accepted"),
        (SimpleUploadedFile("x.pdf", b"just text"), "does not match"),
        (SimpleUploadedFile("x.pdf", b""), "empty"),
    ],
)
def test_a_bad_upload_is_a_form_error_and_stores_nothing(
    docs: Docs, evidence_dir: Path, upload: Any, message: str
) -> None:
    before = TrustDocument.objects.count()
    files = set((evidence_dir / ".trust").rglob("*"))
    response = docs.world.client("admin").post(
        u("trust_document_upload", "acme"), {"title": "Bad", "access": "gated", "file": upload}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert TrustDocument.objects.count() == before
    assert set((evidence_dir / ".trust").rglob("*")) == files


def test_unpublishing_hides_the_document_from_the_public_and_is_audited(docs: Docs) -> None:
    client = docs.world.client("admin")
    response = client.post(
        u("trust_document_detail", "acme", docs.public.pk),
        {"title": docs.public.title, "description": "", "access": "public"},
    )
    assert response.status_code == 302
    assert Client().get(f"/trust/acme/documents/{docs.public.pk}/download/").status_code == 404
    event = AuditEvent.objects.filter(action="trust.document_update").latest("pk")
    assert event.before == {"is_published": True} and event.after == {"is_published": False}


def test_editing_the_nda_makes_a_new_version_and_keeps_the_old(docs: Docs) -> None:
    client = docs.world.client("admin")
    assert (
        client.post(
            u("trust_access_settings", "acme"), {"action": "nda", "text": "Keep it secret."}
        ).status_code
        == 400
    )
    assert (
        client.post(
            u("trust_access_settings", "acme"), {"action": "nda", "text": "v2 text"}
        ).status_code
        == 302
    )
    assert list(TrustNda.objects.filter(page=docs.page).values_list("version", "text")) == [
        (2, "v2 text"),
        (1, "Keep it secret."),
    ]


@pytest.mark.parametrize(
    "domain", ["", "nodot", "a..b", "-x.com", "exa mple.com", "x" * 64 + ".com"]
)
def test_a_bad_domain_is_a_form_error(docs: Docs, domain: str) -> None:
    response = docs.world.client("admin").post(
        u("trust_access_settings", "acme"), {"action": "add_domain", "domain": domain}
    )
    assert response.status_code == 400
    assert not docs.page.auto_approve_rules.exists()


def test_a_domain_is_stored_lower_case_and_once(docs: Docs) -> None:
    client = docs.world.client("admin")
    assert (
        client.post(
            u("trust_access_settings", "acme"), {"action": "add_domain", "domain": "@Example.COM"}
        ).status_code
        == 302
    )
    assert list(docs.page.auto_approve_rules.values_list("domain", flat=True)) == ["example.com"]
    response = client.post(
        u("trust_access_settings", "acme"), {"action": "add_domain", "domain": "example.com"}
    )
    assert response.status_code == 400 and b"already" in response.content
    rule = docs.page.auto_approve_rules.get()
    assert (
        client.post(
            u("trust_access_settings", "acme"), {"action": "remove_domain", "rule": rule.pk}
        ).status_code
        == 302
    )
    assert not docs.page.auto_approve_rules.exists()


def test_the_queue_shows_pending_first_and_filters_by_status(queue: Docs) -> None:
    submit(queue, email="denied@customer.test")
    services.access_request_deny(
        actor=queue.world.users["admin"],
        access_request=AccessRequest.objects.get(email="denied@customer.test"),
    )
    client = queue.world.client("admin")
    html = client.get(u("trust_request_list", "acme")).content.decode()
    assert html.index("pending@customer.test") < html.index("denied@customer.test")
    assert html.index("pending@customer.test") < html.index("approved@customer.test")
    html = client.get(u("trust_request_list", "acme"), {"status": "denied"}).content.decode()
    assert "denied@customer.test" in html and "pending@customer.test" not in html
    # An unknown status is ignored, never a server error.
    assert client.get(u("trust_request_list", "acme"), {"status": "nope"}).status_code == 200


def test_a_decided_request_cannot_be_decided_again(queue: Docs) -> None:
    request = AccessRequest.objects.get(email="approved@customer.test")
    response = queue.world.client("admin").post(
        u("trust_request_detail", "acme", request.pk), {"action": "deny"}
    )
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.APPROVED


def test_the_download_log_shows_who_when_where_and_which_browser(queue: Docs) -> None:
    from tests.trust.docs_helpers import link_from_last_email, path_of

    link = path_of(link_from_last_email("approved@customer.test"))
    Client(HTTP_USER_AGENT="Firefox/Trusty", REMOTE_ADDR="198.51.100.20").get(
        f"{link}{queue.gated.pk}/"
    )
    client = queue.world.client("admin")
    for url in (
        u("trust_document_detail", "acme", queue.gated.pk),
        u(
            "trust_request_detail",
            "acme",
            AccessRequest.objects.get(email="approved@customer.test").pk,
        ),
    ):
        html = client.get(url).content.decode()
        assert "Firefox/Trusty" in html and "198.51.100.20" in html
        assert "approved@customer.test" in html or "Casey Customer" in html
    html = client.get(u("trust_document_list", "acme")).content.decode()
    assert '#downloads">1</a>' in html


def _grow(docs: Docs, n: int) -> None:
    from trust.models import AccessGrant

    for i in range(n):
        r = AccessRequest.objects.create(
            page=docs.page, name=f"P{i}", email=f"p{i}@bulk.test", company="Bulk"
        )
        r.documents.set([docs.gated])
        if i % 2:
            g = AccessGrant.objects.create(
                request=r, token_hash=f"{i:064d}", expires_at=r.created_at
            )
            DocumentDownload.objects.create(document=docs.gated, grant=g, ip="203.0.113.1")
        else:
            DocumentDownload.objects.create(document=docs.public, ip="203.0.113.2")


@pytest.mark.parametrize("size", [3, 30])
def test_query_counts_do_not_grow_with_the_lists(
    docs: Docs, size: int, django_assert_max_num_queries: Any
) -> None:
    _grow(docs, size)
    client = docs.world.client("admin")
    client.get(u("trust_request_list", "acme"))  # warm the session
    for url in (
        u("trust_request_list", "acme"),
        u("trust_document_list", "acme"),
        u("trust_document_detail", "acme", docs.gated.pk),
        u("trust_document_detail", "acme", docs.public.pk),
    ):
        with django_assert_max_num_queries(9):
            assert client.get(url).status_code == 200


def test_long_nda_history_and_many_domains_stay_reachable(docs: Docs) -> None:
    """The page lists the 20 newest NDA versions and says how many there are; domains are
    paged, so the 101st can still be removed."""
    admin = docs.world.users["admin"]
    for n in range(22):
        services.nda_publish(actor=admin, organization=docs.world.org, text=f"Terms {n}.")
    AutoApproveRule.objects.bulk_create(
        [AutoApproveRule(page=docs.page, domain=f"d{n:03d}.example") for n in range(101)]
    )
    client = docs.world.client("admin")
    body = client.get(u("trust_access_settings", "acme")).content.decode()
    total = TrustNda.objects.filter(page=docs.page).count()
    assert total >= 22
    assert f"The 20 newest of {total} versions" in body
    assert f"Version {total} ·" in body
    assert f"Version {total - 19} ·" in body and f"Version {total - 20} ·" not in body
    assert "1\u2013100 of 101" in body and "d100.example" not in body
    second = client.get(u("trust_access_settings", "acme") + "?page=2").content.decode()
    assert "d100.example" in second
