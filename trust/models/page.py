"""An organization's public trust page: off until an admin publishes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from compliance.models import Organization


class TrustPage(models.Model):
    """One per organization; created on first edit. Nothing of it is public until
    ``published_at`` is set, and only the sections an admin turned on are shown then."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="trust_page"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Trust page of {self.organization_id}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
