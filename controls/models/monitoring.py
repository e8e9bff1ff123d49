"""Automated control tests: integrations, tests, runs, per-resource results, remediation and
exceptions.

A **control test** binds a check of the registry (``controls.checks``) with its parameters to a
control, on a schedule. Each execution is a **test run** with its **results**, one per resource
the check looked at. A resource that fails opens a **finding** with a remediation deadline from
the test's severity; the finding closes when the resource passes again. An admin may accept a
failing resource with an **exception** until a date.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from compliance.models import Organization
from controls.models.catalog import Control


class IntegrationKind(models.TextChoices):
    GITHUB = "github", "GitHub"
    AWS = "aws", "Amazon Web Services"


class Integration(models.Model):
    """A connection to an outside system, with its credentials encrypted at rest.

    ``config`` holds what is not secret (an API address, a region); ``secret`` holds the
    Fernet token of the credentials (``controls.integrations.crypto``), never shown again.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="integrations"
    )
    kind = models.CharField(max_length=20, choices=IntegrationKind.choices)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)
    secret = models.TextField(blank=True, editable=False)
    secret_hint = models.CharField(max_length=20, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="integration_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class ScheduleKind(models.TextChoices):
    INTERVAL = "interval", "Every N minutes"
    CRON = "cron", "Cron expression"
    PUSH = "push", "Pushed by an outside system"


class ReadinessRule(models.TextChoices):
    STRICT = "strict", "Latest run must pass"
    DEADLINE = "deadline", "Failures within their remediation deadline are tolerated"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


FINISHED = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR)


class ControlTest(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="control_tests"
    )
    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="tests")
    name = models.CharField(max_length=200)
    check_key = models.CharField(max_length=100)
    parameters = models.JSONField(default=dict, blank=True)
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, null=True, blank=True, related_name="tests"
    )
    schedule_kind = models.CharField(
        max_length=10, choices=ScheduleKind.choices, default=ScheduleKind.INTERVAL
    )
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    readiness_rule = models.CharField(
        max_length=10, choices=ReadinessRule.choices, default=ReadinessRule.STRICT
    )
    enabled = models.BooleanField(default=True)
    # The next slot the dispatcher runs; each slot runs at most once (see TestRun.slot).
    next_run_at = models.DateTimeField(null=True, blank=True)
    # Push tests: the SHA-256 of the token an outside system posts results with.
    push_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    push_token_hint = models.CharField(max_length=20, blank=True, editable=False)
    # The latest finished run, kept here so lists and readiness read one row.
    last_run = models.ForeignKey(
        "TestRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["control__ref_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["control", "name"], name="control_test_name_unique_per_control"
            ),
            models.CheckConstraint(
                condition=~Q(schedule_kind="interval") | Q(interval_minutes__gte=1),
                name="control_test_interval_needs_minutes",
            ),
            models.CheckConstraint(
                condition=~Q(schedule_kind="cron") | ~Q(cron=""),
                name="control_test_cron_needs_expression",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"],
                condition=Q(enabled=True) & ~Q(schedule_kind="push"),
                name="control_test_due",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run now"
    PUSH = "push", "Pushed"


class TestRun(models.Model):
    __test__ = False  # not a pytest class

    # Indexed by test_run_history and test_run_finished, which lead with it.
    control_test = models.ForeignKey(
        ControlTest, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    # The schedule slot this run is for: one run per (test, slot), whatever beat and the broker do.
    slot = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    # When the message was last handed to the broker (empty: not yet, the broker was down).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by the worker every CONTROL_TEST_HEARTBEAT_SECONDS while the check runs: a
    # running run whose heartbeat stopped lost its worker (see controls.monitoring.runner).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    passed_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # When its per-resource results were deleted after TEST_RESULT_RETENTION_DAYS: the outcome
    # and the counts above stay for ever (controls.monitoring.retention).
    results_summarised_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The evidence revision that freezes this run's outcome (JSON snapshot with its SHA-256).
    evidence_revision = models.ForeignKey(
        "evidence.EvidenceRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["control_test", "slot"],
                condition=Q(slot__isnull=False),
                name="test_run_one_per_slot",
            )
        ]
        indexes = [
            # A test's runs, newest first (the test page, the API's ?control_test=).
            models.Index(fields=["control_test", "-queued_at", "-id"], name="test_run_history"),
            # The test runs API: an organization's runs, newest first; its count reads only
            # this index.
            models.Index(fields=["organization", "-queued_at", "-id"], name="test_run_org_recent"),
            models.Index(
                fields=["status", "queued_at"],
                condition=Q(status__in=["queued", "running"]),
                name="test_run_unfinished",
            ),
            # Each test's latest run finished by a moment (readiness as of a past date, its
            # automated-test blockers), read from the index alone.
            models.Index(
                fields=["control_test", "finished_at"],
                include=["status"],
                name="test_run_finished",
            ),
            # The daily pass rate: an organization's runs finished in a span of days (today's,
            # and closed days not rolled up yet), read from the index alone.
            models.Index(
                fields=["organization", "finished_at"],
                include=["status"],
                condition=Q(finished_at__isnull=False),
                name="test_run_org_finished",
            ),
            # The retention sweep: finished runs that still have per-resource results, oldest
            # first.
            models.Index(
                fields=["finished_at"],
                condition=Q(results_summarised_at__isnull=True, finished_at__isnull=False),
                name="test_run_results_kept",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.control_test} #{self.pk} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class TestRunDay(models.Model):
    """How many of an organization's test runs finished on one of its local days, and how: the
    daily pass rate of the dashboard and the tests list, read from a row per day instead of
    counting every run of the window (a year of hourly tests on 2,000 controls is 17.5M runs;
    two weeks of them, 670,000). A closed day (before the organization's today) is rolled up
    once from the runs, by the hourly ``test_runs_roll_up`` beat job; today is counted live.
    Runs are never finished in the past, so a closed day's row is final."""

    __test__ = False  # not a pytest class

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    total = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Also the index of the trend's read: an organization's days of a window.
            models.UniqueConstraint(fields=["organization", "day"], name="test_run_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day}: {self.passed}/{self.total}"


class ResultStatus(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class TestResult(models.Model):
    """What a run saw of one resource (this repository, that user, this bucket)."""

    __test__ = False

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="results")
    resource_id = models.CharField(max_length=500)
    resource_name = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=ResultStatus.choices)
    message = models.TextField(blank=True, max_length=4000)
    remediation = models.TextField(blank=True, max_length=4000)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["status", "resource_name", "resource_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "resource_id"], name="test_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.status}"


class Finding(models.Model):
    """A resource failing a test, from its first failing run until it passes again.

    The owner is told once when a finding opens, not on every run; the due date comes from the
    test's severity (``REMEDIATION_DAYS``).
    """

    control_test = models.ForeignKey(ControlTest, on_delete=models.CASCADE, related_name="findings")
    resource_id = models.CharField(max_length=500)
    resource_name = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True, max_length=4000)
    remediation = models.TextField(blank=True, max_length=4000)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    opened_at = models.DateTimeField()
    due_date = models.DateField()
    first_run = models.ForeignKey(TestRun, on_delete=models.SET_NULL, null=True, related_name="+")
    last_run = models.ForeignKey(TestRun, on_delete=models.SET_NULL, null=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # A test's findings: the API (open first, by due date) and the test page (open ones
            # by due date).
            models.Index(
                fields=["control_test", "resolved_at", "due_date", "id"], name="finding_list"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["control_test", "resource_id"],
                condition=Q(resolved_at__isnull=True),
                name="finding_one_open_per_resource",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_name or self.resource_id} failing {self.control_test}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class TestException(models.Model):
    """Accepted risk: a failing resource of a test counts as passing until ``expires_on``."""

    __test__ = False

    control_test = models.ForeignKey(
        ControlTest, on_delete=models.CASCADE, related_name="exceptions"
    )
    resource_id = models.CharField(max_length=500)
    reason = models.TextField(max_length=2000)
    expires_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["expires_on", "id"]

    def __str__(self) -> str:
        return f"{self.resource_id} accepted until {self.expires_on}"
