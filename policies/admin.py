from __future__ import annotations

from django.contrib import admin

from compliance.admin import ReadOnlyAdmin
from policies.models import (
    Acknowledgement,
    AcknowledgementRequest,
    Policy,
    PolicyVersion,
    PolicyVersionStatusChange,
)


class PolicyAdminBase(ReadOnlyAdmin):
    """Read-only: policies change through the app, so every change is audited."""


@admin.register(Policy)
class PolicyAdmin(PolicyAdminBase):
    list_display = ["title", "organization", "category", "owner", "review_months", "updated_at"]
    list_filter = ["category", "organization"]
    search_fields = ["title", "library_key"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(PolicyAdminBase):
    list_display = ["policy", "number", "status", "effective_date", "approved_by", "updated_at"]
    list_filter = ["status"]
    search_fields = ["policy__title"]


@admin.register(PolicyVersionStatusChange)
class PolicyVersionStatusChangeAdmin(PolicyAdminBase):
    list_display = ["version", "from_status", "to_status", "actor", "created_at"]


@admin.register(AcknowledgementRequest)
class AcknowledgementRequestAdmin(PolicyAdminBase):
    list_display = ["version", "person", "round", "sent_at"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(PolicyAdminBase):
    list_display = ["version", "person", "round", "acknowledged_at", "via"]
    list_filter = ["via"]
