"""Northwind's weekly meetings in the demo: ten past weeks of notes and action items whose dates
agree with each other (raised at a meeting, due after it, done after raised and never in the
future), some done on time, one late, and open ones carried over into this week."""

from __future__ import annotations

import pytest
from django.utils import timezone

from compliance import demo
from compliance.meetings import selectors
from compliance.meetings.weeks import Week, current_week, local_date
from compliance.models import (
    ActionItem,
    ActionItemStatusChange,
    AuditEvent,
    Organization,
    User,
    WeeklyMeeting,
)
from compliance.work import work_groups


@pytest.fixture
def northwind(db: None) -> Organization:
    return demo.seed_demo()


def test_the_demo_meetings_have_consistent_dates(northwind: Organization) -> None:
    now = timezone.now()
    this_week = current_week(northwind)
    items = list(ActionItem.objects.filter(organization=northwind).select_related("control"))
    meetings = list(WeeklyMeeting.objects.filter(organization=northwind).order_by("week_start"))

    weeks_back = [(this_week.start - m.week_start).days // 7 for m in meetings]
    assert weeks_back == list(range(10, 0, -1))  # none yet for this week: the CFO writes it live
    for meeting in meetings:
        assert Week.of(local_date(northwind, meeting.updated_at)) == Week(meeting.week_start)

    assert len(items) >= 10
    for item in items:
        raised = Week(item.raised_week)
        assert raised < this_week
        assert Week.of(local_date(northwind, item.created_at)) == raised
        assert item.due_on >= local_date(northwind, item.created_at)
        assert item.control is not None and item.control.archived_at is None
        if item.done_at is not None:
            assert item.created_at < item.done_at <= now
            [done] = ActionItemStatusChange.objects.filter(item=item, to_status="done")
            assert done.created_at == item.done_at and done.actor == item.owner

    done = [i for i in items if i.done_at is not None]
    late = [i for i in done if local_date(northwind, i.done_at) > i.due_on]  # type: ignore[arg-type]
    still_open = [i for i in items if i.is_open]
    assert len(done) >= 5 and len(late) == 1 and len(still_open) >= 5
    assert any(i.due_on < local_date(northwind, now) for i in still_open)  # some overdue

    # This week shows every open item, carried over; earlier weeks show what they raised.
    admin = User.objects.get(email="dana@northwind.test")
    visible = selectors.action_item_list(user=admin, organization=northwind)
    this = selectors.on_week(visible, organization=northwind, week=this_week)
    assert set(this) == set(still_open)
    assert AuditEvent.objects.filter(
        organization=northwind, action="action_item.create"
    ).count() == (len(items))

    # Each owner with open items finds them in My work.
    marcus = User.objects.get(email="marcus@northwind.test")
    groups = work_groups(user=marcus, organization=northwind)
    [group] = [g for g in groups if g.key == "action_items"]
    assert group.total == sum(1 for i in still_open if i.owner == marcus) >= 2
