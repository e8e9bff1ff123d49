from __future__ import annotations

from django.contrib import admin

from compliance.admin import ReadOnlyAdmin
from controls.models import AdoptedFramework, Control, ControlStatusChange, Framework, Requirement


class CatalogAdmin(ReadOnlyAdmin):
    """Catalogs come from versioned files (manage.py load_catalogs), never from hand edits."""


@admin.register(Framework)
class FrameworkAdmin(CatalogAdmin):
    list_display = ["short_name", "name", "edition", "version", "updated_at"]


@admin.register(Requirement)
class RequirementAdmin(CatalogAdmin):
    list_display = ["ref_id", "title", "framework", "category", "assessable", "withdrawn"]
    list_filter = ["framework", "assessable", "withdrawn"]
    search_fields = ["ref_id", "title", "key"]


@admin.register(AdoptedFramework)
class AdoptedFrameworkAdmin(CatalogAdmin):
    list_display = ["organization", "framework", "adopted_at"]


@admin.register(Control)
class ControlAdmin(CatalogAdmin):
    """Read-only: controls change through the app, so every change is audited."""

    list_display = ["ref_id", "name", "organization", "status", "owner", "archived_at"]
    list_filter = ["status", "organization"]
    search_fields = ["ref_id", "name"]


@admin.register(ControlStatusChange)
class ControlStatusChangeAdmin(CatalogAdmin):
    list_display = ["control", "from_status", "to_status", "actor", "created_at"]
