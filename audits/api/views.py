"""An engagement's requests (PBC list) and findings over the API.

Readers of the engagement (program readers, its auditors) list and read them. Auditors create
requests, comment, accept, return and close them, and raise, edit and close their findings;
admins assign requests and write management's responses; a request's assignee (or an admin)
attaches evidence and submits. Whoever may not: 403; a hidden engagement or row: 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audits import pbc_selectors, pbc_services
from audits.api.base import AuditorApiMixin, EngagementMixin
from audits.api.serializers import (
    AssignSerializer,
    AttachSerializer,
    AuditFindingSerializer,
    AuditRequestDetailSerializer,
    AuditRequestSerializer,
    AuditSerializer,
    BodySerializer,
    FindingWriteSerializer,
    RequestCreateSerializer,
    ResponseSerializer,
)
from audits.models import Audit, AuditFinding, AuditRequest
from compliance.api.base import PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter


class NoCapabilities(dict[str, Any]):
    """Every action open to every role at the organization level (the services decide)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return None


class AuditRequestViewSet(
    EngagementMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The engagement's requests for evidence (the PBC list), by number."""

    serializer_class = AuditRequestSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_fields = ["status"]
    ordering_fields = ["number", "due_date"]
    ordering = ["number"]
    capabilities = NoCapabilities()

    def get_queryset(self) -> QuerySet[AuditRequest]:
        if self.schema_only:
            return AuditRequest.objects.none()
        return pbc_selectors.request_list(user=self.actor, audit=self.audit)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return RequestCreateSerializer
        return AuditRequestSerializer

    def respond(self, request_obj: AuditRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = pbc_selectors.request_get(user=self.actor, audit=self.audit, pk=request_obj.pk)
        context = {
            **self.get_serializer_context(),
            "evidence": pbc_selectors.request_evidence(user=self.actor, request=fresh),
            "thread": pbc_selectors.request_thread(fresh),
        }
        return Response(AuditRequestDetailSerializer(fresh, context=context).data, status=code)

    @extend_schema(responses={200: AuditRequestDetailSerializer})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond(self.get_object())

    @extend_schema(request=RequestCreateSerializer, responses={201: AuditRequestDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Raise a request (the engagement's auditors)."""
        serializer = RequestCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        created = pbc_services.request_create(
            actor=self.actor, audit=self.audit, **serializer.validated_data
        )
        return self.respond(created, status.HTTP_201_CREATED)

    def _body(self, request: Request) -> str:
        serializer = BodySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return str(serializer.validated_data.get("body", ""))

    @extend_schema(request=AssignSerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Name who answers, and optionally the due date (admins)."""
        obj = self.get_object()
        serializer = AssignSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        pbc_services.request_assign(actor=self.actor, request=obj, **serializer.validated_data)
        return self.respond(obj)

    @extend_schema(request=AttachSerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def attach(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Attach existing evidence of the request's control (the assignee or an admin)."""
        obj = self.get_object()
        serializer = AttachSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        pbc_services.request_attach(
            actor=self.actor, request=obj, items=serializer.validated_data["evidence"]
        )
        return self.respond(obj)

    @extend_schema(request=BodySerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the answer to the auditor (the assignee or an admin)."""
        obj = self.get_object()
        pbc_services.request_submit(actor=self.actor, request=obj, body=self._body(request))
        return self.respond(obj)

    @extend_schema(request=BodySerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Accept a submitted answer (the engagement's auditors)."""
        obj = self.get_object()
        pbc_services.request_accept(actor=self.actor, request=obj, body=self._body(request))
        return self.respond(obj)

    @extend_schema(request=BodySerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Return a submitted answer with the reason in ``body`` (the engagement's auditors)."""
        obj = self.get_object()
        pbc_services.request_return(actor=self.actor, request=obj, body=self._body(request))
        return self.respond(obj)

    @extend_schema(request=BodySerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Withdraw the request (the engagement's auditors)."""
        obj = self.get_object()
        pbc_services.request_close(actor=self.actor, request=obj, body=self._body(request))
        return self.respond(obj)

    @extend_schema(request=BodySerializer, responses={200: AuditRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Comment (the engagement's auditors, admins, the request's assignee)."""
        obj = self.get_object()
        pbc_services.request_comment(actor=self.actor, request=obj, body=self._body(request))
        return self.respond(obj)


class AuditFindingViewSet(
    EngagementMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The engagement's findings (exceptions), by number."""

    serializer_class = AuditFindingSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_fields = ["status", "severity"]
    ordering_fields = ["number"]
    ordering = ["number"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = NoCapabilities()

    def get_queryset(self) -> QuerySet[AuditFinding]:
        if self.schema_only:
            return AuditFinding.objects.none()
        return pbc_selectors.finding_list(user=self.actor, audit=self.audit)

    def respond(self, finding: AuditFinding, code: int = status.HTTP_200_OK) -> Response:
        fresh = pbc_selectors.finding_get(user=self.actor, audit=self.audit, pk=finding.pk)
        return Response(AuditFindingSerializer(fresh).data, status=code)

    def _values(self, request: Request, partial: bool = False, current: Any = None) -> Any:
        serializer = FindingWriteSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if current is not None:
            for name in ("title", "severity", "description"):
                values.setdefault(name, getattr(current, name))
            values.setdefault("controls", list(current.controls.all()))
        return values

    @extend_schema(request=FindingWriteSerializer, responses={201: AuditFindingSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Raise a finding (the engagement's auditors)."""
        finding = pbc_services.finding_create(
            actor=self.actor, audit=self.audit, **self._values(request)
        )
        return self.respond(finding, status.HTTP_201_CREATED)

    @extend_schema(request=FindingWriteSerializer, responses={200: AuditFindingSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit a finding (the auditor who raised it, until it is closed)."""
        finding = self.get_object()
        if not pbc_services.may_edit_finding(self.actor, finding):
            raise exceptions.PermissionDenied("Only the auditor who raised it edits a finding.")
        values = self._values(request, partial=True, current=finding)
        pbc_services.finding_update(actor=self.actor, finding=finding, **values)
        return self.respond(finding)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=ResponseSerializer, responses={200: AuditFindingSerializer})
    @action(detail=True, methods=["post"], url_path="response")
    def management_response(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Write management's response (admins)."""
        finding = self.get_object()
        if not pbc_services.is_audit_manager(self.actor, self.audit):
            raise exceptions.PermissionDenied("Only admins write management's response.")
        serializer = ResponseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pbc_services.finding_respond(
            actor=self.actor,
            finding=finding,
            response=serializer.validated_data["management_response"],
        )
        return self.respond(finding)

    @extend_schema(request=None, responses={200: AuditFindingSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Close the finding (the engagement's auditors)."""
        finding = self.get_object()
        pbc_services.finding_close(actor=self.actor, finding=finding)
        return self.respond(finding)


@extend_schema_view(
    list=extend_schema(tags=["audits"], description="The engagements the requester may see."),
    retrieve=extend_schema(tags=["audits"]),
)
class AuditViewSet(
    AuditorApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AuditSerializer
    filter_backends = [PermittedObjectsFilter]
    capabilities = {"list": None, "retrieve": None}

    def get_queryset(self) -> QuerySet[Audit]:
        if self.schema_only:
            return Audit.objects.none()
        return (
            Audit.objects.filter(organization=self.organization)
            .select_related("adoption__framework")
            .prefetch_related("scope")
            .order_by("-created_at", "-pk")
        )

    def get_object(self) -> Audit:
        self.audit = super().get_object()  # the engagement read: its access log
        return self.audit
