"""The large-organization generator (benchmarks, issue 10): the shape it promises, a valid audit
chain, a newest run as each test's latest, and a clear refusal of a second run."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from compliance.audit import chain_for, verify_chain
from compliance.models import AuditEvent, Membership, Organization, Role
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
    assert AdoptedFramework.objects.get(organization=organization).framework.slug == "soc2"
    assert Membership.objects.filter(organization=organization).count() == 5
    assert result.admin.memberships.get().role == Role.ADMIN
    controls = Control.objects.filter(organization=organization)
    assert controls.count() == 30
    assert controls.values("owner").distinct().count() == 5
    assert ControlRequirement.objects.filter(control__organization=organization).count() == 60
    # Ten evidence items per control in the shape; here three, plus one per test for
    # its runs' snapshots.
    items = EvidenceItem.objects.filter(organization=organization)
    assert items.filter(system_key="").count() == 90
    assert items.exclude(system_key="").count() == 5
    assert EvidenceRevision.objects.filter(item__organization=organization).count() == (
        90 + 90 // 4 + 1 + 5 * 6
    )
    assert RevisionReview.objects.filter(revision__item__organization=organization).exists()
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
    with pytest.raises(CommandError, match="--scale must be a number above 0"):
        call_command("generate_large_organization", "--slug", "other", "--scale", "0")
    assert not Organization.objects.filter(slug="other").exists()
