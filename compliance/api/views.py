from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from compliance import services
from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import OrderingFilter
from compliance.api.serializers import (
    InvitationSerializer,
    MembershipSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
)
from compliance.models import Invitation, Membership, Organization, User
from compliance.permissions import (
    Capability,
    active_memberships,
    may_create_organization,
    organization_creation_refused,
    restrict,
)

# An error answer: {"detail": "..."} or field names with their messages.
ERROR = OpenApiResponse(description="An error, as JSON naming the problem or the fields.")


class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Organizations the requester belongs to. Creating one makes the requester its admin; who
    may create organizations is the installation's ORGANIZATION_CREATORS setting."""

    serializer_class = OrganizationSerializer
    lookup_field = "slug"
    filter_backends = [OrderingFilter]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Organization]:
        return restrict(Organization.objects.all(), self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        context["memberships"] = active_memberships(self.request.user)
        return context

    @extend_schema(
        request=OrganizationCreateSerializer,
        responses={201: OrganizationSerializer, 400: ERROR, 403: ERROR},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not may_create_organization(request.user):
            raise exceptions.PermissionDenied(organization_creation_refused())
        serializer = OrganizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(
            actor=cast(User, request.user), **serializer.validated_data
        )
        data = self.get_serializer(organization).data
        return Response(data, status=status.HTTP_201_CREATED)


class MembershipViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members of an organization. Admins change roles and remove members."""

    serializer_class = MembershipSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["created_at", "role"]
    ordering = ["created_at"]
    capabilities = {
        "list": None,  # everyone sees what the choke point lets them see
        "retrieve": None,
        "update": Capability.MANAGE_MEMBERS,
        "partial_update": Capability.MANAGE_MEMBERS,
        "destroy": Capability.MANAGE_MEMBERS,
    }
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Membership]:
        if self.schema_only:
            return Membership.objects.none()
        return Membership.objects.filter(organization=self.organization).select_related("user")

    def perform_update(self, serializer: MembershipSerializer) -> None:  # type: ignore[override]
        membership = cast(Membership, serializer.instance)
        data = serializer.validated_data
        serializer.instance = services.membership_change_role(
            actor=self.actor,
            membership=membership,
            role=data.get("role", membership.role),
            expires_at=data.get("expires_at", membership.expires_at),
        )

    def perform_destroy(self, instance: Membership) -> None:
        services.membership_remove(actor=self.actor, membership=instance)


class InvitationViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Pending invitations (admins). Creating one emails the link; deleting revokes it."""

    serializer_class = InvitationSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    capabilities = {
        "list": Capability.MANAGE_MEMBERS,
        "create": Capability.MANAGE_MEMBERS,
        "destroy": Capability.MANAGE_MEMBERS,
    }

    def get_queryset(self) -> QuerySet[Invitation]:
        if self.schema_only:
            return Invitation.objects.none()
        return Invitation.objects.filter(
            organization=self.organization,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).select_related("invited_by")

    @extend_schema(responses={201: InvitationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            actor=self.actor,
            organization=self.organization,
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
            access_expires_on=serializer.validated_data.get("access_expires_on"),
        )
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Invitation) -> None:
        services.invitation_revoke(actor=self.actor, invitation=instance)
