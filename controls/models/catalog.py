from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from compliance.models import Organization, StatusChange

# --- Catalog (global, read-only for users) ------------------------------------------------------


class Framework(models.Model):
    """A catalog such as SOC 2 TSC 2017 or ISO/IEC 27001:2022, loaded from ``controls/library``."""

    key = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=50)
    edition = models.CharField(max_length=100, blank=True)
    publisher = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(help_text="Revision of Attest's data file.")
    content_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name


class FrameworkCategory(models.Model):
    """A part of a framework that can be put in or out of scope (SOC 2 Availability, ISO A.8)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    mandatory = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["framework", "order"]
        verbose_name_plural = "framework categories"
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="category_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Requirement(models.Model):
    """One node of a framework's tree; ``assessable`` nodes are what readiness counts."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    key = models.CharField(max_length=250, unique=True)
    ref_id = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        FrameworkCategory, on_delete=models.PROTECT, related_name="requirements"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    assessable = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    # Dropped from a newer catalog version while still mapped: kept, but no longer counted.
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "ref_id"], name="requirement_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.title}"


# --- Adoption (per organization) ----------------------------------------------------------------


class AdoptedFramework(models.Model):
    """An organization working towards a framework, with the categories it put in scope."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="adopted_frameworks"
    )
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="adoptions")
    scope = models.ManyToManyField(FrameworkCategory, related_name="+")
    adopted_at = models.DateTimeField(auto_now_add=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The date the audit is planned for (a Type I "as of" date or the start of a Type II
    # period): the forecast says whether readiness reaches 100 % by then.
    target_audit_date = models.DateField(
        null=True,
        blank=True,
        help_text="A Type I date or the start of a Type II period; the forecast compares "
        "the ready date with it.",
    )

    class Meta:
        ordering = ["framework__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "framework"], name="adopted_framework_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.framework} at {self.organization_id}"


# --- Controls -----------------------------------------------------------------------------------


class ControlStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    IMPLEMENTED = "implemented", "Implemented"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class Frequency(models.TextChoices):
    CONTINUOUS = "continuous", "Continuous"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual"
    EVENT_DRIVEN = "event_driven", "Event-driven"


class ControlCategory(models.TextChoices):
    GOVERNANCE = "governance", "Governance & policies"
    RISK = "risk", "Risk management"
    PEOPLE = "people", "People & HR security"
    ASSET = "asset", "Asset management"
    ACCESS = "access", "Access control"
    CRYPTO = "crypto", "Cryptography"
    OPERATIONS = "operations", "Operations"
    CHANGE = "change", "Change management & SDLC"
    MONITORING = "monitoring", "Logging & monitoring"
    INCIDENT = "incident", "Incident response"
    CONTINUITY = "continuity", "Continuity & availability"
    VENDOR = "vendor", "Vendor management"
    DATA = "data", "Data protection"
    PRIVACY = "privacy", "Privacy"
    PHYSICAL = "physical", "Physical security"
    COMMUNICATION = "communication", "Communication"


class Control(models.Model):
    """What the organization actually does; maps to requirements of any adopted framework."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="controls"
    )
    ref_id = models.CharField("ID", max_length=20)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=4000)
    category = models.CharField(max_length=20, choices=ControlCategory.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_controls",
    )
    backup_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backup_controls",
    )
    status = models.CharField(
        max_length=20, choices=ControlStatus.choices, default=ControlStatus.NOT_STARTED
    )
    na_justification = models.TextField(
        "justification for not applicable", blank=True, max_length=2000
    )
    frequency = models.CharField(max_length=20, choices=Frequency.choices)
    narrative = models.TextField("implementation narrative", blank=True, max_length=10000)
    guidance = models.TextField(blank=True, max_length=4000)
    long_lead = models.BooleanField(
        default=False, help_text="Takes weeks or months to put in place; start early."
    )
    target_date = models.DateField(null=True, blank=True)
    # Set when imported from a control set (e.g. "urn:attest:control-set:soc2-starter#IAM-01").
    source_key = models.CharField(max_length=250, blank=True)
    requirements = models.ManyToManyField(
        Requirement, through="ControlRequirement", related_name="controls"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ref_id"]
        constraints = [
            models.UniqueConstraint(
                F("organization"), Lower("ref_id"), name="control_ref_unique_ci"
            ),
            # Importing a control set twice never duplicates a control.
            models.UniqueConstraint(
                fields=["organization", "source_key"],
                condition=~Q(source_key=""),
                name="control_source_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status="not_applicable") | ~Q(na_justification=""),
                name="control_na_needs_justification",
            ),
        ]
        indexes = [
            # The control list: active controls of an organization by status.
            models.Index(
                fields=["organization", "status"],
                condition=Q(archived_at__isnull=True),
                name="control_active_by_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.name}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ControlRequirement(models.Model):
    """A mapping: this control (partly) satisfies that requirement."""

    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="mappings")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="mappings")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["control", "requirement"]
        constraints = [
            models.UniqueConstraint(fields=["control", "requirement"], name="mapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.control_id} → {self.requirement_id}"


class ControlStatusChange(StatusChange):
    """Every status change of a control: who, when, from, to, why."""

    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ControlStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ControlStatus.choices)

    def __str__(self) -> str:
        return f"{self.control_id}: {self.from_status or '∅'} → {self.to_status}"


class ControlFrequencyChange(StatusChange):
    """Every change of a control's frequency (recorded since controls 0007): readiness as of a
    past date judges the freshness of evidence by the frequency the control had then."""

    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="frequency_changes")
    from_frequency = models.CharField(max_length=20, choices=Frequency.choices)
    to_frequency = models.CharField(max_length=20, choices=Frequency.choices)

    def __str__(self) -> str:
        return f"{self.control_id}: {self.from_frequency} → {self.to_frequency}"


# Object grants (django-guardian) with real foreign keys, so grant lookups are indexed joins.
class ControlUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Control, on_delete=models.CASCADE)


class ControlGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Control, on_delete=models.CASCADE)
