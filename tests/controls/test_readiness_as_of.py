"""Readiness as of a past moment (compliance.readiness.readiness_as_of), from the recorded history.

Facts are made through the services, then their recorded times are set to a story (as the demo
does when it writes backdated history): a control implemented on a Monday, evidence accepted on
the Wednesday that goes stale weeks later, a policy approved at 23:30 on a Sunday, a test that
fails and then passes, a person overdue until their check is recorded. The figure is asserted as
of several instants, at week boundaries (Sunday 23:59 and Monday 00:00 local) in two time zones
on opposite sides of UTC. As of now, it equals the stored state.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.readiness import (
    READY_CONTROL_STATUSES,
    ReadinessAsOf,
    RequirementState,
    _blocker_json,
    not_ready_stored,
    organization_readiness,
    readiness_as_of,
    stored_organization_readiness,
)
from controls import services as controls
from controls.checks import Resource
from controls.models import (
    AdoptedFramework,
    Control,
    ControlFrequencyChange,
    ControlReadiness,
    ControlRequirement,
    ControlStatus,
    ControlStatusChange,
    ControlTest,
    Finding,
    RequirementReadiness,
    TestException,
    TestRun,
)
from controls.monitoring import services as monitoring
from controls.monitoring.retention import run_results_summarise
from evidence import services as evidence
from evidence.models import (
    EvidenceItem,
    EvidenceRevision,
    OccurrenceStatusChange,
    RequestOccurrence,
    ReviewStatus,
    RevisionReview,
)
from people import services as people
from people.models import Person, PersonnelRequirement, RequirementKind
from policies import services as policies
from policies.models import Policy, PolicyVersion
from tests.conftest import World
from tests.evidence.conftest import add_evidence, pdf_upload
from tests.factories import recompute
from tests.policies.factories import approve, first_version, make_policy

pytestmark = pytest.mark.django_db

ZONES = ["Pacific/Auckland", "America/Los_Angeles"]


def reasons(result: ReadinessAsOf, control: Control) -> list[str]:
    return [b.reason for b in result.controls[control.pk].blockers]


def stamp(queryset: Any, **values: Any) -> None:
    """Set recorded times (what a backdated history writes); the rows must exist."""
    assert queryset.update(**values), f"nothing to stamp in {queryset.model.__name__}"


# --- As of now: the stored state ----------------------------------------------------------------


def assert_as_of_now_equals_stored(organization: Any) -> ReadinessAsOf:
    result = readiness_as_of(organization=organization, at=timezone.now())
    stored = {
        row.control_id: (row.ready, row.blockers)
        for row in ControlReadiness.objects.filter(organization=organization)
    }
    assert {
        pk: (control.ready, _blocker_json(control.blockers))
        for pk, control in result.controls.items()
    } == stored
    states = {
        row.requirement_id: (row.state, row.controls_total, row.controls_ready)
        for row in RequirementReadiness.objects.filter(organization=organization)
    }
    for framework in result.frameworks:
        for requirement in framework.requirements:
            ready = sum(1 for c in requirement.controls if c.is_ready)
            assert states[requirement.requirement.pk] == (
                requirement.state.value,
                len(requirement.controls),
                ready,
            )
    # The same figures as the definition computed from the current rows, and as the pages read.
    assert result.frameworks == organization_readiness(organization=organization)
    assert [(f.framework.pk, f.total, f.ready, f.not_ready, f.gaps) for f in result.frameworks] == [
        (f.framework.pk, f.total, f.ready, f.not_ready, f.gaps)
        for f in stored_organization_readiness(organization=organization)
    ]
    # The owners' counts, as the dashboard counts them from the stored rows.
    today = result.on
    dashboard = {
        row["owner_id"]: (row["total"], row["open"], row["overdue"])
        for row in Control.objects.filter(
            organization=organization, archived_at__isnull=True, owner__isnull=False
        )
        .values("owner_id")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=not_ready_stored()),
            overdue=Count(
                "pk",
                filter=Q(target_date__lt=today) & ~Q(status__in=READY_CONTROL_STATUSES),
            ),
        )
        .order_by()
    }
    assert {o.owner_id: (o.total, o.open, o.overdue) for o in result.owners} == dashboard
    return result


@dataclass
class EveryBlocker:
    world: World
    controls: dict[str, Control]


def _implemented(
    world: World, ref: str, *, frequency: str = "event_driven", owner: Any = None
) -> Control:
    return controls.control_create(
        actor=world.users["admin"],
        organization=world.org,
        ref_id=ref,
        name=f"Control {ref}",
        category="access",
        frequency=frequency,
        status=ControlStatus.IMPLEMENTED,
        owner=owner,
        requirements=[world.req_gap],
    )


@pytest.fixture
def every_blocker(world: World) -> EveryBlocker:
    """One implemented control per kind of blocker (and some that are ready), all made through
    the services: the stored state is current."""
    admin, owner = world.users["admin"], world.users["owner"]
    org = world.org
    today = evidence.organization_today(org)
    made: dict[str, Control] = {}

    made["missing"] = _implemented(world, "EV-MISSING", frequency="quarterly", owner=owner)
    made["stale"] = _implemented(world, "EV-STALE", frequency="monthly", owner=owner)
    add_evidence(world, made["stale"], effective=today - dt.timedelta(days=90), accept=True)
    made["fresh"] = _implemented(world, "EV-FRESH", frequency="monthly", owner=admin)
    add_evidence(world, made["fresh"], effective=today - dt.timedelta(days=3), accept=True)
    made["pending"] = _implemented(world, "EV-PENDING", frequency="monthly")
    add_evidence(world, made["pending"], effective=today)

    made["request"] = _implemented(world, "REQ-OVERDUE", owner=owner)
    request = evidence.request_create(
        actor=admin,
        organization=org,
        title="Quarterly access review",
        cadence="one_off",
        first_due_date=today - dt.timedelta(days=20),
        controls=[made["request"]],
    )
    evidence.request_schedule(request)
    evidence.occurrences_mark_overdue(org)

    made["unapproved"] = _implemented(world, "POL-DRAFT")
    make_policy(world, title="Draft policy", controls=(made["unapproved"],))
    made["review"] = _implemented(world, "POL-REVIEW")
    old = make_policy(world, title="Old policy", controls=(made["review"],), review_months=12)
    approve(world, first_version(old), effective=today - dt.timedelta(days=800))

    people.people_requirements_ensure(organization=org)
    kinds = {
        "background": RequirementKind.BACKGROUND_CHECK,
        "offboarding": RequirementKind.OFFBOARDING,
        "acks": RequirementKind.POLICY_ACKNOWLEDGEMENTS,
    }
    for key, kind in kinds.items():
        made[key] = _implemented(world, f"HR-{key.upper()[:8]}")
        people.requirement_update(
            actor=admin,
            requirement=PersonnelRequirement.objects.get(organization=org, kind=kind),
            changes={"control": made[key]},
        )
    people.person_create(
        actor=admin,
        organization=org,
        full_name="New Starter",
        email="new@acme.test",
        start_date=today - dt.timedelta(days=50),
    )
    people.person_create(
        actor=admin,
        organization=org,
        full_name="Left Recently",
        email="left@acme.test",
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=5),
    )
    handbook = make_policy(world, title="Handbook")
    version = approve(world, first_version(handbook), effective=today - dt.timedelta(days=60))
    policies.policy_send_for_acknowledgement(
        actor=admin,
        version=version,
        notify=False,
        now=timezone.now() - dt.timedelta(days=45),
    )

    made["never_ran"] = _implemented(world, "TST-NEVER")
    monitoring.control_test_create(
        actor=admin,
        control=made["never_ran"],
        name="Scheduled scan",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "mfa"},
    )
    pushed = {}
    for key in ("error", "failing", "excepted", "passing", "deadline"):
        made[key] = _implemented(world, f"TST-{key.upper()[:8]}")
        pushed[key] = monitoring.control_test_create(
            actor=admin,
            control=made[key],
            name=f"CI {key}",
            check_key="custom.push",
            parameters={},
            schedule_kind="push",
            interval_minutes=None,
            readiness_rule="deadline" if key == "deadline" else "strict",
        )
    monitoring.push_results(test=pushed["error"], resources=[], error="Token expired")
    for key in ("failing", "excepted", "deadline"):
        monitoring.push_results(
            test=pushed[key], resources=[Resource.failed("repo-1"), Resource.passed("repo-2")]
        )
    monitoring.exception_create(
        actor=admin,
        test=pushed["excepted"],
        resource_id="repo-1",
        reason="Archived repository",
        expires_on=today + dt.timedelta(days=30),
    )
    monitoring.push_results(test=pushed["passing"], resources=[Resource.passed("repo-1")])

    made["not_applicable"] = controls.control_create(
        actor=admin,
        organization=org,
        ref_id="NA-01",
        name="Not applicable",
        category="access",
        frequency="event_driven",
        status=ControlStatus.NOT_APPLICABLE,
        na_justification="No offices.",
        requirements=[world.req_b],
    )
    made["archived"] = _implemented(world, "OLD-01")
    controls.control_archive(actor=admin, control=made["archived"])
    controls.control_update(
        actor=admin, control=world.control, changes={"target_date": today - dt.timedelta(days=1)}
    )
    recompute(org)
    return EveryBlocker(world=world, controls=made)


def test_as_of_now_equals_the_stored_state_with_every_kind_of_blocker(
    every_blocker: EveryBlocker,
) -> None:
    result = assert_as_of_now_equals_stored(every_blocker.world.org)
    made = every_blocker.controls
    # The world holds every kind: the comparison above is not vacuous.
    expected = {
        "missing": "No accepted evidence yet.",
        "stale": "Evidence went stale on",
        "pending": "No accepted evidence yet.",
        "request": "“Quarterly access review” was due",
        "unapproved": "Policy “Draft policy” has no approved version.",
        "review": "Policy “Old policy” was due for review on",
        "background": "1 person is overdue for “Background check”.",
        "offboarding": "1 person who left still has access",
        "acks": "overdue for “Policy acknowledgements”.",
        "never_ran": "Automated test “Scheduled scan” has not run yet.",
        "error": "Automated test “CI error” could not run: Token expired",
        "failing": "Automated test “CI failing” fails on 1 resource.",
    }
    for key, start in expected.items():
        found = reasons(result, made[key])
        assert any(start in reason for reason in found), (key, found)
    for key in ("fresh", "excepted", "passing", "deadline", "not_applicable"):
        assert result.controls[made[key].pk].ready, key
    assert made["archived"].pk not in result.controls
    owners = {o.owner_id: o for o in result.owners}
    owner = owners[every_blocker.world.users["owner"].pk]
    assert (owner.total, owner.open, owner.overdue) == (4, 4, 1)


def test_as_of_a_moment_needs_an_aware_datetime(world: World) -> None:
    with pytest.raises(ValueError, match="aware"):
        readiness_as_of(organization=world.org, at=dt.datetime(2026, 1, 1, 12))


def test_as_of_now_equals_the_stored_state_of_the_demo(db: None) -> None:
    from compliance import demo

    organization = demo.seed_demo()
    result = assert_as_of_now_equals_stored(organization)
    assert result.frameworks and any(not c.ready for c in result.controls.values())


# --- A recorded story ---------------------------------------------------------------------------


@dataclass
class Story:
    """Weeks counted from a Monday nine weeks back, in the organization's time zone."""

    world: World
    zone: zoneinfo.ZoneInfo
    monday: dt.date
    controls: dict[str, Control]
    objects: dict[str, Any]

    def day(self, week: int, weekday: int) -> dt.date:
        return self.monday + dt.timedelta(weeks=week, days=weekday)

    def t(self, week: int, weekday: int, hour: int = 12, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.day(week, weekday), dt.time(hour, minute), self.zone)

    def end(self, week: int) -> dt.datetime:
        """Sunday 23:59:59.999999, local: the end of the week."""
        return dt.datetime.combine(self.day(week, 6), dt.time.max, self.zone)

    def start(self, week: int) -> dt.datetime:
        """Monday 00:00, local."""
        return dt.datetime.combine(self.day(week, 0), dt.time.min, self.zone)

    def as_of(self, at: dt.datetime) -> ReadinessAsOf:
        return readiness_as_of(organization=self.world.org, at=at)

    def reasons(self, at: dt.datetime, key: str) -> list[str]:
        return reasons(self.as_of(at), self.controls[key])


def _story_control(s: Story, key: str, ref: str, *, frequency: str, requirement: Any) -> Control:
    """Created (not started) on Monday of week 0 at 09:00 and implemented on Monday of week 1
    at 10:00."""
    admin = s.world.users["admin"]
    control = controls.control_create(
        actor=admin,
        organization=s.world.org,
        ref_id=ref,
        name=ref,
        category="access",
        frequency=frequency,
        owner=s.world.users["owner"],
        requirements=[requirement],
    )
    stamp(Control.objects.filter(pk=control.pk), created_at=s.t(0, 0, 9))
    stamp(ControlStatusChange.objects.filter(control=control), created_at=s.t(0, 0, 9))
    stamp(ControlRequirement.objects.filter(control=control), created_at=s.t(0, 0, 9))
    controls.control_update(
        actor=admin, control=control, changes={"status": ControlStatus.IMPLEMENTED}
    )
    stamp(
        ControlStatusChange.objects.filter(control=control, to_status="implemented"),
        created_at=s.t(1, 0, 10),
    )
    s.controls[key] = control
    return control


def _build_story(world: World, zone_name: str) -> Story:
    org = world.org
    org.time_zone = zone_name
    org.save(update_fields=["time_zone"])
    zone = zoneinfo.ZoneInfo(zone_name)
    today = timezone.now().astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday(), weeks=9)
    s = Story(world=world, zone=zone, monday=monday, controls={}, objects={})
    admin = world.users["admin"]
    # The world's own rows: adopted and created before the story starts.
    stamp(AdoptedFramework.objects.filter(organization=org), adopted_at=s.t(0, 0, 8))
    stamp(Control.objects.filter(organization=org), created_at=s.t(0, 0, 8))
    stamp(ControlRequirement.objects.filter(control__organization=org), created_at=s.t(0, 0, 8))

    # Evidence: monthly, effective Tuesday of week 1, uploaded then, accepted Wednesday 14:00.
    control = _story_control(s, "evidence", "EV-01", frequency="monthly", requirement=world.req_gap)
    item = add_evidence(world, control, effective=s.day(1, 1))
    revision = item.revisions.get()
    stamp(EvidenceItem.objects.filter(pk=item.pk), created_at=s.t(1, 1, 9))
    stamp(EvidenceRevision.objects.filter(pk=revision.pk), uploaded_at=s.t(1, 1, 9))
    evidence.revision_review(actor=admin, revision=revision, decision=ReviewStatus.ACCEPTED)
    stamp(EvidenceRevision.objects.filter(pk=revision.pk), reviewed_at=s.t(1, 2, 14))
    stamp(RevisionReview.objects.filter(revision=revision), created_at=s.t(1, 2, 14))
    # Its frequency became quarterly on Monday of week 7, 09:00.
    controls.control_update(actor=admin, control=control, changes={"frequency": "quarterly"})
    stamp(ControlFrequencyChange.objects.filter(control=control), created_at=s.t(7, 0, 9))
    s.objects["item"] = item

    # A policy approved on Sunday of week 2 at 23:30, effective that day.
    control = _story_control(
        s, "policy", "POL-01", frequency="event_driven", requirement=world.req_b
    )
    policy = make_policy(world, title="Access Control Policy", controls=(control,))
    stamp(Policy.objects.filter(pk=policy.pk), created_at=s.t(0, 0, 9))
    version = approve(world, first_version(policy), effective=s.day(2, 6))
    stamp(PolicyVersion.objects.filter(pk=version.pk), approved_at=s.t(2, 6, 23, 30))

    # An evidence request due on Sunday of week 3, opened on its Monday, delivered on Tuesday of
    # week 4 at 10:00.
    control = _story_control(
        s, "request", "REQ-01", frequency="event_driven", requirement=world.req_b
    )
    request = evidence.request_create(
        actor=admin,
        organization=org,
        title="Access review",
        cadence="one_off",
        first_due_date=s.day(3, 6),
        controls=[control],
    )
    [occurrence] = evidence.request_schedule(request)
    stamp(RequestOccurrence.objects.filter(pk=occurrence.pk), created_at=s.t(3, 0, 9))
    stamp(OccurrenceStatusChange.objects.filter(occurrence=occurrence), created_at=s.t(3, 0, 9))
    evidence.evidence_create(
        actor=world.users["owner"],
        organization=org,
        title="Access review, Q3",
        kind="file",
        effective_date=s.day(4, 1),
        occurrence=occurrence,
        upload=pdf_upload(),
    )
    stamp(
        OccurrenceStatusChange.objects.filter(occurrence=occurrence, to_status="submitted"),
        created_at=s.t(4, 1, 10),
    )

    # A pushed test created in week 0: failing on Monday of week 2 at 08:00, passing on Monday of
    # week 3 at 08:00; an exception for the failing resource granted on Wednesday of week 2,
    # until Thursday of week 2.
    control = _story_control(s, "test", "TST-01", frequency="event_driven", requirement=world.req_a)
    test = monitoring.control_test_create(
        actor=admin,
        control=control,
        name="CI scan",
        check_key="custom.push",
        parameters={},
        schedule_kind="push",
        interval_minutes=None,
    )
    stamp(ControlTest.objects.filter(pk=test.pk), created_at=s.t(0, 0, 9))
    failing = monitoring.push_results(test=test, resources=[Resource.failed("repo-1")])
    stamp(TestRun.objects.filter(pk=failing.pk), queued_at=s.t(2, 0, 8), finished_at=s.t(2, 0, 8))
    stamp(Finding.objects.filter(control_test=test), opened_at=s.t(2, 0, 8))
    exception = monitoring.exception_create(
        actor=admin,
        test=test,
        resource_id="repo-1",
        reason="Being archived",
        expires_on=evidence.organization_today(org) + dt.timedelta(days=1),
    )
    stamp(
        TestException.objects.filter(pk=exception.pk),
        created_at=s.t(2, 2, 9),
        expires_on=s.day(2, 3),
    )
    passing = monitoring.push_results(test=test, resources=[Resource.passed("repo-1")])
    stamp(TestRun.objects.filter(pk=passing.pk), queued_at=s.t(3, 0, 8), finished_at=s.t(3, 0, 8))
    stamp(Finding.objects.filter(control_test=test), resolved_at=s.t(3, 0, 8))
    s.objects["test"] = test

    # A background check linked to HR-01: a person starting on Monday of week 1 (due that
    # day), whose clear check is recorded as done on Wednesday of week 3.
    control = _story_control(
        s, "people", "HR-01", frequency="event_driven", requirement=world.req_a
    )
    people.people_requirements_ensure(organization=org)
    people.requirement_update(
        actor=admin,
        requirement=PersonnelRequirement.objects.get(
            organization=org, kind=RequirementKind.BACKGROUND_CHECK
        ),
        changes={"control": control},
    )
    person = people.person_create(
        actor=admin,
        organization=org,
        full_name="New Starter",
        email="new@acme.test",
        start_date=s.day(1, 0),
    )
    people.record_create(
        actor=admin,
        person=Person.objects.get(pk=person.pk),
        kind=RequirementKind.BACKGROUND_CHECK,
        completed_on=s.day(3, 2),
        provider="Checkr",
        result="clear",
    )
    return s


@pytest.fixture(params=ZONES)
def story(request: pytest.FixtureRequest, world: World) -> Story:
    return _build_story(world, request.param)


def test_a_control_counts_from_its_creation_with_the_status_it_had_then(story: Story) -> None:
    before = story.as_of(story.t(0, 0, 8, 59))
    assert story.controls["evidence"].pk not in before.controls
    week0 = story.as_of(story.end(0))
    control = week0.controls[story.controls["evidence"].pk]
    assert (control.status, control.ready, control.blockers) == ("not_started", False, ())
    # Implemented on Monday of week 1 at 10:00, without accepted evidence yet.
    assert story.as_of(story.t(1, 0, 9, 59)).controls[control.id].status == "not_started"
    monday = story.as_of(story.t(1, 0, 10))
    assert monday.controls[control.id].status == "implemented"
    assert reasons(monday, story.controls["evidence"]) == ["No accepted evidence yet."]


def test_evidence_counts_from_its_review_and_goes_stale_on_the_local_date(story: Story) -> None:
    # Uploaded on Tuesday, accepted on Wednesday at 14:00.
    assert story.reasons(story.t(1, 2, 13, 59), "evidence") == ["No accepted evidence yet."]
    assert story.reasons(story.t(1, 2, 14), "evidence") == []
    assert story.as_of(story.end(1)).controls[story.controls["evidence"].pk].ready
    # Monthly: fresh until a month and a week after Tuesday of week 1, judged on the local date.
    from evidence.freshness import fresh_until

    until = fresh_until(story.day(1, 1), "monthly")
    assert until is not None
    last_day = dt.datetime.combine(until, dt.time(23, 59), story.zone)
    assert story.reasons(last_day, "evidence") == []
    [stale] = story.reasons(last_day + dt.timedelta(minutes=1), "evidence")
    assert stale.startswith("Evidence went stale on")
    # The frequency became quarterly on Monday of week 7: fresh again from then.
    assert story.reasons(story.t(7, 0, 8, 59), "evidence") == [stale]
    assert story.reasons(story.t(7, 0, 9), "evidence") == []


def test_a_revision_moves_the_effective_date_only_from_its_upload(story: Story) -> None:
    control = story.controls["evidence"]
    item = story.objects["item"]
    # Back to monthly, and a revision on Monday of week 8 dated that day: fresh from then only.
    controls.control_update(
        actor=story.world.users["admin"], control=control, changes={"frequency": "monthly"}
    )
    stamp(
        ControlFrequencyChange.objects.filter(control=control, to_frequency="monthly"),
        created_at=story.t(7, 0, 10),
    )
    revision = evidence.evidence_add_revision(
        actor=story.world.users["owner"],
        item=item,
        upload=pdf_upload(),
        effective_date=story.day(8, 0),
    )
    stamp(EvidenceRevision.objects.filter(pk=revision.pk), uploaded_at=story.t(8, 0, 11))
    assert EvidenceRevision.objects.get(pk=revision.pk).effective_date == story.day(8, 0)
    [stale] = story.reasons(story.end(7), "evidence")
    assert stale.startswith("Evidence went stale on")
    assert story.reasons(story.t(8, 0, 11), "evidence") == []


def test_a_policy_approved_at_23_30_on_sunday_counts_for_the_week_that_ends_that_night(
    story: Story,
) -> None:
    assert story.reasons(story.t(2, 6, 23, 29), "policy") == [
        "Policy “Access Control Policy” has no approved version."
    ]
    assert story.reasons(story.end(2), "policy") == []
    assert story.reasons(story.start(3), "policy") == []
    # Before week 2 the week-end figure has it blocked.
    assert story.reasons(story.end(1), "policy") != []


def test_a_request_is_overdue_from_the_local_day_after_its_due_date_until_delivered(
    story: Story,
) -> None:
    assert story.reasons(story.end(3), "request") == []
    [overdue] = story.reasons(story.start(4), "request")
    assert overdue.startswith("“Access review” was due") and overdue.endswith("is overdue.")
    assert story.reasons(story.t(4, 1, 9, 59), "request") == [overdue]
    assert story.reasons(story.t(4, 1, 10), "request") == []
    # Before the occurrence was opened, it did not exist.
    assert story.reasons(story.end(2), "request") == []


def test_a_test_fails_then_passes_and_an_exception_counts_while_in_force(story: Story) -> None:
    assert story.reasons(story.end(1), "test") == [
        "Automated test “CI scan” has no pushed results yet."
    ]
    failing = ["Automated test “CI scan” fails on 1 resource."]
    assert story.reasons(story.t(2, 0, 8), "test") == failing
    assert story.reasons(story.t(2, 1, 18), "test") == failing
    # Granted on Wednesday 09:00, until Thursday (inclusive, local).
    assert story.reasons(story.t(2, 2, 9), "test") == []
    assert story.reasons(story.t(2, 3, 23, 59), "test") == []
    assert story.reasons(story.t(2, 4, 0, 0), "test") == failing
    assert story.reasons(story.end(2), "test") == failing
    assert story.reasons(story.start(3), "test") == failing
    assert story.reasons(story.t(3, 0, 8), "test") == []


def test_a_past_run_whose_results_were_summarised_fails_on_its_open_findings(
    story: Story,
) -> None:
    before = story.reasons(story.end(2), "test")
    report = run_results_summarise(retention_days=0)
    assert report.runs >= 1
    assert TestRun.objects.filter(
        control_test=story.objects["test"], results_summarised_at__isnull=False
    ).exists()
    assert story.reasons(story.end(2), "test") == before != []


def test_a_person_is_overdue_from_their_start_until_their_check_is_done(story: Story) -> None:
    assert story.reasons(story.end(0), "people") == []
    overdue = ["1 person is overdue for “Background check”."]
    assert story.reasons(story.t(1, 1, 0, 0), "people") == overdue
    assert story.reasons(story.end(2), "people") == overdue
    assert story.reasons(story.t(3, 1, 23, 59), "people") == overdue
    assert story.reasons(story.t(3, 2, 0, 0), "people") == []


def test_the_figure_week_by_week(story: Story) -> None:
    """req_a: the world's IAM-01 (not started) and TST-01 and HR-01; req_b: CHG-01 (not
    started), POL-01 and REQ-01; req_gap: EV-01; the optional category is out of scope."""
    week0 = story.as_of(story.end(0))
    [framework] = week0.frameworks
    assert (framework.total, framework.ready, framework.not_ready, framework.gaps) == (3, 0, 3, 0)
    states = {r.requirement.ref_id: r.state for r in framework.requirements}
    assert states == {
        "SEC1.1": RequirementState.NOT_READY,
        "SEC1.2": RequirementState.NOT_READY,
        "SEC1.3": RequirementState.NOT_READY,
    }
    # EV-01 ready from week 1; req_a and req_b keep a control not started.
    week1 = story.as_of(story.end(1))
    [framework] = week1.frameworks
    assert framework.ready == 1
    assert [(c.category.code, c.total, c.ready) for c in framework.categories] == [("SEC", 3, 1)]
    owner = story.world.users["owner"].pk
    [owners] = [o for o in week1.owners if o.owner_id == owner]
    # The owner's: IAM-01 and the five story controls; open: IAM-01, POL-01, TST-01, HR-01.
    assert (owners.total, owners.open) == (6, 4)
    [in_framework] = [
        o for o in week1.framework_owners[framework.framework.pk] if o.owner_id == owner
    ]
    assert in_framework.total == 6


def test_what_was_not_there_yet_is_left_out(story: Story) -> None:
    org = story.world.org
    # A framework adopted later is not reported before its adoption.
    stamp(AdoptedFramework.objects.filter(organization=org), adopted_at=story.t(5, 0, 9))
    assert story.as_of(story.end(4)).frameworks == []
    assert len(story.as_of(story.end(5)).frameworks) == 1
    # A mapping created later: the requirement had no control before it.
    stamp(
        ControlRequirement.objects.filter(control=story.controls["evidence"]),
        created_at=story.t(6, 0, 9),
    )
    [framework] = story.as_of(story.end(5)).frameworks
    states = {r.requirement.ref_id: r.state for r in framework.requirements}
    assert states["SEC1.3"] == RequirementState.GAP
    # (On Sunday of week 6 its evidence was stale; the quarterly frequency freshened it.)
    [framework] = story.as_of(story.end(7)).frameworks
    assert {r.requirement.ref_id: r.state for r in framework.requirements}["SEC1.3"] == (
        RequirementState.READY
    )
    # A control archived on Monday of week 6 counts until then.
    control = story.controls["policy"]
    controls.control_archive(actor=story.world.users["admin"], control=control)
    stamp(Control.objects.filter(pk=control.pk), archived_at=story.t(6, 0, 9))
    assert control.pk in story.as_of(story.end(5)).controls
    assert control.pk not in story.as_of(story.end(6)).controls


# --- Cost ---------------------------------------------------------------------------------------


def _grow(world: World, count: int, first: int = 0) -> None:
    """``count`` more implemented controls with evidence, a request, a policy, a test run and a
    status history each."""
    admin = world.users["admin"]
    today = evidence.organization_today(world.org)
    for n in range(first, first + count):
        control = _implemented(world, f"GROW-{n:03d}", frequency="monthly", owner=admin)
        controls.control_update(actor=admin, control=control, changes={"frequency": "quarterly"})
        add_evidence(world, control, effective=today - dt.timedelta(days=n), accept=True)
        request = evidence.request_create(
            actor=admin,
            organization=world.org,
            title=f"Review {n}",
            cadence="one_off",
            first_due_date=today - dt.timedelta(days=3),
            controls=[control],
        )
        evidence.request_schedule(request)
        policy = make_policy(world, title=f"Policy {n}", controls=(control,))
        approve(world, first_version(policy))
        test = monitoring.control_test_create(
            actor=admin,
            control=control,
            name=f"CI {n}",
            check_key="custom.push",
            parameters={},
            schedule_kind="push",
            interval_minutes=None,
        )
        monitoring.push_results(test=test, resources=[Resource.failed(f"repo-{n}")])
        monitoring.push_results(test=test, resources=[Resource.passed(f"repo-{n}")])


def _backdate(world: World, at: dt.datetime) -> None:
    """Everything that decides what existed then: in place since ``at``."""
    org = world.org
    stamp(AdoptedFramework.objects.filter(organization=org), adopted_at=at)
    stamp(Control.objects.filter(organization=org), created_at=at)
    stamp(ControlRequirement.objects.filter(control__organization=org), created_at=at)
    stamp(ControlTest.objects.filter(organization=org), created_at=at)
    stamp(Policy.objects.filter(organization=org), created_at=at)


def _queries(world: World, at: dt.datetime) -> int:
    with CaptureQueriesContext(connection) as captured:
        readiness_as_of(organization=world.org, at=at)
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_organization(
    every_blocker: EveryBlocker,
) -> None:
    world = every_blocker.world
    week_ago = timezone.now() - dt.timedelta(days=7)
    _grow(world, 2)
    _backdate(world, week_ago - dt.timedelta(days=30))
    small = (_queries(world, timezone.now()), _queries(world, week_ago))
    _grow(world, 12, first=2)
    _backdate(world, week_ago - dt.timedelta(days=30))
    large = (_queries(world, timezone.now()), _queries(world, week_ago))
    assert small == large
    assert max(large) <= 25
