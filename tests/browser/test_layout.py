"""Every main page, for each persona, at 1440 and 1024 px: nothing runs past its card or needs
sideways scrolling, and no stored key ("background_check") is shown where a label belongs.
Also the controls people type into: dates as the app writes them, and the file picker."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from controls.models import Control, ControlTest, Requirement
from evidence.models import EvidenceItem, EvidenceRequest
from people.models import Person
from policies.models import Policy
from tests.browser.conftest import screenshot
from tests.browser.test_journeys import sign_in
from trust.models import AnswerEntry, Questionnaire
from vendors.models import QuestionnaireTemplate, SentQuestionnaire, Vendor, VendorDocument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1440, 1024)

# What overflows: the page itself, any element sticking out of its card (outside a scrolling
# table wrapper), and a table wrapper that needs scrolling to show its last columns.
OVERFLOW = """() => {
  const problems = [];
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1) {
    problems.push(`page is ${page.scrollWidth}px wide in ${page.clientWidth}px`);
  }
  for (const card of document.querySelectorAll('.card')) {
    const box = card.getBoundingClientRect();
    for (const el of card.querySelectorAll('*')) {
      const wrap = el.parentElement && el.parentElement.closest('.table-wrap');
      if (wrap && card.contains(wrap)) continue;
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > box.right + 1 || r.left < box.left - 1)) {
        problems.push(`${el.tagName.toLowerCase()}.${el.className} runs past its card: `
          + (el.textContent || '').trim().slice(0, 40));
        break;
      }
    }
  }
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const cells = wrap.querySelectorAll('thead th');
      const last = cells.length ? cells[cells.length - 1].textContent.trim() : '';
      problems.push(`a table needs scrolling (${wrap.scrollWidth}px in ${wrap.clientWidth}px),`
        + ` last column "${last}"`);
    }
  }
  return problems;
}"""

# Visible text, leaving out what is code on purpose (CSV column names, commands).
VISIBLE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('code, pre, kbd, script, style, [hidden]').forEach((e) => e.remove());
  return copy.innerText;
}"""
RAW_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def first(queryset) -> int:  # type: ignore[no-untyped-def]
    found = queryset.order_by("pk").first()
    assert found is not None
    return int(found.pk)


Paths = Callable[[], list[str]]


def admin_pages() -> list[str]:
    org = "/o/northwind"
    northwind = {"organization__slug": "northwind"}
    requirement = Requirement.objects.get(framework__slug="soc2", ref_id="CC6.1")
    leaver = Person.objects.filter(**northwind, end_date__isnull=False).order_by("pk").first()
    assert leaver is not None
    aws = VendorDocument.objects.get(
        vendor__organization__slug="northwind", vendor__name="Amazon Web Services"
    )
    return [
        f"{org}/",
        f"{org}/my-work/",
        f"{org}/controls/",
        f"{org}/controls/?readiness=not_ready",
        f"{org}/controls/{first(Control.objects.filter(**northwind, ref_id='HR-01'))}/",
        f"{org}/controls/{first(Control.objects.filter(**northwind, ref_id='HR-01'))}/edit/",
        f"{org}/requirements/{requirement.pk}/",
        f"{org}/frameworks/",
        f"{org}/frameworks/soc2/",
        f"{org}/evidence/",
        f"{org}/evidence/new/",
        f"{org}/evidence/{first(EvidenceItem.objects.filter(**northwind))}/",
        f"{org}/evidence-requests/",
        f"{org}/evidence-requests/{first(EvidenceRequest.objects.filter(**northwind))}/",
        f"{org}/policies/",
        f"{org}/policies/{first(Policy.objects.filter(**northwind))}/",
        f"{org}/people/",
        f"{org}/people/completion/",
        f"{org}/people/completion/?department=Sales",
        f"{org}/people/{leaver.pk}/",
        f"{org}/people/requirements/",
        f"{org}/people/import/",
        f"{org}/vendors/",
        f"{org}/vendors/{first(Vendor.objects.filter(**northwind))}/",
        # Vendor documents: AWS's report has an exception and CUECs, one not linked.
        f"{org}/vendors/{aws.vendor_id}/",
        f"{org}/vendors/{aws.vendor_id}/documents/",
        f"{org}/vendors/{aws.vendor_id}/documents/new/",
        f"{org}/vendors/{aws.vendor_id}/documents/{aws.pk}/",
        f"{org}/vendors/?soc2=expired",
        f"{org}/vendors/import/",
        f"{org}/tests/",
        f"{org}/tests/{first(ControlTest.objects.filter(**northwind))}/",
        f"{org}/integrations/",
        f"{org}/members/",
        f"{org}/settings/",
        f"{org}/audit-trail/",
        *trust_and_questionnaire_pages(),
    ]


def trust_and_questionnaire_pages() -> list[str]:
    """Issue 13's admin pages: the trust page's settings, preview, documents and requests, the
    answer library and questionnaires, vendor questionnaire templates and a sent one, and the
    public page itself."""
    slug = "northwind"
    northwind = {"organization__slug": slug}
    sent = SentQuestionnaire.objects.filter(vendor__organization__slug=slug, answers__isnull=False)
    sent_one = sent.order_by("pk").first()
    assert sent_one is not None
    template = QuestionnaireTemplate.objects.filter(**northwind).order_by("pk").first()
    assert template is not None
    questionnaire = first(Questionnaire.objects.filter(**northwind))
    return [
        reverse("trust_settings", args=[slug]),
        reverse("trust_preview", args=[slug]),
        reverse("trust_document_list", args=[slug]),
        reverse("trust_request_list", args=[slug]),
        reverse("answer_entry_list", args=[slug]),
        reverse("answer_entry_detail", args=[slug, first(AnswerEntry.objects.filter(**northwind))]),
        reverse("questionnaire_list", args=[slug]),
        reverse("questionnaire_detail", args=[slug, questionnaire]),
        reverse("vendor_questionnaire_templates", args=[slug]),
        reverse("vendor_questionnaire_template", args=[slug, template.pk]),
        reverse("vendor_questionnaire_detail", args=[slug, sent_one.vendor_id, sent_one.pk]),
        f"/trust/{slug}/",
    ]


def member_pages() -> list[str]:
    org = "/o/northwind"
    mine = Control.objects.filter(
        organization__slug="northwind", owner__email="priya@northwind.test"
    )
    return [
        f"{org}/",
        f"{org}/my-work/",
        f"{org}/controls/?owner=me",
        f"{org}/controls/{first(mine)}/",
        f"{org}/evidence/",
        f"{org}/people/completion/",
        f"{org}/tests/",
        f"{org}/members/",
    ]


def viewer_pages() -> list[str]:
    org = "/o/northwind"
    return [f"{org}/", f"{org}/controls/", f"{org}/people/", f"{org}/vendors/", f"{org}/members/"]


PERSONAS: list[tuple[str, Paths]] = [
    ("dana@northwind.test", admin_pages),
    ("priya@northwind.test", member_pages),
    ("sam@northwind.test", viewer_pages),
]


def test_no_main_page_overflows_or_shows_a_raw_key_at_1440_and_1024_px(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    problems: list[str] = []
    for email, pages in PERSONAS:
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1440, "height": 900})
        sign_in(page, base, email)
        for path in pages():
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(base + path)
                assert response is not None and response.status == 200, (email, path)
                for problem in page.evaluate(OVERFLOW):
                    problems.append(f"{email} {path} at {width}px: {problem}")
                if width == WIDTHS[0]:
                    keys = sorted(set(RAW_KEY.findall(page.evaluate(VISIBLE_TEXT))))
                    if keys:
                        problems.append(f"{email} {path}: raw keys shown: {keys}")
    assert problems == []


def test_the_audit_trail_and_a_leaver_show_labels_not_keys(page: Page, demo_company: str) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/northwind/audit-trail/")
    text = page.evaluate(VISIBLE_TEXT)
    assert "background_check" not in text and "approved_with_conditions" not in text
    # The people's records, picked from the Action filter (the newest events are the audit
    # engagements'): their kinds read as labels.
    with page.expect_navigation():
        page.get_by_label("Action").select_option(label="Person: record")
    text = page.evaluate(VISIBLE_TEXT)
    assert "background_check" not in text
    assert "Background check" in text
    screenshot(page, "40-audit-trail-labels")


def test_the_completion_of_a_requirement_nobody_shown_needs_reads_none_due(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/northwind/people/completion/")
    page.get_by_label("Department").select_option("Sales")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"department=Sales"))
    progress = page.get_by_test_id("progress-offboarding")
    expect(progress).to_have_text("None due")
    assert progress.locator(".bar").count() == 0
    expect(page.get_by_test_id("progress-background_check")).to_contain_text("% done")
    screenshot(page, "41-completion-sales")


def test_the_owners_open_count_opens_the_controls_that_are_not_ready(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    owners = page.locator("[data-testid^=owner-open-]")
    link = owners.first
    shown = int(link.inner_text())
    assert shown > 0
    link.click()
    expect(page).to_have_url(re.compile(r"readiness=not_ready"))
    expect(page.locator("#f-readiness")).to_have_value("not_ready")
    rows = page.locator("#control-table tbody tr td.id")
    expect(rows).to_have_count(min(shown, 50))
    screenshot(page, "42-owner-not-ready")


def test_a_date_is_typed_as_the_app_writes_it_and_a_file_is_picked_with_a_button(
    page: Page, demo_company: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    control = Control.objects.get(organization__slug="northwind", ref_id="HR-01")
    page.goto(f"{base}/o/northwind/controls/{control.pk}/edit/")
    target = page.locator("#id_target_date")
    assert target.get_attribute("type") == "text"
    assert target.get_attribute("placeholder") == "2 Apr 2027"
    assert page.locator("input[type=date]:not([aria-hidden=true])").count() == 0

    target.fill("02/04/2027")  # ambiguous: refused with a clear message, nothing saved
    page.locator("#id_reason").fill("Moving the date")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a date like 2 Apr 2027 (or 2027-04-02).")).to_be_visible()
    control.refresh_from_db()
    before = control.target_date

    page.locator("#id_target_date").fill("2 Apr 2027")
    page.locator("#id_reason").fill("Moving the date")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Control {control.ref_id} saved.")).to_be_visible()
    control.refresh_from_db()
    assert str(control.target_date) == "2027-04-02" != str(before)
    page.goto(f"{base}/o/northwind/controls/{control.pk}/edit/")
    expect(page.locator("#id_target_date")).to_have_value("2 Apr 2027")
    screenshot(page, "43-date-input")

    page.goto(f"{base}/o/northwind/evidence/new/")
    picker = page.locator("[data-file-picker]")
    expect(picker.get_by_text("Choose a file…")).to_be_visible()
    expect(picker.locator("[data-file-name]")).to_have_text("No file chosen")
    upload = tmp_path / "access-review-q3.csv"
    upload.write_text("user,access\nana,admin\n")
    page.locator("input[type=file]").set_input_files(str(upload))
    expect(picker.locator("[data-file-name]")).to_have_text("access-review-q3.csv")
    screenshot(page, "44-file-input")


def test_the_audit_trail_breaks_long_unbroken_values_at_1440_and_1024_px(
    page: Page, demo_company: str
) -> None:
    """Hashes, signed URLs, user agents and addresses have no spaces to wrap at: the newest
    event carries each kind, longer than any real one, and nothing may run past the table."""
    from django.db import transaction

    from compliance.audit import audit_record
    from compliance.models import Organization, User

    organization = Organization.objects.get(slug="northwind")
    actor = User.objects.get(email="dana@northwind.test")
    long_values = {
        "sha256": "f" * 64 + "0" * 64,
        "url": "https://trust.northwind.test/trust/northwind/access/" + "A1b2" * 40 + "/",
        "user_agent": "Mozilla/5.0(X11;Linux_x86_64)AppleWebKit/537.36" * 4,
        "address": ",".join(["2001:0db8:85a3:0000:0000:8a2e:0370:7334"] * 3),
    }
    with transaction.atomic():
        audit_record(
            actor=actor,
            organization=organization,
            action="trust.document.upload",
            object_type="trust.trustdocument",
            object_id="1",
            object_repr="x" * 200,
            before={"note": "y" * 300},
            after=long_values,
        )
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/o/northwind/audit-trail/")
        expect(page.locator("table tbody tr").first).to_contain_text("f" * 20)
        problems += [f"at {width}px: {p}" for p in page.evaluate(OVERFLOW)]
    screenshot(page, "42-audit-trail-long-values")
    assert problems == []
