"""The weekly meeting's record: weeks in the organization's time zone, which action items a week
shows (carry-over at the week boundaries, in two time zones), and the services' validation,
permissions and audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from compliance.meetings import selectors, services
from compliance.meetings.weeks import Week, current_week
from compliance.models import (
    ActionItem,
    ActionItemStatus,
    ActionItemStatusChange,
    AuditEvent,
    Organization,
    User,
    WeeklyMeeting,
)
from tests.conftest import World
from tests.factories import ControlFactory

UTC = dt.UTC
# Sunday 29 Nov 2026 22:00 in New York is already Monday 30 Nov 04:00 in Berlin: the last hours
# of week 48 in one place, the first of week 49 in the other.
BOUNDARY = dt.datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
W47, W48, W49, W50 = (Week.parse(f"2026-W{n}") for n in (47, 48, 49, 50))


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def week_titles(organization: Organization, user: User, week: Week) -> list[str]:
    items = selectors.action_item_list(user=user, organization=organization)
    shown = selectors.on_week(items, organization=organization, week=week)
    return sorted(shown.values_list("title", flat=True))


def raise_item(world: World, title: str, *, now: dt.datetime, **kwargs: object) -> ActionItem:
    arguments: dict = {
        "owner": world.users["owner"],
        "due_on": (now + dt.timedelta(days=14)).date(),
        **kwargs,
    }
    return services.action_item_create(
        actor=world.users["admin"], organization=world.org, title=title, now=now, **arguments
    )


# --- weeks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "monday"),
    [("2026-W48", dt.date(2026, 11, 23)), ("2026-w1", dt.date(2025, 12, 29)),
     (" 2026-W53 ", dt.date(2026, 12, 28)), ("2021-W01", dt.date(2021, 1, 4))],
)  # fmt: skip
def test_a_week_is_named_by_its_iso_year_and_number(text: str, monday: dt.date) -> None:
    week = Week.parse(text)
    assert week.start == monday
    assert Week.parse(week.key) == week
    assert week.end == monday + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "message"),
    [("2025-W53", "2025 has weeks 1 to 52."), ("2026-W00", "2026 has weeks 1 to 53."),
     ("last week", "like 2026-W48"), ("", "like 2026-W48"), ("2026-11-23", "like 2026-W48"),
     ("1999-W10", "from 2000"), ("99999-W01", "like 2026-W48")],
)  # fmt: skip
def test_a_week_that_is_not_one_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Week.parse(text)


def test_a_week_reads_as_words_and_dates() -> None:
    assert W48.label == "Week 48, 2026"
    assert W48.span == "23\u201329 Nov 2026"
    assert Week.parse("2026-W49").span == "30 Nov \u2013 6 Dec 2026"
    assert Week.parse("2026-W53").span == "28 Dec 2026 \u2013 3 Jan 2027"


def test_the_same_instant_is_in_different_weeks_in_new_york_and_berlin() -> None:
    new_york = Organization(time_zone="America/New_York")
    berlin = Organization(time_zone="Europe/Berlin")
    assert current_week(new_york, BOUNDARY) == W48
    assert current_week(berlin, BOUNDARY) == W49
    assert W49.begins_at(berlin) == dt.datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert W49.begins_at(new_york) == dt.datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def test_a_week_across_a_daylight_saving_change_ends_at_local_midnight() -> None:
    berlin = Organization(time_zone="Europe/Berlin")
    week = Week.parse("2026-W13")  # clocks go forward on Sunday 29 March 2026
    assert week.begins_at(berlin) == dt.datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert week.ends_at(berlin) == dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


# --- carry-over ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "raised", "weeks"),
    [
        # Done on Sunday evening in New York: week 48 shows it done, week 49 no longer.
        ("America/New_York", W48, {W47: True, W48: True, W49: False, W50: False}),
        # The same instant is Monday in Berlin: week 48 carried it open, week 49 shows it done.
        ("Europe/Berlin", W49, {W47: True, W48: True, W49: True, W50: False}),
    ],
)
def test_an_item_done_at_the_week_boundary_shows_in_the_week_it_was_done_in_the_local_zone(
    world: World, time_zone: str, raised: Week, weeks: dict[Week, bool]
) -> None:
    world.org.time_zone = time_zone
    world.org.save()
    admin = world.users["admin"]
    earlier = raise_item(world, "Earlier item", now=at("2026-11-18"))  # Wednesday of week 47
    assert earlier.raised_week == W47.start
    services.action_item_close(actor=admin, item=earlier, now=BOUNDARY)
    boundary = raise_item(world, "Raised at the boundary", now=BOUNDARY)

    assert boundary.raised_week == raised.start
    for week, shown in weeks.items():
        titles = week_titles(world.org, admin, week)
        assert ("Earlier item" in titles) is shown, (time_zone, week)
        assert ("Raised at the boundary" in titles) is (week >= raised), (time_zone, week)


def test_an_open_item_carries_over_to_every_later_week_until_it_is_done(world: World) -> None:
    admin = world.users["admin"]
    item = raise_item(world, "Renew the pen test", now=at("2026-11-04"))  # week 45
    later = raise_item(world, "Raised later", now=at("2026-11-25"))  # week 48
    for number in (44, 45, 46, 47, 48):
        titles = week_titles(world.org, admin, Week.parse(f"2026-W{number}"))
        assert ("Renew the pen test" in titles) is (number >= 45)
        assert ("Raised later" in titles) is (number == 48)

    services.action_item_close(actor=admin, item=item, now=at("2026-11-19"))  # week 47
    assert "Renew the pen test" in week_titles(world.org, admin, Week.parse("2026-W47"))
    assert "Renew the pen test" not in week_titles(world.org, admin, W48)
    services.action_item_reopen(actor=admin, item=item, now=at("2026-11-26"))
    assert "Renew the pen test" in week_titles(world.org, admin, W48)
    assert later.is_open


def test_the_week_figures_count_what_the_week_shows(world: World) -> None:
    admin = world.users["admin"]
    carried = raise_item(world, "Carried", now=at("2026-11-10"), due_on=dt.date(2026, 11, 20))
    done = raise_item(world, "Done this week", now=at("2026-11-23"))
    raise_item(world, "Open this week", now=at("2026-11-24"))
    old = raise_item(world, "Done long ago", now=at("2026-11-02"))
    services.action_item_close(actor=admin, item=old, now=at("2026-11-03"))
    services.action_item_close(actor=admin, item=done, now=at("2026-11-25"))
    items = selectors.action_item_list(user=admin, organization=world.org)

    counts = selectors.week_counts(items, organization=world.org, week=W48, now=at("2026-11-26"))

    assert counts == {"total": 3, "open": 2, "done": 1, "overdue": 1, "carried": 1}
    assert carried.due_on < dt.date(2026, 11, 26)


def test_a_past_weeks_figures_are_as_they_stood_at_its_end(world: World) -> None:
    admin = world.users["admin"]
    # Raised in week 47, due on its Friday; done on the Tuesday of week 48.
    late = raise_item(world, "Late", now=at("2026-11-16"), due_on=dt.date(2026, 11, 20))
    services.action_item_close(actor=admin, item=late, now=at("2026-11-24"))
    # Raised in week 47, due in week 49, still open.
    raise_item(world, "On time", now=at("2026-11-17"), due_on=dt.date(2026, 12, 2))
    items = selectors.action_item_list(user=admin, organization=world.org)

    then = selectors.week_counts(items, organization=world.org, week=W47, now=at("2026-12-10"))
    after = selectors.week_counts(items, organization=world.org, week=W48, now=at("2026-12-10"))

    # At the end of week 47 both were open and "Late" was overdue; neither was done that week.
    assert then == {"total": 2, "open": 2, "done": 0, "overdue": 1, "carried": 0}
    # In week 48 "Late" was done; "On time" was still open and not yet due at its end.
    assert after == {"total": 2, "open": 1, "done": 1, "overdue": 0, "carried": 2}


# --- services: what they refuse ------------------------------------------------------------------


def test_a_new_item_needs_a_title_an_owner_of_this_organization_and_a_due_date(
    world: World,
) -> None:
    admin = world.users["admin"]
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.action_item_create(
            actor=admin,
            organization=world.org,
            title="   ",
            owner=world.users["outsider"],
            due_on=timezone.localdate() - dt.timedelta(days=1),
            control=world.foreign_control,
        )
    assert set(caught.value.message_dict) == {"title", "owner", "due_on", "control"}
    with pytest.raises(ValidationError) as caught:
        services.action_item_create(
            actor=admin, organization=world.org, title="x", owner=world.users["viewer"],
            due_on=None,
        )  # fmt: skip
    assert set(caught.value.message_dict) == {"owner", "due_on"}
    assert ActionItem.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_an_archived_control_cannot_be_named(world: World) -> None:
    archived = ControlFactory(organization=world.org, ref_id="OLD-01", archived_at=timezone.now())
    with pytest.raises(ValidationError) as caught:
        raise_item(world, "Look at the old control", now=timezone.now(), control=archived)
    assert "control" in caught.value.message_dict
    assert (
        selectors.control_by_ref(user=world.users["admin"], organization=world.org, ref_id="old-01")
        is None
    )
    assert (
        selectors.control_by_ref(user=world.users["admin"], organization=world.org, ref_id="iam-01")
        == world.control
    )


def test_a_member_raises_items_for_themselves_only_and_cannot_reassign(world: World) -> None:
    owner = world.users["owner"]
    today = timezone.localdate()
    with pytest.raises(services.FieldsDenied) as caught:
        services.action_item_create(
            actor=owner, organization=world.org, title="For someone else",
            owner=world.users["member"], due_on=today,
        )  # fmt: skip
    assert set(caught.value.messages) == {"owner"}
    item = services.action_item_create(
        actor=owner, organization=world.org, title="Mine", owner=owner, due_on=today
    )
    with pytest.raises(services.FieldsDenied):
        services.action_item_update(
            actor=owner, item=item, changes={"owner": world.users["member"]}
        )
    services.action_item_update(actor=owner, item=item, changes={"title": "Mine, renamed"})
    item.refresh_from_db()
    assert (item.title, item.owner) == ("Mine, renamed", owner)


@pytest.mark.parametrize("persona", ["viewer", "auditor", "outsider"])
def test_those_who_only_read_raise_nothing(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.action_item_create(
            actor=world.users[persona], organization=world.org, title="x",
            owner=world.users[persona], due_on=timezone.localdate(),
        )  # fmt: skip
    assert ActionItem.objects.count() == 0


def test_only_its_owner_and_admins_close_an_item_and_only_admins_delete(world: World) -> None:
    item = raise_item(world, "Rotate keys", now=timezone.now())
    for persona in ("member", "viewer", "granted"):
        with pytest.raises(PermissionDenied):
            services.action_item_close(actor=world.users[persona], item=item)
    services.action_item_close(actor=world.users["owner"], item=item)
    with pytest.raises(ValidationError, match="already done"):
        services.action_item_close(actor=world.users["owner"], item=item)
    with pytest.raises(PermissionDenied):
        services.action_item_delete(actor=world.users["owner"], item=item)
    services.action_item_reopen(actor=world.users["owner"], item=item)
    with pytest.raises(ValidationError, match="already open"):
        services.action_item_reopen(actor=world.users["admin"], item=item)
    item.refresh_from_db()
    assert (item.status, item.done_at, item.done_by) == (ActionItemStatus.OPEN, None, None)
    changes = ActionItemStatusChange.objects.filter(item=item).order_by("pk")
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("", "open"), ("open", "done"), ("done", "open")
    ]  # fmt: skip


def test_an_item_cannot_be_due_before_the_week_it_was_raised(world: World) -> None:
    item = raise_item(world, "Fix backups", now=at("2026-11-25"))
    with pytest.raises(ValidationError) as caught:
        services.action_item_update(
            actor=world.users["admin"], item=item, changes={"due_on": dt.date(2026, 11, 20)}
        )
    assert "due_on" in caught.value.message_dict
    item.refresh_from_db()
    assert item.due_on == dt.date(2026, 12, 9)


# --- services: audit events ---------------------------------------------------------------------


def test_every_change_of_an_item_is_an_audit_event_with_what_changed(world: World) -> None:
    admin = world.users["admin"]
    item = raise_item(world, "Rotate keys", now=at("2026-11-24"), control=world.control)
    services.action_item_update(
        actor=admin,
        item=item,
        changes={"owner": world.users["member"], "due_on": dt.date(2026, 12, 11)},
    )
    services.action_item_update(actor=admin, item=item, changes={"title": "Rotate keys"})
    services.action_item_close(actor=admin, item=item)
    services.action_item_reopen(actor=admin, item=item)
    pk = item.pk
    services.action_item_delete(actor=admin, item=item)

    events = list(
        AuditEvent.objects.filter(object_type="compliance.actionitem", object_id=str(pk)).order_by(
            "seq"
        )
    )
    assert [e.action for e in events] == [
        "action_item.create",
        "action_item.update",
        "action_item.close",
        "action_item.reopen",
        "action_item.delete",
    ]  # fmt: skip  (an update that changes nothing writes nothing)
    create, update, close, reopen, delete = events
    assert create.after == {
        "title": "Rotate keys", "owner": "owner@acme.test", "due_on": "2026-12-08",
        "control": "IAM-01", "status": "open", "raised_week": "2026-11-23",
    }  # fmt: skip
    assert update.before == {"owner": "owner@acme.test", "due_on": "2026-12-08"}
    assert update.after == {"owner": "member@acme.test", "due_on": "2026-12-11"}
    assert close.after == {"status": "done", "done_by": "admin@acme.test"}
    assert reopen.before == {"status": "done", "done_by": "admin@acme.test"}
    assert delete.before["title"] == "Rotate keys" and delete.after is None
    assert not ActionItem.objects.filter(pk=pk).exists()


def test_notes_are_written_by_admins_for_this_week_or_earlier_with_an_audit_event(
    world: World,
) -> None:
    admin = world.users["admin"]
    now = at("2026-11-25")
    with pytest.raises(PermissionDenied):
        services.meeting_notes_save(
            actor=world.users["owner"], organization=world.org, week=W48, notes="x", now=now
        )
    with pytest.raises(ValidationError) as caught:
        services.meeting_notes_save(
            actor=admin, organization=world.org, week=W49, notes="Next week", now=now
        )
    assert "week" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.meeting_notes_save(
            actor=admin, organization=world.org, week=W48, notes="x" * 20_001, now=now
        )
    assert "notes" in caught.value.message_dict
    assert not WeeklyMeeting.objects.exists()

    meeting = services.meeting_notes_save(
        actor=admin, organization=world.org, week=W48, notes="- Owners named\r\n", now=now
    )
    services.meeting_notes_save(
        actor=admin, organization=world.org, week=W48, notes="- Owners named", now=now
    )  # the same text: no event
    services.meeting_notes_save(
        actor=admin, organization=world.org, week=W47, notes="Kick-off", now=now
    )

    meeting.refresh_from_db()
    assert (meeting.notes, meeting.updated_by, meeting.week_start) == (
        "- Owners named", admin, W48.start
    )  # fmt: skip
    events = AuditEvent.objects.filter(action="meeting_notes.update").order_by("seq")
    assert [(e.object_repr, e.before, e.after) for e in events] == [
        ("Meeting notes of week 48, 2026", None, {"notes": "- Owners named"}),
        ("Meeting notes of week 47, 2026", None, {"notes": "Kick-off"}),
    ]
