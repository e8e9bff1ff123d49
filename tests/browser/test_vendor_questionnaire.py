"""A vendor questionnaire end to end in a real browser, on the demo company: an admin sends it
from the vendor's page, the link arrives by email through a real SMTP server, the vendor's
contact (no account) answers half, saves, comes back, attaches a file and submits; the admin
sees the score. Screenshots land in test-results/screenshots/vendor-questionnaire-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from compliance import demo
from compliance.emails import email_deliver
from compliance.models import OutboundEmail
from tests.browser.conftest import screenshot
from tests.browser.test_vendors import sign_in
from tests.smtp_server import smtp_server
from vendors.models import QuestionnaireAttachment, SentQuestionnaire

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_vendor_contact_answers_a_questionnaire_through_the_link(
    page: Page, browser: Browser, demo_company: str, settings: Any, tmp_path: Path
) -> None:
    base = demo_company
    # The admin sends "Core security (short)" to Okta's security contact from Okta's page.
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="Vendors").click()
    page.get_by_role("link", name="Okta", exact=True).click()
    expect(page.get_by_role("heading", name="Questionnaires")).to_be_visible()
    page.get_by_text("Send a questionnaire").click()
    page.get_by_label("Template").select_option(label="Core security (short)")
    page.get_by_label("Contact's name").fill("Olivia Okta")
    page.get_by_label("Contact's email").fill("olivia@okta.example")
    page.get_by_label("Link works for (days)").fill("14")
    page.get_by_role("button", name="Send questionnaire").click()
    expect(page.get_by_text("sent to olivia@okta.example")).to_be_visible()

    # The email, as a real mail server receives it.
    outbox = OutboundEmail.objects.get(to=["olivia@okta.example"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_server(tmp_path / "mail") as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        assert email_deliver(outbox.pk) is True
        (message,) = server.messages()
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https?://\S+?(/vq/[^/\s]+/)", text)
    assert link, text
    url = base + link.group(1)

    # The contact, without an account: half the answers, saved.
    contact = browser.new_context(viewport={"width": 1440, "height": 900})
    vendor_page = contact.new_page()
    vendor_page.goto(url)
    expect(vendor_page.get_by_text("Northwind", exact=False).first).to_be_visible()
    expect(vendor_page.get_by_role("heading", name="Core security (short)")).to_be_visible()
    for question in ("1", "3", "4"):
        vendor_page.get_by_role(
            "group", name=f"Answer to question {question}", exact=True
        ).get_by_label("Yes", exact=True).check()
    vendor_page.get_by_label("Answer to question 6").fill("EU and US")
    vendor_page.get_by_role("button", name="Save and continue later").click()
    expect(vendor_page.get_by_text("Saved.")).to_be_visible()
    screenshot(vendor_page, "vendor-questionnaire-link-1440")

    # Coming back later shows the saved answers.
    vendor_page.close()
    vendor_page = contact.new_page()
    vendor_page.goto(url)
    group = vendor_page.get_by_role("group", name="Answer to question 1", exact=True)
    expect(group.get_by_label("Yes", exact=True)).to_be_checked()
    expect(vendor_page.get_by_label("Answer to question 6")).to_have_value("EU and US")

    # A file for question 2 (the attestation).
    report = tmp_path / "okta-soc2-bridge-letter.pdf"
    report.write_bytes(b"%PDF-1.4\n% bridge letter\n")
    vendor_page.get_by_label("For question").select_option(index=2)
    vendor_page.get_by_label("File", exact=True).set_input_files(str(report))
    vendor_page.get_by_role("button", name="Attach file").click()
    expect(vendor_page.get_by_text("okta-soc2-bridge-letter.pdf")).to_be_visible()

    # The rest, then the confirmation step, then submit.
    for question in ("2", "5", "8", "10"):
        vendor_page.get_by_role(
            "group", name=f"Answer to question {question}", exact=True
        ).get_by_label("Yes", exact=True).check()
    vendor_page.get_by_role("group", name="Answer to question 7", exact=True).get_by_label(
        "No", exact=True
    ).check()
    vendor_page.get_by_role("group", name="Answer to question 9", exact=True).get_by_label(
        "Within 24 hours"
    ).check()
    vendor_page.set_viewport_size({"width": 1024, "height": 800})
    screenshot(vendor_page, "vendor-questionnaire-link-1024")
    vendor_page.get_by_role("button", name="Review and submit").click()
    expect(vendor_page.get_by_role("heading", name="Submit your answers?")).to_be_visible()
    vendor_page.get_by_label("These answers are final.").check()
    vendor_page.get_by_role("button", name="Submit the questionnaire").click()
    expect(vendor_page.get_by_role("heading", name=re.compile("submitted"))).to_be_visible()
    # The link is dead now.
    vendor_page.goto(url)
    expect(vendor_page.get_by_role("heading", name=re.compile("no longer works"))).to_be_visible()
    contact.close()

    questionnaire = SentQuestionnaire.objects.get(contact_email="olivia@okta.example")
    assert questionnaire.status == "submitted"
    assert QuestionnaireAttachment.objects.filter(questionnaire=questionnaire).count() == 1

    # The admin sees the answers and the score: 9 scored questions of weight 2+3+3+2+3+2+2+2+1
    # = 20, question 7 (weight 2) answered "no": 18 of 20.
    page.reload()
    page.get_by_role("link", name="Core security (short)").first.click()
    expect(page.get_by_test_id("questionnaire-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("score-overall")).to_have_text("90%")
    expect(page.get_by_role("link", name="okta-soc2-bridge-letter.pdf")).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "vendor-questionnaire-answers-1440")
    page.set_viewport_size({"width": 1024, "height": 800})
    screenshot(page, "vendor-questionnaire-answers-1024")
    assert demo.SLUG in page.url
