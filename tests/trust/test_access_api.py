"""The trust documents API: admins only (404 for everyone else in or outside the
organization, 401/403 for anonymous), uploads, updates, the request queue's decisions and the
download log, with bad input answered as JSON naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from compliance.models import AuditEvent
from tests.conftest import PERSONAS
from tests.trust.docs_helpers import (
    GATED_BYTES,
    Docs,
    approve,
    docs_fixture,  # noqa: F401 - the fixture
    pdf_upload,
    submit,
)
from trust.models import (
    AccessGrant,
    AccessRequest,
    AccessRequestStatus,
    DocumentDownload,
    TrustDocument,
)

pytestmark = pytest.mark.django_db

BASE = "/api/organizations/acme"


def expected(persona: str, success: int) -> int:
    if persona == "anonymous":
        return 401
    return success if persona == "admin" else 404


ENDPOINTS: list[tuple[str, str, Any, int]] = [
    ("get", "/trust-documents/", None, 200),
    ("get", "/trust-documents/{gated}/", None, 200),
    ("patch", "/trust-documents/{gated}/", {"is_published": False}, 200),
    ("post", "/trust-documents/", "upload", 201),
    ("get", "/trust-access-requests/", None, 200),
    ("get", "/trust-access-requests/{pending}/", None, 200),
    ("post", "/trust-access-requests/{pending}/approve/", {"note": "ok"}, 200),
    ("post", "/trust-access-requests/{pending}/deny/", {}, 200),
    ("post", "/trust-access-requests/{approved}/revoke/", None, 200),
    ("get", "/trust-downloads/", None, 200),
]


@pytest.fixture
def queue(docs: Docs) -> Docs:
    submit(docs, email="pending@customer.test")
    approve(docs, email="approved@customer.test")
    return docs


@pytest.mark.parametrize("persona", ["anonymous", *PERSONAS])
@pytest.mark.parametrize(
    ("method", "path", "body", "success"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_endpoint_permissions(
    queue: Docs, persona: str, method: str, path: str, body: Any, success: int
) -> None:
    ids = {
        "gated": queue.gated.pk,
        "pending": AccessRequest.objects.get(email="pending@customer.test").pk,
        "approved": AccessRequest.objects.get(email="approved@customer.test").pk,
    }
    url = BASE + path.format(**ids)
    client = queue.world.api(persona) if persona != "anonymous" else queue.world.api("nobody")
    events = AuditEvent.objects.count()
    documents = TrustDocument.objects.count()
    if body == "upload":
        response = client.post(
            url, {"title": "Pen test", "file": pdf_upload("p.pdf")}, format="multipart"
        )
    elif method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, body or {}, format="json")
    want = expected(persona, success)
    if persona == "anonymous":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == want, response.content[:300]
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == events
        assert TrustDocument.objects.count() == documents
    elif method != "get":
        assert AuditEvent.objects.count() > events


def test_another_organizations_rows_are_404_through_our_url(queue: Docs) -> None:
    client = queue.world.api("admin")
    assert client.get(f"{BASE}/trust-documents/{queue.foreign_gated.pk}/").status_code == 404


def test_upload_through_the_api_hashes_and_stores(queue: Docs) -> None:
    response = queue.world.api("admin").post(
        f"{BASE}/trust-documents/",
        {
            "title": "Pen test",
            "access": "public",
            "is_published": "true",
            "file": pdf_upload("p.pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (
        data["access"] == "public" and data["is_published"] is True and data["download_count"] == 0
    )
    assert Client().get(f"/trust/acme/documents/{data['id']}/download/").status_code == 200


def test_bad_input_names_the_field_and_changes_nothing(queue: Docs) -> None:
    client = queue.world.api("admin")
    response = client.post(
        f"{BASE}/trust-documents/",
        {"title": "x", "file": pdf_upload("x.exe", b"MZ")},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()
    response = client.patch(
        f"{BASE}/trust-documents/{queue.gated.pk}/", {"access": "secret"}, format="json"
    )
    assert response.status_code == 400 and "access" in response.json()
    response = client.patch(
        f"{BASE}/trust-documents/{queue.gated.pk}/", {"sha256": "0" * 64}, format="json"
    )
    assert response.status_code == 400 and "sha256" in response.json()
    response = client.get(f"{BASE}/trust-access-requests/", {"status": "maybe"})
    assert response.status_code == 400 and "status" in response.json()
    approved = AccessRequest.objects.get(email="approved@customer.test")
    response = client.post(f"{BASE}/trust-access-requests/{approved.pk}/deny/", {}, format="json")
    assert response.status_code == 400
    approved.refresh_from_db()
    assert approved.status == AccessRequestStatus.APPROVED


def test_the_queue_filters_by_status_and_lists_pending_first(queue: Docs) -> None:
    client = queue.world.api("admin")
    rows = client.get(f"{BASE}/trust-access-requests/").json()["results"]
    assert [r["email"] for r in rows] == ["pending@customer.test", "approved@customer.test"]
    rows = client.get(f"{BASE}/trust-access-requests/", {"status": "approved"}).json()["results"]
    assert [r["email"] for r in rows] == ["approved@customer.test"]
    assert rows[0]["nda_version"] == 1 and len(rows[0]["grants"]) == 1


def test_revoking_through_the_api_kills_the_link(queue: Docs) -> None:
    from tests.trust.docs_helpers import link_from_last_email, path_of

    link = path_of(link_from_last_email("approved@customer.test"))
    approved = AccessRequest.objects.get(email="approved@customer.test")
    client = queue.world.api("admin")
    assert client.post(f"{BASE}/trust-access-requests/{approved.pk}/revoke/").status_code == 200
    assert Client().get(link).status_code == 410
    assert client.post(f"{BASE}/trust-access-requests/{approved.pk}/revoke/").status_code == 400
    assert AccessGrant.objects.get().revoked_at is not None


def test_the_download_log_lists_and_filters(queue: Docs) -> None:
    from tests.trust.docs_helpers import link_from_last_email, path_of

    link = path_of(link_from_last_email("approved@customer.test"))
    assert b"".join(Client().get(f"{link}{queue.gated.pk}/").streaming_content) == GATED_BYTES
    Client().get(f"/trust/acme/documents/{queue.public.pk}/download/")
    client = queue.world.api("admin")
    rows = client.get(f"{BASE}/trust-downloads/").json()["results"]
    assert len(rows) == 2
    approved = AccessRequest.objects.get(email="approved@customer.test")
    rows = client.get(f"{BASE}/trust-downloads/", {"request": approved.pk}).json()["results"]
    assert [r["document"]["id"] for r in rows] == [queue.gated.pk]


@pytest.mark.parametrize("size", [3, 30])
def test_api_lists_keep_their_query_count(
    queue: Docs, size: int, django_assert_max_num_queries: Any
) -> None:
    for i in range(size):
        r = AccessRequest.objects.create(
            page=queue.page, name=f"P{i}", email=f"p{i}@bulk.test", company="B"
        )
        r.documents.set([queue.gated])
        g = AccessGrant.objects.create(request=r, token_hash=f"{i:064d}", expires_at=r.created_at)
        DocumentDownload.objects.create(document=queue.gated, grant=g, ip="203.0.113.1")
    client = queue.world.api("admin")
    for path in ("/trust-access-requests/", "/trust-downloads/", "/trust-documents/"):
        with django_assert_max_num_queries(10):
            assert client.get(BASE + path).status_code == 200
