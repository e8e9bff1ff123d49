"""The API of vendor questionnaires: templates, and the questionnaires sent to a vendor."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, StrictFieldsMixin
from compliance.permissions import Capability
from vendors import questionnaire_services as services
from vendors import selectors
from vendors.api.serializers import UserRefSerializer, user_ref
from vendors.models import (
    AnswerKind,
    QuestionnaireStatus,
    QuestionnaireTemplate,
    SentQuestionnaire,
    TemplateQuestion,
    Vendor,
)
from vendors.questionnaires import answer_label, score, starter_library


class TemplateQuestionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AnswerKind.choices, default=AnswerKind.YES_NO)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50,
        help_text="The answers of a ``choice`` question.",
    )  # fmt: skip

    class Meta:
        model = TemplateQuestion
        fields = ["position", "section", "text", "kind", "choices", "weight", "scoring_answer",
                  "file_expected"]  # fmt: skip
        read_only_fields = ["position"]
        extra_kwargs = {
            "scoring_answer": {
                "help_text": "The answer that scores (``yes``, ``no`` or one of the choices); "
                "empty: not scored."
            }
        }


class QuestionnaireTemplateSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    questions = TemplateQuestionSerializer(many=True, required=False)
    library_key = serializers.ChoiceField(
        choices=[], required=False, allow_blank=True,
        help_text="Copy this starter template instead of sending ``name`` and ``questions``.",
    )  # fmt: skip

    class Meta:
        model = QuestionnaireTemplate
        fields = ["id", "name", "description", "library_key", "library_version", "questions",
                  "created_at"]  # fmt: skip
        read_only_fields = ["id", "library_version", "created_at"]
        extra_kwargs = {"name": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["library_key"].choices = sorted(starter_library())  # type: ignore[attr-defined]


class AnswerSerializer(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=AnswerKind.choices)
    weight = serializers.IntegerField()
    scoring_answer = serializers.CharField()
    answer = serializers.CharField(help_text="The value given (``yes``, ``no``, ``n/a``, text).")
    answer_label = serializers.CharField()
    comment = serializers.CharField()


class ScorePartSerializer(serializers.Serializer):
    name = serializers.CharField()
    earned = serializers.IntegerField()
    possible = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True)


class ScoreSerializer(serializers.Serializer):
    overall = ScorePartSerializer()
    sections = ScorePartSerializer(many=True)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question_key = serializers.CharField()
    original_name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class SentQuestionnaireSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    template = serializers.PrimaryKeyRelatedField(
        queryset=QuestionnaireTemplate.objects.none(), write_only=True,
        help_text="The template whose questions are sent (frozen now).",
    )  # fmt: skip
    expires_in_days = serializers.IntegerField(
        write_only=True, min_value=1, max_value=services.MAX_EXPIRY_DAYS
    )
    status = serializers.SerializerMethodField()
    sent_by = serializers.SerializerMethodField()

    class Meta:
        model = SentQuestionnaire
        fields = ["id", "vendor", "title", "template", "contact_name", "contact_email",
                  "expires_in_days", "expires_at", "status", "sent_by", "sent_at",
                  "submitted_at", "revoked_at", "review"]  # fmt: skip
        read_only_fields = ["id", "vendor", "title", "expires_at", "sent_at", "submitted_at",
                            "revoked_at", "review"]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["template"].queryset = QuestionnaireTemplate.objects.filter(  # type: ignore[attr-defined]
                organization=organization
            )

    @extend_schema_field(serializers.ChoiceField(choices=QuestionnaireStatus.choices))
    def get_status(self, questionnaire: SentQuestionnaire) -> str:
        return questionnaire.current_status()

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_sent_by(self, questionnaire: SentQuestionnaire) -> dict[str, Any] | None:
        return user_ref(questionnaire.sent_by)


class SentQuestionnaireDetailSerializer(SentQuestionnaireSerializer):
    answers = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta(SentQuestionnaireSerializer.Meta):
        fields = [*SentQuestionnaireSerializer.Meta.fields, "answers", "score", "attachments"]

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, questionnaire: SentQuestionnaire) -> list[dict[str, Any]]:
        saved = services.answers_by_key(questionnaire)
        rows = []
        for q in questionnaire.questions:
            answer = saved.get(q["key"])
            value = answer.value if answer else ""
            rows.append(
                {
                    "key": q["key"], "section": q["section"], "text": q["text"],
                    "kind": q["kind"], "weight": q["weight"],
                    "scoring_answer": q["scoring_answer"], "answer": value,
                    "answer_label": answer_label(q, value),
                    "comment": answer.comment if answer else "",
                }
            )  # fmt: skip
        return rows

    @extend_schema_field(ScoreSerializer)
    def get_score(self, questionnaire: SentQuestionnaire) -> dict[str, Any]:
        values = {k: a.value for k, a in services.answers_by_key(questionnaire).items()}
        result = score(questionnaire.questions, values)

        def part(p: Any) -> dict[str, Any]:
            return {"name": p.name, "earned": p.earned, "possible": p.possible,
                    "percent": p.percent}  # fmt: skip

        return {"overall": part(result.overall), "sections": [part(p) for p in result.sections]}

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, questionnaire: SentQuestionnaire) -> list[dict[str, Any]]:
        return [
            {"id": a.pk, "question_key": a.question_key, "original_name": a.original_name,
             "size": a.size, "sha256": a.sha256, "uploaded_at": a.uploaded_at}
            for a in questionnaire.attachments.all()
        ]  # fmt: skip


def _raise_api(exc: ValidationError) -> None:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    raise serializers.ValidationError(detail) from exc


class QuestionnaireTemplateViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Questionnaire templates sent to vendors. Program readers see them; admins create them,
    from questions or by copying a starter template (``library_key``)."""

    serializer_class = QuestionnaireTemplateSerializer
    capabilities = {"create": Capability.MANAGE_VENDORS}

    def get_queryset(self) -> QuerySet[QuestionnaireTemplate]:
        if self.schema_only:
            return QuestionnaireTemplate.objects.none()
        return (
            QuestionnaireTemplate.objects.filter(organization=self.organization)
            .prefetch_related("questions")
            .order_by("name", "id")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("library_key") and ("questions" in data or data.get("name")):
            raise serializers.ValidationError(
                {"library_key": ["Send either library_key, or name and questions."]}
            )
        try:
            if data.get("library_key"):
                template = services.template_from_library(
                    actor=self.actor, organization=self.organization, key=data["library_key"]
                )
            else:
                template = services.template_create(
                    actor=self.actor,
                    organization=self.organization,
                    name=data.get("name", ""),
                    description=data.get("description", ""),
                    questions=[dict(q) for q in data.get("questions", [])],
                )
        except ValidationError as exc:
            _raise_api(exc)
        fresh = self.get_queryset().get(pk=template.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


VENDOR_ID = OpenApiParameter("vendor", int, OpenApiParameter.PATH, description="The vendor's id.")


@extend_schema_view(
    list=extend_schema(parameters=[VENDOR_ID]),
    create=extend_schema(parameters=[VENDOR_ID], responses={201: SentQuestionnaireSerializer}),
    retrieve=extend_schema(parameters=[VENDOR_ID], responses=SentQuestionnaireDetailSerializer),
    revoke=extend_schema(
        parameters=[VENDOR_ID], request=None, responses={200: SentQuestionnaireSerializer}
    ),
)
class SentQuestionnaireViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Questionnaires sent to one vendor, newest first; the detail has the answers and the
    score. The vendor's owner and admins send (the contact is emailed the link) and revoke."""

    serializer_class = SentQuestionnaireSerializer
    vendor: Vendor

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.schema_only:
            self.vendor = selectors.vendor_get(
                user=self.actor, organization=self.organization, pk=kwargs["vendor"]
            )

    def get_queryset(self) -> QuerySet[SentQuestionnaire]:
        if self.schema_only:
            return SentQuestionnaire.objects.none()
        queryset = selectors.vendor_questionnaires(user=self.actor, vendor=self.vendor)
        if self.action == "retrieve":
            return queryset.prefetch_related("answers", "attachments")
        return queryset.order_by("-sent_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "retrieve":
            return SentQuestionnaireDetailSerializer
        return SentQuestionnaireSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a questionnaire: its questions are frozen now and the contact is emailed."""
        self.require_change(self.vendor)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            questionnaire, _token = services.questionnaire_send(
                actor=self.actor, vendor=self.vendor, **serializer.validated_data
            )
        except ValidationError as exc:
            _raise_api(exc)
        fresh = self.get_queryset().get(pk=questionnaire.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The link stops working. Only an open questionnaire can be revoked."""
        questionnaire = self.get_object()
        self.require_change(self.vendor)
        try:
            services.questionnaire_revoke(actor=self.actor, questionnaire=questionnaire)
        except ValidationError as exc:
            _raise_api(exc)
        fresh = self.get_queryset().get(pk=questionnaire.pk)
        return Response(
            SentQuestionnaireSerializer(fresh, context=self.get_serializer_context()).data
        )
