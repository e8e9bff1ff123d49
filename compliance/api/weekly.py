"""The weekly meeting's API: action items, and each week's notes.

The same permissions as the weekly page: program readers read; a member raises items for
themselves and edits, closes and reopens the items they own; admins do everything, notes and
deleting included. Auditors get 403, strangers 404.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.api.base import OrganizationScopedMixin, PermittedObjectsFilter
from compliance.api.filters import DjangoFilterBackend, OrderingFilter
from compliance.api.weekly_serializers import ActionItemSerializer, WeeklyNotesSerializer
from compliance.filters import FilterSet
from compliance.meetings import selectors, services
from compliance.meetings.weeks import Week
from compliance.models import ActionItem, ActionItemStatus, WeeklyMeeting
from compliance.permissions import Capability

WEEK_HELP = (
    "An ISO week, e.g. 2026-W48 (weeks run Monday to Sunday in the organization's time zone)."
)
REFUSED = OpenApiResponse(
    description="Your role or the item does not allow this; for a field only admins may set "
    "(the owner), ``detail`` says why and the field is a key."
)


def parse_week(value: str, field: str = "week") -> Week:
    try:
        return Week.parse(value)
    except ValueError as exc:
        raise exceptions.ValidationError({field: [str(exc)]}) from None


class ActionItemFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=ActionItemStatus.choices)
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner's user id")
    week = django_filters.CharFilter(
        method="filter_week",
        max_length=20,
        label=f"{WEEK_HELP} The items that week shows: raised in it, or raised earlier and not "
        "done before it began.",
    )

    class Meta:
        model = ActionItem
        fields = ["status", "owner", "week"]

    def filter_week(
        self, queryset: QuerySet[ActionItem], name: str, value: str
    ) -> QuerySet[ActionItem]:
        organization = self.request.organization
        return selectors.on_week(queryset, organization=organization, week=parse_week(value))


class ActionItemViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Action items of the weekly meeting, soonest due first. An item is raised in the week it
    is created (``raised_week``) and carries over to later weeks until it is done."""

    serializer_class = ActionItemSerializer
    filter_backends = [PermittedObjectsFilter, DjangoFilterBackend, OrderingFilter]
    filterset_class = ActionItemFilterSet
    ordering_fields = ["due_on", "created_at", "title"]
    ordering = ["due_on", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    capabilities = {"destroy": Capability.MANAGE_MEETINGS}

    def get_queryset(self) -> QuerySet[ActionItem]:
        if self.schema_only:
            return ActionItem.objects.none()
        return ActionItem.objects.filter(organization=self.organization).select_related(
            "owner", "control", "done_by", "created_by"
        )

    def respond(self, item: ActionItem, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @staticmethod
    def refused(exc: services.FieldsDenied) -> exceptions.PermissionDenied:
        refused = {field: [message] for field, message in exc.messages.items()}
        return exceptions.PermissionDenied({"detail": str(exc), **refused})

    @extend_schema(responses={201: ActionItemSerializer, 403: REFUSED})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not services.may_raise(self.actor, self.organization):
            raise exceptions.PermissionDenied("Only admins and members raise action items.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            item = services.action_item_create(
                actor=self.actor, organization=self.organization, **serializer.validated_data
            )
        except services.FieldsDenied as exc:
            raise self.refused(exc) from exc
        return self.respond(item, status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: ActionItemSerializer, 403: REFUSED},
        description="Change the title, due date, control or (admins) the owner.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        self.require_change(item)
        serializer = self.get_serializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.action_item_update(
                actor=self.actor,
                item=item,
                changes=services.ActionItemChanges(**serializer.validated_data),
            )
        except services.FieldsDenied as exc:
            raise self.refused(exc) from exc
        return self.respond(item)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Only PATCH reaches here (PUT is not offered): every change is partial.
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(description="Delete an item raised by mistake (admins); done items are kept.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.action_item_delete(actor=self.actor, item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ActionItemSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark the item done (its owner or an admin); 400 if it is done already."""
        item = self.get_object()
        self.require_change(item)
        return self.respond(services.action_item_close(actor=self.actor, item=item))

    @extend_schema(request=None, responses={200: ActionItemSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a done item again (its owner or an admin); 400 if it is open."""
        item = self.get_object()
        self.require_change(item)
        return self.respond(services.action_item_reopen(actor=self.actor, item=item))


WEEK_PATH = OpenApiParameter(
    "week",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=WEEK_HELP,
    pattern=r"^\d{4}-W\d{2}$",
)
BAD_WEEK = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="Not a week: ``week`` says why."
)


class WeeklyNotesViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The weekly meeting's notes, one Markdown text per ISO week. Admins write them, for the
    current week or an earlier one."""

    serializer_class = WeeklyNotesSerializer
    filter_backends = [PermittedObjectsFilter]
    ordering_fields: list[str] = []
    lookup_field = "week"
    lookup_value_regex = r"[^/]+"
    http_method_names = ["get", "put", "patch", "head", "options"]
    capabilities = {
        "update": Capability.MANAGE_MEETINGS,
        "partial_update": Capability.MANAGE_MEETINGS,
    }

    def get_queryset(self) -> QuerySet[WeeklyMeeting]:
        if self.schema_only:
            return WeeklyMeeting.objects.none()
        return selectors.meeting_list(user=self.actor, organization=self.organization)

    def get_object(self) -> WeeklyMeeting:
        week = parse_week(self.kwargs["week"])
        meeting = selectors.meeting_get(user=self.actor, organization=self.organization, week=week)
        return meeting or WeeklyMeeting(organization=self.organization, week_start=week.start)

    @extend_schema(description="Weeks that have notes, newest first.")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[WEEK_PATH], responses={200: WeeklyNotesSerializer, 400: BAD_WEEK})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(parameters=[WEEK_PATH], responses={200: WeeklyNotesSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(meeting, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        saved = services.meeting_notes_save(
            actor=self.actor,
            organization=self.organization,
            week=Week(meeting.week_start),
            notes=serializer.validated_data.get("notes", meeting.notes),
        )
        return Response(self.get_serializer(saved).data)

    @extend_schema(parameters=[WEEK_PATH], responses={200: WeeklyNotesSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)
