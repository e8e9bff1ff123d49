from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from compliance.models import Organization, StatusChange
from controls.models import Control


class Cadence(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMI_ANNUAL = "semi_annual", "Semi-annual"
    ANNUAL = "annual", "Annual"
    EVENT_DRIVEN = "event_driven", "Event-driven"


class EvidenceRequest(models.Model):
    """A recurring ask ("quarterly access review") whose occurrences are fulfilled by evidence."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_requests"
    )
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, max_length=4000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_requests",
    )
    controls = models.ManyToManyField(Control, related_name="evidence_requests", blank=True)
    cadence = models.CharField(max_length=20, choices=Cadence.choices)
    # The first due date; later ones follow the cadence from it (the anchor's day of the month
    # is kept, clamped to short months), in the organization's time zone.
    first_due_date = models.DateField()
    remind_days_before = models.PositiveSmallIntegerField(default=7)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class OccurrenceStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    OVERDUE = "overdue", "Overdue"


class RequestOccurrence(models.Model):
    """One due instance of a request: what a Type II auditor counts as expected vs delivered."""

    request = models.ForeignKey(
        EvidenceRequest, on_delete=models.CASCADE, related_name="occurrences"
    )
    sequence = models.PositiveIntegerField(help_text="1 for the first due date, then 2, 3…")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    due_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=OccurrenceStatus.choices, default=OccurrenceStatus.OPEN
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            # The scheduler can run twice (or on two beats) without duplicating an occurrence.
            models.UniqueConstraint(fields=["request", "sequence"], name="occurrence_unique"),
        ]
        indexes = [
            # A request's occurrences, latest due first (the request page and API).
            models.Index(fields=["request", "-due_date", "-id"], name="occurrence_by_request"),
            # Open work by due date (reminders, overdue marking, "My work").
            models.Index(
                fields=["due_date"],
                condition=Q(status__in=["open", "rejected", "overdue"]),
                name="occurrence_open_by_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} due {self.due_date}"


class OccurrenceStatusChange(StatusChange):
    occurrence = models.ForeignKey(
        RequestOccurrence, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=OccurrenceStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OccurrenceStatus.choices)

    def __str__(self) -> str:
        return f"{self.occurrence_id}: {self.from_status or '∅'} → {self.to_status}"


class EvidenceKind(models.TextChoices):
    FILE = "file", "File"
    LINK = "link", "Link"
    NOTE = "note", "Note"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class EvidenceItem(models.Model):
    """Proof that a control operated. Its content lives in immutable revisions."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="evidence_items"
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=EvidenceKind.choices)
    controls = models.ManyToManyField(Control, related_name="evidence_items", blank=True)
    occurrence = models.ForeignKey(
        RequestOccurrence,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evidence_items",
    )
    # When it was true, not when it was uploaded; optionally the period it covers.
    effective_date = models.DateField()
    covers_from = models.DateField(null=True, blank=True)
    covers_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set on evidence Attest records itself, e.g. "control-test:12" for a test's run snapshots.
    system_key = models.CharField(max_length=100, blank=True, editable=False)
    # The newest revision and its review status, written with every revision and every review
    # (evidence.services; bulk writers call ``evidence_refresh_latest``), so that the review
    # filters, counts and "My work" read the item instead of looking for its newest revision.
    # Revisions go only with their item: SET_NULL only ever applies to an item being deleted.
    latest_revision = models.OneToOneField(
        "EvidenceRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    review_status = models.CharField(
        max_length=10,
        choices=ReviewStatus.choices,
        blank=True,
        editable=False,
        help_text="The latest revision's review status; blank while the item has none.",
    )

    class Meta:
        ordering = ["-effective_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "system_key"],
                condition=~Q(system_key=""),
                name="evidence_system_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(covers_from__isnull=True)
                | Q(covers_until__isnull=True)
                | Q(covers_from__lte=models.F("covers_until")),
                name="evidence_period_in_order",
            ),
        ]
        indexes = [
            # The evidence list's default order (page and API): newest effective date first.
            # Scanned backwards it serves the oldest-first order too.
            models.Index(
                fields=["organization", "-effective_date", "-id"], name="evidence_org_effective"
            ),
            # The evidence list sorted by title (page and API ``ordering=title``).
            models.Index(fields=["organization", "title", "id"], name="evidence_org_title"),
            # The API's ``ordering=created_at``.
            models.Index(fields=["organization", "created_at", "id"], name="evidence_org_created"),
            # The review queue and its count, the "rejected" filter and My work's groups: the
            # organization's items by their latest revision's review status, oldest upload first.
            models.Index(
                fields=["organization", "review_status", "latest_revision"],
                name="evidence_org_review",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EvidenceRevision(models.Model):
    """One immutable version of an item's content: a stored file, a link or a note."""

    item = models.ForeignKey(EvidenceItem, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    # A file: where it is stored (never derived from the user's filename) and what it is.
    storage_key = models.CharField(max_length=300, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # A link or a note.
    url = models.URLField(max_length=2000, blank=True)
    note = models.TextField(blank=True, max_length=20000)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    review_status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True, max_length=2000)
    # The item's effective date from this revision on (it changes only with a revision), so
    # readiness as of a past date finds the date then. Empty on revisions of older items whose
    # date at the time was not known when this was first recorded (evidence 0007).
    effective_date = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="revision_number_unique"),
            models.UniqueConstraint(
                fields=["storage_key"], condition=~Q(storage_key=""), name="revision_file_unique"
            ),
        ]
        indexes = [
            # "What changed" on the weekly page and in the digest: evidence accepted in a
            # week, a range of review times (was a scan of every revision: ~25 ms at 20,000
            # items, twice a page).
            models.Index(
                fields=["reviewed_at"],
                condition=Q(review_status="accepted"),
                name="revision_accepted_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} r{self.number}"


class RevisionReview(models.Model):
    """Every review decision on a revision: who, when, from, to, why."""

    revision = models.ForeignKey(EvidenceRevision, on_delete=models.CASCADE, related_name="reviews")
    from_status = models.CharField(max_length=10, choices=ReviewStatus.choices)
    to_status = models.CharField(max_length=10, choices=ReviewStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.revision_id}: {self.from_status} → {self.to_status}"


class IntegrityRun(models.Model):
    """One pass of the integrity sweep over every stored evidence file."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "No problem found"
        PROBLEMS = "problems", "Problems found"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    checked = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    altered = models.PositiveIntegerField(default=0)
    orphaned = models.PositiveIntegerField(default=0)
    # Partial uploads left in the incoming folder (not an organization's files).
    stale_uploads = models.PositiveIntegerField(default=0)
    log = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Integrity run {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class IntegrityAlert(models.Model):
    """A stored file that is missing, altered or unaccounted for. Never repaired automatically."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Missing"
        ALTERED = "altered", "Altered"
        ORPHANED = "orphaned", "Orphaned"

    run = models.ForeignKey(IntegrityRun, on_delete=models.CASCADE, related_name="alerts")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    revision = models.ForeignKey(
        EvidenceRevision, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    storage_key = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    expected_sha256 = models.CharField(max_length=64, blank=True)
    found_sha256 = models.CharField(max_length=64, blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.storage_key}"


class IdempotencyRecord(models.Model):
    """The answer to a request sent with an ``Idempotency-Key``, replayed on a retry.

    Keys belong to whoever sent them: a user (personal tokens, sessions) or, for a caller that is
    not a person, a ``scope`` such as ``control-test:12`` (a test's push token).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    scope = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
            models.UniqueConstraint(
                fields=["scope", "key"],
                condition=~Q(scope=""),
                name="idempotency_scope_key_unique",
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(scope=""))
                | (Q(user__isnull=True) & ~Q(scope="")),
                name="idempotency_user_or_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or self.scope}:{self.key}"
