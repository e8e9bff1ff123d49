from __future__ import annotations

from django.contrib import admin

from compliance.admin import ReadOnlyAdmin
from vendors.models import Vendor, VendorReview


@admin.register(Vendor)
class VendorAdmin(ReadOnlyAdmin):
    """Read-only: the inventory changes through the app, so every change is audited."""

    list_display = ["name", "organization", "risk_tier", "category", "is_subprocessor", "owner",
                    "status", "onboarded_on"]  # fmt: skip
    list_filter = ["organization", "risk_tier", "category", "status", "is_subprocessor"]
    search_fields = ["name", "website"]


@admin.register(VendorReview)
class VendorReviewAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "reviewed_on", "outcome", "recorded_by", "recorded_at"]
    list_filter = ["outcome"]
    search_fields = ["vendor__name"]
