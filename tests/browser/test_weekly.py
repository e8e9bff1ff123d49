"""The weekly meeting in a real browser, on the demo company: the CFO opens the weekly page from
the sidebar, writes this week's notes, adds an action item for Priya (a wrong control ID is
refused first); Priya finds it in My work, opens it and marks it done; the CFO sees it done.
Screenshots at 1440 and 1024 px land in test-results/screenshots/weekly-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils.formats import date_format
from playwright.sync_api import Browser, Page, expect

from compliance import demo
from compliance.meetings.weeks import current_week, local_date
from compliance.models import ActionItem, Organization
from tests.browser.conftest import screenshot
from tests.browser.test_layout import OVERFLOW, RAW_KEY, VISIBLE_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Send the auditors the system description"
WIDTHS = (1440, 1024)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def look(page: Page, name: str) -> None:
    """Screenshots at both widths; nothing may run past its card or show a stored key."""
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page repeats the bars
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(OVERFLOW) == [], (name, width)
        keys = RAW_KEY.findall(page.evaluate(VISIBLE_TEXT))
        assert keys == [], (name, width, keys)
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_the_cfo_records_the_meeting_and_an_owner_closes_their_action_item(
    page: Page, browser: Browser, demo_company: str
) -> None:
    base = demo_company
    northwind = Organization.objects.get(slug=demo.SLUG)
    week = current_week(northwind)
    due = local_date(northwind, dt.datetime.now(dt.UTC)) + dt.timedelta(days=10)
    carried = ActionItem.objects.filter(organization=northwind, status="open").count()
    assert carried >= 5  # the demo's open items carry over into this week

    # The CFO opens the weekly page from the sidebar: this week, with the open items carried
    # over from earlier weeks, and no notes yet.
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="Weekly").click()
    expect(page.get_by_role("heading", name="Weekly meeting")).to_be_visible()
    expect(page.get_by_test_id("week-label")).to_contain_text(f"{week.label} · {week.span}")
    items = page.get_by_test_id("action-item")
    expect(items).to_have_count(carried)
    expect(items.filter(has_text="Carried over from week").first).to_be_visible()
    expect(page.get_by_test_id("weekly-notes")).to_contain_text(
        f"No notes for {week.label.lower()} yet."
    )
    look(page, "weekly-opened")

    # Notes: typed in Markdown, saved, shown rendered.
    page.locator("#id_notes").fill(
        "## Decisions\n\n- **Audit window** agreed with Example CPA\n- Send the system "
        "description this week"
    )
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_text(f"Notes of {week.label.lower()} saved.")).to_be_visible()
    notes = page.get_by_test_id("notes-body")
    expect(notes.get_by_role("heading", name="Decisions")).to_be_visible()
    expect(notes.locator("strong")).to_have_text("Audit window")
    expect(page.get_by_test_id("weekly-notes")).to_contain_text("Last edited by Dana Whitfield")

    # An action item for Priya: a control ID that does not exist is refused, nothing saved.
    form = page.locator("#add-action-item")
    form.locator("#id_title").fill(TITLE)
    form.locator("#id_owner").select_option(label="Priya Raman <priya@northwind.test>")
    form.locator("#id_due_on").fill(due.isoformat())
    form.locator("#id_control").fill("COM-99")
    form.get_by_role("button", name="Add action item").click()
    expect(page.get_by_text("No active control has the ID COM-99.")).to_be_visible()
    assert not ActionItem.objects.filter(title=TITLE).exists()
    screenshot(page, "weekly-add-refused")

    # Typing part of an ID offers the matching controls; the right one is accepted.
    control = page.locator("#add-action-item #id_control")
    control.fill("")
    control.press_sequentially("COM-0")
    expect(page.locator("#control-options option[value='COM-01']")).to_be_attached()
    control.fill("COM-01")
    page.locator("#add-action-item").get_by_role("button", name="Add action item").click()
    expect(
        page.get_by_text(f"“{TITLE}” added for Priya Raman, due {date_format(due, 'j M Y')}.")
    ).to_be_visible()
    row = page.get_by_test_id("action-item").filter(has_text=TITLE)
    expect(row).to_contain_text("Priya Raman")
    expect(row.get_by_role("link", name="COM-01")).to_be_visible()
    expect(row.get_by_test_id("action-item-status")).to_have_text("Open")
    item = ActionItem.objects.get(title=TITLE)
    assert (item.owner.email, item.control.ref_id, item.raised_week) == (  # type: ignore[union-attr]
        "priya@northwind.test", "COM-01", week.start
    )  # fmt: skip
    look(page, "weekly-added")

    # Priya finds it in My work, opens it and marks it done.
    owner_context = browser.new_context(viewport={"width": 1440, "height": 900})
    owner_page = owner_context.new_page()
    owner_page.set_default_timeout(15_000)
    try:
        sign_in(owner_page, base, "priya@northwind.test")
        owner_page.goto(f"{base}/o/{demo.SLUG}/my-work/")
        group = owner_page.locator("[data-group=action_items]")
        link = group.get_by_role("link", name=TITLE)
        expect(link).to_be_visible()
        screenshot(owner_page, "weekly-my-work-owner")
        link.click()
        expect(owner_page).to_have_url(re.compile(rf"/weekly/\?owner=me#action-item-{item.pk}$"))
        own_row = owner_page.locator(f"#action-item-{item.pk}")
        expect(own_row).to_be_visible()
        # Her items only (owner=me), each with its buttons.
        rows = owner_page.get_by_test_id("action-item")
        expect(rows.filter(has_not_text="Priya Raman")).to_have_count(0)
        expect(rows.get_by_role("link", name=re.compile("^Edit: "))).to_have_count(rows.count())
        look(owner_page, "weekly-owner")
        # Her item's edit page: the owner is the admins' to change.
        own_row.get_by_role("link", name=f"Edit: {TITLE}").click()
        expect(owner_page.get_by_role("heading", name="Edit action item")).to_be_visible()
        expect(owner_page.locator("#id_owner")).to_be_disabled()
        expect(owner_page.get_by_role("button", name="Delete this item")).to_have_count(0)
        look(owner_page, "weekly-owner-edit")
        owner_page.get_by_role("link", name="Cancel").click()
        own_row = owner_page.locator(f"#action-item-{item.pk}")
        own_row.get_by_role("button", name=f"Mark done: {TITLE}").click()
        expect(owner_page.get_by_text(f"“{TITLE}” is done.")).to_be_visible()
        expect(owner_page.locator(f"#action-item-{item.pk}")).to_contain_text("by Priya Raman")
        screenshot(owner_page, "weekly-owner-done")
    finally:
        owner_context.close()

    # The CFO sees it done.
    page.goto(f"{base}/o/{demo.SLUG}/weekly/")
    row = page.get_by_test_id("action-item").filter(has_text=TITLE)
    expect(row.get_by_test_id("action-item-status")).to_contain_text("Done")
    expect(row).to_contain_text("by Priya Raman")
    expect(page.get_by_test_id("week-figures")).to_contain_text("1 done this week")
    look(page, "weekly-done")

    # Last week's record: its notes (with their table) and what it raised and carried.
    last = week.previous()
    page.get_by_role("link", name=f"← Week {last.number}").click()
    expect(page.get_by_test_id("week-label")).to_contain_text(f"{last.label} · {last.span}")
    expect(page.get_by_test_id("notes-body").locator("table")).to_be_visible()
    expect(page.get_by_test_id("action-item").filter(has_text=TITLE)).to_have_count(0)
    expect(page.get_by_text("go to this week")).to_be_visible()
    look(page, "weekly-last-week")


def test_the_cfo_reads_the_trend_and_steps_back_to_last_weeks_changes(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    northwind = Organization.objects.get(slug=demo.SLUG)
    last = current_week(northwind).start - dt.timedelta(weeks=1)
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/weekly/")

    # The demo's ten weeks, drawn: the chart loads as an image and says the trend in words.
    chart = page.get_by_test_id("trend-chart")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert re.match(r"SOC 2 .*: \d+% ready, from \d+% in the week of", chart.get_attribute("alt"))
    expect(page.get_by_test_id("forecast")).to_contain_text("Forecast ready date")
    expect(page.get_by_test_id("long-lead")).to_contain_text("Planned after the audit date")

    # The "← Week N" button goes to last week: its changes against the week before.
    page.get_by_role("link", name=f"← Week {last.isocalendar().week}").click()
    changes = page.get_by_test_id("weekly-changes")
    expect(changes).to_contain_text(f"What changed in week {last.isocalendar().week}")
    expect(changes).to_contain_text(
        f"Against week {(last - dt.timedelta(weeks=1)).isocalendar().week}"
    )
    assert changes.get_by_role("link").count() >= 1  # at least one change, each a link
    changes.get_by_role("link").first.click()
    expect(page).not_to_have_url(re.compile(r"/weekly/"))  # it leads to the changed thing
    look(page, "weekly-change-followed")
