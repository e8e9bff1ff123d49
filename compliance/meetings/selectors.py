"""Reads of the weekly meeting's record, always through the permission choke point.

Which action items a week shows. Week W runs from 00:00 on its Monday to 00:00 on the next
Monday, in the organization's time zone (:mod:`compliance.meetings.weeks`). Its page shows

* every item raised in W, open or done, and
* every item raised in an earlier week that was still open when W began: not done at all, or
  done at or after W's first instant. An item done during W therefore shows in W, as done, and
  no longer in W + 1; an open item shows in every week from the one it was raised in onwards.

Weeks are read from each item's current state: an item reopened later counts as open in every
week since it was raised (the status changes keep when it was done before).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from compliance.meetings.weeks import Week, local_date
from compliance.models import (
    ActionItem,
    ActionItemStatus,
    Organization,
    User,
    WeeklyMeeting,
)
from compliance.permissions import can, restrict
from controls.models import Control
from controls.services import assignable_owners

# How many controls a search offers (the organization may have thousands).
CONTROL_SEARCH_LIMIT = 20


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such action item.") from None


# --- notes --------------------------------------------------------------------------------------


def meeting_get(*, user: User, organization: Organization, week: Week) -> WeeklyMeeting | None:
    """The week's notes, or ``None`` when nobody wrote any (or the user may not read them)."""
    return (
        restrict(WeeklyMeeting.objects.all(), user, organization=organization)
        .filter(organization=organization, week_start=week.start)
        .select_related("updated_by")
        .first()
    )


def meeting_list(*, user: User, organization: Organization) -> QuerySet[WeeklyMeeting]:
    """Weeks with notes, newest first."""
    return (
        restrict(WeeklyMeeting.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("updated_by")
        .order_by("-week_start")
    )


# --- action items -------------------------------------------------------------------------------


def action_item_list(*, user: User, organization: Organization) -> QuerySet[ActionItem]:
    return (
        restrict(ActionItem.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("owner", "control", "done_by", "created_by")
    )


def action_item_get(*, user: User, organization: Organization, pk: Any) -> ActionItem:
    item = action_item_list(user=user, organization=organization).filter(pk=_pk(pk)).first()
    if item is None:
        raise Http404("No such action item.")
    return item


def action_item_can_change(*, user: User, item: ActionItem) -> bool:
    """Edit, mark done, reopen: admins, and the member who owns the item."""
    return can(user, "change", item)


def changeable_ids(*, user: User, organization: Organization, ids: list[int]) -> set[int]:
    """Which of these items the user may change: one query for a page of rows."""
    if not ids:
        return set()
    rows = restrict(
        ActionItem.objects.filter(pk__in=ids), user, "change", organization=organization
    )
    return set(rows.values_list("pk", flat=True))


def on_week(
    queryset: QuerySet[ActionItem], *, organization: Organization, week: Week
) -> QuerySet[ActionItem]:
    """The items week ``week`` shows (see the module's docstring)."""
    began = week.begins_at(organization)
    carried = Q(raised_week__lt=week.start) & (Q(done_at__isnull=True) | Q(done_at__gte=began))
    return queryset.filter(Q(raised_week=week.start) | carried)


def week_order(queryset: QuerySet[ActionItem]) -> QuerySet[ActionItem]:
    """Open items first, soonest due first; then those done, latest first."""
    done_last = Case(
        When(status=ActionItemStatus.OPEN, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return queryset.annotate(done_last=done_last).order_by(
        "done_last", "due_on", F("done_at").desc(nulls_last=True), "id"
    )


def week_counts(
    queryset: QuerySet[ActionItem],
    *,
    organization: Organization,
    week: Week,
    now: dt.datetime,
) -> dict[str, int]:
    """The week's figures in one query: items shown, open and overdue (now for this week, at
    its end for a past one), done during the week, and carried over from earlier weeks."""
    began, ended = week.begins_at(organization), week.ends_at(organization)
    past = ended <= now
    at, day = (ended, week.end) if past else (now, local_date(organization, now))
    open_then = Q(done_at__isnull=True) | Q(done_at__gte=at)
    return on_week(queryset, organization=organization, week=week).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=open_then),
        done=Count("pk", filter=Q(done_at__gte=began, done_at__lt=ended)),
        overdue=Count("pk", filter=open_then & Q(due_on__lt=day)),
        carried=Count("pk", filter=Q(raised_week__lt=week.start)),
    )


def open_items_of(*, user: User, organization: Organization) -> QuerySet[ActionItem]:
    """The user's own open items, soonest due first (My work)."""
    return (
        action_item_list(user=user, organization=organization)
        .filter(owner=user, status=ActionItemStatus.OPEN)
        .order_by("due_on", "title", "id")
    )


# --- choices for forms and the API --------------------------------------------------------------


def owner_choices(organization: Organization) -> QuerySet[User]:
    """Who can own an action item: the organization's active admins and members."""
    return assignable_owners(organization)


def control_choices(*, user: User, organization: Organization) -> QuerySet[Control]:
    """Controls an item may point to: the organization's active controls the user can see."""
    return restrict(Control.objects.all(), user, organization=organization).filter(
        organization=organization, archived_at__isnull=True
    )


def control_by_ref(*, user: User, organization: Organization, ref_id: str) -> Control | None:
    ref_id = (ref_id or "").strip()
    if not ref_id:
        return None
    controls = control_choices(user=user, organization=organization)
    return controls.filter(ref_id__iexact=ref_id).first()


def control_search(
    *, user: User, organization: Organization, text: str, limit: int = CONTROL_SEARCH_LIMIT
) -> list[Control]:
    """The first controls whose ID or name contains ``text``, IDs starting with it first."""
    text = (text or "").strip()[:100]
    controls = control_choices(user=user, organization=organization)
    if text:
        controls = controls.filter(Q(ref_id__icontains=text) | Q(name__icontains=text))
    starts = Case(
        When(ref_id__istartswith=text, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(controls.annotate(starts=starts).order_by("starts", "ref_id")[:limit])
