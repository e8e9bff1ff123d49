from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from compliance.models import User
from evidence.models import EvidenceItem
from people.completion import Cell, PersonCompletion
from people.importer import ImportMode
from people.models import (
    RECORDED_KINDS,
    BackgroundCheckResult,
    EmploymentType,
    Person,
    PersonnelRecord,
)


class ManagerField(serializers.PrimaryKeyRelatedField):
    """A person id of the same organization's roster."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        if organization is None:
            return Person.objects.none()
        return Person.objects.filter(organization=organization)


class CellSerializer(serializers.Serializer):
    requirement = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["done", "due", "overdue", "not_required", "unknown"],
        help_text="done / due / overdue / not_required, or unknown when Policies cannot tell.",
    )
    due = serializers.DateField(allow_null=True)
    done_on = serializers.DateField(allow_null=True)
    expires = serializers.DateField(allow_null=True)
    note = serializers.CharField()


class PersonSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    employment_type = serializers.ChoiceField(
        choices=EmploymentType.choices, required=False, default=EmploymentType.EMPLOYEE
    )
    manager = ManagerField(required=False, allow_null=True)
    user: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The Attest account linked by email, if any."
    )
    completion = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id", "full_name", "email", "title", "department", "manager", "employment_type",
            "start_date", "end_date", "user", "completion", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "user", "completion", "created_at", "updated_at"]
        # The service reports a duplicate email, with the person it clashes with.
        validators: list[Any] = []

    @extend_schema_field(CellSerializer(many=True))
    def get_completion(self, person: Person) -> list[dict[str, Any]]:
        completions: dict[int, PersonCompletion] = self.context.get("completions", {})
        result = completions.get(person.pk)
        if result is None:
            return []
        return [cell_data(kind, cell) for kind, cell in result.cells.items()]


def cell_data(kind: str, cell: Cell) -> dict[str, Any]:
    return {
        "requirement": kind,
        "state": str(cell.state),
        "due": cell.due,
        "done_on": cell.done_on,
        "expires": cell.expires,
        "note": cell.note,
    }


class EvidenceField(serializers.PrimaryKeyRelatedField):
    """An evidence item id of the organization that the requester can see."""

    def get_queryset(self) -> Any:
        choices = self.context.get("evidence_choices")
        return choices if choices is not None else EvidenceItem.objects.none()


class RecordSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    requirement = serializers.ChoiceField(
        source="kind",
        choices=[(k.value, k.label) for k in RECORDED_KINDS],
        help_text="What was completed. Policy acknowledgements are collected in Policies.",
    )
    check_result = serializers.ChoiceField(
        source="result",
        choices=BackgroundCheckResult.choices,
        required=False,
        allow_blank=True,
        help_text="Background checks only: clear, consider or failed.",
    )
    evidence = EvidenceField(required=False, allow_null=True)
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )

    class Meta:
        model = PersonnelRecord
        fields = [
            "id", "person", "requirement", "completed_on", "provider", "check_result",
            "evidence", "notes", "recorded_by", "recorded_at",
        ]  # fmt: skip
        read_only_fields = ["id", "person", "recorded_by", "recorded_at"]


class ImportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(help_text="The roster as UTF-8 CSV with a header line.")
    mode = serializers.ChoiceField(
        choices=[(m.value, m.label) for m in ImportMode],
        default=ImportMode.ALL_OR_NOTHING.value,
        help_text="all_or_nothing (default): import nothing if any row is bad. valid_only: "
        "import the good rows and report the bad ones.",
    )
    update_existing = serializers.BooleanField(
        default=False,
        help_text="Update people whose email is already in the roster (default: an error).",
    )


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line of the file (the header is line 1).")
    column = serializers.CharField(help_text="The column at fault, if one is.")
    reason = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False, help_text="Why nothing was imported.")
    mode = serializers.CharField()
    update_existing = serializers.BooleanField()
    rows = serializers.IntegerField(help_text="Data rows read.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped_lines = serializers.ListField(child=serializers.IntegerField())
    warnings = serializers.ListField(child=serializers.CharField())

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``errors`` would shadow Serializer.errors as a declared field.
        fields = super().get_fields()
        fields["errors"] = RowErrorSerializer(many=True, help_text="Each bad row, by line.")
        return fields
