"""The signed audit package of an engagement (a ZIP built by a worker) and the organization's
signing key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from audits.models.engagements import Audit
from compliance.models import Organization


class PackageStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Being built"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"


class AuditPackage(models.Model):
    """One export of an engagement: the controls matrix, every evidence file of its scope and
    window, and ``manifest.json`` (each file's path, size and SHA-256) signed with the
    organization's Ed25519 key. Built by ``audits.tasks.build_audit_package``; the ZIP lives
    in the evidence storage under ``storage_key`` (a folder the orphan check skips)."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="packages")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=PackageStatus.choices, default=PackageStatus.QUEUED
    )
    files_done = models.PositiveIntegerField(default=0)
    files_total = models.PositiveIntegerField(default=0)
    storage_key = models.CharField(max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The package tab: an engagement's latest packages.
            models.Index(fields=["audit", "-created_at"], name="audit_package_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(storage_key=""), name="audit_package_done_file"
            ),
        ]

    def __str__(self) -> str:
        return f"Package {self.pk} of {self.audit}"

    @property
    def is_pending(self) -> bool:
        return self.status in (PackageStatus.QUEUED, PackageStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == PackageStatus.DONE:
            return 100
        if not self.files_total:
            return 0
        return min(99, self.files_done * 100 // self.files_total)


class SigningKey(models.Model):
    """The organization's Ed25519 key pair that signs its audit packages. Created on first use;
    the private key is a Fernet token (controls.integrations.crypto), never shown."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="signing_key"
    )
    public_key = models.CharField(max_length=64, help_text="Base64 of the raw 32-byte key.")
    private_key_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Signing key of {self.organization_id}"
