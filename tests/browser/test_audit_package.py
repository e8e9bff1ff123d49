"""The audit package in a real browser, on the demo company: the admin opens the Type I
engagement's Package tab, asks for a package, watches the page poll until a worker has built it,
downloads it, and the download verifies with the public key the page shows. Screenshots land in
test-results/screenshots/audit-package-*.png."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from audits.models import Audit, AuditPackage
from audits.package import services
from compliance import demo
from tests.browser.test_weekly import look, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_builds_downloads_and_verifies_the_package(
    page: Page, demo_company: str, tmp_path: Path
) -> None:
    base = demo_company
    audit = Audit.objects.get(organization__slug=demo.SLUG, name="SOC 2 Type I")
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/audits/{audit.pk}/")
    page.get_by_role("link", name="Package", exact=True).click()
    expect(page.get_by_role("heading", name="Audit package")).to_be_visible()
    expect(page.get_by_text("made with its first package")).to_be_visible()

    page.get_by_role("button", name="Build a package").click()
    expect(page.get_by_text("Waiting for a worker")).to_be_visible()
    look(page, "audit-package-waiting")
    # The worker's part, here (the page polls every two seconds).
    assert services.package_build(AuditPackage.objects.get().pk) == "done"
    download_link = page.get_by_test_id("package-download")
    expect(download_link).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Ready to download")).to_be_visible()

    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / "package.zip"
    info.value.save_as(saved)
    page.reload()
    key = page.get_by_test_id("package-public-key").inner_text().strip()
    look(page, "audit-package-done")
    out = io.StringIO()
    call_command("verify_audit_package", str(saved), "--public-key", key, stdout=out)
    assert out.getvalue().startswith("OK  “SOC 2 Type I”: signature valid")
