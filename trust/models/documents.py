"""Documents on the trust page: public ones download directly; gated ones need an access
request, an accepted NDA and an approved, expiring, revocable grant. Every download is logged."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from trust.models.page import TrustPage


class DocumentAccess(models.TextChoices):
    PUBLIC = "public", "Public"
    GATED = "gated", "After an approved request (NDA)"


class TrustDocument(models.Model):
    """A file shown on the trust page. Stored like evidence (hashed, never overwritten, served
    only as an attachment), under a "." folder of the evidence storage so evidence's orphan
    check leaves it alone. A new file is a new document: a row's file never changes."""

    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=150)
    description = models.CharField(max_length=500, blank=True)
    access = models.CharField(
        max_length=10, choices=DocumentAccess.choices, default=DocumentAccess.GATED
    )
    storage_key = models.CharField(max_length=300, unique=True)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    is_published = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_gated(self) -> bool:
        return self.access == DocumentAccess.GATED


class TrustNda(models.Model):
    """A version of the NDA a requester accepts; the newest is in force. Versions are records:
    a change is a new version, and an acceptance names the version it accepted."""

    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="ndas")
    version = models.PositiveIntegerField()
    text = models.TextField(max_length=50_000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["page", "version"], name="trust_nda_version_unique"),
        ]

    def __str__(self) -> str:
        return f"NDA v{self.version}"


class AutoApproveRule(models.Model):
    """Requests from this email domain (e.g. an existing customer's) are approved at once."""

    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="auto_approve_rules")
    domain = models.CharField(max_length=253, help_text="e.g. example.com (lower case)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "domain"]
        constraints = [
            models.UniqueConstraint(fields=["page", "domain"], name="trust_auto_approve_unique"),
        ]

    def __str__(self) -> str:
        return self.domain


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"


class AccessRequest(models.Model):
    """Someone outside asking for the gated documents, with the NDA they accepted (version,
    time, address and browser), and the decision on it."""

    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="access_requests")
    name = models.CharField(max_length=150)
    email = models.EmailField()
    company = models.CharField(max_length=150)
    reason = models.TextField(max_length=2000, blank=True)
    documents = models.ManyToManyField(TrustDocument, related_name="access_requests")
    nda = models.ForeignKey(TrustNda, on_delete=models.PROTECT, null=True, related_name="+")
    nda_accepted_at = models.DateTimeField(null=True)
    nda_ip = models.GenericIPAddressField(null=True)
    nda_user_agent = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    auto_approved_by = models.ForeignKey(
        AutoApproveRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The admins' queue: a page's requests waiting for a decision, newest first.
            models.Index(
                fields=["page", "-created_at"],
                condition=Q(status="pending"),
                name="trust_request_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> ({self.company})"


class AccessGrant(models.Model):
    """The signed download link an approved request gets: only the SHA-256 of its secret is
    stored; it expires and can be revoked."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="grants")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Grant {self.pk} for request {self.request_id}"


class DocumentDownload(models.Model):
    """One download of a trust-page document, public or through a grant."""

    document = models.ForeignKey(TrustDocument, on_delete=models.CASCADE, related_name="downloads")
    grant = models.ForeignKey(
        AccessGrant, on_delete=models.SET_NULL, null=True, blank=True, related_name="downloads"
    )
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["document", "-at"], name="trust_download_latest"),
        ]

    def __str__(self) -> str:
        return f"Download of {self.document_id} at {self.at}"
