"""What changed in a week (compliance.changes): the weekly page's and the digest's list, read
from two weeks' snapshots (or the last snapshot and now) and the records of the window between.

The nine-week story of tests/controls/test_readiness_as_of.py (in two time zones) gives each
kind of change at a known moment; the expected controls come from readiness_as_of, the one
definition, never from a list written here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.changes import LIMIT, week_changes
from compliance.models import ReadinessSnapshot
from compliance.selectors import adoptions_of
from compliance.snapshots import snapshots_create
from controls import services as controls
from controls.models import Control, ControlStatus
from tests.compliance.test_snapshots import backdate_world
from tests.conftest import World
from tests.controls.test_readiness_as_of import (
    EveryBlocker,
    Story,
    _backdate,
    _grow,
)
from tests.controls.test_readiness_as_of import every_blocker as every_blocker  # the fixture
from tests.controls.test_readiness_as_of import story as story  # the fixture

pytestmark = pytest.mark.django_db

WEEKS = range(9)  # the story's weeks 0..8, all ended


def snapshot_story(s: Story) -> None:
    snapshots_create(organization=s.world.org, weeks=[s.day(w, 0) for w in WEEKS])


def changes_of(s: Story, week: int, *, persona: str = "viewer") -> object:
    org = s.world.org
    return week_changes(
        organization=org,
        user=s.world.users[persona],
        adoptions=adoptions_of(org),
        week=s.day(week, 0),
        current=False,
    )


def titles(listed: object) -> set[str]:
    return {row.title for row in listed.rows}  # type: ignore[attr-defined]


def ready_ids(s: Story, week: int) -> set[int]:
    result = s.as_of(s.end(week))
    mapped = {c.id for f in result.frameworks for r in f.requirements for c in r.controls}
    return {pk for pk in mapped if result.controls[pk].ready}


def test_each_weeks_newly_ready_and_regressed_controls_are_those_of_readiness_as_of(
    story: Story,
) -> None:
    snapshot_story(story)
    names = {
        c.pk: f"{c.ref_id} {c.name}" for c in Control.objects.filter(organization=story.world.org)
    }
    seen_ready = seen_regressed = 0
    for week in WEEKS[1:]:
        before, after = ready_ids(story, week - 1), ready_ids(story, week)
        changes = changes_of(story, week)
        assert changes.known, changes.why_unknown
        assert titles(changes.newly_ready) == {names[pk] for pk in after - before}, week
        assert titles(changes.regressed) == {names[pk] for pk in before - after}, week
        seen_ready += len(after - before)
        seen_regressed += len(before - after)
    assert seen_ready and seen_regressed  # the story has both


def test_the_weeks_events_are_listed_in_the_week_they_happened(story: Story) -> None:
    snapshot_story(story)

    # Evidence accepted on Wednesday of week 1; the policy approved on Sunday of week 2 at
    # 23:30 (that week, not the next); the push test failed on Monday of week 2.
    week1, week2, week3 = (changes_of(story, w) for w in (1, 2, 3))
    item = story.objects["item"]
    assert item.title in titles(week1.evidence_accepted)
    # What Attest records itself (each test run's result) is not listed as evidence accepted.
    from evidence.models import EvidenceItem

    system = set(
        EvidenceItem.objects.filter(organization=story.world.org)
        .exclude(system_key="")
        .values_list("title", flat=True)
    )
    assert system, "the story's test runs record evidence"
    for week in WEEKS[1:]:
        assert not titles(changes_of(story, week).evidence_accepted) & system
    assert "Access Control Policy" in titles(week2.policies_approved)
    assert "Access Control Policy" not in titles(week3.policies_approved)
    assert titles(week2.tests_newly_failing) == {"CI scan"}
    assert titles(week3.tests_newly_failing) == set()  # it passed again
    [row] = week2.tests_newly_failing.rows
    assert row.url.endswith(f"/tests/{story.objects['test'].pk}/")
    assert row.detail.startswith("TST-01")


def test_a_regression_says_why_in_words(story: Story) -> None:
    snapshot_story(story)
    for week in WEEKS[1:]:
        for row in changes_of(story, week).regressed.rows:
            assert row.detail and "_" not in row.detail, row  # labels, never raw keys


def test_the_week_in_progress_compares_the_last_snapshot_with_now(world: World) -> None:
    org = world.org
    backdate_world(world, 3)
    controls.control_update(
        actor=world.users["admin"],
        control=world.unowned_control,
        changes={"status": ControlStatus.NOT_APPLICABLE, "na_justification": "No changes here."},
    )
    from compliance.snapshots import latest_due_week, weeks_to_fill

    later = timezone.now() + dt.timedelta(weeks=1)
    last = latest_due_week(org, later)
    snapshots_create(organization=org, weeks=weeks_to_fill(org, latest=last), now=later)
    # Snapshots of weeks that end after "now" were taken as of their end, so for the test the
    # week in progress is the one after the newest snapshot.
    controls.control_update(
        actor=world.users["admin"],
        control=world.unowned_control,
        changes={"status": ControlStatus.IN_PROGRESS},
    )

    changes = week_changes(
        organization=org,
        user=world.users["viewer"],
        adoptions=adoptions_of(org),
        week=last + dt.timedelta(weeks=1),
        current=True,
    )

    assert changes.known and changes.until is None and changes.since_week == last
    [row] = changes.regressed.rows
    assert row.title == "CHG-01 Changes are reviewed"
    assert row.detail == "status in progress"


def test_without_an_earlier_snapshot_or_states_the_page_says_so(story: Story) -> None:
    assert not changes_of(story, 3).known  # no snapshot at all
    assert "no snapshot" in changes_of(story, 3).why_unknown

    snapshot_story(story)
    assert "no earlier weekly snapshot" in changes_of(story, 0).why_unknown

    ReadinessSnapshot.objects.filter(week=story.day(2, 0)).update(control_states={})
    assert "previous snapshot was taken before" in changes_of(story, 3).why_unknown
    assert "snapshot was taken before" in changes_of(story, 2).why_unknown
    # The events of the window are still listed.
    assert "Access Control Policy" in titles(changes_of(story, 2).policies_approved)


def test_lists_are_capped_and_count_everything(every_blocker: EveryBlocker) -> None:
    world = every_blocker.world
    org = world.org
    week_ago = timezone.now() - dt.timedelta(days=14)
    _grow(world, LIMIT + 3)
    _backdate(world, week_ago)
    from compliance.snapshots import week_monday

    this = week_monday(timezone.localdate())
    snapshots_create(organization=org, weeks=[this - dt.timedelta(weeks=2)], now=timezone.now())
    changes = week_changes(
        organization=org,
        user=world.users["admin"],
        adoptions=adoptions_of(org),
        week=this,
        current=True,
    )
    assert changes.evidence_accepted.count >= LIMIT + 3
    assert len(changes.evidence_accepted.rows) == LIMIT
    assert changes.evidence_accepted.more == changes.evidence_accepted.count - LIMIT
    assert changes.newly_ready.count >= LIMIT + 3 and len(changes.newly_ready.rows) == LIMIT


def _queries(world: World, week: dt.date, current: bool) -> int:
    with CaptureQueriesContext(connection) as captured:
        week_changes(
            organization=world.org,
            user=world.users["admin"],
            adoptions=adoptions_of(world.org),
            week=week,
            current=current,
        )
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_organization(
    every_blocker: EveryBlocker,
) -> None:
    from compliance.snapshots import week_monday

    world = every_blocker.world
    this = week_monday(timezone.localdate())
    past = this - dt.timedelta(weeks=1)
    later = timezone.now() + dt.timedelta(weeks=2)

    def measure(grow_from: int, count: int) -> tuple[int, int]:
        # Everything made now belongs to this week: its snapshot (taken as if it had ended)
        # against last week's has every kind of change; the week after, in progress, none.
        _grow(world, count, first=grow_from)
        _backdate(world, timezone.now() - dt.timedelta(weeks=4))
        ReadinessSnapshot.objects.all().delete()
        snapshots_create(organization=world.org, weeks=[past, this], now=later)
        listed = week_changes(
            organization=world.org,
            user=world.users["admin"],
            adoptions=adoptions_of(world.org),
            week=this,
            current=False,
        )
        assert listed.newly_ready.count
        assert listed.evidence_accepted.count >= count and listed.policies_approved.count >= count
        return _queries(world, this, False), _queries(world, this + dt.timedelta(weeks=1), True)

    small = measure(0, 2)
    large = measure(2, 14)
    assert small == large
    assert max(large) <= 16


def test_the_weekly_page_shows_a_past_weeks_changes_with_links(story: Story) -> None:
    snapshot_story(story)
    week = story.day(2, 0).isocalendar()
    url = f"/o/{story.world.org.slug}/weekly/?week={week.year}-W{week.week:02d}"

    page = story.world.client("viewer").get(url).content.decode()

    assert 'data-testid="weekly-changes"' in page
    assert 'data-testid="changes-policies_approved"' in page
    assert "Access Control Policy" in page and "CI scan" in page
    assert f"/tests/{story.objects['test'].pk}/" in page
    assert "Against week" in page


def test_auditors_do_not_reach_the_changes(story: Story) -> None:
    snapshot_story(story)
    response = story.world.client("auditor").get(f"/o/{story.world.org.slug}/weekly/")
    assert response.status_code in (403, 404)
    assert b"Access Control Policy" not in response.content
