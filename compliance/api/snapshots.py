"""The weekly readiness snapshots, read-only: ``GET /api/organizations/<org>/readiness/snapshots/``.

Viewers, members and admins read them (the choke point: ``compliance.selectors.snapshot_list``);
an auditor's role lacks the program (403), a stranger gets 404. Filters: ``framework`` (the slug
of an adopted framework), ``from`` and ``to`` (an ISO date or an ISO week: the weeks from the one
holding ``from`` to the one holding ``to``, both included). A bad value is a 400 naming it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from compliance.api.base import OrganizationScopedMixin
from compliance.api.filters import OrderingFilter
from compliance.models import ReadinessSnapshot
from compliance.selectors import snapshot_list
from compliance.snapshots import COUNTS, parse_week, week_label, week_monday
from controls.models import AdoptedFramework, BlockerKind, ControlStatus

DATE_OR_WEEK = r"^\d{4}-(\d{2}-\d{2}|W\d{2})$"
_DATE_OR_WEEK = re.compile(DATE_OR_WEEK)


def _week_of(name: str, value: str) -> dt.date:
    """The Monday of the week an ISO date (``2026-11-26``) or week (``2026-W48``) names."""
    if not _DATE_OR_WEEK.match(value):
        raise exceptions.ValidationError(
            {name: ["Use an ISO date (2026-11-26) or an ISO week (2026-W48)."]}
        )
    try:
        if "W" in value:
            return parse_week(value)
        return week_monday(dt.date.fromisoformat(value))
    except ValueError:
        raise exceptions.ValidationError({name: [f"{value!r} is not a date or week."]}) from None


class SnapshotFilter(BaseFilterBackend):
    """``framework``, ``from`` and ``to``, checked strictly (a bad value is a 400 naming it)."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        weeks: dict[str, dt.date] = {}
        for name in ("from", "to"):
            if name in params:
                try:
                    weeks[name] = _week_of(name, params[name])
                except exceptions.ValidationError as exc:
                    errors.update(exc.detail)  # type: ignore[arg-type]
        if "from" in weeks and "to" in weeks and weeks["from"] > weeks["to"]:
            errors["to"] = ["The end of the range is before its start."]
        if "framework" in params:
            slug = params["framework"]
            framework_id = (
                AdoptedFramework.objects.filter(
                    organization=view.organization, framework__slug=slug
                )
                .values_list("framework_id", flat=True)
                .first()
            )
            if framework_id is None:
                errors["framework"] = [f"{slug!r} is not a framework this organization adopted."]
            else:
                queryset = queryset.filter(framework_id=framework_id)
        if errors:
            raise exceptions.ValidationError(errors)
        if "from" in weeks:
            queryset = queryset.filter(week__gte=weeks["from"])
        if "to" in weeks:
            queryset = queryset.filter(week__lte=weeks["to"])
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        pattern = {"type": "string", "pattern": DATE_OR_WEEK}
        return [
            {
                "name": "framework",
                "in": "query",
                "required": False,
                "description": "Only this adopted framework (its slug, e.g. soc2).",
                "schema": {"type": "string"},
            },
            {
                "name": "from",
                "in": "query",
                "required": False,
                "description": "From the week holding this ISO date, or this ISO week (2026-W40).",
                "schema": pattern,
            },
            {
                "name": "to",
                "in": "query",
                "required": False,
                "description": "To the week holding this ISO date, or this ISO week, included.",
                "schema": pattern,
            },
        ]


class CategorySnapshotSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    ready = serializers.IntegerField()
    gaps = serializers.IntegerField()
    percent = serializers.IntegerField()


class OwnerSnapshotSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField()
    name = serializers.CharField()
    total = serializers.IntegerField(help_text="Controls they owned.")
    open = serializers.IntegerField(help_text="Of those, not ready.")
    overdue = serializers.IntegerField(help_text="Past their target date and not in place.")


class _CountsSerializer(serializers.Serializer):
    """A JSON object of counts with every key the schema names: a key a snapshot does not hold
    (one written before a new blocker kind or count existed) reads 0."""

    def to_representation(self, instance: Any) -> dict[str, int]:
        stored = instance if isinstance(instance, dict) else {}
        return {str(key): int(stored.get(key, 0)) for key in self.fields}


def _counts(name: str, keys: list[str]) -> type[serializers.Serializer]:
    """A counts serializer with these integer members (named for the schema)."""
    fields: dict[str, Any] = {key: serializers.IntegerField() for key in keys}
    return type(name, (_CountsSerializer,), fields)


ControlsByStatusSerializer = _counts("ControlsByStatusSerializer", list(ControlStatus.values))
ControlsByBlockerSerializer = _counts("ControlsByBlockerSerializer", list(BlockerKind.values))
SnapshotCountsSerializer = _counts("SnapshotCountsSerializer", list(COUNTS))


class ReadinessSnapshotSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework.slug")
    iso_week = serializers.SerializerMethodField(help_text="The ISO week, e.g. 2026-W48.")
    categories = CategorySnapshotSerializer(many=True)
    owners = OwnerSnapshotSerializer(many=True)
    controls_by_status = ControlsByStatusSerializer(
        help_text="The framework's controls (mapped to its in-scope requirements) by status then."
    )
    controls_by_blocker = ControlsByBlockerSerializer(
        help_text="How many of those controls each kind of blocker blocked then."
    )
    counts = SnapshotCountsSerializer(
        help_text="Organization-wide: evidence requests due within a week and overdue, "
        "automated tests by the outcome of their latest run, open remediations (test findings), "
        "personnel items and vendor reviews overdue."
    )

    class Meta:
        model = ReadinessSnapshot
        fields = [
            "id",
            "framework",
            "week",
            "iso_week",
            "as_of",
            "computed_at",
            "requirements_total",
            "requirements_ready",
            "requirements_gaps",
            "percent",
            "categories",
            "owners",
            "controls_by_status",
            "controls_by_blocker",
            "counts",
        ]
        read_only_fields = fields

    def get_iso_week(self, snapshot: ReadinessSnapshot) -> str:
        return week_label(snapshot.week)


class ReadinessSnapshotListView(OrganizationScopedMixin, generics.ListAPIView):
    """Weekly readiness snapshots, newest week first: each adopted framework's figures frozen
    as of the end of each week (Sunday 23:59:59 in the organization's time zone)."""

    serializer_class = ReadinessSnapshotSerializer
    filter_backends = [SnapshotFilter, OrderingFilter]
    ordering_fields = ["week", "percent", "computed_at"]

    def get_queryset(self) -> QuerySet[ReadinessSnapshot]:
        if self.schema_only:
            return ReadinessSnapshot.objects.none()
        return snapshot_list(user=self.request.user, organization=self.organization)

    @extend_schema(operation_id="readiness_snapshots_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)
