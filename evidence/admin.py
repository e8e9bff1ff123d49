from __future__ import annotations

from django.contrib import admin

from compliance.admin import ReadOnlyAdmin
from evidence.models import (
    EvidenceItem,
    EvidenceRequest,
    EvidenceRevision,
    IntegrityAlert,
    IntegrityRun,
    RequestOccurrence,
)


# Evidence changes only through the app (so every change is audited and files stay immutable);
# operators can read it here.
@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "kind", "effective_date", "created_at"]
    list_filter = ["kind", "organization"]
    search_fields = ["title"]


@admin.register(EvidenceRevision)
class EvidenceRevisionAdmin(ReadOnlyAdmin):
    list_display = ["item", "number", "original_name", "size", "sha256", "review_status"]
    list_filter = ["review_status"]
    search_fields = ["sha256", "original_name"]


@admin.register(EvidenceRequest)
class EvidenceRequestAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "cadence", "owner", "active"]


@admin.register(RequestOccurrence)
class RequestOccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["request", "sequence", "due_date", "status"]
    list_filter = ["status"]


@admin.register(IntegrityRun)
class IntegrityRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "finished_at",
        "status",
        "checked",
        "missing",
        "altered",
        "orphaned",
        "stale_uploads",
    ]


@admin.register(IntegrityAlert)
class IntegrityAlertAdmin(ReadOnlyAdmin):
    list_display = ["detected_at", "kind", "storage_key", "organization", "acknowledged_at"]
    list_filter = ["kind"]
