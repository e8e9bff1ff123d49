"""User journeys in a real browser, on the demo company."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from compliance import demo, services
from compliance.models import Membership, Organization, OutboundEmail, Role, User
from controls.models import Control, ControlStatus, Requirement
from evidence.models import EvidenceItem, EvidenceRequest
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(
    page: Page, base: str, email: str, organization: str | None = "Northwind Cloud"
) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if organization and page.url.rstrip("/").endswith(base.rstrip("/")):
        expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()
        screenshot(page, f"00-choose-organization-{email.split('@')[0]}")
        page.get_by_role("link", name=re.compile(organization)).click()


def readiness(page: Page) -> tuple[int, int]:
    figure = page.get_by_test_id("readiness-soc2").inner_text()
    gaps = page.get_by_test_id("gaps-soc2").inner_text()
    return int(re.sub(r"\D", "", figure)), int(gaps.split()[0])


def test_the_admin_closes_a_gap_and_readiness_goes_up(page: Page, demo_company: str) -> None:
    base = demo_company
    page.goto(f"{base}/login/")
    screenshot(page, "01-login")
    sign_in(page, base, "dana@northwind.test")
    expect(page.get_by_role("heading", name="Readiness")).to_be_visible()
    screenshot(page, "02-dashboard")
    percent_before, gaps_before = readiness(page)
    assert gaps_before >= 1

    page.get_by_test_id("gaps-soc2").click()
    expect(page).to_have_url(re.compile(r"state=gap"))
    screenshot(page, "03-requirements-gaps")
    gap_rows = page.locator("table.table tbody tr:not(.group-row) td.id a")
    assert gap_rows.count() == gaps_before
    gap_ref = gap_rows.first.inner_text()
    gap_rows.first.click()
    expect(page.get_by_text("no control covers this requirement yet")).to_be_visible()
    screenshot(page, "04-requirement-gap")

    page.get_by_role("link", name="Create a control for it").click()
    expect(page.get_by_role("heading", name="New control")).to_be_visible()
    page.locator("#id_ref_id").fill("GAP-01")
    page.locator("#id_name").fill(f"Fill the {gap_ref} gap with an owned, working control")
    page.locator("#id_category").select_option("governance")
    # Event-driven: evidence comes when the event happens, so implemented means ready now.
    page.locator("#id_frequency").select_option("event_driven")
    page.locator("#id_status").select_option("implemented")
    page.locator("#id_owner").select_option(label="Priya Raman <priya@northwind.test>")
    checked = page.locator("#requirement-list input:checked")
    expect(checked).to_have_count(1)  # the gap's requirement is already ticked
    screenshot(page, "05-control-form")
    page.get_by_role("button", name="Create control").click()

    expect(page.get_by_text("Control GAP-01 created.")).to_be_visible()
    expect(page.get_by_text("Priya Raman").first).to_be_visible()
    screenshot(page, "06-control-detail")
    control = Control.objects.get(organization__slug="northwind", ref_id="GAP-01")
    assert control.owner is not None and control.owner.email == "priya@northwind.test"
    assert control.status == ControlStatus.IMPLEMENTED

    page.get_by_role("navigation", name="Program").get_by_role("link", name="Dashboard").click()
    percent_after, gaps_after = readiness(page)
    assert gaps_after == gaps_before - 1
    assert percent_after > percent_before


def test_screenshots_of_the_main_pages(page: Page, demo_company: str) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    pages = [
        ("10-controls", "/o/northwind/controls/", "Controls"),
        ("11-controls-filtered", "/o/northwind/controls/?owner=none", "Controls"),
        ("12-frameworks", "/o/northwind/frameworks/", "Frameworks"),
        ("13-soc2-requirements", "/o/northwind/frameworks/soc2/", "SOC 2 Trust Services Criteria"),
        (
            "14-starter-controls",
            "/o/northwind/frameworks/soc2/starter-controls/",
            "Starter controls for SOC 2",
        ),
        ("15-members", "/o/northwind/members/", "Members"),
        ("16-audit-trail", "/o/northwind/audit-trail/", "Audit trail"),
        ("17-api-tokens", "/account/tokens/", "API tokens"),
        (
            "18-iso-adopted-elsewhere",
            "/o/northwind-labs/frameworks/iso27001/",
            "ISO/IEC 27001:2022 Annex A",
        ),
        ("18b-iso-adopt-form", "/o/northwind/frameworks/iso27001/", "ISO/IEC 27001:2022 Annex A"),
        ("18c-labs-dashboard", "/o/northwind-labs/", "Readiness"),
        ("18d-new-organization", "/organizations/new/", "New organization"),
        ("18e-api-docs", "/api/docs/", None),
    ]
    for name, path, heading in pages:
        page.goto(base + path)
        if heading:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        else:
            page.wait_for_load_state("networkidle")
        screenshot(page, name)
    requirement = Requirement.objects.get(framework__slug="soc2", ref_id="CC6.1")
    page.goto(f"{base}/o/northwind/requirements/{requirement.pk}/")
    expect(page.get_by_role("heading", name=re.compile("CC6.1"))).to_be_visible()
    screenshot(page, "18f-requirement-with-controls")
    control = Control.objects.filter(
        organization__slug="northwind", status=ControlStatus.IMPLEMENTED
    ).first()
    assert control is not None
    page.goto(f"{base}/o/northwind/controls/{control.pk}/")
    screenshot(page, "19-control-detail")
    page.goto(f"{base}/o/northwind/controls/{control.pk}/edit/")
    screenshot(page, "20-control-edit")


def test_a_control_owner_sees_their_work_and_cannot_edit_others(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    sign_in(page, base, "priya@northwind.test")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="My work").click()
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    screenshot(page, "21-my-work")
    mine = Control.objects.filter(
        organization__slug="northwind", owner__email="priya@northwind.test"
    )
    assert mine.exists()
    someone_elses = (
        Control.objects.filter(organization__slug="northwind")
        .exclude(owner__email="priya@northwind.test")
        .exclude(backup_owner__email="priya@northwind.test")
        .first()
    )
    assert someone_elses is not None
    response = page.goto(f"{base}/o/northwind/controls/{someone_elses.pk}/edit/")
    assert response is not None and response.status == 403
    screenshot(page, "22-forbidden")


def test_the_auditor_sees_only_the_engagements_page(page: Page, demo_company: str) -> None:
    base = demo_company
    from audits.demo import DEMO_AUDITOR_TOTP_SECRET
    from tests.browser.test_auditor import sign_in_with_code

    sign_in_with_code(page, base, "jordan@examplecpa.test", DEMO_AUDITOR_TOTP_SECRET)
    expect(page.get_by_role("heading", name="Your audit engagements")).to_be_visible()
    assert Membership.objects.get(user__email="jordan@examplecpa.test").expires_at is not None
    screenshot(page, "23-auditor-home")
    response = page.goto(f"{base}/o/northwind/controls/")
    assert response is not None and response.status == 403


def test_pages_for_people_without_a_session(page: Page, demo_company: str) -> None:
    base = demo_company
    page.goto(f"{base}/password-reset/")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    screenshot(page, "30-password-reset")
    page.get_by_label("Email").fill("dana@northwind.test")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot(page, "31-password-reset-sent")

    admin = User.objects.get(email="dana@northwind.test")
    organization = Organization.objects.get(slug="northwind")
    services.invitation_create(
        actor=admin, organization=organization, email="newhire@northwind.test", role=Role.MEMBER
    )
    email = OutboundEmail.objects.get(template="invitation")
    link = re.search(r"/invite/\S+", email.text_body)
    assert link is not None
    page.goto(base + link.group(0))
    expect(page.get_by_role("heading", name="Join Northwind Cloud")).to_be_visible()
    screenshot(page, "32-invitation")
    page.locator("#id_full_name").fill("New Hire")
    page.locator("#id_password1").fill("a long and good passphrase")
    page.locator("#id_password2").fill("a long and good passphrase")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_text("Welcome to Northwind Cloud.")).to_be_visible()
    screenshot(page, "33-invitation-accepted")

    response = page.goto(f"{base}/o/no-such-organization/")
    assert response is not None and response.status == 404
    screenshot(page, "34-not-found")


def test_an_owner_delivers_overdue_evidence_and_the_admin_accepts_it(
    page: Page, demo_company: str, tmp_path: Path
) -> None:
    """The demo's missed access review: Priya uploads it, Dana accepts it, IAM-04 is ready."""
    base = demo_company
    control = Control.objects.get(organization__slug="northwind", ref_id="IAM-04")
    control_url = f"{base}/o/northwind/controls/{control.pk}/"

    sign_in(page, base, "priya@northwind.test")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="My work").click()
    row = page.locator("tr", has_text="Quarterly user access review").filter(has_text="Overdue")
    expect(row).to_have_count(1)
    screenshot(page, "40-my-work-evidence-due")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Add evidence")).to_be_visible()
    review = tmp_path / "access-review-q4.csv"
    review.write_text(
        "account,system,decision\nana@northwind.test,AWS,kept\nold@northwind.test,GitHub,removed\n"
    )
    page.locator("#id_file").set_input_files(str(review))
    expect(page.locator("input[name=controls]:checked")).to_have_count(1)  # from the request
    screenshot(page, "41-evidence-upload")
    page.get_by_role("button", name="Upload evidence").click()
    expect(page.get_by_text("waits for review")).to_be_visible()
    expect(page.get_by_text("Pending review").first).to_be_visible()
    screenshot(page, "42-evidence-pending")
    evidence_url = page.url

    page.goto(control_url)
    expect(page.get_by_text("Not ready", exact=True)).to_be_visible()
    screenshot(page, "43-control-not-ready")
    page.context.clear_cookies()

    sign_in(page, base, "dana@northwind.test")
    page.goto(evidence_url)
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Revision 1 accepted.")).to_be_visible()
    screenshot(page, "44-evidence-accepted")
    page.goto(control_url)
    expect(page.get_by_text("Ready", exact=True)).to_be_visible()
    screenshot(page, "45-control-ready")
    control.refresh_from_db()
    from compliance.readiness import control_blockers

    assert control_blockers(organization=control.organization, control_ids=[control.pk]) == {}


def test_screenshots_of_the_evidence_pages(page: Page, demo_company: str) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    for name, path, heading in [
        ("46-evidence-list", "/o/northwind/evidence/", "Evidence"),
        ("47-evidence-review-queue", "/o/northwind/evidence/?review=pending", "Evidence"),
        ("48-evidence-requests", "/o/northwind/evidence-requests/", "Evidence requests"),
        ("49-evidence-integrity", "/o/northwind/evidence/integrity/", "Evidence integrity"),
    ]:
        page.goto(base + path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        screenshot(page, name)
    request = EvidenceRequest.objects.get(
        organization__slug="northwind", title="Quarterly user access review"
    )
    page.goto(f"{base}/o/northwind/evidence-requests/{request.pk}/")
    screenshot(page, "50-evidence-request")
    item = EvidenceItem.objects.filter(organization__slug="northwind", kind="file").first()
    assert item is not None
    page.goto(f"{base}/o/northwind/evidence/{item.pk}/")
    screenshot(page, "51-evidence-detail")
