"""The weekly meeting's API: every endpoint against every persona, filters (the week's
carry-over included), and bad input answered with the field named and nothing changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from compliance.meetings import services
from compliance.meetings.weeks import Week, current_week
from compliance.models import ActionItem, AuditEvent, WeeklyMeeting
from tests import matrix
from tests.conftest import PERSONAS, World
from tests.factories import ControlFactory
from tests.matrix import Case

API = "/api/organizations"
ITEMS = f"{API}/acme/weekly/action-items/"
NOTES = f"{API}/acme/weekly/notes/"

READ: dict[str, Any] = {**matrix.READ_PROGRAM, "anonymous": 401}
ADMIN_ONLY: dict[str, Any] = {**READ, "viewer": 403, "member": 403, "granted": 403, "owner": 403}
HIDDEN: dict[str, Any] = dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "auditor": 403}


def writers(owner: Any, member: Any = 403, success: int = 200) -> dict[str, Any]:
    return {**ADMIN_ONLY, "admin": success, "owner": owner, "member": member, "granted": member}


def due(days: int = 7) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.fixture(autouse=True)
def items(world: World) -> None:
    admin = world.users["admin"]
    for title, done in [("Open item", False), ("Done item", True)]:
        item = services.action_item_create(
            actor=admin, organization=world.org, title=title, owner=world.users["owner"],
            due_on=timezone.localdate() + dt.timedelta(days=7),
        )  # fmt: skip
        if done:
            services.action_item_close(actor=admin, item=item)
    services.action_item_create(
        actor=world.users["outsider"], organization=world.other_org, title="Globex item",
        owner=world.users["outsider"], due_on=timezone.localdate(),
    )  # fmt: skip


def pk(title: str) -> int:
    return ActionItem.objects.get(title=title).pk


def item(title: str, org: str = "acme", suffix: str = "") -> str:
    return f"{API}/{org}/weekly/action-items/{pk(title)}/{suffix}"


def everything(w: World) -> Any:
    items = sorted(ActionItem.objects.values_list("title", "owner_id", "status", "due_on"))
    return items, sorted(WeeklyMeeting.objects.values_list("week_start", "notes"))


def this_week(w: World) -> str:
    return current_week(w.org).key


CASES = [
    Case("list", "get", lambda w: ITEMS, READ),
    Case("list a week", "get", lambda w: ITEMS + f"?week={this_week(w)}&status=open", READ),
    Case("retrieve", "get", lambda w: item("Open item"), READ),
    Case(
        "create for the owner",
        "post",
        lambda w: ITEMS,
        # A member other than the owner may not raise an item for the owner (403, the field
        # named); viewers and auditors raise nothing.
        writers(owner=201, member=403, success=201),
        data=lambda w: {"title": "New", "owner": w.users["owner"].pk, "due_on": due()},
        state=everything,
    ),
    Case(
        "edit",
        "patch",
        lambda w: item("Open item"),
        writers(owner=200),
        data=lambda w: {"title": "Open item, edited", "due_on": due(9)},
        state=everything,
    ),
    Case(
        "close",
        "post",
        lambda w: item("Open item", suffix="close/"),
        writers(200),
        state=everything,
    ),
    Case(
        "reopen",
        "post",
        lambda w: item("Done item", suffix="reopen/"),
        writers(200),
        state=everything,
    ),
    Case(
        "delete",
        "delete",
        lambda w: item("Open item"),
        writers(owner=403, success=204),
        state=everything,
    ),
    Case("foreign retrieve", "get", lambda w: item("Globex item"), HIDDEN),
    Case(
        "foreign edit",
        "patch",
        lambda w: item("Globex item"),
        HIDDEN,
        data=lambda w: {"title": "Taken over"},
        state=everything,
    ),
    Case(
        "foreign close",
        "post",
        lambda w: item("Globex item", suffix="close/"),
        HIDDEN,
        state=everything,
    ),
    Case(
        "foreign delete",
        "delete",
        lambda w: item("Globex item"),
        {**ADMIN_ONLY, "admin": 404},  # deleting needs the admins' capability before any lookup
        state=everything,
    ),
    Case(
        "foreign item through its URL",
        "post",
        lambda w: item("Globex item", org="globex", suffix="close/"),
        {**HIDDEN, "auditor": 404, "outsider": 200},
        state=everything,
    ),
    Case("notes list", "get", lambda w: NOTES, READ),
    Case("notes of a week", "get", lambda w: NOTES + f"{this_week(w)}/", READ),
    Case(
        "write notes",
        "put",
        lambda w: NOTES + f"{this_week(w)}/",
        {**ADMIN_ONLY, "admin": 200},
        data=lambda w: {"notes": "Owners named."},
        state=everything,
    ),
    Case(
        "patch notes",
        "patch",
        lambda w: NOTES + f"{this_week(w)}/",
        {**ADMIN_ONLY, "admin": 200},
        data=lambda w: {"notes": "Owners named."},
        state=everything,
    ),
]

PARAMS = [param for case in CASES for param in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_weekly_api_permissions(world: World, case: Case, persona: str) -> None:
    client = world.api(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(case.url(world), case.data(world), format="json")

    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:500]
    if response.status_code >= 300:
        assert response["Content-Type"].startswith("application/json")
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    elif case.method != "get":
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state


# --- reading ------------------------------------------------------------------------------------


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def test_an_item_reads_with_its_people_control_and_week(world: World) -> None:
    client = world.api("admin")
    created = client.post(
        ITEMS,
        {"title": "Enable MFA", "owner": world.users["owner"].pk, "due_on": due(3),
         "control": world.control.pk},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["owner"] == {"id": world.users["owner"].pk, "email": "owner@acme.test",
                             "name": "Owner"}  # fmt: skip
    assert body["control"] == {"id": world.control.pk, "ref_id": "IAM-01", "name": "MFA everywhere"}
    assert body["raised_week"] == this_week(world)
    assert (body["status"], body["done_at"], body["done_by"]) == ("open", None, None)
    assert body["created_by"]["email"] == "admin@acme.test"
    closed = client.post(f"{ITEMS}{body['id']}/close/").json()
    assert closed["status"] == "done" and closed["done_by"]["email"] == "admin@acme.test"


def test_items_filter_by_status_owner_and_week_with_carry_over(world: World) -> None:
    client = world.api("viewer")
    week = current_week(world.org)
    earlier = services.action_item_create(
        actor=world.users["admin"], organization=world.org, title="Raised three weeks ago",
        owner=world.users["member"], due_on=timezone.localdate(),
        now=week.begins_at(world.org) - dt.timedelta(days=20),
    )  # fmt: skip

    assert titles(client.get(ITEMS, {"status": "done"})) == ["Done item"]
    assert titles(client.get(ITEMS, {"owner": world.users["member"].pk})) == [earlier.title]
    raised = Week(earlier.raised_week)
    assert titles(client.get(ITEMS, {"week": raised.key})) == ["Raised three weeks ago"]
    assert titles(client.get(ITEMS, {"week": raised.previous().key})) == []
    assert sorted(titles(client.get(ITEMS, {"week": week.key}))) == [
        "Done item", "Open item", "Raised three weeks ago"
    ]  # fmt: skip
    services.action_item_close(actor=world.users["admin"], item=earlier)
    assert "Raised three weeks ago" in titles(client.get(ITEMS, {"week": week.key}))
    assert titles(client.get(ITEMS, {"week": week.next().key})) == ["Open item"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"week": "last week"}, "week"), ({"week": "2025-W53"}, "week"),
     ({"status": "late"}, "status"), ({"owner": "me"}, "owner"),
     ({"ordering": "owner"}, "ordering"), ({"page_size": "1000"}, "page_size")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_it(world: World, params: dict, field: str) -> None:
    response = world.api("admin").get(ITEMS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_list_is_paged(world: World) -> None:
    page = world.api("viewer").get(ITEMS, {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


# --- writing: bad input changes nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": "Ok", "owner": "OWNER", "due_on": "2020-01-01"}, {"due_on"}),
        ({"title": "   ", "owner": "OWNER", "due_on": "DUE"}, {"title"}),
        ({"title": "x", "owner": "VIEWER", "due_on": "DUE"}, {"owner"}),
        ({"title": "x", "owner": "OWNER", "due_on": "DUE", "control": "FOREIGN"}, {"control"}),
        ({"title": "x", "owner": "OWNER", "due_on": "soon"}, {"due_on"}),
        ({"title": "x", "owner": "OWNER", "due_on": "DUE", "status": "done"}, {"status"}),
        ({"title": "x", "owner": "OWNER", "due_on": "DUE", "colour": "red"}, {"colour"}),
        ({"title": "x" * 201, "owner": "OWNER", "due_on": "DUE"}, {"title"}),
        ({"title": 5, "owner": "OWNER", "due_on": "DUE"}, {"title"}),
        ({"owner": "OWNER"}, {"title", "due_on"}),
    ],
)
def test_a_bad_item_is_a_400_naming_the_fields_and_nothing_is_saved(
    world: World, body: dict, fields: set[str]
) -> None:
    values = {"OWNER": world.users["owner"].pk, "VIEWER": world.users["viewer"].pk,
              "FOREIGN": world.foreign_control.pk, "DUE": due()}  # fmt: skip
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = (everything(world), AuditEvent.objects.count())

    response = world.api("admin").post(ITEMS, body, format="json")

    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert (everything(world), AuditEvent.objects.count()) == before


def test_an_archived_control_is_refused(world: World) -> None:
    archived = ControlFactory(organization=world.org, ref_id="OLD-01", archived_at=timezone.now())
    body = {"title": "x", "owner": world.users["owner"].pk, "due_on": due(), "control": archived.pk}
    response = world.api("admin").post(ITEMS, body, format="json")
    assert response.status_code == 400 and "control" in response.json()


def test_a_member_may_not_give_their_item_to_someone_else(world: World) -> None:
    before = everything(world)
    response = world.api("owner").patch(
        item("Open item"), {"owner": world.users["member"].pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["owner"] == ["Only admins give an action item to someone else."]
    assert everything(world) == before
    reassigned = world.api("admin").patch(
        item("Open item"), {"owner": world.users["member"].pk}, format="json"
    )
    assert reassigned.json()["owner"]["email"] == "member@acme.test"


def test_closing_a_done_item_is_a_400_and_changes_nothing(world: World) -> None:
    before = (everything(world), AuditEvent.objects.count())
    response = world.api("owner").post(item("Done item", suffix="close/"))
    assert response.status_code == 400
    assert response.json() == {"status": ["This action item is already done."]}
    assert (everything(world), AuditEvent.objects.count()) == before


# --- notes --------------------------------------------------------------------------------------


def test_notes_of_a_week_read_empty_until_written_and_render_sanitised(world: World) -> None:
    client = world.api("admin")
    url = NOTES + f"{this_week(world)}/"
    empty = client.get(url).json()
    assert empty == {
        "week": this_week(world), "week_start": str(current_week(world.org).start), "notes": "",
        "notes_html": "", "updated_by": None, "updated_at": None,
    }  # fmt: skip
    assert not WeeklyMeeting.objects.exists()

    written = client.put(url, {"notes": "**Go** <script>x()</script>"}, format="json").json()
    assert written["notes_html"] == "<p><strong>Go</strong> </p>"
    assert written["updated_by"]["email"] == "admin@acme.test"
    assert [row["week"] for row in world.api("viewer").get(NOTES).json()["results"]] == [
        this_week(world)
    ]


@pytest.mark.parametrize(
    ("week", "body", "field"),
    [("next", {"notes": "Later"}, "week"), ("2026-W99", {"notes": "x"}, "week"),
     ("soon", {"notes": "x"}, "week"), ("this", {"notes": "x" * 20_001}, "notes"),
     ("this", {"notes": 5}, "notes"), ("this", {}, "notes"),
     ("this", {"notes": "x", "week": "2026-W01"}, "week")],
)  # fmt: skip
def test_bad_notes_are_a_400_naming_the_field_and_nothing_is_saved(
    world: World, week: str, body: dict, field: str
) -> None:
    weeks = {"this": this_week(world), "next": current_week(world.org).next().key}
    before = (everything(world), AuditEvent.objects.count())
    response = world.api("admin").put(NOTES + f"{weeks.get(week, week)}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert (everything(world), AuditEvent.objects.count()) == before
