"""A customer requests a gated document on the public trust page, an admin approves it from
the queue, and the customer downloads it through the link of the email a real SMTP server
received (aiosmtpd on loopback)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from compliance.emails import email_deliver
from compliance.models import OutboundEmail
from tests.browser.conftest import screenshot
from tests.conftest import build_world
from tests.factories import PASSWORD
from tests.smtp_server import smtp_server
from tests.trust.docs_helpers import GATED_BYTES, build_docs
from trust.models import AccessRequest, AccessRequestStatus, DocumentDownload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def deliver_all(settings: Any, server: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    for email in OutboundEmail.objects.filter(sent_at__isnull=True).order_by("pk"):
        assert email_deliver(email.pk) is True


def test_a_customer_requests_an_admin_approves_the_customer_downloads(
    browser: Browser, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    world = build_world()
    docs = build_docs(world)
    base = live_server.url
    customer = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    admin = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        # The customer, anonymous, on the public request page.
        page = customer.new_page()
        page.goto(f"{base}/trust/acme/request/")
        expect(page.get_by_test_id("nda-text")).to_contain_text("Keep it secret.")
        expect(page.get_by_label("SOC 2 Type I report")).to_be_checked()  # all by default
        expect(page.get_by_label("Leave this field empty")).not_to_be_in_viewport()
        page.get_by_label("Name").fill("Casey Customer")
        page.get_by_label("Work email").fill("casey@customer.test")
        page.get_by_label("Company").fill("Customer Inc")
        page.get_by_label("Why you need them").fill("Vendor security review")
        screenshot(page, "trust-docs-1-request-1440")
        page.get_by_role("button", name="Request access").click()
        # Without the NDA box: a clear error, nothing stored.
        expect(page.get_by_text("Accept the NDA to request the documents.")).to_be_visible()
        assert not AccessRequest.objects.exists()
        page.get_by_label("I accept the non-disclosure agreement above").check()
        page.get_by_role("button", name="Request access").click()
        expect(page.get_by_test_id("request-sent")).to_contain_text("will review it")
        request = AccessRequest.objects.get()
        assert request.nda_id == docs.nda.pk and request.nda_ip == "127.0.0.1"
        assert "Chrome" in request.nda_user_agent

        with smtp_server(tmp_path / "mail") as server:
            deliver_all(settings, server)
            told = [m for m in server.messages() if m["To"] == "admin@acme.test"]
            assert told and "Customer Inc" in told[0]["Subject"]

            # The admin signs in, finds it in the queue (filtered to the waiting ones) and
            # approves it.
            admin_page = admin.new_page()
            admin_page.goto(f"{base}/login/")
            admin_page.get_by_label("Email").fill("admin@acme.test")
            admin_page.get_by_label("Password").fill(PASSWORD)
            admin_page.get_by_role("button", name="Sign in").click()
            expect(admin_page).not_to_have_url(re.compile(r"/login/"))
            admin_page.goto(f"{base}/o/acme/trust/documents/")
            admin_page.get_by_role("link", name="1 request waiting").click()
            admin_page.get_by_label("Status").select_option("pending")
            admin_page.get_by_role("button", name="Filter").click()
            expect(admin_page.get_by_test_id("request-table")).to_contain_text(
                "casey@customer.test"
            )
            screenshot(admin_page, "trust-docs-2-queue-1440")
            admin_page.get_by_role("link", name="Casey Customer").click()
            admin_page.get_by_label("Note").fill("Known prospect")
            admin_page.get_by_role("button", name="Approve and email the link").click()
            expect(admin_page.get_by_test_id("request-status")).to_have_text("Approved")
            assert AccessRequest.objects.get().status == AccessRequestStatus.APPROVED

            deliver_all(settings, server)
            granted = [m for m in server.messages() if m["To"] == "casey@customer.test"]
            assert len(granted) == 1
            text = granted[0].get_body(preferencelist=("plain",)).get_content()
            link = next(word for word in text.split() if "/access/" in word)
        # The link names the configured site; the live server has its own address.
        path = "/" + link.split("://", 1)[1].split("/", 1)[1]

        page.goto(base + path)
        expect(page.get_by_test_id("granted-documents")).to_contain_text("SOC 2 Type I report")
        screenshot(page, "trust-docs-3-access-1440")
        with page.expect_download() as caught:
            page.get_by_role("link", name="Download").click()
        download = caught.value
        assert Path(download.path()).read_bytes() == GATED_BYTES
        assert download.suggested_filename == "report.pdf"
        logged = DocumentDownload.objects.get()
        assert logged.grant is not None and logged.grant.request_id == request.pk

        # The admin sees the download in the request's log.
        admin_page.reload()
        expect(admin_page.get_by_test_id("download-log")).to_contain_text("127.0.0.1")
        admin_page.set_viewport_size({"width": 1024, "height": 900})
        screenshot(admin_page, "trust-docs-4-request-1024")
        admin_page.get_by_role("link", name="Access requests").first.click()
        admin_page.get_by_role("link", name="Documents", exact=True).click()
        expect(admin_page.get_by_test_id("document-table")).to_contain_text("Security overview")
        screenshot(admin_page, "trust-docs-6-documents-1024")
        admin_page.get_by_role("link", name="NDA and auto-approval").click()
        expect(admin_page.get_by_label("NDA text")).to_have_value("Keep it secret.")
        screenshot(admin_page, "trust-docs-7-access-settings-1024")
        page.set_viewport_size({"width": 1024, "height": 900})
        page.reload()
        screenshot(page, "trust-docs-5-access-1024")
    finally:
        customer.close()
        admin.close()
