from __future__ import annotations

from django.db import models
from django.db.models import Q


class OutboundEmail(models.Model):
    """An email waiting to be sent, or sent (the outbox).

    Writing the row in the sender's transaction means a broker outage delays the email instead of
    losing it: the send task is queued after commit and a periodic sweep re-queues what is still
    unsent. The bodies may hold one-time links, so they are cleared once the email is delivered.
    """

    to = models.JSONField(help_text="List of recipient addresses.")
    subject = models.CharField(max_length=250)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    template = models.CharField(max_length=100, help_text="Which email this is, for operators.")
    # Extra headers (e.g. List-Unsubscribe) and images shown inline in the HTML part
    # ([{"cid", "content_type", "data" (base64)}], e.g. the digest's chart); cleared once sent.
    headers = models.JSONField(default=dict, blank=True)
    inline_images = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The outbox sweep: unsent emails, oldest first.
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="email_unsent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {', '.join(self.to)}"


class WeeklyDigest(models.Model):
    """The weekly emails of one organization's week were queued (once: the unique constraint
    makes a second tick, or two at once, queue nothing)."""

    organization = models.ForeignKey(
        "compliance.Organization", on_delete=models.CASCADE, related_name="+"
    )
    week = models.DateField(help_text="The Monday of the ISO week the digest reports.")
    queued_at = models.DateTimeField()
    digests = models.PositiveIntegerField(default=0)
    your_week = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "week"], name="weekly_digest_unique")
        ]

    def __str__(self) -> str:
        return f"Weekly emails of {self.organization_id}, week of {self.week}"
