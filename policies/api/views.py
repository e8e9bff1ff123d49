from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.filters import FilterSet
from compliance.permissions import Capability, restrict
from controls.models import Requirement
from policies import selectors, services
from policies.api.serializers import (
    AcknowledgementSerializer,
    ApproveSerializer,
    PolicySerializer,
    PolicyVersionSerializer,
    ReasonSerializer,
    RequiredReasonSerializer,
    SendResultSerializer,
    SendSerializer,
    VersionCreateSerializer,
)
from policies.models import (
    Acknowledgement,
    AcknowledgementVia,
    Policy,
    PolicyCategory,
    PolicyVersion,
    VersionStatus,
)


class PolicyFilterSet(FilterSet):
    category = django_filters.ChoiceFilter(choices=PolicyCategory.choices)
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = Policy
        fields = ["category", "owner"]


def _versions() -> Prefetch:
    return Prefetch(
        "versions",
        queryset=PolicyVersion.objects.defer("body")
        .select_related("approved_by")
        .order_by("-number"),
        to_attr="version_list",
    )


class PolicyViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Policies. Admins create and change them; everyone who reads the program sees them."""

    serializer_class = PolicySerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = PolicyFilterSet
    ordering_fields = ["title", "category", "created_at", "updated_at"]
    ordering = ["title"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create": Capability.MANAGE_POLICIES,
        "update": Capability.MANAGE_POLICIES,
        "partial_update": Capability.MANAGE_POLICIES,
        "send": Capability.MANAGE_POLICIES,
        "review": Capability.MANAGE_POLICIES,
    }

    def get_queryset(self) -> QuerySet[Policy]:
        if self.schema_only:
            return Policy.objects.none()
        return (
            Policy.objects.filter(organization=self.organization)
            .select_related("owner")
            .prefetch_related(
                _versions(),
                "controls",
                Prefetch(
                    "requirements", queryset=Requirement.objects.order_by("framework_id", "order")
                ),
            )
        )

    def _fresh(self, pk: int) -> dict[str, Any]:
        return cast(dict[str, Any], self.get_serializer(self.get_queryset().get(pk=pk)).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        policy = services.policy_create(actor=self.actor, organization=self.organization, **data)
        return Response(self._fresh(policy.pk), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        serializer = self.get_serializer(policy, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "body" in changes:
            raise exceptions.ValidationError(
                {"body": ["Change the text through a new version (…/versions/)."]}
            )
        services.policy_update(
            actor=self.actor, policy=policy, changes=cast(services.PolicyChanges, changes)
        )
        return Response(self._fresh(policy.pk))

    @extend_schema(filters=False, responses={200: AcknowledgementSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def acknowledgements(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Acknowledgements of every version of this policy, newest first."""
        policy = self.get_object()
        queryset = (
            restrict(Acknowledgement.objects.all(), self.actor, organization=self.organization)
            .filter(version__policy=policy)
            .select_related("person", "version")
            .order_by("-acknowledged_at", "-pk")
        )
        page = self.paginate_queryset(queryset)
        serializer = AcknowledgementSerializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=None,
        responses={
            201: AcknowledgementSerializer,
            200: OpenApiResponse(AcknowledgementSerializer, description="Already acknowledged."),
        },
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The signed-in user (matched to the people roster) acknowledges the current version."""
        policy = self.get_object()
        person = selectors.person_for_user(user=self.actor, organization=self.organization)
        if person is None:
            raise exceptions.PermissionDenied("You are not on this organization's people roster.")
        current = next(
            (v for v in policy.version_list if v.status == VersionStatus.APPROVED),
            None,
        )
        if current is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["This policy has no approved version to acknowledge."]}
            )
        result = services.policy_acknowledge(
            version=current, person=person, via=AcknowledgementVia.APP, user=self.actor
        )
        return Response(
            AcknowledgementSerializer(result.acknowledgement).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(request=SendSerializer, responses={200: SendResultSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the approved version to the people in scope for acknowledgement."""
        policy = self.get_object()
        serializer = SendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        current = next(
            (v for v in policy.version_list if v.status == VersionStatus.APPROVED),
            None,
        )
        if current is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Approve a version before sending the policy."]}
            )
        result = services.policy_send_for_acknowledgement(
            actor=self.actor, version=current, **serializer.validated_data
        )
        return Response(SendResultSerializer(result).data)

    @extend_schema(request=ReasonSerializer, responses={200: PolicySerializer})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record that the approved text was reviewed today and still holds."""
        policy = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.policy_mark_reviewed(
            actor=self.actor, policy=policy, note=serializer.validated_data.get("reason", "")
        )
        return Response(self._fresh(policy.pk))


class PolicyVersionViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of one policy. The policy's owner and admins write drafts and submit them;
    admins send back, approve and retire. Approved versions never change (PATCH answers 400)."""

    serializer_class = PolicyVersionSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["number", "updated_at"]
    ordering = ["-number"]
    lookup_field = "number"
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        # Review decisions (send back, approve) and retiring are admins'; the owner writes and
        # submits, but does not review their own text.
        "send_back": Capability.MANAGE_POLICIES,
        "approve": Capability.MANAGE_POLICIES,
        "retire": Capability.MANAGE_POLICIES,
    }

    def policy(self) -> Policy:
        cached: Policy | None = getattr(self, "_policy", None)
        if cached is None:
            try:
                policy_id = int(self.kwargs["policy_pk"])
            except (KeyError, TypeError, ValueError):
                raise Http404("No such policy.") from None
            cached = (
                restrict(Policy.objects.all(), self.actor, organization=self.organization)
                .filter(organization=self.organization, pk=policy_id)
                .select_related("organization")
                .first()
            )
            if cached is None:
                raise Http404("No such policy.")
            self._policy = cached
        return cached

    def get_queryset(self) -> QuerySet[PolicyVersion]:
        if self.schema_only:
            return PolicyVersion.objects.none()
        return PolicyVersion.objects.filter(policy=self.policy()).select_related(
            "approved_by", "created_by"
        )

    def _version(self) -> PolicyVersion:
        version = self.get_object()
        version.policy = self.policy()
        return version

    def _reply(self, version: PolicyVersion, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(self.get_queryset().get(pk=version.pk)).data, status=code
        )

    @extend_schema(request=VersionCreateSerializer, responses={201: PolicyVersionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a new draft, copied from the latest version."""
        policy = self.policy()
        self.require_change(policy)
        serializer = VersionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.policy_version_create(
            actor=self.actor,
            policy=policy,
            change_summary=serializer.validated_data.get("change_summary", ""),
        )
        return self._reply(version, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self._version()
        self.require_change(version)
        serializer = self.get_serializer(version, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = services.policy_version_update(
            actor=self.actor,
            version=version,
            body=data.get("body", version.body),
            change_summary=data.get("change_summary"),
        )
        return self._reply(version)

    @extend_schema(request=ReasonSerializer, responses={200: PolicyVersionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Submit a draft for review."""
        version = self._version()
        self.require_change(version)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.policy_version_submit(
            actor=self.actor, version=version, reason=serializer.validated_data.get("reason", "")
        )
        return self._reply(version)

    @extend_schema(request=RequiredReasonSerializer, responses={200: PolicyVersionSerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def send_back(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a version in review back to draft, saying what needs to change (admins)."""
        version = self._version()
        serializer = RequiredReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.policy_version_return(
            actor=self.actor, version=version, reason=serializer.validated_data["reason"]
        )
        return self._reply(version)

    @extend_schema(request=ApproveSerializer, responses={200: PolicyVersionSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve a version in review; the previously approved version is retired."""
        version = self._version()
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.policy_version_approve(
            actor=self.actor,
            version=version,
            effective_date=serializer.validated_data.get("effective_date"),
            reason=serializer.validated_data.get("reason", ""),
        )
        return self._reply(version)

    @extend_schema(request=RequiredReasonSerializer, responses={200: PolicyVersionSerializer})
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw the approved version."""
        version = self._version()
        serializer = RequiredReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.policy_version_retire(
            actor=self.actor, version=version, reason=serializer.validated_data["reason"]
        )
        return self._reply(version)
