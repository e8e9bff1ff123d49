from __future__ import annotations

from typing import Any

from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from trust.models import AccessRequest, DocumentAccess, DocumentDownload, TrustDocument


class TrustDocumentSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    download_count = serializers.IntegerField(read_only=True, help_text="Downloads logged.")

    class Meta:
        model = TrustDocument
        fields = [
            "id",
            "title",
            "description",
            "access",
            "is_published",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "uploaded_at",
            "download_count",
        ]
        read_only_fields = ["original_name", "size", "content_type", "sha256", "uploaded_at"]


class FormBooleanField(serializers.BooleanField):
    """A boolean that, in a multipart form too, is only ``true`` or ``false`` (DRF would also
    take 0, 1, "yes", "off"…, which the schema does not allow)."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid", input=data)
        raise AssertionError  # fail() raises


class TrustDocumentUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    title = serializers.CharField(max_length=150)
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    access = serializers.ChoiceField(choices=DocumentAccess.choices, default=DocumentAccess.GATED)
    is_published = FormBooleanField(default=False)
    file = serializers.FileField(help_text="The document (multipart/form-data).")


class DocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class GrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class AccessRequestSerializer(serializers.ModelSerializer):
    documents = DocumentRefSerializer(many=True, read_only=True)
    nda_version = serializers.SerializerMethodField()
    grants = GrantSerializer(many=True, read_only=True)

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "name",
            "email",
            "company",
            "reason",
            "documents",
            "status",
            "nda_version",
            "nda_accepted_at",
            "nda_ip",
            "nda_user_agent",
            "decided_at",
            "decision_note",
            "created_at",
            "grants",
        ]
        read_only_fields = fields

    def get_nda_version(self, obj: AccessRequest) -> int | None:
        return obj.nda.version if obj.nda else None


class DecisionSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DownloadSerializer(serializers.ModelSerializer):
    document = DocumentRefSerializer(read_only=True)
    request = serializers.SerializerMethodField(
        help_text="The access request it came through; null for a public download."
    )

    class Meta:
        model = DocumentDownload
        fields = ["id", "document", "request", "ip", "user_agent", "at"]
        read_only_fields = fields

    def get_request(self, obj: DocumentDownload) -> int | None:
        return obj.grant.request_id if obj.grant else None
