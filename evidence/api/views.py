from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import OrderingFilter
from compliance.permissions import Capability, restrict
from evidence import selectors, services, storage
from evidence.api.idempotency import IDEMPOTENCY_HEADER, idempotency_key, respond_once
from evidence.api.serializers import (
    EvidenceCreateSerializer,
    EvidenceItemSerializer,
    EvidenceRequestSerializer,
    OccurrenceSerializer,
    ReviewSerializer,
    RevisionCreateSerializer,
    RevisionSerializer,
)
from evidence.models import (
    EvidenceItem,
    EvidenceRequest,
    EvidenceRevision,
    RequestOccurrence,
)
from evidence.uploads import upload_refusal
from evidence.views import file_response


class InsufficientStorage(exceptions.APIException):
    """No room left to store an upload: nothing was saved, the client may retry later."""

    status_code = 507
    default_detail = storage.OUT_OF_SPACE_MESSAGE
    default_code = "insufficient_storage"


CONTROL_FILTER = OpenApiParameter(
    "control", int, description="Only the evidence attached to this control (its id)."
)


class EvidenceViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Evidence items, each with its latest revision and how many it has (all of them at
    ``<id>/revisions/``). Machines push evidence here with a personal token."""

    serializer_class = EvidenceItemSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["effective_date", "created_at", "title"]
    ordering = ["-effective_date", "-id"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[EvidenceItem]:
        if self.schema_only:
            return EvidenceItem.objects.none()
        queryset = EvidenceItem.objects.filter(organization=self.organization)
        control = self.request.query_params.get("control")
        if control is not None and self.action == "list":
            if not (control.isascii() and control.isdigit()):
                raise exceptions.ValidationError({"control": ["Give a control id (a number)."]})
            queryset = selectors.filter_control(queryset, int(control))
        return queryset

    @extend_schema(parameters=[CONTROL_FILTER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page is cut first; its items' facts come after, in a fixed number of queries."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        items = selectors.with_revision_facts(page if page is not None else queryset)
        return self.get_paginated_response(self.get_serializer(items, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        [item] = selectors.with_revision_facts([self.get_object()])
        return Response(self.get_serializer(item).data)

    def _item_data(self, pk: int) -> Any:
        [item] = selectors.with_revision_facts([self.get_queryset().get(pk=pk)])
        return self.get_serializer(item).data

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "organization", None) is not None:
            context["uploadable_controls"] = selectors.uploadable_controls(
                user=self.actor, organization=self.organization
            )
            context["uploadable_occurrences"] = restrict(
                RequestOccurrence.objects.filter(request__organization=self.organization),
                self.actor,
                "change",
                organization=self.organization,
            )
        return context

    def _upload_error(self) -> None:
        """An upload stopped while streaming, for its size (400) or a full disk (507); the
        body is parsed on first use."""
        _ = self.request.data
        refusal = upload_refusal(self.request._request)
        if refusal is None:
            return
        message, status_code = refusal
        if status_code == InsufficientStorage.status_code:
            raise InsufficientStorage({"file": [message]})
        raise exceptions.ValidationError({"file": [message]})

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, storage.StorageFull):  # the disk filled up while storing the file
            exc = InsufficientStorage({"file": [exc.message]})
        return super().handle_exception(exc)

    @extend_schema(
        request=EvidenceCreateSerializer,
        responses={201: EvidenceItemSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key(request)
        self._upload_error()
        serializer = EvidenceCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stored: list[str] = []

        def perform() -> Any:
            item = services.evidence_create(
                actor=self.actor,
                organization=self.organization,
                title=data["title"],
                kind=data["kind"],
                effective_date=data["effective_date"],
                covers_from=data.get("covers_from"),
                covers_until=data.get("covers_until"),
                controls=list(data.get("controls", [])),
                occurrence=data.get("occurrence"),
                upload=data.get("file"),
                url=data.get("url", ""),
                note=data.get("note", ""),
            )
            stored.extend(k for k in item.revisions.values_list("storage_key", flat=True) if k)
            return self._item_data(item.pk)

        def discard() -> None:
            for storage_key in stored:
                storage.delete(storage_key)

        return respond_once(
            request,
            key=key,
            owner={"user": self.actor},
            data=data,
            perform=perform,
            status_code=status.HTTP_201_CREATED,
            discard=discard,
        )

    @extend_schema(
        methods=["GET"],
        request=None,
        filters=False,
        responses={200: RevisionSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"], request=RevisionCreateSerializer, responses={201: RevisionSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def revisions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """GET: the item's revisions, newest first, a page at a time. POST: a new revision."""
        item = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.revision_list(item=item))
            listed = RevisionSerializer(page, many=True, context=self.get_serializer_context())
            return self.get_paginated_response(listed.data)
        self.require_change(item)
        self._upload_error()
        serializer = RevisionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revision = services.evidence_add_revision(
            actor=self.actor,
            item=item,
            upload=serializer.validated_data.get("file"),
            url=serializer.validated_data.get("url", ""),
            note=serializer.validated_data.get("note", ""),
            effective_date=serializer.validated_data.get("effective_date"),
        )
        return Response(
            RevisionSerializer(revision, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class RevisionViewSet(OrganizationScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One revision: its facts, its file, and its review."""

    serializer_class = RevisionSerializer
    filter_backends: list[Any] = []
    ordering_fields: list[str] = []
    capabilities = {"review": Capability.REVIEW_EVIDENCE}

    def get_queryset(self) -> QuerySet[EvidenceRevision]:
        if self.schema_only:
            return EvidenceRevision.objects.none()
        visible = restrict(
            EvidenceItem.objects.filter(organization=self.organization),
            self.actor,
            organization=self.organization,
        )
        return EvidenceRevision.objects.filter(item__in=visible).select_related(
            "uploaded_by", "reviewed_by"
        )

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="The file")}
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        revision = self.get_object()
        if not revision.storage_key:
            raise exceptions.NotFound("This revision is a link or a note, not a file.")
        response = file_response(revision)
        services.revision_download_record(actor=self.actor, revision=revision, via="api")
        return response

    @extend_schema(request=ReviewSerializer, responses={200: RevisionSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        revision = self.get_object()
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revision = services.revision_review(
            actor=self.actor,
            revision=revision,
            decision=serializer.validated_data["decision"],
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(revision).data)


class EvidenceRequestViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Recurring evidence requests (admins manage them) and their occurrences."""

    serializer_class = EvidenceRequestSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["title", "first_due_date", "created_at"]
    ordering = ["title"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create": Capability.MANAGE_EVIDENCE_REQUESTS,
        "update": Capability.MANAGE_EVIDENCE_REQUESTS,
        "partial_update": Capability.MANAGE_EVIDENCE_REQUESTS,
    }

    def get_queryset(self) -> QuerySet[EvidenceRequest]:
        if self.schema_only:
            return EvidenceRequest.objects.none()
        return selectors.request_list(user=self.actor, organization=self.organization).order_by(
            "title"
        )

    def perform_create(self, serializer: EvidenceRequestSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        data["controls"] = list(data.get("controls", []))
        created = services.request_create(actor=self.actor, organization=self.organization, **data)
        # Answer with the same figures (expected, delivered, overdue) as a read of the request.
        serializer.instance = self.get_queryset().get(pk=created.pk)

    def perform_update(self, serializer: EvidenceRequestSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        if "controls" in data:
            data["controls"] = list(data["controls"])
        services.request_update(actor=self.actor, request=serializer.instance, changes=data)  # type: ignore[arg-type]
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)  # type: ignore[union-attr]

    @extend_schema(filters=False, responses={200: OccurrenceSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def occurrences(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The request's occurrences, latest due first, a page at a time."""
        evidence_request = self.get_object()
        occurrences = evidence_request.occurrences.order_by("-due_date", "-id")
        page = self.paginate_queryset(occurrences)
        return self.get_paginated_response(OccurrenceSerializer(page, many=True).data)
