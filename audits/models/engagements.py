"""An audit engagement, the auditors it is shared with, and the log of what they looked at."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from compliance.models import Organization
from controls.models import AdoptedFramework, FrameworkCategory


class AuditType(models.TextChoices):
    """Type I tests the design of the controls as of one date; Type II their operation over a
    period (3 to 12 months)."""

    TYPE_1 = "type1", "Type I (as of a date)"
    TYPE_2 = "type2", "Type II (over a period)"


class AuditStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    FIELDWORK = "fieldwork", "Fieldwork"
    REPORTING = "reporting", "Reporting"
    CLOSED = "closed", "Closed"


class Audit(models.Model):
    """An engagement: a framework and scope, a type with its date or period, a firm, key dates,
    and its auditors (object grants ``view_audit``, see :class:`AuditorAccess`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audits")
    name = models.CharField(max_length=200)
    adoption = models.ForeignKey(AdoptedFramework, on_delete=models.PROTECT, related_name="audits")
    scope = models.ManyToManyField(FrameworkCategory, related_name="+")
    kind = models.CharField("type", max_length=10, choices=AuditType.choices)
    as_of = models.DateField("as of", null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    firm = models.CharField("audit firm", max_length=200, blank=True)
    status = models.CharField(
        max_length=12, choices=AuditStatus.choices, default=AuditStatus.PLANNING
    )
    fieldwork_start = models.DateField(null=True, blank=True)
    fieldwork_end = models.DateField(null=True, blank=True)
    report_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="type1", as_of__isnull=False)
                | Q(
                    kind="type2",
                    period_start__isnull=False,
                    period_end__isnull=False,
                    period_end__gt=F("period_start"),
                ),
                name="audit_date_or_period",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_type_1(self) -> bool:
        return self.kind == AuditType.TYPE_1

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """The dates the engagement looks at: the Type II period, or the Type I date (a window
        of one day: what was in force, current, on it)."""
        if self.kind == AuditType.TYPE_1:
            assert self.as_of is not None
            return self.as_of, self.as_of
        assert self.period_start is not None and self.period_end is not None
        return self.period_start, self.period_end

    @property
    def target_date(self) -> dt.date | None:
        """The date readiness must be reached by: the Type I date, the Type II period start."""
        return self.as_of if self.kind == AuditType.TYPE_1 else self.period_start

    @property
    def period_label(self) -> str:
        from django.utils.formats import date_format

        if self.kind == AuditType.TYPE_1 and self.as_of:
            return f"as of {date_format(self.as_of, 'j M Y')}"
        if self.period_start and self.period_end:
            return (
                f"{date_format(self.period_start, 'j M Y')} to "
                f"{date_format(self.period_end, 'j M Y')}"
            )
        return ""


class AuditUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Audit, on_delete=models.CASCADE)


class AuditGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Audit, on_delete=models.CASCADE)


class AuditorAccessQuerySet(models.QuerySet["AuditorAccess"]):
    def active(self, now: dt.datetime | None = None) -> AuditorAccessQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now, user__isnull=False)


class AuditorAccess(models.Model):
    """An auditor's access to one engagement, from the invitation to its expiry or revocation.

    The access itself is the guardian grant ``view_audit`` on the engagement, given when the
    auditor has an account in the organization (at once, or when they accept the invitation)
    and removed on revocation; this row holds who was invited, when it ends and why."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="accesses")
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_accesses",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AuditorAccessQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit", "email"],
                condition=Q(revoked_at__isnull=True),
                name="auditor_access_one_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} on {self.audit_id}"

    @property
    def is_active(self) -> bool:
        return (
            self.user_id is not None
            and self.revoked_at is None
            and (self.expires_at > timezone.now())
        )

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        if self.user_id is None:
            return "invited"
        return "active"


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed"
    DOWNLOAD = "download", "Downloaded"
    EXPORT = "export", "Exported"


class AccessLogEntry(models.Model):
    """One page an auditor opened or one file anybody downloaded: who, what, when, from where.
    Written once, never changed (the admins' access log of an engagement)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    audit = models.ForeignKey(
        Audit, on_delete=models.CASCADE, null=True, blank=True, related_name="access_log"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    user_label = models.CharField(max_length=254)
    action = models.CharField(max_length=10, choices=AccessAction.choices)
    path = models.CharField(max_length=500)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["audit", "-created_at"], name="access_log_audit_time"),
            models.Index(fields=["organization", "-created_at"], name="access_log_org_time"),
        ]

    def __str__(self) -> str:
        return f"{self.user_label} {self.action} {self.path}"
