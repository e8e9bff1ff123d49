from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One append-only entry of the audit trail.

    Events form one hash chain per organization (``chain`` is ``org:<id>``, or ``global`` for
    events outside any organization). ``hash`` covers the event's content and the previous
    event's hash, so editing, deleting or reordering a row is detected by
    ``manage.py verify_audit_trail``.
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    organization = models.ForeignKey(
        "compliance.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the hash covers: the actor as they were named at the time, not a foreign key.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq"),
        ]
        indexes = [
            # The admin's audit-trail page: one organization's events, newest first by chain
            # sequence (the order the hash chain was written in).
            models.Index(fields=["organization", "-seq"], name="audit_event_org_seq"),
            # "History of this object" on detail pages.
            models.Index(fields=["object_type", "object_id"], name="audit_event_object"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The last sequence number and hash of each chain; locked while appending."""

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"


class StatusChange(models.Model):
    """Base of the rows that keep every status change of something (a control, a policy version,
    an evidence request's occurrence): who, when and why. A subclass adds the foreign key to
    what changed and ``from_status`` / ``to_status`` with its own choices."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
