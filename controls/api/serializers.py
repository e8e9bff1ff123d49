from __future__ import annotations

from typing import Any

from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from controls.models import (
    AdoptedFramework,
    Control,
    ControlCategory,
    ControlRequirement,
    ControlStatus,
    Framework,
    FrameworkCategory,
    Frequency,
    Requirement,
)
from controls.services import assignable_owners, mappable_requirements


class FrameworkCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = FrameworkCategory
        fields = ["code", "name", "description", "mandatory"]
        read_only_fields = fields


class FrameworkSerializer(serializers.ModelSerializer):
    categories = FrameworkCategorySerializer(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = [
            "id", "key", "slug", "name", "short_name", "edition", "publisher", "description",
            "version", "categories",
        ]  # fmt: skip
        read_only_fields = fields


class RequirementSerializer(serializers.ModelSerializer):
    framework: serializers.SlugRelatedField[Framework] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    category: serializers.SlugRelatedField[FrameworkCategory] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    parent: serializers.SlugRelatedField[Requirement] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True, allow_null=True, help_text="Null at the top of the tree."
    )

    class Meta:
        model = Requirement
        fields = [
            "id", "key", "framework", "ref_id", "title", "description", "category", "parent",
            "assessable", "withdrawn",
        ]  # fmt: skip
        read_only_fields = fields


class AdoptedFrameworkSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    framework = serializers.SlugRelatedField(slug_field="slug", queryset=Framework.objects.all())
    scope = serializers.ListField(
        child=serializers.CharField(max_length=20),
        help_text='Category codes in scope, e.g. ["CC", "A"]. Mandatory ones are required.',
    )
    target_audit_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The date the audit is planned for (a Type I date or the start of a Type II "
        "period); the forecast compares the ready date with it.",
    )

    class Meta:
        model = AdoptedFramework
        fields = ["id", "framework", "scope", "target_audit_date", "adopted_at"]
        read_only_fields = ["id", "adopted_at"]

    def to_representation(self, instance: AdoptedFramework) -> dict[str, Any]:
        target = instance.target_audit_date
        return {
            "id": instance.pk,
            "framework": instance.framework.slug,
            "scope": sorted(c.code for c in instance.scope.all()),
            "target_audit_date": target.isoformat() if target else None,
            "adopted_at": serializers.DateTimeField().to_representation(instance.adopted_at),
        }


class OwnerField(serializers.PrimaryKeyRelatedField):
    """A user id; only admins and members of the URL's organization are accepted."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return assignable_owners(organization) if organization else []


class RequirementKeysField(serializers.SlugRelatedField):
    """Requirement keys (URNs) of frameworks the organization adopted."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return mappable_requirements(organization) if organization else Requirement.objects.none()


class ControlSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=ControlCategory.choices)
    status = serializers.ChoiceField(choices=ControlStatus.choices, required=False)
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    owner = OwnerField(required=False, allow_null=True)
    backup_owner = OwnerField(required=False, allow_null=True)
    requirements = RequirementKeysField(
        many=True, slug_field="key", required=False, help_text="Requirement keys (URNs)."
    )
    status_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000,
        help_text="Why the status changes; kept in the status history.",
    )  # fmt: skip

    class Meta:
        model = Control
        fields = [
            "id", "ref_id", "name", "description", "category", "status", "na_justification",
            "owner", "backup_owner", "frequency", "narrative", "guidance", "long_lead",
            "target_date", "requirements", "status_reason", "archived_at", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "archived_at", "created_at", "updated_at"]


class MappingSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    control = serializers.PrimaryKeyRelatedField(queryset=Control.objects.none())
    requirement = RequirementKeysField(slug_field="key")

    class Meta:
        model = ControlRequirement
        fields = ["id", "control", "requirement", "created_at"]
        read_only_fields = ["id", "created_at"]
        # The service reports a duplicate mapping on the requirement field, by name.
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        controls = self.context.get("visible_controls")
        if controls is not None:
            self.fields["control"].queryset = controls  # type: ignore[attr-defined]


class CategoryReadinessSerializer(serializers.Serializer):
    code = serializers.CharField(source="category.code")
    name = serializers.CharField(source="category.name")
    total = serializers.IntegerField()
    ready = serializers.IntegerField()
    not_ready = serializers.IntegerField()
    gaps = serializers.IntegerField()
    percent = serializers.IntegerField()


class FrameworkReadinessSerializer(serializers.Serializer):
    framework = serializers.CharField(source="framework.slug")
    total = serializers.IntegerField()
    ready = serializers.IntegerField()
    not_ready = serializers.IntegerField()
    gaps = serializers.IntegerField()
    percent = serializers.IntegerField()
    categories = CategoryReadinessSerializer(many=True)
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the newest of these figures was computed."
    )
