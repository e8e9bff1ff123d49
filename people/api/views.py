from __future__ import annotations

from typing import Any, cast

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.filters import FilterSet
from compliance.permissions import Capability
from people import completion, selectors, services
from people.api.serializers import (
    ImportRequestSerializer,
    ImportResultSerializer,
    PersonSerializer,
    RecordSerializer,
)
from people.models import Person, PersonnelRecord


class PersonApiFilterSet(selectors.PersonFilterSet):
    def __init__(
        self, data: Any = None, queryset: Any = None, *, request: Any = None, **kw: Any
    ) -> None:
        organization = getattr(request, "organization", None)
        today = completion.organization_today(organization) if organization else None  # schema
        super().__init__(data, queryset, request=request, today=today, **kw)


class PersonViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The personnel roster, each person with their onboarding completion. Admins change it."""

    serializer_class = PersonSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = PersonApiFilterSet
    ordering_fields = [
        "full_name", "email", "department", "employment_type", "start_date", "end_date",
    ]  # fmt: skip
    ordering = ["full_name", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    capabilities = {
        "create": Capability.MANAGE_PEOPLE,
        "update": Capability.MANAGE_PEOPLE,
        "partial_update": Capability.MANAGE_PEOPLE,
        "import_csv": Capability.MANAGE_PEOPLE,
    }

    def get_queryset(self) -> QuerySet[Person]:
        if self.schema_only:
            return Person.objects.none()
        return Person.objects.filter(organization=self.organization).select_related("manager")

    def with_completion(self, people: list[Person]) -> dict[str, Any]:
        requirements = [
            r
            for r in services.people_requirements_ensure(organization=self.organization)
            if r.is_enabled
        ]
        context = self.get_serializer_context()
        context["completions"] = selectors.completion_for(
            organization=self.organization,
            people=people,
            requirements=requirements,
            today=completion.organization_today(self.organization),
        )
        return context

    def respond(self, person: Person, code: int = status.HTTP_200_OK) -> Response:
        person = self.get_queryset().get(pk=person.pk)
        return Response(
            PersonSerializer(person, context=self.with_completion([person])).data, status=code
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = cast(list[Person], self.paginate_queryset(queryset))
        serializer = PersonSerializer(page, many=True, context=self.with_completion(page))
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = services.person_create(
            actor=self.actor, organization=self.organization, **serializer.validated_data
        )
        return self.respond(person, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        self.require_change(person)
        serializer = self.get_serializer(person, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.person_update(
            actor=self.actor,
            person=person,
            changes=cast(services.PersonChanges, dict(serializer.validated_data)),
        )
        return self.respond(updated)

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Nothing was imported: the import result with ``errors`` listing "
                "each bad row (as in 201), or the request's own field errors (no ``file``).",
            ),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Import a roster CSV: all or nothing (default), or only the valid rows."""
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.people_import(
            actor=self.actor,
            organization=self.organization,
            source=data["file"],
            mode=data["mode"],
            update_existing=data["update_existing"],
        )
        body = result.as_dict()
        if result.rejected or (result.errors and not result.imported):
            body["detail"] = (
                f"Nothing was imported: {len(result.errors)} problem(s) on "
                f"{len(result.bad_lines)} line(s)."
            )
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        if not result.imported and not result.read:
            body["detail"] = "The file has no rows to import."
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED)


class RecordFilterSet(FilterSet):
    requirement = django_filters.CharFilter(field_name="kind")

    class Meta:
        model = PersonnelRecord
        fields = ["requirement"]


class RecordViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """One person's onboarding records, latest first. Recording again adds a record; the
    latest counts. Admins record."""

    serializer_class = RecordSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = RecordFilterSet
    ordering_fields = ["completed_on", "recorded_at"]
    ordering = ["-completed_on", "-id"]
    capabilities = {"create": Capability.MANAGE_PEOPLE}
    person: Person

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            person = (
                selectors.person_list(user=self.actor, organization=self.organization)
                .filter(pk=kwargs["person"])
                .first()
            )
            if person is None:
                raise exceptions.NotFound("No such person.")
            self.person = person

    def get_queryset(self) -> QuerySet[PersonnelRecord]:
        if self.schema_only:
            return PersonnelRecord.objects.none()
        return PersonnelRecord.objects.filter(person=self.person).select_related("recorded_by")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if getattr(self, "organization", None) is not None:
            context["evidence_choices"] = selectors.evidence_choices(
                user=self.actor, organization=self.organization
            )
        return context

    def perform_create(self, serializer: RecordSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        try:
            serializer.instance = services.record_create(
                actor=self.actor,
                person=self.person,
                kind=data["kind"],
                completed_on=data["completed_on"],
                provider=data.get("provider", ""),
                result=data.get("result", ""),
                evidence=data.get("evidence"),
                notes=data.get("notes", ""),
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # The service names the model's fields; answer with the API's names.
            renamed = {"kind": "requirement", "result": "check_result"}
            raise exceptions.ValidationError(
                {renamed.get(k, k): v for k, v in exc.message_dict.items()}
            ) from exc
