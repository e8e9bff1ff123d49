"""The weekly page: the week selector and its refusals, the notes (sanitised like policy
bodies), the action items with their filters and buttons, the add form's choices, the control
search, My work, and a fixed number of queries whatever the number of items."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.meetings import services
from compliance.meetings.weeks import Week, current_week
from compliance.models import ActionItem, AuditEvent, User
from compliance.work import work_groups
from tests.conftest import World
from tests.factories import ControlFactory

URL = "/o/acme/weekly/"


def this_week(world: World) -> Week:
    return current_week(world.org)


def raise_item(
    world: World, title: str, *, owner: str = "owner", now: dt.datetime | None = None, **kw: object
) -> ActionItem:
    now = now or timezone.now()
    return services.action_item_create(
        actor=world.users["admin"],
        organization=world.org,
        title=title,
        owner=world.users[owner],
        due_on=kw.pop("due_on", None) or (now + dt.timedelta(days=7)).date(),  # type: ignore[arg-type]
        now=now,
        **kw,  # type: ignore[arg-type]
    )


def rows(html: str) -> list[str]:
    found = re.findall(r'<tr id="action-item-\d+" data-testid="action-item">\s*<td>([^<]*)', html)
    return [unescape(title) for title in found]


# --- the week selector --------------------------------------------------------------------------


def test_the_page_opens_on_this_week_in_the_organizations_time_zone(world: World) -> None:
    world.org.time_zone = "Pacific/Kiritimati"  # UTC+14: often a day ahead of UTC
    world.org.save()
    response = world.client("viewer").get(URL)
    assert response.status_code == 200
    week = current_week(world.org)
    assert response.context["week"] == week
    assert f"<strong>{week.label}</strong>" in response.content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nonsense", "“nonsense” is not a week. Give a week as year and week number, like "
         "2026-W48. This week is shown."),
        ("2025-W53", "“2025-W53” is not a week. 2025 has weeks 1 to 52. This week is shown."),
        ("2999-W01", "Week 1, 2999 has not begun yet. This week is shown."),
        ("9999999999-W99", "is not a week."),
        ("<script>", "“&lt;script&gt;” is not a week."),
    ],
)  # fmt: skip
def test_a_bad_week_is_explained_and_this_week_shown(
    world: World, value: str, message: str
) -> None:
    response = world.client("admin").get(URL, {"week": value})
    assert response.status_code == 200
    assert response.context["week"] == this_week(world)
    assert message in response.content.decode()


def test_a_past_week_shows_its_own_items_and_notes(world: World) -> None:
    past = this_week(world).previous().previous()
    monday = past.begins_at(world.org)
    services.meeting_notes_save(
        actor=world.users["admin"], organization=world.org, week=past, notes="Kick-off **done**"
    )
    raise_item(world, "Raised two weeks ago", now=monday + dt.timedelta(hours=10))
    raise_item(world, "Raised now")

    html = world.client("viewer").get(URL, {"week": past.key}).content.decode()

    assert rows(html) == ["Raised two weeks ago"]
    assert "Kick-off <strong>done</strong>" in html
    assert f"<strong>{past.label}</strong>" in html
    assert "Week " + str(past.next().number) + " →" in html
    now_html = world.client("viewer").get(URL).content.decode()
    assert rows(now_html) == ["Raised two weeks ago", "Raised now"]
    assert "Carried over from week" in now_html
    assert "Kick-off" not in now_html


# --- notes --------------------------------------------------------------------------------------


def test_notes_are_rendered_as_markdown_and_sanitised_like_policy_bodies(world: World) -> None:
    client = world.client("admin")
    response = client.post(
        "/o/acme/weekly/notes/",
        {
            "week": this_week(world).key,
            "notes": "## Decisions\n\n- **Owners** named\n\n<script>alert('x')</script>"
            '<a href="javascript:alert(1)" onclick="x()">link</a>',
        },
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "<h2>Decisions</h2>" in html
    assert "<li><strong>Owners</strong> named</li>" in html
    body = html.split('data-testid="notes-body">')[1].split("</div>")[0]
    assert "link" in body
    assert "alert" not in body and "onclick" not in body and "<script" not in body
    assert "&lt;script&gt;" in html  # the editor shows the text as written, escaped


def test_bad_notes_are_refused_on_the_page_and_nothing_is_saved(world: World) -> None:
    client = world.client("admin")
    before = AuditEvent.objects.count()
    too_long = client.post(
        "/o/acme/weekly/notes/", {"week": this_week(world).key, "notes": "x" * 20_001}
    )
    bad_week = client.post("/o/acme/weekly/notes/", {"week": "soon", "notes": "Hello"})
    future = client.post(
        "/o/acme/weekly/notes/", {"week": this_week(world).next().key, "notes": "Hello"}
    )
    assert [too_long.status_code, bad_week.status_code, future.status_code] == [400, 400, 400]
    assert "at most 20000 characters" in too_long.content.decode()
    assert "Which week? Give a week as year and week number" in bad_week.content.decode()
    assert "Notes are written for this week or an earlier one." in future.content.decode()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("persona", "editor"), [("admin", True), ("owner", False), ("viewer", False)]
)
def test_only_admins_are_offered_the_notes_editor(world: World, persona: str, editor: bool) -> None:
    html = world.client(persona).get(URL).content.decode()
    assert ('action="/o/acme/weekly/notes/"' in html) is editor
    assert "No notes for week" in html


# --- action items: list, filters, buttons -------------------------------------------------------


def test_each_person_is_offered_only_the_buttons_they_may_use(world: World) -> None:
    mine = raise_item(world, "Owner's item", owner="owner")
    theirs = raise_item(world, "Member's item", owner="member")

    def buttons(persona: str) -> set[str]:
        html = world.client(persona).get(URL).content.decode()
        return set(re.findall(r"/action-items/(\d+)/(done|edit|delete)/", html))

    assert buttons("admin") == {
        (str(mine.pk), "done"), (str(mine.pk), "edit"),
        (str(theirs.pk), "done"), (str(theirs.pk), "edit"),
    }  # fmt: skip
    assert buttons("owner") == {(str(mine.pk), "done"), (str(mine.pk), "edit")}
    assert buttons("viewer") == set()
    assert buttons("granted") == set()
    viewer = world.client("viewer").get(URL).content.decode()
    assert 'id="add-action-item"' not in viewer
    assert 'id="add-action-item"' in world.client("granted").get(URL).content.decode()


def test_a_member_adds_items_for_themselves_and_an_admin_for_any_member(world: World) -> None:
    member_form = world.client("owner").get(URL).context["item_form"]
    admin_form = world.client("admin").get(URL).context["item_form"]
    assert [u.email for u in member_form.fields["owner"].queryset] == ["owner@acme.test"]
    assert {u.email for u in admin_form.fields["owner"].queryset} == {
        "admin@acme.test",
        "owner@acme.test",
        "member@acme.test",
        "granted@acme.test",
    }  # fmt: skip  (admins and members: viewers and auditors own nothing)


def test_adding_an_item_with_a_control_id_links_it_and_a_wrong_id_is_refused(world: World) -> None:
    client = world.client("admin")
    due = timezone.localdate() + dt.timedelta(days=10)
    data = {
        "title": "Enforce MFA on the VPN",
        "owner": world.users["owner"].pk,
        "due_on": due.isoformat(),
        "control": "IAM-99",
    }
    refused = client.post("/o/acme/weekly/action-items/", data)
    assert refused.status_code == 400
    assert "No active control has the ID IAM-99." in refused.content.decode()
    assert not ActionItem.objects.exists()

    added = client.post("/o/acme/weekly/action-items/", {**data, "control": " iam-01 "})
    assert added.status_code == 302
    item = ActionItem.objects.get()
    assert (item.control, item.owner, item.due_on) == (world.control, world.users["owner"], due)
    html = client.get(URL).content.decode()
    assert f'href="/o/acme/controls/{world.control.pk}/">IAM-01</a>' in html


def test_the_control_search_offers_at_most_twenty_active_controls_of_the_organization(
    world: World,
) -> None:
    for n in range(30):
        ControlFactory(organization=world.org, ref_id=f"OPS-{n:02d}", name=f"Operations {n}")
    ControlFactory(organization=world.org, ref_id="OPS-99", archived_at=timezone.now())
    client = world.client("owner")

    html = client.get("/o/acme/weekly/controls/", {"control": "ops"}).content.decode()
    by_name = client.get("/o/acme/weekly/controls/", {"control": "MFA every"}).content.decode()
    foreign = client.get("/o/acme/weekly/controls/", {"control": "Globex"}).content.decode()

    assert html.count("<option") == 20
    assert 'value="OPS-00"' in html and "OPS-99" not in html
    assert 'value="IAM-01"' in by_name
    assert "<option" not in foreign


def test_filters_narrow_the_items_and_bad_filters_are_explained(world: World) -> None:
    raise_item(world, "Owner's item", owner="owner")
    done = raise_item(world, "Member's item", owner="member")
    services.action_item_close(actor=world.users["admin"], item=done)
    client = world.client("owner")

    assert rows(client.get(URL, {"owner": "me"}).content.decode()) == ["Owner's item"]
    member = world.users["member"].pk
    assert rows(client.get(URL, {"owner": member}).content.decode()) == ["Member's item"]
    assert rows(client.get(URL, {"status": "done"}).content.decode()) == ["Member's item"]
    bad = client.get(URL, {"owner": world.users["outsider"].pk, "status": "late"})
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "No such admin or member here: everyone&#x27;s items are shown." in html
    assert "Filter by status open or done: every item is shown." in html
    assert rows(html) == ["Owner's item", "Member's item"]


def test_marking_done_returns_to_the_same_view_of_the_page(world: World) -> None:
    item = raise_item(world, "Owner's item", owner="owner")
    client = world.client("owner")
    back = f"{URL}?owner=me&status=open"

    response = client.post(f"/o/acme/weekly/action-items/{item.pk}/done/", {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    item.refresh_from_db()
    assert item.status == "done" and item.done_by == world.users["owner"]

    elsewhere = client.post(
        f"/o/acme/weekly/action-items/{item.pk}/reopen/", {"next": "https://evil.test/"}
    )
    assert elsewhere["Location"] == f"{URL}#action-item-{item.pk}"
    again = client.post(f"/o/acme/weekly/action-items/{item.pk}/reopen/")
    assert again.status_code == 302
    assert "This action item is already open." in client.get(URL).content.decode()


def test_the_list_is_paginated(world: World) -> None:
    for n in range(27):
        raise_item(world, f"Item {n:02d}")
    client = world.client("viewer")
    first = client.get(URL).content.decode()
    second = client.get(URL, {"page": 2}).content.decode()
    assert len(rows(first)) == 25 and len(rows(second)) == 2
    assert "1\u201325 of 27" in first


# --- My work ------------------------------------------------------------------------------------


def test_my_work_lists_the_owners_open_items_soonest_due_first_and_links_to_all(
    world: World,
) -> None:
    today = timezone.localdate()
    for days in [9, 2, 30, 1]:
        raise_item(world, f"Item due in {days} days", due_on=today + dt.timedelta(days=days))
    done = raise_item(world, "Already done")
    services.action_item_close(actor=world.users["owner"], item=done)
    raise_item(world, "Someone else's", owner="member")

    groups = work_groups(user=world.users["owner"], organization=world.org, limit=3)
    [group] = [g for g in groups if g.key == "action_items"]

    assert [i.title for i in group.items] == [
        "Item due in 1 days", "Item due in 2 days", "Item due in 9 days"
    ]  # fmt: skip
    assert group.total == 4
    assert group.all_url == "/o/acme/weekly/?owner=me&status=open"
    listed = world.client("owner").get(group.all_url).content.decode()
    assert "1\u20134 of 4" in listed  # the link lists exactly the group's items
    assert group.items[0].url.startswith("/o/acme/weekly/?owner=me#action-item-")
    assert [i.status for i in group.items] == ["Due soon", "Due soon", "Open"]
    assert not [g for g in work_groups(user=world.users["viewer"], organization=world.org)
                if g.key == "action_items"]  # fmt: skip


# --- queries ------------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("persona", ["admin", "owner", "viewer"])
def test_the_page_costs_the_same_queries_for_5_or_50_items(world: World, persona: str) -> None:
    control = world.control
    users = [world.users[p] for p in ("owner", "member", "admin")]

    def add(count: int) -> None:
        for n in range(count):
            item = raise_item(world, f"Item {ActionItem.objects.count()}", owner="owner")
            item.owner = users[n % 3]
            item.control = control if n % 2 else None
            item.save()
            if n % 4 == 0:
                services.action_item_close(actor=world.users["admin"], item=item)

    client = world.client(persona)
    client.get(URL)  # the first page view writes the session
    add(5)
    small = count_queries(client, URL)
    add(45)
    large = count_queries(client, URL)
    assert small == large, (small, large)
    work = "/o/acme/my-work/"
    client.get(work)
    assert count_queries(client, work) == count_queries(client, work)


def test_everyone_who_may_view_it_finds_weekly_in_the_navigation(world: World) -> None:
    for persona, shown in [("viewer", True), ("owner", True), ("admin", True)]:
        html = world.client(persona).get("/o/acme/").content.decode()
        assert ('href="/o/acme/weekly/"' in html) is shown
    auditor = world.client("auditor").get("/o/acme/").content.decode()
    assert 'href="/o/acme/weekly/"' not in auditor
    assert isinstance(world.users["owner"], User)


def test_the_audit_trail_shows_the_meetings_changes_in_words(world: World) -> None:
    admin = world.users["admin"]
    now = Week.parse("2026-W48").begins_at(world.org) + dt.timedelta(days=1, hours=9)
    item = raise_item(world, "Rotate keys", now=now, control=world.control)
    services.action_item_update(actor=admin, item=item, changes={"due_on": dt.date(2026, 12, 4)})
    services.action_item_close(actor=admin, item=item)
    services.meeting_notes_save(
        actor=admin, organization=world.org, week=Week.parse("2026-W48"), notes="Owners named."
    )

    html = world.client("admin").get("/o/acme/audit-trail/").content.decode()

    for words in [
        "Action item: create", "Action item: update", "Action item: close",
        "Meeting notes: update", "Raised in the week of: <ins>23 Nov 2026</ins>",
        "Due date: <del>1 Dec 2026</del> → <ins>4 Dec 2026</ins>",
        "Status: <del>Open</del> → <ins>Done</ins>", "Control: <ins>IAM-01</ins>",
        "Owner: <ins>owner@acme.test</ins>", "Notes: <ins>Owners named.</ins>",
        "Meeting notes of week 48, 2026",
    ]:  # fmt: skip
        assert words in html, words
    for key in ("due_on", "raised_week", "action_item", "meeting_notes", "done_by"):
        assert f">{key}" not in html and f"{key}:" not in html, key


# --- readiness: the weekly snapshots and the forecast -------------------------------------------


def snapshot(world: World, week: Week, percent: int) -> None:
    from compliance.models import ReadinessSnapshot

    ReadinessSnapshot.objects.create(
        organization=world.org,
        framework=world.adoption.framework,
        week=week.start,
        as_of=week.ends_at(world.org) - dt.timedelta(microseconds=1),
        computed_at=timezone.now(),
        requirements_total=20,
        requirements_ready=percent * 20 // 100,
        requirements_gaps=0,
        percent=percent,
        owners=[{"owner_id": 1, "name": "Olive Owner", "total": 5, "open": 2, "overdue": 1}],
        controls_by_blocker={"evidence_stale": 3, "test_failing": 1, "policy_unapproved": 0},
    )


def test_the_page_shows_each_frameworks_weekly_readiness_and_its_forecast(world: World) -> None:
    week = this_week(world)
    weeks = [week.start - dt.timedelta(weeks=n) for n in range(5, 0, -1)]
    for start, percent in zip(weeks, [10, 20, 30, 40, 50], strict=True):
        snapshot(world, Week(start), percent)
    world.adoption.target_audit_date = week.start + dt.timedelta(weeks=20)
    world.adoption.save()

    response = world.client("viewer").get(URL)

    [framework] = response.context["readiness_frameworks"]
    assert [s.percent for s in framework["trend"]] == [10, 20, 30, 40, 50]
    assert framework["forecast"].status == "on_track"  # 10 points a week: ready in 5 weeks
    page = response.content.decode()
    assert 'data-testid="readiness-trend"' in page
    assert "On track" in page and "Forecast ready date" in page
    assert "10 of 20" in page and "2 of 20" in page
    # The latest snapshot's blockers by reason, in words, most first, and its owners.
    assert framework["blockers"] == [("Evidence stale", 3), ("Automated test failing", 1)]
    assert "evidence_stale" not in page
    assert "2 of 5 not ready" in page and "1 past target" in page
    # Long-lead controls not in place, against their plan (here: none is long-lead).
    assert framework["long_lead"] == [] and 'data-testid="long-lead"' not in page
    # The trend drawn (compliance.charts) as an image, with the trend in words as its text.
    assert framework["chart"]["src"].startswith("data:image/svg+xml;base64,")
    assert 'data-testid="trend-chart"' in page
    assert framework["chart"]["alt"].startswith(f"{world.adoption.framework.name}: 50% ready")

    # A past week shows the figures as they were then: the trend up to it, its forecast.
    past = Week(weeks[1])
    earlier = world.client("viewer").get(URL, {"week": past.key}).context["readiness_frameworks"]
    assert [s.percent for s in earlier[0]["trend"]] == [10, 20]
    assert earlier[0]["forecast"].status == "not_enough_data"


def test_without_snapshots_the_page_says_when_the_first_is_taken(world: World) -> None:
    page = world.client("viewer").get(URL).content.decode()
    assert "No weekly snapshot up to" in page
    assert "Mondays at 06:00" in page
    assert "Not enough data" in page
    assert 'data-testid="trend-chart"' not in page


def test_long_lead_controls_show_against_their_plan(world: World) -> None:
    from controls import services as controls

    week = this_week(world)
    world.adoption.target_audit_date = week.start + dt.timedelta(weeks=8)
    world.adoption.save()
    controls.control_update(
        actor=world.users["admin"],
        control=world.control,
        changes={"long_lead": True, "target_date": week.start + dt.timedelta(weeks=12)},
    )
    controls.control_update(
        actor=world.users["admin"],
        control=world.unowned_control,
        changes={"long_lead": True, "target_date": week.start - dt.timedelta(days=3)},
    )

    page = world.client("viewer").get(URL).content.decode()

    section = page[page.index('data-testid="long-lead"') :]
    assert section.index("CHG-01") < section.index("IAM-01")  # soonest target first
    assert "Past its target date" in section and "Planned after the audit date" in section
    assert f"/controls/{world.control.pk}/" in section
    assert "Owner" in section and "No owner" in section  # CHG-01 has none
