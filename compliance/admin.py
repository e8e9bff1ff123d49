from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from compliance import mfa
from compliance.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    OutboundEmail,
    ReadinessSnapshot,
    TotpDevice,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ["groups"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "organization",
        "role",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role"]
    exclude = ["token_hash"]
    readonly_fields = [
        "organization",
        "email",
        "role",
        "invited_by",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "access_expires_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TotpDevice)
class TotpDeviceAdmin(admin.ModelAdmin):
    """Who has two-factor sign-in on. Deleting one resets it for a user who lost their phone
    and recovery codes (audited); the secret is never shown."""

    list_display = ["user", "created_at"]
    search_fields = ["user__email"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TotpDevice) -> None:
        mfa.mfa_reset(actor=request.user, user=obj.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for device in queryset.select_related("user"):
            mfa.mfa_reset(actor=request.user, user=device.user)  # type: ignore[arg-type]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: the admin can read it, never edit it."""

    list_display = ["created_at", "chain", "seq", "actor_label", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_repr", "request_id"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "template", "subject", "sent_at", "attempts"]
    exclude = ["text_body", "html_body"]


@admin.register(ReadinessSnapshot)
class ReadinessSnapshotAdmin(ReadOnlyAdmin):
    """Weekly snapshots are immutable once written: the admin reads them."""

    list_display = ["organization", "framework", "week", "percent", "computed_at"]
    list_filter = ["framework"]
    search_fields = ["organization__slug"]
    date_hierarchy = "week"
