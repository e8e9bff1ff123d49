"""The large-organization generator (benchmarks, issue 10): the shape it promises, a valid audit
chain, a newest run as each test's latest, and a clear refusal of a second run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from compliance.audit import chain_for, verify_chain
from compliance.models import (
    AuditEvent,
    Membership,
    Organization,
    ReadinessSnapshot,
    Role,
    User,
)
from compliance.snapshots import last_completed_week, snapshot_rows, week_label
from controls.large_organization import (
    AlreadyGenerated,
    Size,
    generate_large_organization,
)
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlTest,
    Finding,
    TestResult,
    TestRun,
)
from evidence.models import EvidenceItem, EvidenceRevision, RevisionReview

pytestmark = pytest.mark.django_db

SMALL = Size(
    controls=30,
    evidence_per_control=3,
    tests=5,
    runs_per_test=6,
    resources_per_run=4,
    audit_events_per_control=2,
)


def test_generator_builds_the_shape_it_was_asked_for() -> None:
    result = generate_large_organization(slug="big", size=SMALL)

    organization = result.organization
    adopted = AdoptedFramework.objects.filter(organization=organization)
    assert sorted(adopted.values_list("framework__slug", flat=True)) == [
        "generated-catalog",
        "iso27001",
        "soc2",
    ]
    assert Membership.objects.filter(organization=organization).count() == 5
    assert result.admin.memberships.get().role == Role.ADMIN
    controls = Control.objects.filter(organization=organization)
    assert controls.count() == 30
    assert controls.values("owner").distinct().count() == 5
    # Two mappings into each of the three frameworks.
    mappings = ControlRequirement.objects.filter(control__organization=organization)
    assert mappings.count() == 30 * 2 * 3
    assert mappings.values("requirement__framework").distinct().count() == 3
    # Ten evidence items per control in the shape; here three, plus one per test for
    # its runs' snapshots.
    items = EvidenceItem.objects.filter(organization=organization)
    assert items.filter(system_key="").count() == 90
    assert items.exclude(system_key="").count() == 5
    # Nine revisions of each person's item, plus one per test run.
    revisions = EvidenceRevision.objects.filter(item__organization=organization)
    assert revisions.count() == 90 * 9 + 5 * 6 == SMALL.revisions
    assert result.counts["evidence revisions"] == 90 * 9
    decided = revisions.filter(item__system_key="").exclude(review_status="pending")
    assert RevisionReview.objects.filter(revision__item__organization=organization).count() == (
        decided.count()
    )
    runs = TestRun.objects.filter(organization=organization)
    assert runs.count() == 5 * 6
    assert TestResult.objects.filter(run__organization=organization).count() == 5 * 6 * 4
    for test in ControlTest.objects.filter(organization=organization):
        newest = test.runs.order_by("-queued_at").first()
        assert test.last_run_id == newest.pk
        assert newest.passed_count + newest.failed_count == 4
        assert newest.evidence_revision.item.system_key == f"control-test:{test.pk}"
    # The first test's latest run fails on two resources: two open findings.
    assert Finding.objects.filter(control_test__organization=organization).count() == 2
    assert result.counts["test results"] == 120
    assert AuditEvent.objects.filter(organization=organization).count() == 60
    assert verify_chain(chain_for(organization)).problem is None


def test_generated_evidence_history_spans_two_years_in_a_consistent_order() -> None:
    organization = generate_large_organization(slug="big", size=SMALL).organization
    now = timezone.now()
    people = EvidenceRevision.objects.filter(
        item__organization=organization, item__system_key=""
    ).select_related("item")
    uploads = [r.uploaded_at for r in people]
    assert min(uploads) < now - dt.timedelta(days=700)
    assert max(uploads) <= now
    for item in EvidenceItem.objects.filter(organization=organization, system_key=""):
        history = list(item.revisions.order_by("number"))
        assert [r.number for r in history] == list(range(1, 10))
        assert [r.uploaded_at for r in history] == sorted(r.uploaded_at for r in history)
        # The item's effective date is its newest revision's; each decision follows its upload.
        assert history[-1].effective_date == item.effective_date
        assert item.latest_revision_id == history[-1].pk
        for revision in history:
            assert revision.effective_date <= revision.uploaded_at.date() + dt.timedelta(days=1)
            if revision.reviewed_at is not None:
                assert revision.uploaded_at < revision.reviewed_at <= now
    # Decisions at different moments (what changed in a week reads a range of them).
    reviewed = [r.reviewed_at for r in people if r.reviewed_at is not None]
    assert len(set(reviewed)) == len(reviewed)
    states = Counter(item.review_status for item in EvidenceItem.objects.filter(
        organization=organization, system_key=""
    ))  # fmt: skip
    assert states["accepted"] and states["pending"] and states["rejected"]


def test_generated_snapshots_are_computed_from_two_years_of_history() -> None:
    organization = generate_large_organization(slug="big", size=SMALL).organization
    last = last_completed_week(organization)

    snapshots = ReadinessSnapshot.objects.filter(organization=organization)
    assert snapshots.count() == 104 * 3
    # Each week's row is what the weekly job computes as of that week's end (spot checks).
    for monday in (last, last - dt.timedelta(weeks=40), last - dt.timedelta(weeks=103)):
        for computed in snapshot_rows(organization, monday):
            stored = snapshots.get(framework=computed.framework_id, week=monday)
            assert stored.control_states == computed.control_states
            assert stored.requirements_ready == computed.requirements_ready
            assert stored.controls_by_status == computed.controls_by_status
    for framework_id in snapshots.values_list("framework", flat=True).distinct():
        rows = list(snapshots.filter(framework=framework_id).order_by("week"))
        assert [r.week for r in rows] == [last - dt.timedelta(weeks=n) for n in range(103, -1, -1)]
        # Statuses only move forward in the generated history: implemented controls accumulate
        # from a few to most, and readiness rises with them.
        implemented = [r.controls_by_status["implemented"] for r in rows]
        assert implemented == sorted(implemented)
        assert implemented[0] < len(rows[0].control_states) // 3 < implemented[-1]
        ready = [sum(1 for _, r, _ in row.control_states.values() if r) for row in rows]
        assert ready[0] < ready[-1]
    # The weekly page reads them: a past week where controls became ready lists them.
    rows = list(snapshots.filter(framework__slug="soc2").order_by("week"))
    ready = [sum(1 for _, r, _ in row.control_states.values() if r) for row in rows]
    rising = next(i for i in range(1, len(rows)) if ready[i] > ready[i - 1])
    client = Client()
    client.force_login(User.objects.get(email="big-owner1@example.com"))
    response = client.get(f"/o/big/weekly/?week={week_label(rows[rising].week)}")
    assert response.status_code == 200
    assert b'data-testid="changes-newly_ready"' in response.content


def test_generator_adopts_fewer_frameworks_and_skips_snapshots_when_asked() -> None:
    size = replace(SMALL, frameworks=1, snapshot_weeks=0, revisions_per_item=2)
    organization = generate_large_organization(slug="one", size=size).organization

    assert list(
        AdoptedFramework.objects.filter(organization=organization).values_list(
            "framework__slug", flat=True
        )
    ) == ["soc2"]
    assert not ReadinessSnapshot.objects.filter(organization=organization).exists()
    assert (
        EvidenceRevision.objects.filter(
            item__organization=organization, item__system_key=""
        ).count()
        == 90 * 2
    )
    with pytest.raises(ValueError, match="frameworks: 1"):
        generate_large_organization(slug="four", size=replace(SMALL, frameworks=4))
    assert not Organization.objects.filter(slug="four").exists()


def test_generator_refuses_a_slug_that_exists_and_changes_nothing() -> None:
    generate_large_organization(slug="big", size=SMALL)
    controls = Control.objects.count()

    with pytest.raises(AlreadyGenerated, match="'big' exists already; nothing was changed"):
        generate_large_organization(slug="big", size=SMALL)
    assert Control.objects.count() == controls
    assert Organization.objects.filter(slug="big").count() == 1


def test_generate_command_builds_a_scaled_organization_and_refuses_a_second_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("generate_large_organization", "--slug", "cmd", "--scale", "0.01")
    out = capsys.readouterr().out
    assert "20 controls" in out
    assert Control.objects.filter(organization__slug="cmd").count() == 20

    with pytest.raises(CommandError, match="exists already"):
        call_command("generate_large_organization", "--slug", "cmd", "--scale", "0.01")
    call_command(
        "generate_large_organization", "--slug", "two", "--scale", "0.01", "--frameworks", "2",
        "--snapshot-weeks", "3", "--revisions-per-item", "2",
    )  # fmt: skip
    assert AdoptedFramework.objects.filter(organization__slug="two").count() == 2
    assert ReadinessSnapshot.objects.filter(organization__slug="two").count() == 3 * 2
    with pytest.raises(CommandError, match="--frameworks"):
        call_command("generate_large_organization", "--slug", "x", "--frameworks", "4")
    with pytest.raises(CommandError, match="--scale must be a number above 0"):
        call_command("generate_large_organization", "--slug", "other", "--scale", "0")
    assert not Organization.objects.filter(slug="other").exists()
