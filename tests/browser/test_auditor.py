"""The auditor's journey on the demo company, in a real browser: Jordan signs in with an
authentication code, lands on the engagements shared with him, opens the Type I, reads its
controls (each as it stood on the date) and its evidence, downloads a file (the bytes are the
stored ones), freezes a population and draws a sample (reproducible from its seed), finds the
Type II period empty (nothing outside it is shown), and is offered no button that changes the
program anywhere. (Raising a request that an owner answers: test_audit_requests.py.)
Screenshots at 1440 and 1024 px land in test-results/screenshots/audit-*.png."""

from __future__ import annotations

import hashlib
import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from audits.demo import DEMO_AUDITOR_TOTP_SECRET
from audits.models import AccessLogEntry, Sample, SampleItem
from audits.sampling.services import draw
from compliance import demo
from evidence.models import EvidenceRevision
from tests.browser.test_weekly import look

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_with_code(page: Page, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Authentication code")).to_be_visible()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verify").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def no_change_offered(page: Page) -> None:
    """No form that posts anything but signing out; no edit or upload control."""
    posting = page.locator("form[method=post]").filter(has_not_text="Sign out")
    expect(posting).to_have_count(0)
    for label in ("Edit", "Upload", "New engagement", "Share with auditor", "Revoke"):
        expect(page.get_by_role("button", name=label, exact=True)).to_have_count(0)
        expect(page.get_by_role("link", name=label, exact=True)).to_have_count(0)


def test_the_auditor_reads_the_type_1_and_downloads_evidence_within_it(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    sign_in_with_code(page, base, "jordan@examplecpa.test", DEMO_AUDITOR_TOTP_SECRET)
    expect(page.get_by_role("heading", name="Your audit engagements")).to_be_visible()
    look(page, "audit-engagements")
    no_change_offered(page)

    page.get_by_role("link", name="SOC 2 Type I", exact=True).click()
    expect(page.get_by_role("heading", name="SOC 2 Type I", exact=True)).to_be_visible()
    look(page, "audit-overview")
    no_change_offered(page)

    page.get_by_role("link", name="Controls", exact=True).click()
    expect(page.get_by_test_id("audit-controls")).to_be_visible()
    expect(page.get_by_test_id("as-of-state").first).to_contain_text("12 Feb 2027")
    look(page, "audit-controls")
    no_change_offered(page)

    page.get_by_role("link", name="Evidence", exact=True).click()
    table = page.get_by_test_id("audit-evidence")
    expect(table).to_be_visible()
    look(page, "audit-evidence")
    no_change_offered(page)
    link = table.get_by_test_id("download").first
    name = link.inner_text()
    with page.expect_download() as caught:
        link.click()
    download = caught.value
    revision = EvidenceRevision.objects.get(
        original_name=name, item__organization__slug="northwind"
    )
    with open(download.path(), "rb") as saved:
        assert hashlib.sha256(saved.read()).hexdigest() == revision.sha256
    assert AccessLogEntry.objects.filter(
        user__email="jordan@examplecpa.test", action="download", object_id=str(revision.pk)
    ).exists()

    # The auditor's own work: freeze the new hires of the Type I's window and draw a sample.
    page.get_by_role("link", name="Samples", exact=True).click()
    page.get_by_label("Name").fill("New hires for HR-02")
    page.get_by_label("Made of").select_option(label="New hires")
    page.get_by_role("button", name="Create population").click()
    expect(page.get_by_role("heading", name="New hires for HR-02")).to_be_visible()
    page.get_by_role("button", name="Draw").click()
    expect(page.get_by_role("status")).to_contain_text("with seed")
    look(page, "audit-sample")
    drawn = Sample.objects.filter(population__name="New hires for HR-02").get()
    # Drawn again from its seed, the sample is the same.
    population_ids = list(drawn.population.items.order_by("position").values_list("pk", flat=True))
    assert draw(population_ids, drawn.size, drawn.seed) == list(
        SampleItem.objects.filter(sample=drawn)
        .order_by("position")
        .values_list("item_id", flat=True)
    )

    for tab in ("Automated tests", "Policies", "People & vendors"):
        page.get_by_role("link", name=tab, exact=True).click()
        no_change_offered(page)

    # The Type II period has not started: nothing of the program's present is in it.
    page.get_by_role("link", name="Engagements").click()
    page.get_by_role("link", name="SOC 2 Type II, first period").click()
    page.get_by_role("link", name="Evidence", exact=True).click()
    expect(page.get_by_text("No evidence within the engagement's window.")).to_be_visible()
