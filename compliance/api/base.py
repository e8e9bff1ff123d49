"""What every organization-scoped API view shares: the organization from the URL, the role,
and the permission choke point as a filter backend."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Model, QuerySet
from django.http import QueryDict
from rest_framework import exceptions, serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView

from compliance import mfa
from compliance.models import Membership, Organization, User
from compliance.permissions import (
    ROLE_CAPABILITIES,
    Capability,
    active_memberships,
    can,
    restrict,
)

# The organization part of every organization-scoped API route.
ORG = r"organizations/(?P<org>[a-z0-9-]+)"


class OrganizationScopedMixin(APIView):
    """Resolves ``<org>`` (a slug). Not a member → 404; role lacks the capability → 403."""

    #: capability needed for each action; missing actions need VIEW_PROGRAM.
    capabilities: dict[str, Capability | None] = {}
    organization: Organization
    membership: Membership

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        slug = kwargs.get("org")
        membership = next(
            (m for m in active_memberships(request.user).values() if m.organization.slug == slug),
            None,
        )
        if membership is None:
            raise exceptions.NotFound("No such organization.")
        self.membership = membership
        self.organization = membership.organization
        request.organization = self.organization  # type: ignore[attr-defined]
        if self.organization.require_two_factor and not mfa.is_enabled(self.actor):
            raise exceptions.PermissionDenied(
                f"{self.organization.name} requires two-factor sign-in: turn it on for "
                f"{self.actor.email} (account menu → Two-factor sign-in) to use its API."
            )
        action = getattr(self, "action", None) or request.method.lower()  # type: ignore[union-attr]
        needed = self.capabilities.get(action, Capability.VIEW_PROGRAM)
        if needed is not None and needed not in ROLE_CAPABILITIES.get(membership.role, frozenset()):
            raise exceptions.PermissionDenied("Your role in this organization does not allow this.")

    @property
    def actor(self) -> User:
        """The authenticated user (DRF's IsAuthenticated ran before ``initial`` returns)."""
        return cast(User, self.request.user)

    @property
    def schema_only(self) -> bool:
        """drf-spectacular instantiates views without a request to build the schema."""
        return bool(getattr(self, "swagger_fake_view", False))

    def has_capability(self, capability: Capability) -> bool:
        return capability in ROLE_CAPABILITIES.get(self.membership.role, frozenset())

    def require_change(self, obj: Model) -> None:
        """A visible object the user may not change answers 403."""
        if not can(self.request.user, "change", obj):
            raise exceptions.PermissionDenied("You may not change this object.")

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        context["organization"] = getattr(self, "organization", None)
        return context


class PermittedObjectsFilter(BaseFilterBackend):
    """Rows the requester may see in the URL's organization, from the choke point."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        organization = getattr(view, "organization", None)
        if organization is None:
            return queryset.none()
        # restrict() filters in place when the role sees the whole organization: an
        # "id IN (SELECT id FROM the same table)" made PostgreSQL hash-join two sequential scans
        # of the table to count a page (the test runs API).
        return restrict(queryset, request.user, "view", organization=organization)


# In a JSON body a value has the type the schema states: DRF would take 5 for "5", "true" for
# true and "5" for 5. (Form and multipart bodies carry text only, and are left to the fields.)
JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.ManyRelatedField, (list,), "Must be a list."),
    (serializers.ListField, (list,), "Must be a list."),
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be a whole number."),
    (serializers.ChoiceField, (str,), "Must be a string."),
    (serializers.CharField, (str,), "Must be a string."),
]


def _json_type_error(field: serializers.Field, value: Any) -> str | None:
    if value is None:
        return None
    for field_class, types, message in JSON_TYPES:
        if isinstance(field, field_class):
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                return message
            return None
    return None


class StrictFieldsMixin(serializers.Serializer):
    """Reject unknown and read-only fields instead of silently ignoring them, and in a JSON
    body values of the wrong type."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = {}
            for name in data:
                if name not in self.fields:
                    errors[name] = ["Unknown field."]
                elif name not in writable:
                    errors[name] = ["This field is read-only."]
                elif not isinstance(data, QueryDict):
                    message = _json_type_error(self.fields[name], data[name])
                    if message:
                        errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
