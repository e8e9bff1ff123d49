"""Stored readiness: each control's and each requirement's state, kept current by the services
that change the facts it depends on, and repaired by a nightly full recomputation.

The one definition of "ready" stays in :mod:`compliance.readiness`; these rows are its results,
so pages read them with aggregate SQL instead of recomputing the organization on every request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models

from compliance.models import Organization
from controls.models.catalog import Control, Requirement


class BlockerKind(models.TextChoices):
    """Why an implemented control is not ready: one kind for each reason a blocker source gives
    (compliance.readiness). In the order the dashboard lists them."""

    EVIDENCE_MISSING = "evidence_missing", "Evidence missing"
    EVIDENCE_STALE = "evidence_stale", "Evidence stale"
    REQUEST_OVERDUE = "request_overdue", "Evidence request overdue"
    POLICY_UNAPPROVED = "policy_unapproved", "Policy not approved"
    POLICY_REVIEW_OVERDUE = "policy_review_overdue", "Policy review overdue"
    TEST_FAILING = "test_failing", "Automated test failing"
    TEST_ERROR = "test_error", "Automated test could not run"
    TEST_NOT_RUN = "test_not_run", "Automated test not run yet"
    PEOPLE_OVERDUE = "people_overdue", "Personnel requirement overdue"
    ACCESS_NOT_REVOKED = "access_not_revoked", "Leaver access not revoked"


if TYPE_CHECKING:
    _TextColumn = models.Field[list[str] | str, list[str]]
else:
    _TextColumn = models.Field


class KindListField(_TextColumn):
    """A short sorted list of keys as one text column, ",evidence_stale,test_failing,": the
    same on PostgreSQL and on the embedded SQLite default (which has no arrays). A row holding
    a key matches ``contains=kind_pattern(key)``; Python sees a list."""

    def get_internal_type(self) -> str:
        return "CharField"  # a varchar(max_length) column

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[str]:
        return decode_kinds(value)

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        return decode_kinds(value)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return encode_kinds(value)
        return value


def encode_kinds(kinds: Iterable[str]) -> str:
    keys = sorted({str(kind) for kind in kinds})
    return f",{','.join(keys)}," if keys else ""


def decode_kinds(value: str | None) -> list[str]:
    return [key for key in (value or "").split(",") if key]


def kind_pattern(kind: str) -> str:
    """What ``blocker_kinds__contains`` looks for: the key between its delimiters."""
    return f",{kind},"


class ControlReadiness(models.Model):
    """One active control's readiness: ready or not, and why not (its blockers)."""

    control = models.OneToOneField(
        Control, on_delete=models.CASCADE, primary_key=True, related_name="readiness"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ready = models.BooleanField()
    # [{"kind": "...", "reason": "...", "url": "..."}], in the order the blocker sources gave
    # them.
    blockers = models.JSONField(default=list, blank=True)
    # The distinct kinds of those blockers, sorted: what "controls blocked by …" filters on.
    blocker_kinds = KindListField(max_length=400, default=list, blank=True)
    # The date the control's evidence went stale (its evidence_stale blocker's date); null when
    # its evidence is fresh, missing or not asked for. My work lists the longest-stale first.
    evidence_due = models.DateField(null=True, blank=True)
    # The organization-local date the blockers were computed for (they are date-granular).
    computed_on = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "control readiness"
        indexes = [
            # The controls list's `readiness` filter and the owners' "open" counts:
            # controls of an organization that are (not) ready.
            models.Index(fields=["organization", "ready"], name="control_readiness_org_ready"),
            # The controls list's `blocker` and `evidence=needed` filters (and My work's
            # "Evidence needed") match blocker_kinds with LIKE on rows found by the
            # organization's or the owner's index: at most an organization's controls.
        ]

    def __str__(self) -> str:
        return f"{self.control_id}: {'ready' if self.ready else 'not ready'}"


class RequirementReadinessState(models.TextChoices):
    READY = "ready", "Ready"
    NOT_READY = "not_ready", "Not ready"
    GAP = "gap", "Gap"


class RequirementReadiness(models.Model):
    """One requirement's state for one organization, for every assessable, non-withdrawn
    requirement of every framework it adopted (scope is applied when reading)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=RequirementReadinessState.choices)
    controls_total = models.PositiveIntegerField(default=0)
    controls_ready = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "requirement readiness"
        constraints = [
            # Also the index of the framework page's read (an organization's rows of a
            # framework's requirements) and of the locks taken by controls_changed.
            models.UniqueConstraint(
                fields=["organization", "requirement"], name="requirement_readiness_unique"
            ),
        ]
        indexes = [
            # The dashboard / readiness API tallies: GROUP BY framework, category, state over
            # an organization's rows, and the framework page's `state` filter.
            models.Index(
                fields=["organization", "state", "requirement"],
                name="requirement_readiness_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id} at {self.organization_id}: {self.state}"


class RecomputationTrigger(models.TextChoices):
    NIGHTLY = "nightly", "Nightly"
    COMMAND = "command", "Command"
    SEED = "seed", "Demo data"
    IMPORT = "import", "Bulk import"
    TEST = "test", "Test"
    UPGRADE = "upgrade", "Upgrade"


class ReadinessRecomputation(models.Model):
    """A full recomputation of one organization's readiness, and the drift it repaired."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="readiness_recomputations"
    )
    trigger = models.CharField(max_length=20, choices=RecomputationTrigger.choices)
    # The organization-local date the run computed for: the nightly run skips an organization
    # whose last run was for today.
    computed_on = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    controls_checked = models.PositiveIntegerField(default=0)
    requirements_checked = models.PositiveIntegerField(default=0)
    # Rows that differed from the recomputation although computed for today: a missed update.
    drifted = models.PositiveIntegerField(default=0)
    # Rows computed for an earlier local date that now differ: expected (evidence went stale,
    # a review came due, an exception expired), not drift.
    date_changed = models.PositiveIntegerField(default=0)
    # At most DRIFT_SAMPLE_SIZE of [{"object", "stored", "recomputed"}].
    drift_sample = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The nightly tick: each organization's latest run (and the history, newest first).
            models.Index(fields=["organization", "-started_at"], name="readiness_run_org_started"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.trigger} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float:
        if self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()
