"""Retention of per-resource test results: old results go, run outcomes and counts stay, the
latest run of every test keeps its results (readiness reads them), pages still render."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from compliance.readiness import control_blockers
from controls.large_organization import Size, generate_large_organization
from controls.models import ControlTest, ResultStatus, TestResult, TestRun
from controls.monitoring.retention import run_results_summarise as summarise

pytestmark = pytest.mark.django_db

# Two tests run daily for ten days, three resources each; the first test's latest run fails.
DAILY = Size(
    controls=4,
    evidence_per_control=1,
    tests=2,
    runs_per_test=10,
    resources_per_run=3,
    run_interval_hours=24,
    audit_events_per_control=1,
    snapshot_weeks=0,
)


def _outcomes(organization_id: int) -> list[tuple[int, str, int, int]]:
    return list(
        TestRun.objects.filter(organization_id=organization_id)
        .order_by("pk")
        .values_list("pk", "status", "passed_count", "failed_count")
    )


def test_retention_deletes_only_results_older_than_the_retention_and_keeps_run_outcomes() -> None:
    org = generate_large_organization(slug="daily", size=DAILY).organization
    before = _outcomes(org.pk)
    cutoff = timezone.now() - dt.timedelta(days=5)
    old_runs = set(
        TestRun.objects.filter(organization=org, finished_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    # The generator's runs fall on the hour before now: those of 9 to 5 days ago are older.
    assert len(old_runs) == 2 * 5

    report = summarise(retention_days=5, batch_runs=3)

    assert (report.runs, report.results, report.finished) == (10, 10 * 3, True)
    assert not TestResult.objects.filter(run_id__in=old_runs).exists()
    assert TestResult.objects.filter(run__organization=org).count() == (20 - 10) * 3
    summarised = TestRun.objects.filter(results_summarised_at__isnull=False)
    assert set(summarised.values_list("pk", flat=True)) == old_runs
    assert _outcomes(org.pk) == before
    # A second pass finds nothing left to do.
    assert summarise(retention_days=5).runs == 0


def test_the_latest_run_of_each_test_keeps_its_results_whatever_their_age() -> None:
    org = generate_large_organization(slug="daily", size=DAILY).organization
    tests = list(ControlTest.objects.filter(organization=org).order_by("pk"))
    control_ids = [t.control_id for t in tests]
    blockers_before = control_blockers(organization=org, control_ids=control_ids)
    assert any("fails on 2 resources" in b.reason for b in blockers_before[control_ids[0]])

    # A year later every run is past the retention, the latest ones included.
    report = summarise(now=timezone.now() + dt.timedelta(days=365), retention_days=90)

    assert report.runs == 2 * 9
    for test in tests:
        assert test.last_run.results.count() == 3
        assert test.last_run.results_summarised_at is None
    assert test_failing(tests[0]) == 2
    assert control_blockers(organization=org, control_ids=control_ids) == blockers_before


def test_failing(test: ControlTest) -> int:
    return TestResult.objects.filter(run=test.last_run, status=ResultStatus.FAIL).count()


test_failing.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def test_pages_render_a_summarised_run_with_its_outcome() -> None:
    generated = generate_large_organization(slug="daily", size=DAILY)
    summarise(retention_days=5)
    run = TestRun.objects.filter(results_summarised_at__isnull=False).order_by("pk").first()
    client = Client()
    client.force_login(generated.admin)

    page = client.get(f"/o/daily/tests/runs/{run.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{run.passed_count} passed, {run.failed_count} failed" in text
    assert "were deleted on" in text
    assert client.get(f"/o/daily/tests/{run.control_test_id}/").status_code == 200
    api = client.get(f"/api/organizations/daily/test-runs/{run.pk}/").json()
    assert api["results"] == []
    assert api["results_summarised_at"] is not None
    assert api["passed_count"] == run.passed_count


def test_the_command_summarises_with_the_given_retention_and_refuses_a_bad_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    generate_large_organization(slug="daily", size=DAILY)

    call_command("summarise_test_results", "--days", "5")
    assert "30 results of 10 runs deleted" in capsys.readouterr().out
    with pytest.raises(CommandError, match="at least 1"):
        call_command("summarise_test_results", "--days", "0")


def test_the_retention_runs_hourly_on_beat_and_expires_before_the_next_pass() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["test_results_retention"]
    assert entry["task"] == "controls.tasks.run_results_retention"
    assert entry["options"]["expires"] < 3600
    assert settings.TEST_RESULT_RETENTION_DAYS == 90
