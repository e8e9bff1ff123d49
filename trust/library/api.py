"""The answer library's REST API: entries, questionnaires with their rows, row decisions and
the export download. Same rules as the pages (trust.library.policies); auditors get 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter, StrictFieldsMixin
from compliance.api.filters import OrderingFilter
from compliance.permissions import PROGRAM_READERS
from controls.models import Control
from policies.models import Policy
from trust.library import selectors, services
from trust.library.views import export_response
from trust.models import AnswerEntry, Questionnaire, QuestionnaireRow, RowDecision


def _drf_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


class _NoCapability(dict[str, Any]):
    """No organization capability is asked for: the role check below decides (404, not 403)."""

    def get(self, key: str, default: Any = None) -> Any:
        return None


class LibraryScopedMixin(OrganizationScopedMixin):
    capabilities = _NoCapability()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.membership.role not in PROGRAM_READERS:
            raise exceptions.NotFound("Not found.")


class OrgPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[Any]:
        organization = self.context.get("organization")
        return super().get_queryset().filter(organization=organization)  # type: ignore[union-attr]


class AnswerEntrySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    owner: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    controls = OrgPrimaryKeyField(many=True, required=False, queryset=Control.objects.all())
    policies = OrgPrimaryKeyField(many=True, required=False, queryset=Policy.objects.all())
    is_stale = serializers.SerializerMethodField(
        help_text="Review date passed, or a linked control is not ready."
    )

    class Meta:
        model = AnswerEntry
        fields = [
            "id",
            "question",
            "answer",
            "aliases",
            "notes",
            "owner",
            "review_by",
            "controls",
            "policies",
            "is_stale",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_stale(self, obj: AnswerEntry) -> bool:
        return bool(getattr(obj, "is_stale", False))


class AnswerEntryViewSet(
    LibraryScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Approved answers. Program readers list them (``q`` searches, ``stale=stale|current``,
    ``owner=me``); admins add and remove them; admins and the member who owns an entry edit it."""

    serializer_class = AnswerEntrySerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["question", "review_by", "updated_at"]
    ordering = ["question"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[AnswerEntry]:
        if self.schema_only:
            return AnswerEntry.objects.none()
        params = self.request.query_params
        errors = {}
        if params.get("stale", "") not in ("", *selectors.STALE_FILTERS):
            errors["stale"] = ["Use stale or current."]
        owner = params.get("owner", "")
        if owner and owner != "me" and not owner.isdigit():
            errors["owner"] = ["Use me or a user id."]
        if errors:
            raise exceptions.ValidationError(errors)
        return selectors.answer_entry_list(
            user=self.actor,
            organization=self.organization,
            search=params.get("q", "")[:200],
            stale=params.get("stale", ""),
            owner=params.get("owner", ""),
        ).prefetch_related("controls", "policies")

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Search question, answer and wordings."),
            OpenApiParameter("stale", str, enum=["stale", "current"]),
            OpenApiParameter("owner", str, description="``me`` or a user id."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        try:
            serializer.instance = services.answer_entry_create(
                actor=self.actor,
                organization=self.organization,
                question=data.get("question", ""),
                answer=data.get("answer", ""),
                aliases=data.get("aliases", ""),
                notes=data.get("notes", ""),
                review_by=data.get("review_by"),
                controls=data.get("controls", []),
                policies=data.get("policies", []),
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        controls = data.pop("controls", None)
        policies = data.pop("policies", None)
        try:
            entry = serializer.instance
            assert isinstance(entry, AnswerEntry)
            serializer.instance = services.answer_entry_update(
                actor=self.actor,
                entry=entry,
                changes=data,
                controls=controls,
                policies=policies,
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.require_change(self.get_object())
        response = super().update(request, *args, **kwargs)
        response.data = AnswerEntrySerializer(
            self.get_queryset().get(pk=kwargs["pk"]), context=self.get_serializer_context()
        ).data
        return response

    def perform_destroy(self, instance: AnswerEntry) -> None:
        try:
            services.answer_entry_delete(actor=self.actor, entry=instance)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None


class QuestionnaireRowSerializer(serializers.ModelSerializer):
    suggested_entry_question = serializers.CharField(
        source="suggested_entry.question", read_only=True, default=None
    )
    source_stale = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = QuestionnaireRow
        fields = [
            "id",
            "row_number",
            "question",
            "suggested_entry",
            "suggested_entry_question",
            "suggested_answer",
            "confidence",
            "source_stale",
            "decision",
            "final_answer",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class QuestionnaireSerializer(serializers.ModelSerializer):
    class Meta:
        model = Questionnaire
        fields = [
            "id",
            "name",
            "customer",
            "filename",
            "format",
            "sheet",
            "question_column",
            "answer_column",
            "header_row",
            "status",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class RowDecisionSerializer(StrictFieldsMixin, serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[RowDecision.ACCEPTED, RowDecision.EDITED, RowDecision.REJECTED]
    )
    answer = serializers.CharField(required=False, allow_blank=True, max_length=8000)


class QuestionnaireViewSet(
    LibraryScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Imported questionnaires (import and column mapping happen in the UI). ``rows`` pages the
    questions with their suggestion and decision; ``export`` downloads the completed file in the
    format and layout it came in."""

    serializer_class = QuestionnaireSerializer
    filter_backends = [PermittedObjectsFilter, OrderingFilter]
    ordering_fields = ["uploaded_at", "name"]
    ordering = ["-uploaded_at"]

    def get_queryset(self) -> QuerySet[Questionnaire]:
        if self.schema_only:
            return Questionnaire.objects.none()
        return selectors.questionnaire_list(user=self.actor, organization=self.organization)

    @extend_schema(responses=QuestionnaireRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def rows(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        questionnaire = self.get_object()
        queryset = selectors.questionnaire_rows(user=self.actor, questionnaire=questionnaire)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(QuestionnaireRowSerializer(page, many=True).data)

    @extend_schema(
        request=RowDecisionSerializer,
        responses=QuestionnaireRowSerializer,
        parameters=[OpenApiParameter("row", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"rows/(?P<row>[0-9]+)/decision")
    def decide(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        questionnaire = self.get_object()
        row = selectors.questionnaire_row_get(
            user=self.actor, questionnaire=questionnaire, pk=kwargs["row"]
        )
        self.require_change(row)
        serializer = RowDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.questionnaire_row_decide(
                actor=self.actor,
                row=row,
                decision=serializer.validated_data["decision"],
                answer=serializer.validated_data.get("answer", ""),
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None
        fresh = selectors.questionnaire_row_get(
            user=self.actor, questionnaire=questionnaire, pk=kwargs["row"]
        )
        return Response(QuestionnaireRowSerializer(fresh).data)

    def _set_status(self, service: Any) -> Response:
        questionnaire = self.get_object()
        self.require_change(questionnaire)
        try:
            questionnaire = service(actor=self.actor, questionnaire=questionnaire)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None
        return Response(QuestionnaireSerializer(questionnaire).data)

    @extend_schema(request=None, responses=QuestionnaireSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark the review complete: rows can no longer be decided until it is reopened."""
        return self._set_status(services.questionnaire_complete)

    @extend_schema(request=None, responses=QuestionnaireSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reopen a completed review."""
        return self._set_status(services.questionnaire_reopen)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    @action(detail=True, methods=["get"], url_path="export")
    def download(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        questionnaire = self.get_object()
        if questionnaire.status == "mapping":
            raise exceptions.ValidationError({"status": ["Choose the columns before exporting."]})
        return export_response(questionnaire)
