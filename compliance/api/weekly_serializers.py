"""Serializers of the weekly meeting's API: action items and each week's notes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from compliance.meetings import selectors
from compliance.meetings.weeks import Week
from compliance.models import ActionItem, ActionItemStatus, User, WeeklyMeeting
from compliance.models.meetings import NOTES_MAX_LENGTH
from controls.models import Control
from policies.rendering import render_markdown


class MemberRefSerializer(serializers.Serializer):
    """A person as an action item names them (its owner, who did it, who raised it)."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="display_name", help_text="Full name, else the email.")


def person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else dict(MemberRefSerializer(user).data)


class ControlSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ref_id = serializers.CharField(help_text="The control's ID, e.g. IAM-01.")
    name = serializers.CharField()


class _WrittenAsId(serializers.PrimaryKeyRelatedField):
    """Written as an id, read as an object (see the schema extensions below)."""

    def use_pk_only_optimization(self) -> bool:
        return False  # the representation needs the row, which the queryset joins

    def get_choices(self, cutoff: int | None = None) -> dict[Any, str]:
        # The browsable API's form keys its options by id (an object cannot be a key).
        queryset: Any = self.get_queryset()
        if cutoff is not None:
            queryset = queryset[:cutoff]
        return {row.pk: self.display_value(row) for row in queryset}


class ItemOwnerField(_WrittenAsId):
    """An admin or member of the URL's organization, by user id."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        return selectors.owner_choices(organization) if organization else User.objects.none()

    def to_representation(self, value: Any) -> Any:
        return person(value)


class ItemControlField(_WrittenAsId):
    """An active control of the URL's organization, by id."""

    def get_queryset(self) -> Any:
        organization, request = self.context.get("organization"), self.context.get("request")
        if organization is None or request is None:
            return Control.objects.none()
        return selectors.control_choices(user=request.user, organization=organization)

    def to_representation(self, value: Any) -> Any:
        return dict(ControlSummarySerializer(value).data)


class ItemOwnerFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ItemOwnerField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        if direction == "request":
            return {"type": "integer", "description": "The owner's user id."}
        component = auto_schema.resolve_serializer(MemberRefSerializer, direction)
        return {"allOf": [component.ref], "nullable": True}


class ItemControlFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ItemControlField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        if direction == "request":
            return {"type": "integer", "nullable": True, "description": "An active control's id."}
        component = auto_schema.resolve_serializer(ControlSummarySerializer, direction)
        return {"allOf": [component.ref], "nullable": True}


class ActionItemSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """An action item of the weekly meeting. Unknown and read-only fields are refused (400)."""

    title = serializers.CharField(max_length=200, help_text="What is to be done.")
    owner = ItemOwnerField(
        help_text="Who does it: an admin or member (write the user id). A member raises items "
        "for themselves only, and only admins change the owner (403 naming the field)."
    )
    due_on = serializers.DateField(help_text="When it is due (not in the past for a new item).")
    control = ItemControlField(
        required=False,
        allow_null=True,
        help_text="The control it is about, if any: an active control (write its id).",
    )
    status = serializers.ChoiceField(choices=ActionItemStatus.choices, read_only=True)
    raised_week = serializers.SerializerMethodField(
        help_text="The ISO week it was raised in (organization's time zone), e.g. 2026-W48."
    )
    done_by = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id", "title", "owner", "due_on", "control", "status", "raised_week", "done_at",
            "done_by", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "status", "raised_week", "done_at", "created_at"]

    def get_raised_week(self, item: ActionItem) -> str:
        return Week(item.raised_week).key

    @extend_schema_field(MemberRefSerializer(allow_null=True))
    def get_done_by(self, item: ActionItem) -> dict[str, Any] | None:
        return person(item.done_by)

    @extend_schema_field(MemberRefSerializer(allow_null=True))
    def get_created_by(self, item: ActionItem) -> dict[str, Any] | None:
        return person(item.created_by)


class WeeklyNotesSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One week's meeting notes; a week nobody wrote notes for reads as empty."""

    week = serializers.SerializerMethodField(help_text="The ISO week, e.g. 2026-W48.")
    week_start = serializers.DateField(read_only=True, help_text="Its Monday.")
    notes = serializers.CharField(
        allow_blank=True,
        max_length=NOTES_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Markdown. Write it with PUT or PATCH (admins).",
    )
    notes_html = serializers.SerializerMethodField(
        help_text="The notes as HTML, sanitised as policy bodies are."
    )
    updated_by = serializers.SerializerMethodField()
    updated_at = serializers.SerializerMethodField(
        help_text="When the notes were last written (null: never)."
    )

    class Meta:
        model = WeeklyMeeting
        fields = ["week", "week_start", "notes", "notes_html", "updated_by", "updated_at"]
        read_only_fields = ["week", "week_start", "notes_html", "updated_by", "updated_at"]

    def get_week(self, meeting: WeeklyMeeting) -> str:
        return Week(meeting.week_start).key

    def get_notes_html(self, meeting: WeeklyMeeting) -> str:
        return str(render_markdown(meeting.notes)) if meeting.notes else ""

    @extend_schema_field(MemberRefSerializer(allow_null=True))
    def get_updated_by(self, meeting: WeeklyMeeting) -> dict[str, Any] | None:
        return person(meeting.updated_by) if meeting.pk else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_updated_at(self, meeting: WeeklyMeeting) -> Any:
        if meeting.pk is None:
            return None
        return serializers.DateTimeField().to_representation(meeting.updated_at)
