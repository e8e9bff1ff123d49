from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from compliance.models import Organization


class EmploymentType(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    CONTRACTOR = "contractor", "Contractor"


class Person(models.Model):
    """Someone who works for the organization, with or without a login."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="people")
    full_name = models.CharField(max_length=150)
    email = models.EmailField()
    title = models.CharField(max_length=150, blank=True)
    department = models.CharField(max_length=100, blank=True)
    manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    employment_type = models.CharField(
        max_length=20, choices=EmploymentType.choices, default=EmploymentType.EMPLOYEE
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    # The person's Attest account, when they have one (matched by email).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(F("organization"), Lower("email"), name="person_email_unique"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="person_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def is_active_on(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


def active_people_q(day: dt.date) -> Q:
    """People employed on ``day`` (started, not yet left)."""
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


# --- Onboarding and offboarding requirements ----------------------------------------------------


class RequirementKind(models.TextChoices):
    """What an organization can require of its people. Offboarding is a kind too: its due days
    count from the last day instead of the start date (the access-revocation SLA)."""

    BACKGROUND_CHECK = "background_check", "Background check"
    AGREEMENT = "agreement", "Employment agreement / NDA"
    SECURITY_TRAINING = "security_training", "Security awareness training"
    POLICY_ACKNOWLEDGEMENTS = "policy_acknowledgements", "Policy acknowledgements"
    PASSWORD_MANAGER = "password_manager", "Password manager enrolled"
    MFA = "mfa", "MFA enabled"
    OFFBOARDING = "offboarding", "Access revoked on leaving"


# Policy acknowledgements are computed by the policies app, never recorded here.
RECORDED_KINDS = tuple(k for k in RequirementKind if k != RequirementKind.POLICY_ACKNOWLEDGEMENTS)


class BackgroundCheckResult(models.TextChoices):
    CLEAR = "clear", "Clear"
    CONSIDER = "consider", "Consider"
    FAILED = "failed", "Failed"


class PersonnelRequirement(models.Model):
    """One onboarding (or offboarding) requirement as an organization configured it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="personnel_requirements"
    )
    kind = models.CharField(max_length=30, choices=RequirementKind.choices)
    applies_to_employees = models.BooleanField("required for employees", default=True)
    applies_to_contractors = models.BooleanField("required for contractors", default=True)
    due_days = models.PositiveSmallIntegerField(
        "due within (days)",
        default=0,
        help_text="Days after the start date (for offboarding: after the last day) by which it "
        "must be done. 0 means by that day.",
    )
    # The control whose readiness depends on this requirement (e.g. HR-01 for background checks).
    control = models.ForeignKey(
        "controls.Control",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="personnel_requirements",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind"], name="personnel_requirement_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_offboarding(self) -> bool:
        return self.kind == RequirementKind.OFFBOARDING

    @property
    def is_enabled(self) -> bool:
        return self.applies_to_employees or self.applies_to_contractors

    def applies_to(self, employment_type: str) -> bool:
        if employment_type == EmploymentType.CONTRACTOR:
            return self.applies_to_contractors
        return self.applies_to_employees


class PersonnelRecord(models.Model):
    """A completion of one requirement by one person. Recording again adds a row; the latest
    (by completion date) counts."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=30, choices=RequirementKind.choices)
    # When it was done; for offboarding, the day access was revoked.
    completed_on = models.DateField()
    provider = models.CharField(max_length=100, blank=True)
    result = models.CharField(max_length=10, choices=BackgroundCheckResult.choices, blank=True)
    evidence = models.ForeignKey(
        "evidence.EvidenceItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="personnel_records",
    )
    notes = models.TextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="policy_acknowledgements"), name="record_kind_is_recorded"
            ),
            models.CheckConstraint(
                condition=Q(kind="background_check") | Q(result=""),
                name="record_result_only_for_checks",
            ),
        ]
        indexes = [
            # The latest record of each kind per person (completion matrix, readiness, My work).
            models.Index(fields=["person", "kind", "-completed_on"], name="record_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.person_id} on {self.completed_on}"


class PersonnelNotice(models.Model):
    """An overdue item the admins were emailed about; ``people_tick`` sends each one once.

    An item is a person's requirement with its due date, so a training that expires again next
    year is a new item."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=30, choices=RequirementKind.choices)
    due_date = models.DateField()
    email = models.ForeignKey(
        "compliance.OutboundEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "due_date"], name="personnel_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.person_id} due {self.due_date}"
