"""The trust page's documents, access requests and download log over the API: admins only
(for anyone else in the organization these endpoints do not exist: 404)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Case, Count, QuerySet, Value, When
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.filters import FilterSet
from compliance.models import Role
from trust.api.serializers import (
    AccessRequestSerializer,
    DecisionSerializer,
    DownloadSerializer,
    TrustDocumentSerializer,
    TrustDocumentUploadSerializer,
)
from trust.documents import services
from trust.models import AccessRequest, AccessRequestStatus, DocumentDownload, TrustDocument


class AdminsOnlyMixin(OrganizationScopedMixin):
    """The role check is here (404 for everyone but admins), not in ``capabilities``."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.membership.role != Role.ADMIN:
            raise exceptions.NotFound("Not found.")


def _no_capability(actions: list[str]) -> dict[str, Any]:
    return dict.fromkeys(actions)


class TrustDocumentViewSet(
    AdminsOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The trust page's documents with their download counts; upload one (multipart), publish
    or unpublish it, make it public or gated."""

    serializer_class = TrustDocumentSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["title", "uploaded_at"]
    ordering = ["id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    capabilities = _no_capability(
        ["list", "retrieve", "create", "partial_update", "update", "get", "post", "patch"]
    )

    def get_queryset(self) -> QuerySet[TrustDocument]:
        if self.schema_only:
            return TrustDocument.objects.none()
        return TrustDocument.objects.filter(page__organization=self.organization).annotate(
            download_count=Count("downloads")
        )

    def respond(self, document: TrustDocument, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(self.get_queryset().get(pk=document.pk)).data, status=code
        )

    @extend_schema(
        request={"multipart/form-data": TrustDocumentUploadSerializer},
        responses={201: TrustDocumentSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TrustDocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        document = services.document_upload(
            actor=self.actor, organization=self.organization, upload=data.pop("file"), **data
        )
        return self.respond(document, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        document = self.get_object()
        serializer = self.get_serializer(document, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.document_update(actor=self.actor, document=document, **serializer.validated_data)
        return self.respond(document)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)


class AccessRequestFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=AccessRequestStatus.choices)

    class Meta:
        model = AccessRequest
        fields = ["status"]


class AccessRequestViewSet(
    AdminsOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Requests for the gated documents, waiting ones first; approve (the link is emailed),
    deny, or revoke the link of an approved one."""

    serializer_class = AccessRequestSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AccessRequestFilterSet
    capabilities = _no_capability(["list", "retrieve", "approve", "deny", "revoke", "get", "post"])

    def get_queryset(self) -> QuerySet[AccessRequest]:
        if self.schema_only:
            return AccessRequest.objects.none()
        pending_first = Case(
            When(status=AccessRequestStatus.PENDING, then=Value(0)), default=Value(1)
        )
        return (
            AccessRequest.objects.filter(page__organization=self.organization)
            .select_related("nda")
            .prefetch_related("documents", "grants")
            .order_by(pending_first, "-created_at", "-id")
        )

    def respond(self, access_request: AccessRequest) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=access_request.pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: AccessRequestSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        access_request = self.get_object()
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.access_request_approve(
            actor=self.actor, access_request=access_request, **serializer.validated_data
        )
        return self.respond(access_request)

    @extend_schema(request=DecisionSerializer, responses={200: AccessRequestSerializer})
    @action(detail=True, methods=["post"])
    def deny(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        access_request = self.get_object()
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.access_request_deny(
            actor=self.actor, access_request=access_request, **serializer.validated_data
        )
        return self.respond(access_request)

    @extend_schema(request=None, responses={200: AccessRequestSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke the working link of an approved request (400 when it has none)."""
        access_request = self.get_object()
        live = [g for g in access_request.grants.all() if services.grant_is_live(g)]
        if not live:
            raise exceptions.ValidationError({"detail": "There is no working link to revoke."})
        for grant in live:
            services.grant_revoke(actor=self.actor, grant=grant)
        return self.respond(access_request)


class DownloadFilterSet(FilterSet):
    document = django_filters.NumberFilter(field_name="document_id")
    request = django_filters.NumberFilter(field_name="grant__request_id")

    class Meta:
        model = DocumentDownload
        fields = ["document", "request"]


class DownloadViewSet(AdminsOnlyMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every download of a trust-page document, newest first: which document, through which
    access request (null: a public download), from which address and browser."""

    serializer_class = DownloadSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DownloadFilterSet
    capabilities = _no_capability(["list", "get"])

    def get_queryset(self) -> QuerySet[DocumentDownload]:
        if self.schema_only:
            return DocumentDownload.objects.none()
        return (
            DocumentDownload.objects.filter(document__page__organization=self.organization)
            .select_related("document", "grant")
            .order_by("-at", "-id")
        )
