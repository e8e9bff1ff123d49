"""The API's shapes of requests (with their evidence and thread) and findings. Writes take
ids; audits.pbc_services validates scope, state and who may act."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.models import Audit, AuditFinding, AuditRequest, AuditRequestComment, FindingSeverity
from compliance.api.base import StrictFieldsMixin
from compliance.models import User
from controls.models import Control
from evidence.models import EvidenceItem


class AuditUserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="display_name")


class CommentSerializer(serializers.ModelSerializer):
    author = AuditUserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AuditRequestComment
        fields = ["id", "author", "body", "status_from", "status_to", "created_at"]


class AttachedEvidenceSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="The latest revision's file through the engagement's logged download (null "
        "for a link or a note)."
    )

    class Meta:
        model = EvidenceItem
        fields = ["id", "title", "kind", "effective_date", "download_url"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, item: EvidenceItem) -> str | None:
        revision = item.latest_revision
        request: AuditRequest = self.context["pbc_request"]
        if revision is None or not revision.storage_key:
            return None
        return reverse(
            "audit_evidence_download",
            args=[request.audit.organization.slug, request.audit_id, revision.pk],
        )


class AuditRequestSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="label", read_only=True, help_text="PBC-<number>")
    control = serializers.SerializerMethodField()
    requested_by = AuditUserRefSerializer(read_only=True, allow_null=True)
    assignee = AuditUserRefSerializer(read_only=True, allow_null=True)
    evidence_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = AuditRequest
        fields = [
            "id", "number", "reference", "title", "description", "control", "due_date",
            "status", "requested_by", "assignee", "evidence_count", "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_control(self, request: AuditRequest) -> dict[str, Any] | None:
        control = request.control
        return None if control is None else {"id": control.pk, "ref_id": control.ref_id}


class AuditRequestDetailSerializer(AuditRequestSerializer):
    evidence = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()

    class Meta(AuditRequestSerializer.Meta):
        fields = [*AuditRequestSerializer.Meta.fields, "evidence", "comments"]

    @extend_schema_field(AttachedEvidenceSerializer(many=True))
    def get_evidence(self, request: AuditRequest) -> Any:
        context = {**self.context, "pbc_request": request}
        return AttachedEvidenceSerializer(self.context["evidence"], many=True, context=context).data

    @extend_schema_field(CommentSerializer(many=True))
    def get_comments(self, request: AuditRequest) -> Any:
        return CommentSerializer(self.context["thread"], many=True).data


class OrganizationRelated(serializers.PrimaryKeyRelatedField):
    """An id of a row of the URL's organization (the service checks scope and visibility)."""

    def __init__(self, model: type[Any], **kwargs: Any) -> None:
        self.model = model
        # The schema reads the model from here; requests are checked against get_queryset.
        kwargs.setdefault("queryset", model.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        if organization is None:
            return self.model.objects.none()
        return self.model.objects.filter(organization=organization)


class RequestCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    control = OrganizationRelated(Control, required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)


class AssigneeField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> Any:
        from controls.services import assignable_owners

        organization = self.context.get("organization")
        return assignable_owners(organization) if organization else User.objects.none()


class AssignSerializer(StrictFieldsMixin, serializers.Serializer):
    assignee = AssigneeField(
        queryset=User.objects.all(), help_text="A member's or an admin's user id."
    )
    due_date = serializers.DateField(required=False, allow_null=True)


class AttachSerializer(StrictFieldsMixin, serializers.Serializer):
    evidence = OrganizationRelated(EvidenceItem, many=True, help_text="Evidence item ids.")


class BodySerializer(StrictFieldsMixin, serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class AuditFindingSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="label", read_only=True, help_text="F-<number>")
    controls = serializers.SerializerMethodField()
    raised_by = AuditUserRefSerializer(read_only=True, allow_null=True)
    responded_by = AuditUserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AuditFinding
        fields = [
            "id", "number", "reference", "title", "description", "severity", "controls", "status",
            "raised_by", "management_response", "responded_by", "responded_at", "created_at",
            "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_controls(self, finding: AuditFinding) -> list[dict[str, Any]]:
        return [{"id": c.pk, "ref_id": c.ref_id} for c in finding.controls.all()]


class FindingWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    controls = OrganizationRelated(Control, many=True, required=False)


class ResponseSerializer(StrictFieldsMixin, serializers.Serializer):
    management_response = serializers.CharField(max_length=20000)


class AuditSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="adoption.framework.slug", read_only=True)
    scope = serializers.SerializerMethodField()
    type = serializers.CharField(source="kind", read_only=True)

    class Meta:
        model = Audit
        fields = [
            "id",
            "name",
            "framework",
            "scope",
            "type",
            "as_of",
            "period_start",
            "period_end",
            "firm",
            "status",
            "fieldwork_start",
            "fieldwork_end",
            "report_date",
        ]
        read_only_fields = fields

    def get_scope(self, audit: Audit) -> list[str]:
        return [c.code for c in audit.scope.all()]
