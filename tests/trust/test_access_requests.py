"""The public access request flow: the form, the NDA record, the honeypot, the throttle,
auto-approval by email domain, the signed link and every way it is dead, and the emails as a
real SMTP server receives them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from compliance.emails import email_deliver
from compliance.models import AuditEvent, OutboundEmail
from tests.smtp_server import smtp_server
from tests.trust.docs_helpers import (
    GATED_BYTES,
    PUBLIC_BYTES,
    Docs,
    approve,
    docs_fixture,  # noqa: F401 - the fixture
    link_from_last_email,
    path_of,
    submit,
)
from trust.documents import services
from trust.models import AccessGrant, AccessRequest, AccessRequestStatus, DocumentDownload

pytestmark = pytest.mark.django_db


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_the_form_lists_the_published_gated_documents_and_the_nda(docs: Docs) -> None:
    response = Client().get("/trust/acme/request/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "SOC 2 Type I report" in html
    assert "Security overview" not in html  # public: downloads directly, nothing to request
    assert "Keep it secret." in html and "version 1" in html
    # The honeypot is hidden by CSS, not by type=hidden.
    assert 'name="website"' in html and 'type="text" name="website"' in html


def test_the_form_is_404_when_the_page_is_unpublished_or_has_no_gated_document(docs: Docs) -> None:
    docs.page.published_at = None
    docs.page.save()
    assert Client().get("/trust/acme/request/").status_code == 404
    docs.page.published_at = timezone.now()
    docs.page.save()
    services.document_update(
        actor=docs.world.users["admin"], document=docs.gated, is_published=False
    )
    assert Client().get("/trust/acme/request/").status_code == 404
    assert Client().get("/trust/nobody/request/").status_code == 404


def test_a_request_records_the_nda_version_time_address_and_browser(docs: Docs) -> None:
    before = timezone.now()
    response = submit(
        docs, client=Client(HTTP_USER_AGENT="CaseyBrowser/1.0", REMOTE_ADDR="203.0.113.9")
    )
    assert response.status_code == 200
    assert b"will review it" in response.content
    request = AccessRequest.objects.get()
    assert request.status == AccessRequestStatus.PENDING
    assert request.nda == docs.nda and request.nda.version == 1
    assert request.nda_accepted_at is not None and request.nda_accepted_at >= before
    assert request.nda_ip == "203.0.113.9"
    assert request.nda_user_agent == "CaseyBrowser/1.0"
    assert list(request.documents.all()) == [docs.gated]
    event = AuditEvent.objects.filter(action="trust.access_request_submit").get()
    assert event.after["nda_version"] == 1 and event.after["ip"] == "203.0.113.9"
    # The admins are told; the requester gets nothing until approval.
    email = OutboundEmail.objects.get(template="trust_access_request")
    assert email.to == ["admin@acme.test"]
    assert not OutboundEmail.objects.filter(template="trust_access_granted").exists()


def test_the_address_behind_a_trusted_proxy_is_recorded(docs: Docs, settings: Any) -> None:
    settings.TRUSTED_PROXIES = 1
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert submit(docs, client=client).status_code == 200
    assert AccessRequest.objects.get().nda_ip == "198.51.100.7"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"accept_nda": ""}, "Accept the NDA"),
        ({"documents": []}, "Choose at least one document"),
        ({"email": "not-an-email"}, "valid email"),
        ({"name": ""}, "required"),
    ],
)
def test_bad_input_is_a_form_error_and_stores_nothing(
    docs: Docs, overrides: dict[str, Any], field: str
) -> None:
    response = submit(docs, **overrides)
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_another_organizations_document_cannot_be_requested(docs: Docs) -> None:
    response = submit(docs, documents=[docs.foreign_gated.pk])
    assert response.status_code == 400
    assert not AccessRequest.objects.exists()


def test_a_changed_nda_must_be_read_again(docs: Docs) -> None:
    services.nda_publish(
        actor=docs.world.users["admin"], organization=docs.world.org, text="New terms."
    )
    response = submit(docs, nda_version="1")
    assert response.status_code == 400
    assert b"NDA changed" in response.content
    assert not AccessRequest.objects.exists()


def test_the_honeypot_pretends_success_and_stores_nothing(docs: Docs) -> None:
    response = submit(docs, website="http://spam.test")
    assert response.status_code == 200
    assert b"Thank you" in response.content
    assert not AccessRequest.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_past_the_limit_a_clear_429_and_nothing_stored(docs: Docs, settings: Any) -> None:
    settings.TRUST_REQUEST_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.50")
    for n in range(2):
        assert submit(docs, client=client, email=f"p{n}@customer.test").status_code == 200
    response = submit(docs, client=client, email="p9@customer.test")
    assert response.status_code == 429
    assert b"Too many requests" in response.content
    assert AccessRequest.objects.count() == 2
    assert not AccessRequest.objects.filter(email="p9@customer.test").exists()


def test_one_email_is_limited_across_addresses(docs: Docs, settings: Any) -> None:
    settings.TRUST_REQUEST_LIMIT = 1
    assert submit(docs, client=Client(REMOTE_ADDR="203.0.113.1")).status_code == 200
    assert submit(docs, client=Client(REMOTE_ADDR="203.0.113.2")).status_code == 429
    assert AccessRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("email", "approved"),
    [
        ("ann@example.com", True),
        ("ann@EU.Example.com", True),
        ("ann@example.com.evil.test", False),
        ("ann@badexample.com", False),
        ("ann@example.co", False),
    ],
)
def test_auto_approval_by_domain_or_subdomain_only(docs: Docs, email: str, approved: bool) -> None:
    services.auto_approve_add(
        actor=docs.world.users["admin"], organization=docs.world.org, domain="example.com"
    )
    assert submit(docs, email=email).status_code == 200
    request = AccessRequest.objects.get()
    assert (request.status == AccessRequestStatus.APPROVED) is approved
    assert request.grants.exists() is approved
    assert OutboundEmail.objects.filter(template="trust_access_granted").exists() is approved
    # Admins are told of the requests waiting for them, not of the auto-approved ones.
    assert OutboundEmail.objects.filter(template="trust_access_request").exists() is not approved


def test_an_approved_link_lists_the_documents_and_downloads_are_logged(docs: Docs) -> None:
    link = approve(docs)
    client = Client(HTTP_USER_AGENT="CaseyBrowser/2.0", REMOTE_ADDR="203.0.113.77")
    page = client.get(link)
    assert page.status_code == 200
    assert b"SOC 2 Type I report" in page.content
    assert page["Cache-Control"] == "private, no-store"
    download = client.get(f"{link}{docs.gated.pk}/")
    assert download.status_code == 200
    assert body(download) == GATED_BYTES
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    logged = DocumentDownload.objects.get()
    assert logged.document == docs.gated and logged.grant.request.email == "casey@customer.test"
    assert logged.ip == "203.0.113.77" and logged.user_agent == "CaseyBrowser/2.0"
    # A document not granted by this request is not reachable through its link.
    assert client.get(f"{link}{docs.public.pk}/").status_code == 404
    assert client.get(f"{link}{docs.foreign_gated.pk}/").status_code == 404


def test_a_gated_document_has_no_public_download(docs: Docs) -> None:
    assert Client().get(f"/trust/acme/documents/{docs.gated.pk}/download/").status_code == 404
    assert not DocumentDownload.objects.exists()


def test_a_public_document_downloads_directly_and_is_logged(docs: Docs) -> None:
    response = Client().get(f"/trust/acme/documents/{docs.public.pk}/download/")
    assert response.status_code == 200
    assert body(response) == PUBLIC_BYTES
    assert response["X-Content-Type-Options"] == "nosniff"
    assert DocumentDownload.objects.get().grant is None


def test_public_download_needs_a_published_document_on_a_published_page(docs: Docs) -> None:
    url = f"/trust/acme/documents/{docs.public.pk}/download/"
    services.document_update(
        actor=docs.world.users["admin"], document=docs.public, is_published=False
    )
    assert Client().get(url).status_code == 404
    services.document_update(
        actor=docs.world.users["admin"], document=docs.public, is_published=True
    )
    docs.page.published_at = None
    docs.page.save()
    assert Client().get(url).status_code == 404
    assert Client().get(f"/trust/globex/documents/{docs.public.pk}/download/").status_code == 404


def _assert_dead(client: Client, link: str, docs: Docs) -> None:
    for url in (link, f"{link}{docs.gated.pk}/"):
        response = client.get(url)
        assert response.status_code == 410
        assert b"This link no longer works" in response.content
    assert not DocumentDownload.objects.exists()


def test_without_an_approved_request_there_is_no_link(docs: Docs) -> None:
    assert submit(docs).status_code == 200
    request = AccessRequest.objects.get()
    services.access_request_deny(actor=docs.world.users["admin"], access_request=request, note="No")
    assert not AccessGrant.objects.exists()
    assert not OutboundEmail.objects.filter(template="trust_access_granted").exists()
    _assert_dead(Client(), "/trust/acme/access/made-up-token/", docs)


def test_an_expired_link_is_dead(docs: Docs) -> None:
    link = approve(docs)
    AccessGrant.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _assert_dead(Client(), link, docs)


def test_a_revoked_link_is_dead(docs: Docs) -> None:
    link = approve(docs)
    services.grant_revoke(actor=docs.world.users["admin"], grant=AccessGrant.objects.get())
    _assert_dead(Client(), link, docs)


def test_a_forged_or_altered_signature_is_dead(docs: Docs) -> None:
    link = approve(docs)
    token = link.rstrip("/").rsplit("/", 1)[1]
    secret, signature = token.rsplit(":", 1)
    altered = f"{secret}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    _assert_dead(Client(), link.replace(token, altered), docs)
    _assert_dead(Client(), link.replace(token, secret), docs)  # the bare secret, unsigned


def test_a_token_of_another_organization_is_dead_here(docs: Docs) -> None:
    link = approve(docs)
    assert Client().get(link.replace("/trust/acme/", "/trust/globex/")).status_code == 410


def test_a_new_link_replaces_the_old_one(docs: Docs) -> None:
    old = approve(docs)
    request = AccessRequest.objects.get()
    services.grant_resend(actor=docs.world.users["admin"], access_request=request)
    new = path_of(link_from_last_email("casey@customer.test"))
    assert new != old
    assert Client().get(old).status_code == 410
    assert Client().get(new).status_code == 200


def test_only_the_hash_of_the_secret_is_stored(docs: Docs) -> None:
    link = approve(docs)
    token = link.rstrip("/").rsplit("/", 1)[1]
    secret = token.rsplit(":", 1)[0]
    grant = AccessGrant.objects.get()
    assert secret not in grant.token_hash and len(grant.token_hash) == 64


def test_the_link_lifetime_follows_the_setting(docs: Docs, settings: Any) -> None:
    settings.TRUST_ACCESS_DAYS = 3
    approve(docs)
    grant = AccessGrant.objects.get()
    assert (
        dt.timedelta(days=2, hours=23) < grant.expires_at - timezone.now() <= dt.timedelta(days=3)
    )


def test_the_emails_reach_a_real_smtp_server_and_the_link_works(
    docs: Docs, settings: Any, tmp_path: Path
) -> None:
    approve(docs)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_server(tmp_path / "mail") as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        for email in OutboundEmail.objects.order_by("pk"):
            assert email_deliver(email.pk) is True
        received = {m["To"]: m for m in server.messages()}
    assert set(received) == {"admin@acme.test", "casey@customer.test"}
    assert "New request" in received["admin@acme.test"]["Subject"]
    granted = received["casey@customer.test"]
    text = granted.get_body(preferencelist=("plain",)).get_content()
    html = granted.get_body(preferencelist=("html",)).get_content()
    link = path_of(next(w for w in text.split() if "/access/" in w))
    assert link in html
    download = Client().get(f"{link}{docs.gated.pk}/")
    assert download.status_code == 200 and body(download) == GATED_BYTES


def test_a_file_gone_from_storage_is_a_404_not_a_server_error(
    docs: Docs, evidence_dir: Path
) -> None:
    (evidence_dir / docs.public.storage_key).unlink()
    response = Client().get(f"/trust/acme/documents/{docs.public.pk}/download/")
    assert response.status_code == 404
    assert not DocumentDownload.objects.exists()


def test_a_link_of_a_request_whose_documents_were_unpublished_lists_none(docs: Docs) -> None:
    link = approve(docs)
    services.document_update(
        actor=docs.world.users["admin"], document=docs.gated, is_published=False
    )
    response = Client().get(link)
    assert response.status_code == 200
    assert b"no longer published" in response.content
    assert Client().get(f"{link}{docs.gated.pk}/").status_code == 404


def test_downloads_past_the_limit_answer_429_and_serve_nothing(docs: Docs, settings: Any) -> None:
    settings.TRUST_DOWNLOAD_LIMIT = 2
    link = approve(docs)
    client = Client(REMOTE_ADDR="203.0.113.90")
    public_url = f"/trust/acme/documents/{docs.public.pk}/download/"
    assert client.get(public_url).status_code == 200
    assert client.get(f"{link}{docs.gated.pk}/").status_code == 200
    for url in (public_url, f"{link}{docs.gated.pk}/"):
        response = client.get(url)
        assert response.status_code == 429, url
        assert b"too many downloads" in response.content
        assert response["Retry-After"] == str(settings.TRUST_REQUEST_WINDOW)
    assert DocumentDownload.objects.count() == 2
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.91").get(public_url).status_code == 200
