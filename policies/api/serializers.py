from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from compliance.models import User
from controls.models import Control, Requirement
from controls.services import assignable_owners, mappable_requirements
from policies.dates import review_due
from policies.models import Acknowledgement, Policy, PolicyCategory, PolicyVersion
from policies.services import mappable_controls


class OwnerField(serializers.PrimaryKeyRelatedField):
    """A user id; only admins and members of the URL's organization are accepted."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return assignable_owners(organization) if organization else []


class ControlRefField(serializers.SlugRelatedField):
    """Control ref_ids (e.g. "IAM-01") of the organization's active controls."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return mappable_controls(organization) if organization else Control.objects.none()


class RequirementKeysField(serializers.SlugRelatedField):
    """Requirement keys (URNs) of frameworks the organization adopted."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return mappable_requirements(organization) if organization else Requirement.objects.none()


def _current(policy: Policy) -> PolicyVersion | None:
    versions = getattr(policy, "version_list", None)
    if versions is None:
        versions = list(policy.versions.defer("body").order_by("-number"))
    return next((v for v in versions if v.status == "approved"), None)


def _open(policy: Policy) -> PolicyVersion | None:
    versions = getattr(policy, "version_list", None) or []
    return next((v for v in versions if v.status in ("draft", "in_review")), None)


class PolicySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=PolicyCategory.choices)
    owner = OwnerField(required=False, allow_null=True)
    controls = ControlRefField(
        many=True, slug_field="ref_id", required=False, help_text="Control ref_ids."
    )
    requirements = RequirementKeysField(
        many=True, slug_field="key", required=False, help_text="Requirement keys (URNs)."
    )
    body = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100_000,
        help_text="Markdown of the first draft (on create only; later texts go through versions).",
    )
    current_version = serializers.SerializerMethodField(
        help_text="Number of the approved version, if any."
    )
    effective_date = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField(help_text="Email of the approver.")
    open_version = serializers.SerializerMethodField(
        help_text="Number of the draft or version in review, if any."
    )
    review_due = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = [
            "id", "title", "category", "description", "owner", "review_months", "controls",
            "requirements", "body", "current_version", "effective_date", "approved_by",
            "open_version", "review_due", "last_reviewed_on", "library_key", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "last_reviewed_on", "library_key", "created_at", "updated_at"]
        validators: list[Any] = []  # the service checks unique titles, by name

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_current_version(self, policy: Policy) -> int | None:
        current = _current(policy)
        return current.number if current else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_effective_date(self, policy: Policy) -> Any:
        current = _current(policy)
        return current.effective_date if current else None

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_approved_by(self, policy: Policy) -> str | None:
        current = _current(policy)
        return current.approved_by.email if current and current.approved_by else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_open_version(self, policy: Policy) -> int | None:
        version = _open(policy)
        return version.number if version else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_review_due(self, policy: Policy) -> Any:
        current = _current(policy)
        return review_due(
            effective_date=current.effective_date if current else None,
            last_reviewed_on=policy.last_reviewed_on,
            review_months=policy.review_months,
        )


class PolicyVersionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    approved_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )

    class Meta:
        model = PolicyVersion
        fields = [
            "id", "number", "status", "body", "change_summary", "effective_date", "approved_by",
            "approved_at", "retired_at", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "number", "status", "effective_date", "approved_by", "approved_at",
            "retired_at", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"body": {"required": False}}


class VersionCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    change_summary = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RequiredReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ApproveSerializer(StrictFieldsMixin, serializers.Serializer):
    effective_date = serializers.DateField(
        required=False, help_text="When the text takes effect; today (the default) or earlier."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SendSerializer(StrictFieldsMixin, serializers.Serializer):
    employment_type = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text='Only "employee" or only "contractor"; blank for both.',
    )
    department = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Only one department."
    )


class SendResultSerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="People asked now.")
    up_to_date = serializers.IntegerField(help_text="People whose acknowledgement still counts.")
    already_asked = serializers.IntegerField(help_text="People asked before in this round.")


class AcknowledgementSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    person_email = serializers.EmailField(source="person.email", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = Acknowledgement
        fields = [
            "id", "person", "person_name", "person_email", "version", "round",
            "acknowledged_at", "via",
        ]  # fmt: skip
        read_only_fields = fields
