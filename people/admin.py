from __future__ import annotations

from django.contrib import admin

from compliance.admin import ReadOnlyAdmin
from people.models import Person, PersonnelNotice, PersonnelRecord, PersonnelRequirement


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    """Read-only: the roster changes through the app, so every change is audited."""

    list_display = ["full_name", "email", "organization", "department", "employment_type",
                    "start_date", "end_date"]  # fmt: skip
    list_filter = ["organization", "employment_type"]
    search_fields = ["full_name", "email"]


@admin.register(PersonnelRequirement)
class PersonnelRequirementAdmin(ReadOnlyAdmin):
    list_display = ["kind", "organization", "applies_to_employees", "applies_to_contractors",
                    "due_days", "control"]  # fmt: skip
    list_filter = ["organization", "kind"]


@admin.register(PersonnelRecord)
class PersonnelRecordAdmin(ReadOnlyAdmin):
    list_display = ["person", "kind", "completed_on", "result", "recorded_by", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["person__full_name", "person__email"]


@admin.register(PersonnelNotice)
class PersonnelNoticeAdmin(ReadOnlyAdmin):
    list_display = ["person", "kind", "due_date", "sent_at"]
