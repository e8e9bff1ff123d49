from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from compliance.models import Organization, StatusChange
from controls.models import Control, Requirement
from people.models import Person


class PolicyCategory(models.TextChoices):
    GOVERNANCE = "governance", "Security governance"
    PEOPLE = "people", "People & acceptable use"
    ACCESS = "access", "Access control"
    ENGINEERING = "engineering", "Engineering & change"
    OPERATIONS = "operations", "IT operations"
    INCIDENT = "incident", "Incident response"
    CONTINUITY = "continuity", "Continuity & resilience"
    VENDOR = "vendor", "Vendor management"
    DATA = "data", "Data protection"
    RISK = "risk", "Risk management"
    PRIVACY = "privacy", "Privacy"


class Policy(models.Model):
    """A governed document with an owner and a review cadence; its text lives in versions."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="policies"
    )
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=PolicyCategory.choices)
    description = models.TextField("summary", blank=True, max_length=1000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_policies",
    )
    review_months = models.PositiveSmallIntegerField(
        "review every (months)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
    )
    # A review that confirmed the approved text still holds, without a new version.
    last_reviewed_on = models.DateField(null=True, blank=True)
    # The review due date the owner was last reminded of (the daily task reminds once per date).
    review_reminder_sent_for = models.DateField(null=True, blank=True, editable=False)
    controls = models.ManyToManyField(Control, related_name="policies", blank=True)
    requirements = models.ManyToManyField(Requirement, related_name="policies", blank=True)
    # Set when imported from Attest's policy library (the file's key, e.g. "access-control").
    library_key = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(F("organization"), Lower("title"), name="policy_title_unique"),
            # Importing the library twice never duplicates a policy.
            models.UniqueConstraint(
                fields=["organization", "library_key"],
                condition=~Q(library_key=""),
                name="policy_library_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)


class PolicyVersion(models.Model):
    """One text of a policy. Drafts change; an approved version never does."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(blank=True, max_length=100_000, help_text="Markdown.")
    change_summary = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    effective_date = models.DateField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique"),
            # One current version per policy (also the index behind "the approved version of
            # these policies", used by every page, the readiness source and the selector).
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="approved"),
                name="policy_one_approved_version",
            ),
            # At most one version being written or reviewed at a time.
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status__in=["draft", "in_review"]),
                name="policy_one_open_version",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_review"])
                | (Q(approved_at__isnull=False) & Q(effective_date__isnull=False)),
                name="policy_version_approval_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class PolicyVersionStatusChange(StatusChange):
    """Every status change of a version: who, when, from, to, why."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=VersionStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=VersionStatus.choices)

    def __str__(self) -> str:
        return f"{self.version_id}: {self.from_status or '∅'} → {self.to_status}"


class Distribution(models.Model):
    """Who an approved version was sent to for acknowledgement: active people, optionally only
    one employment type or one department."""

    version = models.OneToOneField(
        PolicyVersion, on_delete=models.CASCADE, related_name="distribution"
    )
    employment_type = models.CharField(max_length=20, blank=True)
    department = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Distribution of {self.version}"

    @property
    def audience(self) -> str:
        parts = []
        if self.employment_type:
            parts.append(f"{self.employment_type}s")
        if self.department:
            parts.append(f"in {self.department}")
        return "Everyone" if not parts else "Only " + " ".join(parts)


class AcknowledgementRequest(models.Model):
    """A version sent to one person, in one round (1, then one more per yearly renewal)."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="acknowledgement_requests"
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="acknowledgement_requests"
    )
    round = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            # The daily round can run twice without emailing anyone twice.
            models.UniqueConstraint(
                fields=["version", "person", "round"], name="ack_request_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} to {self.person_id} (round {self.round})"


class AcknowledgementVia(models.TextChoices):
    APP = "app", "In Attest"
    LINK = "link", "Emailed link"
    RECORDED = "recorded", "Recorded by an admin"


class Acknowledgement(models.Model):
    """A person confirmed they read a version (once per round; a round lasts a year)."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    # RESTRICT: a person with acknowledgements is kept (deleting the organization still works).
    person = models.ForeignKey(Person, on_delete=models.RESTRICT, related_name="acknowledgements")
    round = models.PositiveSmallIntegerField()
    acknowledged_at = models.DateTimeField()
    via = models.CharField(max_length=20, choices=AcknowledgementVia.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The signed-in user who acknowledged, or the admin who recorded it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            # Acknowledging twice (two clicks, two tabs) leaves one row.
            models.UniqueConstraint(fields=["version", "person", "round"], name="ack_unique"),
        ]
        indexes = [
            # Outstanding acknowledgements of a set of people (the selector the people app uses).
            models.Index(fields=["person", "version", "acknowledged_at"], name="ack_by_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} acknowledged {self.version} (round {self.round})"
