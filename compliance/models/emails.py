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
