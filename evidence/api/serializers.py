from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from controls.models import Control
from evidence.models import (
    EvidenceItem,
    EvidenceKind,
    EvidenceRequest,
    EvidenceRevision,
    RequestOccurrence,
    ReviewStatus,
)


class LinkField(serializers.URLField):
    """The revision's link; null (never "") for a file or a note, which have none."""

    def to_representation(self, value: str) -> Any:  # str, or None for "no link"
        return value or None


class RevisionSerializer(serializers.ModelSerializer):
    url = LinkField(
        read_only=True, allow_null=True, help_text="The link of a link revision, else null."
    )
    uploaded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )
    reviewed_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceRevision
        fields = [
            "id", "number", "original_name", "size", "content_type", "sha256", "url", "note",
            "uploaded_by", "uploaded_at", "review_status", "reviewed_by", "reviewed_at",
            "review_reason", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, revision: EvidenceRevision) -> str | None:
        if not revision.storage_key:
            return None
        organization = self.context["organization"]
        return reverse("api-evidence-revision-download", args=[organization.slug, revision.pk])


class EvidenceItemSerializer(serializers.ModelSerializer):
    controls: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="ref_id", many=True, read_only=True
    )
    latest_revision = RevisionSerializer(
        read_only=True,
        allow_null=True,
        help_text="The newest revision (all of them: GET the item's revisions/, a page at a time).",
    )
    revision_count = serializers.IntegerField(
        read_only=True, help_text="How many revisions the item has."
    )

    class Meta:
        model = EvidenceItem
        fields = [
            "id", "title", "kind", "controls", "occurrence", "effective_date", "covers_from",
            "covers_until", "created_at", "latest_revision", "revision_count",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class ScopedControls(serializers.PrimaryKeyRelatedField):
    """Control ids the requester may attach evidence to (in the URL's organization)."""

    def get_queryset(self) -> Any:
        return self.context.get("uploadable_controls", Control.objects.none())


@extend_schema_field(OpenApiTypes.INT)
class ScopedOccurrence(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> Any:
        return self.context.get("uploadable_occurrences", RequestOccurrence.objects.none())


class EvidenceCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    """Multipart with ``file`` for a file, or JSON with ``url`` (link) or ``note``."""

    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    controls = ScopedControls(many=True, required=False)
    occurrence = ScopedOccurrence(required=False, allow_null=True)
    effective_date = serializers.DateField()
    covers_from = serializers.DateField(required=False, allow_null=True)
    covers_until = serializers.DateField(required=False, allow_null=True)
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)
    url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class RevisionCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)
    url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    effective_date = serializers.DateField(required=False, allow_null=True)


class ReviewSerializer(StrictFieldsMixin, serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewStatus.ACCEPTED, ReviewStatus.REJECTED])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class OccurrenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestOccurrence
        fields = ["id", "sequence", "period_start", "period_end", "due_date", "status"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class OrganizationOwners(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> Any:
        from controls.services import assignable_owners

        organization = self.context.get("organization")
        return assignable_owners(organization) if organization else Control.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class OrganizationControls(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return Control.objects.filter(organization=organization, archived_at__isnull=True)


class EvidenceRequestSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    owner = OrganizationOwners(required=False, allow_null=True)
    controls = OrganizationControls(many=True, required=False)
    expected = serializers.IntegerField(read_only=True)
    delivered = serializers.IntegerField(read_only=True)
    overdue = serializers.IntegerField(read_only=True)

    class Meta:
        model = EvidenceRequest
        fields = [
            "id", "title", "instructions", "owner", "controls", "cadence", "first_due_date",
            "remind_days_before", "active", "expected", "delivered", "overdue", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "expected", "delivered", "overdue", "created_at"]
