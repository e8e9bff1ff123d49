"""The PBC exchange in a real browser, on the demo company: the auditor raises a request on a
control, the admin assigns it to its owner, the owner finds it in My work and answers it with
existing evidence, and the auditor accepts it."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from audits.demo import DEMO_AUDITOR_TOTP_SECRET
from audits.models import Audit, AuditRequest, RequestStatus
from compliance import demo
from compliance.models import User
from controls.models import Control
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, email: str, step: int = 0) -> None:
    """``step``: which time step's code the auditor types (a code is accepted once)."""
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if email.startswith("jordan"):
        expect(page.get_by_role("heading", name="Authentication code")).to_be_visible()
        page.get_by_label("Authentication code").fill(
            pyotp.TOTP(DEMO_AUDITOR_TOTP_SECRET).at(time.time(), counter_offset=step)
        )
        page.get_by_label("Authentication code").press("Enter")
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def test_the_auditor_asks_the_owner_answers_and_the_auditor_accepts(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    type_1 = Audit.objects.get(organization__slug="northwind", name="SOC 2 Type I")
    requests = f"{base}/o/northwind/audits/{type_1.pk}/requests/"
    mfa = Control.objects.get(organization__slug="northwind", ref_id="IAM-02")
    priya = User.objects.get(email="priya@northwind.test")

    sign_in(page, base, "jordan@examplecpa.test")
    page.goto(requests)
    expect(page.get_by_test_id("audit-requests")).to_contain_text("PBC-1")
    page.get_by_test_id("new-request").click()
    page.get_by_label("Title").fill("MFA enforcement settings")
    page.get_by_label("Control").select_option(value=str(mfa.pk))
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name=re.compile("PBC-4"))).to_be_visible()
    screenshot(page, "pbc-1-raised")
    raised = AuditRequest.objects.get(audit=type_1, number=4)

    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{requests}{raised.pk}/")
    page.get_by_label("Answered by").select_option(value=str(priya.pk))
    page.get_by_test_id("assign-form").get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("assignee")).to_contain_text("Priya")

    sign_in(page, base, "priya@northwind.test")
    page.goto(f"{base}/o/northwind/my-work/")
    page.get_by_role("link", name=re.compile("PBC-4 MFA enforcement settings")).click()
    attach = page.get_by_test_id("attach-form")
    attach.locator("input[type=checkbox]").first.check()
    attach.get_by_role("button", name="Attach").click()
    expect(page.get_by_test_id("request-evidence").locator("tbody tr")).to_have_count(1)
    page.get_by_label("Comment").fill("The identity provider's policy export is attached.")
    page.get_by_test_id("submit").click()
    expect(page.get_by_text("Sent to the auditor.")).to_be_visible()
    screenshot(page, "pbc-2-answered")

    sign_in(page, base, "jordan@examplecpa.test", step=1)
    page.goto(f"{requests}{raised.pk}/")
    expect(page.get_by_test_id("thread")).to_contain_text("policy export is attached")
    page.get_by_test_id("accept").click()
    expect(page.get_by_text("Request accepted.")).to_be_visible()
    screenshot(page, "pbc-3-accepted")
    raised.refresh_from_db()
    assert raised.status == RequestStatus.ACCEPTED and raised.evidence.count() == 1

    page.goto(requests)
    expect(page.get_by_test_id("audit-requests").locator("tbody tr")).to_have_count(4)
    screenshot(page, "pbc-4-list")
    page.get_by_role("link", name="Findings").click()
    page.get_by_role("link", name=re.compile("Quarterly access review")).click()
    expect(page.get_by_test_id("management-response")).to_contain_text("re-performed")
    screenshot(page, "pbc-5-finding")
