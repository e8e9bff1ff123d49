"""The stored readiness state equals a full recomputation after every kind of change, each made
through its service (the acceptance test of the stored engine), and the nightly run repairs and
reports drift, and marks what the date changed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.utils import timezone

from compliance.models import Organization
from compliance.readiness import (
    bulk_load,
    control_blockers,
    organization_local_date,
    organization_readiness,
    organizations_due_for_recomputation,
    recompute_readiness,
    stored_organization_readiness,
)
from controls import services as controls
from controls.models import (
    BlockerKind,
    Control,
    ControlReadiness,
    ControlRequirement,
    ControlStatus,
    ControlTest,
    ReadinessRecomputation,
    RequirementReadiness,
    TestRun,
)
from controls.monitoring import services as monitoring
from evidence import services as evidence
from evidence.freshness import fresh_until
from evidence.models import EvidenceItem, RequestOccurrence, ReviewStatus
from people import services as people
from people.models import Person, PersonnelRequirement, RequirementKind
from policies import services as policies
from policies.models import Policy, PolicyVersion, VersionStatus
from tests.conftest import World
from tests.evidence.conftest import add_evidence, pdf_upload
from tests.factories import CategoryFactory, FrameworkFactory, RequirementFactory, recompute
from tests.policies.factories import approve, first_version, make_policy

pytestmark = pytest.mark.django_db


def stored(world: World) -> dict[str, Any]:
    """Everything stored about the organization's readiness, comparable."""
    return {
        "controls": {
            row.control_id: (row.ready, row.blockers, row.blocker_kinds, row.evidence_due)
            for row in ControlReadiness.objects.filter(organization=world.org)
        },
        "requirements": {
            row.requirement_id: (row.state, row.controls_total, row.controls_ready)
            for row in RequirementReadiness.objects.filter(organization=world.org)
        },
    }


def tallies(results: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            r.framework.slug,
            r.total,
            r.ready,
            r.not_ready,
            r.gaps,
            [(c.category.code, c.total, c.ready, c.not_ready, c.gaps) for c in r.categories],
        )
        for r in results
    ]


def assert_stored_equals_recomputation(world: World) -> ReadinessRecomputation:
    before = stored(world)
    run = recompute_readiness(organization=world.org, trigger="test")
    assert (run.drifted, run.date_changed, run.drift_sample) == (0, 0, [])
    assert stored(world) == before
    # And the figures the pages read equal the definition computed from scratch.
    assert tallies(stored_organization_readiness(organization=world.org)) == tallies(
        organization_readiness(organization=world.org)
    )
    return run


@dataclass
class Scene:
    world: World
    admin: Any
    control: Control  # IAM-01: implemented, quarterly, accepted evidence today: ready


@pytest.fixture
def scene(world: World) -> Scene:
    admin = world.users["admin"]
    control = controls.control_update(
        actor=admin,
        control=world.control,
        changes={"status": ControlStatus.IMPLEMENTED, "frequency": "quarterly"},
    )
    add_evidence(world, control, accept=True)
    recompute(world.org, world.other_org)
    assert ControlReadiness.objects.get(control=control).ready
    return Scene(world=world, admin=admin, control=control)


def _overdue_request(s: Scene) -> RequestOccurrence:
    request = evidence.request_create(
        actor=s.admin,
        organization=s.world.org,
        title="Quarterly access review",
        cadence="quarterly",
        first_due_date=evidence.organization_today(s.world.org) + dt.timedelta(days=10),
        controls=[s.control],
    )
    [occurrence] = evidence.request_schedule(request)
    evidence.occurrences_mark_overdue(s.world.org, today=occurrence.due_date + dt.timedelta(days=1))
    return RequestOccurrence.objects.get(pk=occurrence.pk)


def _linked_people_requirement(s: Scene) -> PersonnelRequirement:
    people.people_requirements_ensure(organization=s.world.org)
    requirement = PersonnelRequirement.objects.get(
        organization=s.world.org, kind=RequirementKind.BACKGROUND_CHECK
    )
    return people.requirement_update(
        actor=s.admin, requirement=requirement, changes={"control": s.control}
    )


def _person(s: Scene, email: str = "new@acme.test") -> Any:
    return people.person_create(
        actor=s.admin,
        organization=s.world.org,
        full_name="New Starter",
        email=email,
        start_date=evidence.organization_today(s.world.org) - dt.timedelta(days=10),
    )


def _test(s: Scene) -> ControlTest:
    return monitoring.control_test_create(
        actor=s.admin,
        control=s.control,
        name="Background checks",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "background_check"},
    )


def _run(test: ControlTest) -> TestRun:
    from controls.models import Trigger
    from controls.monitoring import runner

    queued = TestRun.objects.create(
        control_test=test, organization=test.organization, trigger=Trigger.MANUAL
    )
    runner.execute_run(queued.pk, worker="pytest")
    queued.refresh_from_db()
    return queued


def _failing_test(s: Scene) -> ControlTest:
    _person(s)
    test = _test(s)
    assert _run(test).status == "failed"
    test.refresh_from_db()
    return test


def _granted_exception(s: Scene) -> Any:
    test = _failing_test(s)
    return monitoring.exception_create(
        actor=s.admin,
        test=test,
        resource_id=test.last_run.results.get().resource_id,  # type: ignore[union-attr]
        reason="Accepted",
        expires_on=evidence.organization_today(s.world.org) + dt.timedelta(days=30),
    )


def _failing_test_now_fixed(s: Scene) -> ControlTest:
    """A failing test (an open finding) whose resource is now fixed: its next run resolves it."""
    test = _failing_test(s)
    people.record_create(
        actor=s.admin,
        person=Person.objects.get(email="new@acme.test"),
        kind=RequirementKind.BACKGROUND_CHECK,
        completed_on=evidence.organization_today(s.world.org) - dt.timedelta(days=10),
        provider="Checkr",
        result="clear",
    )
    return test


def _pending_item(s: Scene) -> EvidenceItem:
    return evidence.evidence_create(
        actor=s.world.users["owner"],
        organization=s.world.org,
        title="Newer review",
        kind="file",
        effective_date=evidence.organization_today(s.world.org),
        controls=[s.control],
        upload=pdf_upload(),
    )


def _approved_policy(s: Scene) -> Policy:
    policy = make_policy(s.world, controls=(s.control,))
    approve(s.world, first_version(policy))
    return policy


def _second_framework(s: Scene) -> Any:
    framework = FrameworkFactory(slug="iso", short_name="ISO", name="ISO test")
    category = CategoryFactory(framework=framework, code="A5", name="Org", mandatory=True)
    RequirementFactory(category=category, ref_id="A.5.1", title="Policies")
    return framework


# Each case: (what to prepare, the change under test, whether the change moves the stored state).
Step = Callable[[Scene, Any], Any]
CASES: dict[str, tuple[Step, Step, bool]] = {
    # controls
    "control status": (
        lambda s, _: None,
        lambda s, _: controls.control_update(
            actor=s.admin, control=s.control, changes={"status": ControlStatus.IN_PROGRESS}
        ),
        True,
    ),
    "control frequency": (
        lambda s, _: controls.control_update(
            actor=s.admin, control=s.control, changes={"frequency": "monthly"}
        ),
        lambda s, _: controls.control_update(
            actor=s.admin, control=s.control, changes={"frequency": "event_driven"}
        ),
        False,
    ),
    "control archived": (
        lambda s, _: None,
        lambda s, _: controls.control_archive(actor=s.admin, control=s.control),
        True,
    ),
    "control restored": (
        lambda s, _: controls.control_archive(actor=s.admin, control=s.control),
        lambda s, _: controls.control_restore(actor=s.admin, control=s.control),
        True,
    ),
    "control mapped": (
        lambda s, _: None,
        lambda s, _: controls.control_map(
            actor=s.admin, control=s.control, requirement=s.world.req_gap
        ),
        True,
    ),
    "control unmapped": (
        lambda s, _: None,
        lambda s, _: controls.control_unmap(
            actor=s.admin,
            mapping=ControlRequirement.objects.get(control=s.control, requirement=s.world.req_a),
        ),
        True,
    ),
    "control mappings replaced": (
        lambda s, _: None,
        lambda s, _: controls.control_update(
            actor=s.admin, control=s.control, changes={"requirements": [s.world.req_gap]}
        ),
        True,
    ),
    "control created": (
        lambda s, _: None,
        lambda s, _: controls.control_create(
            actor=s.admin,
            organization=s.world.org,
            ref_id="NEW-01",
            name="New",
            category="access",
            frequency="event_driven",
            status=ControlStatus.IMPLEMENTED,
            requirements=[s.world.req_gap],
        ),
        True,
    ),
    # evidence
    "evidence linked (pending)": (
        lambda s, _: controls.control_update(
            actor=s.admin,
            control=s.world.unowned_control,
            changes={"status": "implemented", "frequency": "monthly"},
        ),
        lambda s, _: add_evidence(s.world, s.world.unowned_control),
        False,
    ),
    "evidence accepted": (
        lambda s, _: controls.control_update(
            actor=s.admin,
            control=s.world.unowned_control,
            changes={"status": "implemented", "frequency": "monthly"},
        ),
        lambda s, _: add_evidence(s.world, s.world.unowned_control, accept=True),
        True,
    ),
    "evidence rejected": (
        lambda s, _: _pending_item(s),
        lambda s, item: evidence.revision_review(
            actor=s.admin,
            revision=item.revisions.get(),
            decision=ReviewStatus.REJECTED,
            reason="Wrong quarter",
        ),
        False,
    ),
    "evidence effective date": (
        lambda s, _: EvidenceItem.objects.get(controls=s.control),
        lambda s, item: evidence.evidence_add_revision(
            actor=s.world.users["owner"],
            item=item,
            upload=pdf_upload(),
            effective_date=evidence.organization_today(s.world.org) - dt.timedelta(days=400),
        ),
        True,
    ),
    "request occurrence overdue": (
        lambda s, _: None,
        lambda s, _: _overdue_request(s),
        True,
    ),
    "request occurrence fulfilled": (
        lambda s, _: _overdue_request(s),
        lambda s, occurrence: evidence.evidence_create(
            actor=s.world.users["owner"],
            organization=s.world.org,
            title="The review",
            kind="file",
            effective_date=evidence.organization_today(s.world.org),
            occurrence=occurrence,
            upload=pdf_upload(),
        ),
        True,
    ),
    "request unlinked": (
        lambda s, _: _overdue_request(s),
        lambda s, occurrence: evidence.request_update(
            actor=s.admin, request=occurrence.request, changes={"controls": []}
        ),
        True,
    ),
    # policies
    "policy linked": (
        lambda s, _: None,
        lambda s, _: make_policy(s.world, controls=(s.control,)),
        True,
    ),
    "policy version approved": (
        lambda s, _: make_policy(s.world, controls=(s.control,)),
        lambda s, policy: approve(s.world, first_version(policy)),
        True,
    ),
    "policy version retired": (
        lambda s, _: _approved_policy(s),
        lambda s, policy: policies.policy_version_retire(
            actor=s.admin,
            version=PolicyVersion.objects.get(policy=policy, status=VersionStatus.APPROVED),
            reason="Withdrawn",
        ),
        True,
    ),
    "policy unlinked": (
        lambda s, _: make_policy(s.world, controls=(s.control,)),
        lambda s, policy: policies.policy_update(
            actor=s.admin, policy=policy, changes={"controls": []}
        ),
        True,
    ),
    "policy review recorded": (
        lambda s, _: (
            _approved_policy(s),
            Policy.objects.update(review_months=1),  # a review overdue since long ago…
            PolicyVersion.objects.update(effective_date=dt.date(2020, 1, 1)),
            recompute(s.world.org),
        )[0],
        lambda s, policy: policies.policy_mark_reviewed(actor=s.admin, policy=policy),
        True,
    ),
    # people
    "personnel requirement linked": (
        lambda s, _: (
            people.people_requirements_ensure(organization=s.world.org),
            _person(s),
        ),
        lambda s, _: _linked_people_requirement(s),
        True,
    ),
    "person added": (
        lambda s, _: _linked_people_requirement(s),
        lambda s, _: _person(s),
        True,
    ),
    "person ended": (
        lambda s, _: (_linked_people_requirement(s), _person(s))[1],
        lambda s, person: people.person_update(
            actor=s.admin,
            person=person,
            changes={"end_date": evidence.organization_today(s.world.org) - dt.timedelta(days=1)},
        ),
        True,
    ),
    "personnel record": (
        lambda s, _: (_linked_people_requirement(s), _person(s))[1],
        lambda s, person: people.record_create(
            actor=s.admin,
            person=person,
            kind=RequirementKind.BACKGROUND_CHECK,
            completed_on=person.start_date,
            provider="Checkr",
            result="clear",
        ),
        True,
    ),
    # automated tests
    "test created": (lambda s, _: None, lambda s, _: _test(s), True),
    "test run finished": (lambda s, _: _test(s), lambda s, test: _run(test), True),
    "test disabled": (
        lambda s, _: _test(s),
        lambda s, test: monitoring.control_test_update(
            actor=s.admin, test=test, changes={"enabled": False}
        ),
        True,
    ),
    "exception granted": (
        lambda s, _: _failing_test(s),
        lambda s, test: monitoring.exception_create(
            actor=s.admin,
            test=test,
            resource_id=test.last_run.results.get().resource_id,
            reason="Accepted",
            expires_on=evidence.organization_today(s.world.org) + dt.timedelta(days=30),
        ),
        True,
    ),
    "exception revoked": (
        lambda s, _: _granted_exception(s),
        lambda s, exception: monitoring.exception_revoke(actor=s.admin, exception=exception),
        True,
    ),
    "finding resolved": (
        lambda s, _: _failing_test_now_fixed(s),
        lambda s, test: _run(test),
        True,
    ),
    # frameworks
    "framework adopted": (
        lambda s, _: _second_framework(s),
        lambda s, framework: controls.framework_adopt(
            actor=s.admin, organization=s.world.org, framework=framework, scope_codes=["A5"]
        ),
        True,
    ),
    "framework scope changed": (
        lambda s, _: None,
        lambda s, _: controls.framework_change_scope(
            actor=s.admin, adoption=s.world.adoption, scope_codes=["SEC", "AV"]
        ),
        False,  # scope is applied when reading: nothing stored changes
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_stored_state_equals_a_full_recomputation_after_each_kind_of_change(
    scene: Scene, case: str
) -> None:
    prepare, change, moves = CASES[case]
    prepared = prepare(scene, None)
    assert_stored_equals_recomputation(scene.world)
    before = stored(scene.world)

    change(scene, prepared)

    if moves:
        assert stored(scene.world) != before, "the change should have moved readiness"
    assert_stored_equals_recomputation(scene.world)


def test_a_change_in_one_organization_leaves_the_other_alone(scene: Scene) -> None:
    theirs = stored_organization_readiness(organization=scene.world.other_org)

    controls.control_archive(actor=scene.admin, control=scene.control)

    assert tallies(stored_organization_readiness(organization=scene.world.other_org)) == tallies(
        theirs
    )
    run = recompute_readiness(organization=scene.world.other_org, trigger="test")
    assert run.drifted == 0


# --- blocker kinds --------------------------------------------------------------------------------


def _stale_evidence(s: Scene) -> Control:
    item = EvidenceItem.objects.get(controls=s.control)
    evidence.evidence_add_revision(
        actor=s.world.users["owner"],
        item=item,
        upload=pdf_upload(),
        effective_date=evidence.organization_today(s.world.org) - dt.timedelta(days=400),
    )
    return s.control


def _review_overdue(s: Scene) -> Control:
    _approved_policy(s)
    Policy.objects.update(review_months=1)  # a review overdue since 2020
    PolicyVersion.objects.update(effective_date=dt.date(2020, 1, 1))
    recompute(s.world.org)  # written behind the services' back: the nightly run's view
    return s.control


def _erred_test(s: Scene) -> Control:
    test = _test(s)
    run = TestRun.objects.create(
        control_test=test,
        organization=s.world.org,
        trigger="manual",
        status="error",
        error="The provider timed out.",
        finished_at=timezone.now(),
    )
    ControlTest.objects.filter(pk=test.pk).update(last_run=run)
    recompute(s.world.org)
    return s.control


def _leaver_with_access(s: Scene) -> Control:
    people.people_requirements_ensure(organization=s.world.org)
    requirement = PersonnelRequirement.objects.get(
        organization=s.world.org, kind=RequirementKind.OFFBOARDING
    )
    people.requirement_update(
        actor=s.admin, requirement=requirement, changes={"control": s.control}
    )
    people.person_update(
        actor=s.admin,
        person=_person(s),
        changes={"end_date": evidence.organization_today(s.world.org) - dt.timedelta(days=9)},
    )
    return s.control


def _missing_evidence(s: Scene) -> Control:
    return controls.control_update(
        actor=s.admin,
        control=s.world.unowned_control,
        changes={"status": "implemented", "frequency": "monthly"},
    )


# Each kind, made the way a user makes it (through the services where they can), on a control
# that had no other blocker.
def _on_the_control(*steps: Callable[[Scene], Any]) -> Callable[[Scene], Control]:
    """Run the steps; the scene's control is the one they block."""

    def run(s: Scene) -> Control:
        for step in steps:
            step(s)
        return s.control

    return run


KIND_CASES: dict[BlockerKind, Callable[[Scene], Control]] = {
    BlockerKind.EVIDENCE_MISSING: _missing_evidence,
    BlockerKind.EVIDENCE_STALE: _stale_evidence,
    BlockerKind.REQUEST_OVERDUE: _on_the_control(_overdue_request),
    BlockerKind.POLICY_UNAPPROVED: _on_the_control(
        lambda s: make_policy(s.world, controls=(s.control,))
    ),
    BlockerKind.POLICY_REVIEW_OVERDUE: _review_overdue,
    BlockerKind.TEST_FAILING: _on_the_control(_failing_test),
    BlockerKind.TEST_ERROR: _erred_test,
    BlockerKind.TEST_NOT_RUN: _on_the_control(_test),
    BlockerKind.PEOPLE_OVERDUE: _on_the_control(_linked_people_requirement, _person),
    BlockerKind.ACCESS_NOT_REVOKED: _leaver_with_access,
}


def test_every_kind_of_blocker_has_a_case() -> None:
    assert set(KIND_CASES) == set(BlockerKind)


@pytest.mark.parametrize("kind", list(KIND_CASES), ids=[k.value for k in KIND_CASES])
def test_each_source_gives_its_blockers_their_kind_and_the_row_stores_it(
    scene: Scene, kind: BlockerKind
) -> None:
    control = KIND_CASES[kind](scene)

    row = ControlReadiness.objects.get(control=control)
    assert not row.ready
    assert row.blocker_kinds == [kind.value]
    assert [b["kind"] for b in row.blockers] == [kind.value]
    # The definition gives the same, and the stored row equals a full recomputation.
    [blocker] = control_blockers(organization=scene.world.org, control_ids=[control.pk])[control.pk]
    assert (blocker.kind, blocker.reason, blocker.url) == (
        kind,
        row.blockers[0]["reason"],
        row.blockers[0]["url"],
    )
    if kind == BlockerKind.EVIDENCE_STALE:
        effective = EvidenceItem.objects.get(controls=control).effective_date
        assert row.evidence_due == fresh_until(effective, "quarterly") == blocker.since
    else:
        assert row.evidence_due is None
    assert_stored_equals_recomputation(scene.world)


def test_a_control_with_several_kinds_stores_each_once(scene: Scene) -> None:
    make_policy(scene.world, controls=(scene.control,), title="Access")
    make_policy(scene.world, controls=(scene.control,), title="Backups")
    _test(scene)

    row = ControlReadiness.objects.get(control=scene.control)
    assert sorted(b["kind"] for b in row.blockers) == [
        "policy_unapproved",
        "policy_unapproved",
        "test_not_run",
    ]
    assert row.blocker_kinds == ["policy_unapproved", "test_not_run"]
    assert_stored_equals_recomputation(scene.world)


def test_the_nightly_run_repairs_kinds_changed_behind_its_back(scene: Scene) -> None:
    _missing_evidence(scene)
    ControlReadiness.objects.filter(control=scene.world.unowned_control).update(
        blocker_kinds=["policy_unapproved"]
    )

    run = recompute_readiness(organization=scene.world.org, trigger="nightly")

    assert run.drifted == 1
    [drift] = run.drift_sample
    assert drift["stored"]["blocker_kinds"] == ["policy_unapproved"]
    assert drift["recomputed"]["blocker_kinds"] == ["evidence_missing"]
    assert ControlReadiness.objects.get(control=scene.world.unowned_control).blocker_kinds == [
        "evidence_missing"
    ]


def test_after_an_upgrade_the_command_fills_the_kinds_of_rows_stored_before_them(
    scene: Scene,
) -> None:
    """controls 0010 became a no-op once later migrations changed models readiness reads
    (compliance 0007, controls 0012): the upgrade note's `recompute_readiness` fills the rows
    written before blocker kinds existed."""
    import importlib

    from django.apps import apps
    from django.core.management import call_command

    fill = importlib.import_module("controls.migrations.0010_readiness_blocker_kinds_fill")
    _missing_evidence(scene)
    _stale_evidence(scene)
    expected = stored(scene.world)
    for row in ControlReadiness.objects.filter(organization=scene.world.org):
        row.blockers = [{"reason": b["reason"], "url": b["url"]} for b in row.blockers]
        row.blocker_kinds, row.evidence_due = [], None
        row.save()
    wiped = stored(scene.world)

    fill.recompute_every_organization(apps, None)
    assert stored(scene.world) == wiped  # the migration step does nothing now

    call_command("recompute_readiness", stdout=StringIO())

    assert stored(scene.world) == expected
    latest = ReadinessRecomputation.objects.filter(organization=scene.world.org).first()
    assert latest is not None and (latest.trigger, latest.drifted) == ("command", 2)


# --- bulk loads -----------------------------------------------------------------------------------


def test_a_bulk_load_recomputes_once_at_its_end_not_after_each_change(scene: Scene) -> None:
    before = stored(scene.world)
    runs = ReadinessRecomputation.objects.filter(organization=scene.world.org)
    count = runs.count()
    with bulk_load(trigger="import"):
        controls.control_update(
            actor=scene.admin, control=scene.control, changes={"status": ControlStatus.IN_PROGRESS}
        )
        assert stored(scene.world) == before  # nothing is updated inside the block
    assert not ControlReadiness.objects.get(control=scene.control).ready
    assert stored(scene.world) != before
    assert runs.count() == count + 1
    assert runs.latest("pk").trigger == "import"
    assert_stored_equals_recomputation(scene.world)


def test_the_demo_is_seeded_with_stored_readiness_equal_to_a_recomputation(db: None) -> None:
    from compliance import demo

    org = demo.seed_demo()
    for organization in Organization.objects.filter(pk__in=[org.pk]) | Organization.objects.filter(
        slug=demo.LABS_SLUG
    ):
        assert RequirementReadiness.objects.filter(organization=organization).exists()
        run = recompute_readiness(organization=organization, trigger="test")
        assert (run.drifted, run.date_changed) == (0, 0), run.drift_sample


# --- the nightly run ----------------------------------------------------------------------------


def test_the_nightly_run_repairs_injected_drift_and_reports_it(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    # Drift: rows changed behind the services' back (a missed update).
    ControlReadiness.objects.filter(control=scene.control).update(ready=False, blockers=[])
    RequirementReadiness.objects.filter(
        organization=scene.world.org, requirement=scene.world.req_gap
    ).update(state="ready", controls_total=1, controls_ready=1)

    with caplog.at_level(logging.WARNING, logger="compliance.readiness"):
        run = recompute_readiness(organization=scene.world.org, trigger="nightly")

    assert run.drifted == 2
    assert run.date_changed == 0
    assert {d["object"] for d in run.drift_sample} == {"control IAM-01", "requirement SEC1.3"}
    [control_drift] = [d for d in run.drift_sample if d["object"] == "control IAM-01"]
    nothing = {"blockers": [], "blocker_kinds": [], "evidence_due": None}
    assert control_drift["stored"] == {"ready": False, **nothing}
    assert control_drift["recomputed"] == {"ready": True, **nothing}
    assert "had drifted: 2 row(s) repaired" in caplog.text
    assert ControlReadiness.objects.get(control=scene.control).ready
    assert (
        RequirementReadiness.objects.get(
            organization=scene.world.org, requirement=scene.world.req_gap
        ).state
        == "gap"
    )
    assert_stored_equals_recomputation(scene.world)


def test_a_bulk_loads_recomputation_says_it_wrote_rows_not_that_they_drifted(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    ControlReadiness.objects.filter(organization=scene.world.org).delete()

    with caplog.at_level(logging.INFO, logger="compliance.readiness"):
        run = recompute_readiness(organization=scene.world.org, trigger="import")

    assert run.drifted >= 1  # the rows it had to write
    assert f"computed after a bulk load (import): {run.drifted} row(s) written." in caplog.text
    assert "drifted" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_date_rollover_makes_evidence_stale_and_the_nightly_run_marks_it(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Monthly evidence effective 40 days ago (accepted): fresh until today - 9 days... so move
    # it to the edge: fresh until today, stale tomorrow.
    control = scene.control
    controls.control_update(actor=scene.admin, control=control, changes={"frequency": "monthly"})
    today = organization_local_date(scene.world.org)
    item = EvidenceItem.objects.get(controls=control)
    from evidence.freshness import fresh_until

    effective = today
    while fresh_until(effective, "monthly") > today:  # type: ignore[operator]
        effective -= dt.timedelta(days=1)
    EvidenceItem.objects.filter(pk=item.pk).update(effective_date=effective)
    recompute(scene.world.org)
    assert ControlReadiness.objects.get(control=control).ready  # fresh until today, inclusive

    # The clock moves past the organization's local midnight.
    tomorrow = timezone.now() + dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    assert scene.world.org.pk in organizations_due_for_recomputation()
    run = recompute_readiness(organization=scene.world.org, trigger="nightly")

    assert (run.drifted, run.date_changed) == (0, 2)  # IAM-01 and its requirement SEC1.1
    row = ControlReadiness.objects.get(control=control)
    assert not row.ready
    assert row.blockers[0]["reason"].startswith("Evidence went stale on")
    assert row.computed_on == today + dt.timedelta(days=1)
    assert (
        RequirementReadiness.objects.get(
            organization=scene.world.org, requirement=scene.world.req_a
        ).state
        == "not_ready"
    )
    assert scene.world.org.pk not in organizations_due_for_recomputation()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_hourly_tick_recomputes_each_organization_once_per_local_day_on_a_worker() -> None:
    import time

    from celery.contrib.testing.worker import start_worker

    from compliance import tasks
    from compliance.celery import app
    from tests.conftest import build_world

    world = build_world()
    ReadinessRecomputation.objects.all().delete()
    app.control.purge()
    nightly = ReadinessRecomputation.objects.filter(trigger="nightly")
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        tasks.readiness_tick.delay()  # Acme and Globex never ran: one task each
        deadline = time.monotonic() + 20
        while nightly.count() < 2:
            assert time.monotonic() < deadline, "timed out waiting for the worker"
            time.sleep(0.1)
        tasks.readiness_tick.delay()  # both done for today: nothing
        # A second delivery of one organization's task does nothing either.
        tasks.readiness_recompute.delay(world.org.pk)
        time.sleep(2)
    assert sorted(nightly.values_list("organization__slug", flat=True)) == ["acme", "globex"]


def test_the_beat_schedule_runs_the_tick_hourly_and_lets_a_backlog_expire() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["readiness_tick"]
    assert entry["task"] == "compliance.tasks.readiness_tick"
    assert entry["options"]["expires"] < 3600


# --- the command --------------------------------------------------------------------------------


def test_the_command_recomputes_one_organization_and_prints_what_it_checked(scene: Scene) -> None:
    from io import StringIO

    from django.core.management import call_command

    ControlReadiness.objects.filter(control=scene.control).update(ready=False)
    out = StringIO()

    call_command("recompute_readiness", "--organization", "acme", stdout=out)

    printed = out.getvalue()
    assert printed.startswith("acme: 2 controls, 4 requirements checked; 1 drifted, 0 changed")
    assert " s\n" in printed
    assert "globex" not in printed
    run = ReadinessRecomputation.objects.filter(organization=scene.world.org).first()
    assert run is not None and (run.trigger, run.drifted) == ("command", 1)
    assert ControlReadiness.objects.get(control=scene.control).ready


def test_the_command_without_an_organization_recomputes_them_all(scene: Scene) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("recompute_readiness", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["acme", "globex"]


def test_the_command_refuses_an_unknown_organization_and_changes_nothing(scene: Scene) -> None:
    from django.core.management import CommandError, call_command

    runs = ReadinessRecomputation.objects.count()
    with pytest.raises(CommandError, match="No organization with the slug 'nope'"):
        call_command("recompute_readiness", "--organization", "nope")
    assert ReadinessRecomputation.objects.count() == runs


def test_the_command_exits_non_zero_on_an_unknown_organization(scene: Scene) -> None:
    import os
    import subprocess
    import sys

    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict  # the test database, so the command finds its tables
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "recompute_readiness", "--organization", "nope"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ATTEST_TESTING": "true", "DATABASE_URL": url},
    )
    assert result.returncode == 1
    assert "No organization with the slug 'nope'" in result.stderr
