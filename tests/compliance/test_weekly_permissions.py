"""The weekly page against every persona: viewers and members read it, an item's owner (a member)
edits and closes it, admins do everything; auditors see none of it (403, as on every program
page), and strangers and other organizations' ids get 404. A denied request changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.meetings import services
from compliance.meetings.weeks import current_week
from compliance.models import ActionItem, WeeklyMeeting
from tests.conftest import World
from tests.matrix import HIDDEN_FROM_ALL, READ_PROGRAM, Case, check_page_case

ADMIN_ONLY = {**READ_PROGRAM, "viewer": 403, "member": 403, "granted": 403, "owner": 403}


def writers(owner: int | None, member: int | None = 403, success: int = 302) -> dict[str, object]:
    """Admins succeed; the item's owner gets ``owner``; other members ``member``."""
    return {**ADMIN_ONLY, "admin": success, "owner": owner, "member": member, "granted": member}


@pytest.fixture(autouse=True)
def items(world: World) -> None:
    """An open and a done item of the owner's, and an item of the organization next door."""
    admin, now = world.users["admin"], timezone.now()
    due = timezone.localdate() + dt.timedelta(days=7)
    for title, done in [("Open item", False), ("Done item", True)]:
        item = services.action_item_create(
            actor=admin, organization=world.org, title=title, owner=world.users["owner"],
            due_on=due, now=now,
        )  # fmt: skip
        if done:
            services.action_item_close(actor=admin, item=item)
    services.action_item_create(
        actor=world.users["outsider"], organization=world.other_org, title="Globex item",
        owner=world.users["outsider"], due_on=due,
    )  # fmt: skip


def pk(title: str) -> int:
    return ActionItem.objects.get(title=title).pk


def item_url(org: str, title: str, action: str) -> str:
    return f"/o/{org}/weekly/action-items/{pk(title)}/{action}/"


def new_item(w: World) -> dict[str, object]:
    due = timezone.localdate() + dt.timedelta(days=5)
    return {"title": "New item", "owner": w.users["owner"].pk, "due_on": due.isoformat()}


def edit(w: World) -> dict[str, object]:
    return {**new_item(w), "title": "Open item, edited"}


def ITEMS(w: World) -> list[tuple[object, ...]]:
    return sorted(ActionItem.objects.values_list("title", "status", "due_on"))


URL = "/o/acme/weekly/"
FOREIGN = {**HIDDEN_FROM_ALL, "auditor": 403}  # the auditor's role is refused before the lookup

CASES = [
    Case("weekly page", "get", lambda w: URL, READ_PROGRAM),
    Case("a past week", "get", lambda w: URL + "?week=2026-W01", READ_PROGRAM),
    Case("the owner's items", "get", lambda w: URL + "?owner=me&status=open", READ_PROGRAM),
    Case("control search", "get", lambda w: URL + "controls/?control=IAM", READ_PROGRAM),
    Case(
        "notes",
        "post",
        lambda w: reverse("weekly_notes", args=["acme"]),
        {**ADMIN_ONLY, "admin": 302},
        data=lambda w: {"week": current_week(w.org).key, "notes": "Owners named."},
        state=lambda w: list(WeeklyMeeting.objects.values_list("notes", flat=True)),
    ),
    Case(
        "add an item for the owner",
        "post",
        lambda w: reverse("action_item_create", args=["acme"]),
        # The owner adds it for themselves; another member may not (the form offers only
        # themselves: 400, nothing saved).
        writers(owner=302, member=400),
        data=new_item,
        state=ITEMS,
    ),
    Case(
        "edit form", "get", lambda w: item_url("acme", "Open item", "edit"), writers(200, 403, 200)
    ),
    Case(
        "edit",
        "post",
        lambda w: item_url("acme", "Open item", "edit"),
        writers(owner=302),
        data=edit,
        state=ITEMS,
    ),
    Case(
        "mark done",
        "post",
        lambda w: item_url("acme", "Open item", "done"),
        writers(302),
        state=ITEMS,
    ),
    Case(
        "reopen",
        "post",
        lambda w: item_url("acme", "Done item", "reopen"),
        writers(302),
        state=ITEMS,
    ),
    Case(
        "delete",
        "post",
        lambda w: item_url("acme", "Open item", "delete"),
        writers(owner=403),
        state=ITEMS,
    ),
    # Another organization's item through our URL: hidden from everyone here.
    Case("foreign edit form", "get", lambda w: item_url("acme", "Globex item", "edit"), FOREIGN),
    Case(
        "foreign edit",
        "post",
        lambda w: item_url("acme", "Globex item", "edit"),
        FOREIGN,
        data=edit,
        state=ITEMS,
    ),
    Case(
        "foreign done",
        "post",
        lambda w: item_url("acme", "Globex item", "done"),
        FOREIGN,
        state=ITEMS,
    ),
    Case(
        "foreign delete",
        "post",
        lambda w: item_url("acme", "Globex item", "delete"),
        # Deleting needs the admin's capability, refused before any lookup (whatever the id).
        {**ADMIN_ONLY, "admin": 404},
        state=ITEMS,
    ),
    # Through its own organization's URL: only Globex's admin (the outsider) may.
    Case(
        "foreign item through its URL",
        "post",
        lambda w: item_url("globex", "Globex item", "done"),
        {**HIDDEN_FROM_ALL, "outsider": 302},
        state=ITEMS,
    ),
]

PARAMS = [param for case in CASES for param in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_weekly_permissions(world: World, case: Case, persona: str) -> None:
    check_page_case(world, case, persona)
