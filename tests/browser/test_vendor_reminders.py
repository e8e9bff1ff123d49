"""Vendor document expiry in a real browser, on the demo company: Dana (Stripe's owner and an
admin) finds Stripe's SOC 2 report to renew in My work, and the reminder email as a mail client
would render it. Screenshots land in test-results/screenshots/vendor-reminders-*.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.models import Organization, OutboundEmail, User
from people.completion import organization_today
from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.browser.test_weekly import look, sign_in
from vendors.documents import vendor_document_upload
from vendors.expiry import documents_to_renew
from vendors.models import AuditOpinion, DocumentType, Vendor
from vendors.tasks import vendor_documents_tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_finds_the_report_to_renew_and_the_reminder_reads_plainly(
    page: Page, demo_company: str
) -> None:
    northwind = Organization.objects.get(slug=demo.SLUG)
    today = organization_today(northwind)
    dana = User.objects.get(email="dana@northwind.test")
    stripe = Vendor.objects.get(organization=northwind, name="Stripe")
    okta = Vendor.objects.get(organization=northwind, name="Okta")
    pdf = SimpleUploadedFile("report.pdf", b"%PDF a report", content_type="application/pdf")
    vendor_document_upload(
        actor=dana, vendor=stripe, upload=pdf, doc_type=DocumentType.SOC2_TYPE2,
        opinion=AuditOpinion.UNQUALIFIED, period_start=today - dt.timedelta(days=700),
        period_end=today - dt.timedelta(days=335), issued_on=today - dt.timedelta(days=300),
        valid_until=today + dt.timedelta(days=30),
    )  # fmt: skip
    dpa = SimpleUploadedFile("dpa.pdf", b"%PDF a DPA", content_type="application/pdf")
    vendor_document_upload(
        actor=dana, vendor=okta, upload=dpa, doc_type=DocumentType.DPA,
        issued_on=today - dt.timedelta(days=800), valid_until=today - dt.timedelta(days=2),
    )  # fmt: skip
    assert vendor_documents_tick() >= 2

    sign_in(page, demo_company, "dana@northwind.test")
    page.get_by_role("link", name=northwind.name).click()  # Dana works in two organizations
    page.get_by_role("navigation", name="Program").get_by_role("link", name="My work").click()
    item = page.get_by_role("link", name="Renew Stripe's SOC 2 Type II report")
    expect(item).to_be_visible()
    expect(page.get_by_text("Expires in 30 days").first).to_be_visible()
    # The demo's own documents (a Datadog certificate about to expire) count too.
    others = (
        documents_to_renew(organization=northwind, today=today)
        .exclude(vendor__owner=dana)
        .values("vendor")
        .distinct()
        .count()
    )
    assert others >= 1  # Okta's DPA at least
    phrase = "vendor has" if others == 1 else "vendors have"
    expect(page.get_by_text(f"{others} other {phrase} documents to renew")).to_be_visible()
    look(page, "vendor-reminders-my-work")
    item.click()
    expect(page).to_have_url(f"{demo_company}/o/{demo.SLUG}/vendors/{stripe.pk}/#documents")

    [email] = OutboundEmail.objects.filter(
        template="vendor_document_expiry", to__contains=["dana@northwind.test"]
    )
    assert email.subject == "Expiring soon: the SOC 2 Type II report of Stripe"
    rendered = SCREENSHOTS / "vendor-reminders-email.html"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    rendered.write_text(email.html_body)
    page.set_viewport_size({"width": 800, "height": 700})
    page.goto(rendered.resolve().as_uri())
    expect(
        page.get_by_text(
            "The SOC 2 Type II report of Stripe expires on "
            f"{today + dt.timedelta(days=30):%-d %b %Y} (in 30 days)."
        )
    ).to_be_visible()
    expect(page.get_by_role("link", name="Open Stripe", exact=True)).to_be_visible()
    screenshot(page, "vendor-reminders-email")
