from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.filters import FilterSet
from compliance.permissions import Capability, restrict
from compliance.readiness import stored_organization_readiness
from controls import services
from controls.api.serializers import (
    AdoptedFrameworkSerializer,
    ControlSerializer,
    FrameworkReadinessSerializer,
    FrameworkSerializer,
    MappingSerializer,
    RequirementSerializer,
)
from controls.filters import ControlFilterSet
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    Framework,
    Requirement,
)


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Framework catalogs (global, read-only)."""

    serializer_class = FrameworkSerializer
    lookup_field = "slug"
    filter_backends = [OrderingFilter]
    ordering_fields = ["name", "slug"]
    ordering = ["name"]
    queryset = Framework.objects.prefetch_related("categories")


class RequirementFilterSet(FilterSet):
    framework = django_filters.CharFilter(field_name="framework__slug")
    category = django_filters.CharFilter(field_name="category__code")

    class Meta:
        model = Requirement
        fields = ["framework", "category", "assessable", "withdrawn"]


class RequirementViewSet(viewsets.ReadOnlyModelViewSet):
    """Requirements of every catalog; filter with ``?framework=soc2&category=CC``."""

    serializer_class = RequirementSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_class = RequirementFilterSet
    search_fields = ["ref_id", "title"]
    ordering_fields = ["ref_id", "order"]
    ordering = ["framework__name", "order"]
    queryset = Requirement.objects.select_related("framework", "category", "parent")


class AdoptedFrameworkViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Frameworks the organization adopted, with the categories in scope."""

    serializer_class = AdoptedFrameworkSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["adopted_at"]
    ordering = ["adopted_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create": Capability.ADOPT_FRAMEWORK,
        "partial_update": Capability.ADOPT_FRAMEWORK,
        "update": Capability.ADOPT_FRAMEWORK,
    }

    def get_queryset(self) -> QuerySet[AdoptedFramework]:
        if self.schema_only:
            return AdoptedFramework.objects.none()
        return (
            AdoptedFramework.objects.filter(organization=self.organization)
            .select_related("framework")
            .prefetch_related("scope")
        )

    def perform_create(self, serializer: AdoptedFrameworkSerializer) -> None:  # type: ignore[override]
        serializer.instance = services.framework_adopt(
            actor=self.actor,
            organization=self.organization,
            framework=serializer.validated_data["framework"],
            scope_codes=serializer.validated_data["scope"],
            target_audit_date=serializer.validated_data.get("target_audit_date"),
        )

    def perform_update(self, serializer: AdoptedFrameworkSerializer) -> None:  # type: ignore[override]
        adoption: AdoptedFramework = serializer.instance  # type: ignore[assignment]
        if serializer.validated_data.get("framework", adoption.framework) != adoption.framework:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"framework": ["The framework of an adoption cannot change."]})
        with transaction.atomic():
            if "scope" in serializer.validated_data:
                services.framework_change_scope(
                    actor=self.actor,
                    adoption=adoption,
                    scope_codes=serializer.validated_data["scope"],
                )
            if "target_audit_date" in serializer.validated_data:
                services.framework_set_target_audit_date(
                    actor=self.actor,
                    adoption=adoption,
                    target_audit_date=serializer.validated_data["target_audit_date"],
                )
        serializer.instance = (
            AdoptedFramework.objects.select_related("framework")
            .prefetch_related("scope")
            .get(pk=adoption.pk)
        )


class ControlApiFilterSet(ControlFilterSet):
    def __init__(
        self, data: Any = None, queryset: Any = None, *, request: Any = None, **kw: Any
    ) -> None:
        super().__init__(
            data,
            queryset,
            request=request,
            user=request.user,
            organization=request.organization,
            **kw,
        )


class ControlViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Controls. Members may change the controls they own or were granted; admins all."""

    serializer_class = ControlSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = ControlApiFilterSet
    ordering_fields = ["ref_id", "name", "status", "category", "target_date", "updated_at"]
    ordering = ["ref_id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create": Capability.ADD_CONTROL,
        "archive": Capability.ARCHIVE_CONTROL,
        "restore": Capability.ARCHIVE_CONTROL,
        # update: VIEW_PROGRAM here, then the object's change permission (owner, grant, admin)
    }

    def get_queryset(self) -> QuerySet[Control]:
        if self.schema_only:
            return Control.objects.none()
        queryset = Control.objects.filter(organization=self.organization)
        if self.action == "list" and self.request.query_params.get("archived") != "true":
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset.select_related("owner", "backup_owner").prefetch_related(
            Prefetch("requirements", queryset=Requirement.objects.order_by("framework_id", "order"))
        )

    def perform_create(self, serializer: ControlSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        reason = data.pop("status_reason", "")
        serializer.instance = services.control_create(
            actor=self.actor,
            organization=self.organization,
            reason=reason,
            **data,
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        control = self.get_object()
        self.require_change(control)
        serializer = self.get_serializer(control, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        reason = changes.pop("status_reason", "")
        updated = services.control_update(
            actor=self.actor,
            control=control,
            changes=cast(services.ControlChanges, changes),
            reason=reason,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=updated.pk)).data)

    @extend_schema(request=None, responses={200: ControlSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        control = services.control_archive(actor=self.actor, control=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=control.pk)).data)

    @extend_schema(request=None, responses={200: ControlSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        control = services.control_restore(actor=self.actor, control=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=control.pk)).data)


class MappingFilterSet(FilterSet):
    control = django_filters.NumberFilter(field_name="control_id")
    requirement = django_filters.CharFilter(field_name="requirement__key")
    framework = django_filters.CharFilter(field_name="requirement__framework__slug")

    class Meta:
        model = ControlRequirement
        fields = ["control", "requirement", "framework"]


class MappingViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Control ↔ requirement mappings. Changing one needs the right to change the control."""

    serializer_class = MappingSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = MappingFilterSet
    ordering_fields = ["created_at"]
    ordering = ["control_id", "requirement__order"]

    def get_queryset(self) -> QuerySet[ControlRequirement]:
        if self.schema_only:
            return ControlRequirement.objects.none()
        return ControlRequirement.objects.filter(
            control__organization=self.organization
        ).select_related("control", "requirement")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "organization", None) is not None:
            context["visible_controls"] = restrict(
                Control.objects.filter(organization=self.organization, archived_at__isnull=True),
                self.actor,
                organization=self.organization,
            )
        return context

    def perform_create(self, serializer: MappingSerializer) -> None:  # type: ignore[override]
        control = serializer.validated_data["control"]
        self.require_change(control)
        serializer.instance = services.control_map(
            actor=self.actor,
            control=control,
            requirement=serializer.validated_data["requirement"],
        )

    def perform_destroy(self, instance: ControlRequirement) -> None:
        self.require_change(instance.control)
        services.control_unmap(actor=self.actor, mapping=instance)


class ReadinessView(OrganizationScopedMixin, APIView):
    """Readiness per adopted framework and category (the dashboard's figures)."""

    @extend_schema(responses={200: FrameworkReadinessSerializer(many=True)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        readiness = stored_organization_readiness(organization=self.organization)
        return Response(FrameworkReadinessSerializer(readiness, many=True).data)
