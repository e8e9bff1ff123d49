"""API of automated control tests: integrations (admins), tests with their runs, findings and
exceptions, runs with their results, and the check registry. Pushed results: ``push.py``.

Reading follows the object policies (controls.policies); changing a test needs the right to
change its control (admins, the control's owners and members granted it); integrations and
exceptions are admin capabilities. Every write goes through controls.monitoring.services.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.api.pagination import CappedCountPagination
from compliance.filters import FilterSet
from compliance.permissions import Capability, restrict
from controls.api.monitoring_serializers import (
    CheckSerializer,
    ControlTestSerializer,
    ControlTestUpdateSerializer,
    ExceptionSerializer,
    FindingSerializer,
    IntegrationSerializer,
    IntegrationUpdateSerializer,
    PushTokenSerializer,
    RunQueuedSerializer,
    TestRunDetailSerializer,
    TestRunSerializer,
    describe_check,
)
from controls.checks import all_checks
from controls.models import (
    Control,
    ControlTest,
    Integration,
    RunStatus,
    TestException,
    TestRun,
)
from controls.monitoring import services
from controls.monitoring.selectors import INTEGRATION_BINDING_REFUSED


def request_value(request: Request, name: str) -> Any:
    data = request.data
    return data.get(name) if hasattr(data, "get") else None


BINDING_REFUSED_RESPONSE = OpenApiResponse(
    description="Not allowed: the control is not yours to change (``detail``), or only admins "
    "choose the integration of a test or change a test that uses one (``integration``)."
)

QUEUE_DOWN = (
    "The task queue is unavailable right now; the run is saved and will start as soon as the "
    "queue is back."
)


class IntegrationViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Connections to outside systems. Only admins see them; credentials are never returned."""

    serializer_class = IntegrationSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["name", "kind", "created_at"]
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    capabilities = {
        "create": Capability.MANAGE_INTEGRATIONS,
        "partial_update": Capability.MANAGE_INTEGRATIONS,
        "update": Capability.MANAGE_INTEGRATIONS,
        "destroy": Capability.MANAGE_INTEGRATIONS,
    }

    def get_queryset(self) -> QuerySet[Integration]:
        if self.schema_only:
            return Integration.objects.none()
        return Integration.objects.filter(organization=self.organization)

    def get_serializer_class(self) -> type[IntegrationSerializer]:
        if self.action in ("partial_update", "update"):
            return IntegrationUpdateSerializer
        return IntegrationSerializer

    def perform_create(self, serializer: IntegrationSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        serializer.instance = services.integration_create(
            actor=self.actor,
            organization=self.organization,
            kind=data["kind"],
            name=data["name"],
            config=data.get("config", {}),
            credentials=data["credentials"],
        )

    def perform_update(self, serializer: IntegrationSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        serializer.instance = services.integration_update(
            actor=self.actor,
            integration=serializer.instance,  # type: ignore[arg-type]
            name=data.get("name"),
            config=data.get("config"),
            credentials=data.get("credentials"),
        )

    def perform_destroy(self, instance: Integration) -> None:
        services.integration_delete(actor=self.actor, integration=instance)


# --- control tests ------------------------------------------------------------------------------


class ControlTestFilterSet(FilterSet):
    control = django_filters.NumberFilter(field_name="control_id")
    check = django_filters.CharFilter(field_name="check_key")
    last_status = django_filters.ChoiceFilter(
        choices=[*RunStatus.choices, ("never", "Never run")], method="filter_last_status"
    )

    class Meta:
        model = ControlTest
        fields = ["control", "check", "enabled", "severity", "schedule_kind", "last_status"]

    def filter_last_status(
        self, queryset: QuerySet[ControlTest], name: str, value: str
    ) -> QuerySet[ControlTest]:
        if value == "never":
            return queryset.filter(last_run__isnull=True)
        return queryset.filter(last_run__status=value)


FINDING_STATE = OpenApiParameter(
    "state", str, enum=["open", "resolved"], description="Open or resolved findings; all if absent."
)


class ControlTestViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Automated tests of controls. Readers see every test; changing one (edit, run now, push
    token) needs the right to change its control; exceptions need the accept-risk capability."""

    serializer_class = ControlTestSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = ControlTestFilterSet
    ordering_fields = ["name", "severity", "next_run_at", "created_at", "updated_at"]
    ordering = ["control__ref_id", "name"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create_exception": Capability.ACCEPT_RISK,
        "revoke_exception": Capability.ACCEPT_RISK,
    }

    def get_queryset(self) -> QuerySet[ControlTest]:
        if self.schema_only:
            return ControlTest.objects.none()
        return (
            ControlTest.objects.filter(organization=self.organization)
            .select_related("control", "integration", "last_run")
            .annotate(open_findings=Count("findings", filter=Q(findings__resolved_at__isnull=True)))
        )

    def get_serializer_class(self) -> type[ControlTestSerializer]:
        if self.action in ("partial_update", "update"):
            return ControlTestUpdateSerializer
        return ControlTestSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "organization", None) is not None:
            context["visible_controls"] = self._visible_controls()
        return context

    def _visible_controls(self) -> QuerySet[Control]:
        return restrict(
            Control.objects.filter(organization=self.organization, archived_at__isnull=True),
            self.actor,
            organization=self.organization,
        )

    def _require_binding_right(self, test: ControlTest | None = None) -> None:
        """Choosing the integration of a test, or changing a test that uses one, needs the
        capability of managing integrations (it runs with the credentials an admin configured).
        Refused before the body is validated, whatever the integration id: 403 on the field."""
        if self.has_capability(Capability.MANAGE_INTEGRATIONS):
            return
        posted = request_value(self.request, "integration")
        if posted is not None or (test is not None and test.integration_id is not None):
            raise exceptions.PermissionDenied({"integration": [INTEGRATION_BINDING_REFUSED]})

    def _fresh(self, test: ControlTest) -> dict[str, Any]:
        return dict(ControlTestSerializer(self.get_queryset().get(pk=test.pk)).data)

    @extend_schema(
        request=ControlTestSerializer,
        responses={201: ControlTestSerializer, 403: BINDING_REFUSED_RESPONSE},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A visible control the requester may not change is refused before the body is checked.
        posted = request.data.get("control") if isinstance(request.data, dict) else None
        if isinstance(posted, int) and not isinstance(posted, bool):
            control = self._visible_controls().filter(pk=posted).first()
            if control is not None:
                self.require_change(control)
        self._require_binding_right()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        control = data.pop("control")
        self.require_change(control)
        test = services.control_test_create(actor=self.actor, control=control, **data)
        return Response(self._fresh(test), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ControlTestUpdateSerializer,
        responses={200: ControlTestSerializer, 403: BINDING_REFUSED_RESPONSE},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        test = self.get_object()
        self.require_change(test)
        self._require_binding_right(test)
        serializer = self.get_serializer(test, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        test = services.control_test_update(
            actor=self.actor, test=test, changes=dict(serializer.validated_data)
        )
        return Response(self._fresh(test))

    @extend_schema(request=None, responses={202: RunQueuedSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Run the test now. 202 with the queued run; ``queued_for_later`` when the task queue is
        down (the run is kept and starts once the queue is back)."""
        test = self.get_object()
        self.require_change(test)
        queued = services.run_now(actor=self.actor, test=test)
        run = TestRun.objects.get(pk=queued.run.pk)
        run.queued_for_later = not queued.enqueued  # type: ignore[attr-defined]
        run.detail = QUEUE_DOWN if not queued.enqueued else "The run is queued."  # type: ignore[attr-defined]
        return Response(RunQueuedSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: PushTokenSerializer})
    @action(detail=True, methods=["post"], url_path="push-token")
    def push_token(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new token for pushing results to this test (the previous one stops working).
        Shown once."""
        test = self.get_object()
        self.require_change(test)
        token = services.push_token_rotate(actor=self.actor, test=test)
        return Response(PushTokenSerializer({"token": token, "hint": test.push_token_hint}).data)

    @extend_schema(request=None, filters=False, responses={200: TestRunSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        test = self.get_object()
        runs = (
            TestRun.objects.filter(control_test=test)
            .select_related("control_test__control", "requested_by")
            .order_by("-queued_at", "-id")
        )
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(TestRunSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        filters=False,
        parameters=[FINDING_STATE],
        responses={200: FindingSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def findings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        state = request.query_params.get("state")
        if state not in (None, "open", "resolved"):
            raise exceptions.ValidationError({"state": ["Choose open or resolved."]})
        test = self.get_object()
        findings = test.findings.order_by("resolved_at", "due_date", "id")
        if state is not None:
            findings = findings.filter(resolved_at__isnull=state == "open")
        page = self.paginate_queryset(findings)
        return self.get_paginated_response(FindingSerializer(page, many=True).data)

    @extend_schema(request=None, filters=False, responses={200: ExceptionSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="exceptions")
    def exception_list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Accepted risks of this test, in force, expired and revoked."""
        test = self.get_object()
        rows = test.exceptions.select_related("created_by", "revoked_by").order_by("-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ExceptionSerializer(page, many=True).data)

    @extend_schema(request=ExceptionSerializer, responses={201: ExceptionSerializer})
    @exception_list.mapping.post
    def create_exception(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Accept the risk of a failing resource until a date (admins)."""
        test = self.get_object()
        serializer = ExceptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exception = services.exception_create(
            actor=self.actor, test=test, **serializer.validated_data
        )
        return Response(ExceptionSerializer(exception).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ExceptionSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"exceptions/(?P<exception_id>[0-9]+)/revoke",
        url_name="exception-revoke",
    )
    def revoke_exception(
        self, request: Request, *args: Any, exception_id: str, **kwargs: Any
    ) -> Response:
        test = self.get_object()
        exception = TestException.objects.filter(control_test=test, pk=exception_id).first()
        if exception is None:
            raise exceptions.NotFound("No such exception of this test.")
        exception = services.exception_revoke(actor=self.actor, exception=exception)
        return Response(ExceptionSerializer(exception).data)


# --- runs ---------------------------------------------------------------------------------------


class TestRunFilterSet(FilterSet):
    control_test = django_filters.NumberFilter(field_name="control_test_id")
    control = django_filters.NumberFilter(field_name="control_test__control_id")

    class Meta:
        model = TestRun
        fields = ["control_test", "control", "status", "trigger"]


class TestRunViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Runs of automated tests (read-only); one run with its per-resource results."""

    __test__ = False  # not a pytest class

    serializer_class = TestRunSerializer
    # Runs pile up for ever (an hourly test: 8,760 a year): the count stops at a cap.
    pagination_class = CappedCountPagination
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = TestRunFilterSet
    ordering_fields = ["queued_at", "finished_at"]
    ordering = ["-queued_at", "-id"]

    def get_queryset(self) -> QuerySet[TestRun]:
        if self.schema_only:
            return TestRun.objects.none()
        queryset = TestRun.objects.filter(organization=self.organization).select_related(
            "control_test__control", "requested_by"
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("results")
        return queryset

    def get_serializer_class(self) -> type[TestRunSerializer]:
        return TestRunDetailSerializer if self.action == "retrieve" else TestRunSerializer


# --- the check registry -------------------------------------------------------------------------


class CheckListView(APIView):
    """Every check a test can use, with its parameters described so that a client can build
    the form (any signed-in user; the registry holds no organization data)."""

    @extend_schema(responses={200: CheckSerializer(many=True)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(CheckSerializer([describe_check(c) for c in all_checks()], many=True).data)
