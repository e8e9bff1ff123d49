"""What auditors create within their engagement: requests for evidence (the PBC list, "provided
by client") with their threads, and findings (exceptions) with management's response."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from audits.models.engagements import Audit


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    ASSIGNED = "assigned", "Assigned"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    CLOSED = "closed", "Closed"


class AuditRequest(models.Model):
    """One item of the PBC list: what the auditor asks for, who answers it, and the evidence
    that does. Open → assigned → submitted → accepted; a returned request is open again;
    the auditor may close (withdraw) one at any time."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="requests")
    number = models.PositiveIntegerField()  # 1, 2, 3… per engagement
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    control = models.ForeignKey(
        "controls.Control",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_requests",
    )
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_requests",
    )
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    evidence = models.ManyToManyField(
        "evidence.EvidenceItem", related_name="audit_requests", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["audit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "number"], name="audit_request_number"),
        ]
        indexes = [
            # "My work": an assignee's requests still to answer.
            models.Index(
                fields=["assignee", "due_date"],
                name="audit_request_to_answer",
                condition=models.Q(status__in=["open", "assigned"]),
            ),
        ]

    def __str__(self) -> str:
        return f"PBC-{self.number} {self.title}"

    @property
    def label(self) -> str:
        return f"PBC-{self.number}"


class AuditRequestComment(models.Model):
    """One entry of a request's thread: a comment, a change of status (old → new), or both."""

    request = models.ForeignKey(AuditRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(blank=True)
    status_from = models.CharField(max_length=10, choices=RequestStatus.choices, blank=True)
    status_to = models.CharField(max_length=10, choices=RequestStatus.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request} comment {self.pk}"


class FindingSeverity(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESPONDED = "responded", "Responded"
    CLOSED = "closed", "Closed"


class AuditFinding(models.Model):
    """An exception the auditor found, the controls it affects, and management's response."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="findings")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=FindingSeverity.choices)
    controls = models.ManyToManyField("controls.Control", related_name="audit_findings", blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    management_response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["audit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "number"], name="audit_finding_number"),
        ]

    def __str__(self) -> str:
        return f"F-{self.number} {self.title}"

    @property
    def label(self) -> str:
        return f"F-{self.number}"
