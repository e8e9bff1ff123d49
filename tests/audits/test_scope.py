"""What an engagement lets its auditors see, at the boundaries (issue 12, item 3): evidence
effective on the first and last day and a day outside, Type I against Type II, the scope's
categories, test runs by the organization's local day, policy versions in force, people, and
the same through the choke point that every view and endpoint uses."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from audits import selectors, services
from audits.models import Audit, AuditType
from compliance.permissions import restrict
from controls.models import ControlTest, RunStatus, TestRun, Trigger
from controls.monitoring.services import control_test_create
from evidence.models import EvidenceItem
from people.models import Person
from tests.audits.conftest import PERIOD
from tests.conftest import World
from tests.factories import ControlFactory, map_control

pytestmark = pytest.mark.django_db


def visible_titles(world: World, audit: Audit) -> set[str]:
    auditor = world.users["auditor"]
    return set(selectors.evidence(user=auditor, audit=audit).values_list("title", flat=True))


def test_type_2_evidence_from_the_first_to_the_last_day_of_the_period(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    first, last = PERIOD
    for day in (first - dt.timedelta(days=1), first, last, last + dt.timedelta(days=1)):
        make_evidence(day, title=f"on {day}")
    assert visible_titles(world, engagement) == {f"on {first}", f"on {last}"}
    # The choke point says the same to every view and endpoint.
    through_choke_point = restrict(EvidenceItem.objects.all(), world.users["auditor"])
    assert set(through_choke_point.values_list("title", flat=True)) == {f"on {first}", f"on {last}"}
    # The organization's own readers see everything, the engagement's pages the window.
    assert restrict(EvidenceItem.objects.all(), world.users["viewer"]).count() == 4
    assert set(
        selectors.evidence(user=world.users["viewer"], audit=engagement).values_list(
            "title", flat=True
        )
    ) == {f"on {first}", f"on {last}"}


def test_evidence_covering_part_of_the_period_counts(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    make_evidence(
        dt.date(2026, 8, 1),
        title="access review Q2",
        covers_from=dt.date(2026, 4, 1),
        covers_until=dt.date(2026, 6, 30),
    )
    make_evidence(
        dt.date(2026, 8, 2),
        title="access review Q3",
        covers_from=dt.date(2026, 7, 1),
        covers_until=dt.date(2026, 9, 30),
    )
    assert visible_titles(world, engagement) == {"access review Q2"}


def test_type_1_evidence_current_on_the_date(
    world: World, make_audit: Callable[..., Audit], make_evidence: Callable[..., EvidenceItem]
) -> None:
    as_of = dt.date(2026, 6, 30)
    audit = make_audit(kind=AuditType.TYPE_1, as_of=as_of)
    services.auditor_invite(actor=world.users["admin"], audit=audit, email="auditor@acme.test")
    oldest = as_of - dt.timedelta(days=394)  # 13 months: the longest freshness, annual + grace
    for day in (oldest - dt.timedelta(days=1), oldest, as_of, as_of + dt.timedelta(days=1)):
        make_evidence(day, title=f"on {day}")
    assert visible_titles(world, audit) == {f"on {oldest}", f"on {as_of}"}


def test_controls_and_evidence_outside_the_scope_are_not_shown(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    availability = ControlFactory(organization=world.org, ref_id="AV-01", name="Backups tested")
    map_control(availability, world.req_optional)  # a category the engagement does not cover
    make_evidence(dt.date(2026, 3, 1), control=availability, title="backup test")
    make_evidence(dt.date(2026, 3, 1), title="mfa report")
    auditor = world.users["auditor"]
    assert visible_titles(world, engagement) == {"mfa report"}
    refs = set(selectors.controls(user=auditor, audit=engagement).values_list("ref_id", flat=True))
    assert refs == {"IAM-01", "CHG-01"}
    # The other organization's control of the same reference is never there.
    assert (
        selectors.controls(user=auditor, audit=engagement)
        .filter(organization=world.other_org)
        .count()
        == 0
    )


def test_a_second_engagement_not_shared_is_not_found(
    world: World, engagement: Audit, make_audit: Callable[..., Audit]
) -> None:
    private = make_audit(name="Internal readiness review")
    client = world.client("auditor")
    for name in ("audit_detail", "audit_evidence", "audit_controls", "audit_tests"):
        assert client.get(reverse(name, args=["acme", private.pk])).status_code == 404
        assert client.get(reverse(name, args=["acme", engagement.pk])).status_code == 200


@pytest.fixture
def check(world: World) -> ControlTest:
    return control_test_create(
        actor=world.users["admin"],
        control=world.control,
        name="Background checks",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "background_check"},
    )


def finished_at(test: ControlTest, at: dt.datetime, status: str = RunStatus.PASSED) -> TestRun:
    return TestRun.objects.create(
        control_test=test,
        organization=test.organization,
        trigger=Trigger.SCHEDULE,
        status=status,
        started_at=at,
        finished_at=at,
    )


def test_test_runs_by_the_organizations_local_day(
    world: World, engagement: Audit, check: ControlTest
) -> None:
    new_york = zoneinfo.ZoneInfo("America/New_York")
    world.org.time_zone = "America/New_York"
    world.org.save(update_fields=["time_zone"])
    engagement.refresh_from_db()
    local = dt.datetime.combine
    inside_first = finished_at(check, local(PERIOD[0], dt.time(0, 5), new_york))
    before = finished_at(
        check, local(PERIOD[0], dt.time(0, 5), new_york) - dt.timedelta(minutes=10)
    )
    # 23:30 in New York on the last day is already the next day in UTC: still in the period.
    inside_last = finished_at(check, local(PERIOD[1], dt.time(23, 30), new_york))
    after = finished_at(check, local(PERIOD[1], dt.time(23, 30), new_york) + dt.timedelta(hours=1))
    runs = set(selectors.test_runs(user=world.users["auditor"], audit=engagement))
    assert runs == {inside_first, inside_last}
    assert before not in runs and after not in runs


def test_policy_versions_in_force_and_people_employed_in_the_period(
    world: World, engagement: Audit
) -> None:
    from policies.models import Policy, PolicyVersion

    policy = Policy.objects.create(
        organization=world.org, title="Access control", category="security"
    )

    def version(number: int, effective: dt.date, retired: dt.datetime | None = None) -> Any:
        return PolicyVersion.objects.create(
            policy=policy,
            number=number,
            body="…",
            status="retired" if retired else "approved",
            effective_date=effective,
            approved_at=dt.datetime.combine(effective, dt.time(9), tzinfo=dt.UTC),
            retired_at=retired,
        )

    old = version(1, dt.date(2025, 1, 1), retired=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    spanning = version(2, dt.date(2025, 12, 1), retired=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    current = version(3, dt.date(2026, 3, 1), retired=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    later = version(4, dt.date(2026, 8, 1))
    shown = set(selectors.policy_versions(user=world.users["auditor"], audit=engagement))
    assert shown == {spanning, current}
    assert old not in shown and later not in shown

    def person(name: str, start: dt.date, end: dt.date | None = None) -> Person:
        return Person.objects.create(
            organization=world.org, full_name=name, email=f"{name}@acme.test",
            employment_type="employee", start_date=start, end_date=end,
        )  # fmt: skip

    left_before = person("left", dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    left_during = person("during", dt.date(2024, 1, 1), dt.date(2026, 1, 1))
    joined_last_day = person("joined", dt.date(2026, 6, 30))
    joined_after = person("after", dt.date(2026, 7, 1))
    people = set(selectors.people(user=world.users["auditor"], audit=engagement))
    assert people == {left_during, joined_last_day}
    assert left_before not in people and joined_after not in people
