from __future__ import annotations

from django.db import models

from compliance.models.organizations import Organization


class ReadinessSnapshot(models.Model):
    """One adopted framework's readiness figures for one ISO week, frozen as of the end of that
    week (Sunday 23:59:59.999999 in the organization's time zone).

    Written once by ``compliance.snapshots.snapshots_create`` (insert, ignoring a row that is
    already there) and never updated: no service, form, API or admin action changes one. The
    figures that pages filter and sort on are columns; the breakdowns are JSON."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="readiness_snapshots"
    )
    framework = models.ForeignKey("controls.Framework", on_delete=models.PROTECT, related_name="+")
    week = models.DateField(help_text="The Monday of the ISO week.")
    as_of = models.DateTimeField(help_text="The moment the figures describe: the week's end.")
    computed_at = models.DateTimeField()
    # Overall: in-scope requirements that were ready, of all of them.
    requirements_total = models.PositiveIntegerField()
    requirements_ready = models.PositiveIntegerField()
    requirements_gaps = models.PositiveIntegerField()
    percent = models.PositiveSmallIntegerField()  # rounded down, as on the dashboard
    # [{"code", "name", "total", "ready", "gaps", "percent"}], in the catalog's order.
    categories = models.JSONField(default=list)
    # [{"owner_id", "name", "total", "open", "overdue"}], most open first.
    owners = models.JSONField(default=list)
    # {status: count} over the controls mapped to the in-scope requirements.
    controls_by_status = models.JSONField(default=dict)
    # {blocker kind: controls it blocked} over the same controls (every kind, zeros included).
    controls_by_blocker = models.JSONField(default=dict)
    # Organization-wide counts from the apps' snapshot sources (compliance.snapshots.COUNTS):
    # evidence due and overdue, tests passing / failing / erroring, open remediations, people
    # and vendor items overdue.
    counts = models.JSONField(default=dict)
    # Per control of the framework (mapped to its in-scope requirements), its state then:
    # {"<control id>": [status, ready (0/1), "blocker_kind,blocker_kind"]}: what "what changed
    # since last week" compares (compliance.changes). Empty in snapshots taken before it was
    # recorded (compliance 0008): their week's changes are not known.
    control_states = models.JSONField(default=dict)
    # The in-scope requirements that were gaps then (no active control mapped), by id.
    gap_requirements = models.JSONField(default=list)

    class Meta:
        ordering = ["organization", "framework", "-week"]
        constraints = [
            # One snapshot per organization, framework and week: running the tick or the
            # command twice (or both at once) inserts it once. Also the index of the trend
            # (an organization's weeks of a framework) and of the API's filters.
            models.UniqueConstraint(
                fields=["organization", "framework", "week"], name="readiness_snapshot_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(requirements_ready__lte=models.F("requirements_total"))
                & models.Q(percent__lte=100),
                name="readiness_snapshot_figures",
            ),
        ]
        indexes = [
            # The API's list without a framework filter: an organization's weeks, newest first.
            models.Index(fields=["organization", "-week"], name="readiness_snapshot_org_week"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.framework_id} at {self.organization_id}, week of {self.week}: {self.percent}%"
        )
