"""Writes of the weekly meeting's record: notes and action items, each in one transaction with
its audit event.

Who may do what (docs/permissions.md): admins (``Capability.MANAGE_MEETINGS``) write the notes,
raise items for anyone, reassign and delete them. A member raises items for themselves and
edits, marks done and reopens the items they own. Viewers read; auditors see none of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.audit import audit_record, changed, snapshot
from compliance.meetings import selectors
from compliance.meetings.weeks import Week, current_week, local_date, week_of
from compliance.models import (
    ActionItem,
    ActionItemStatus,
    ActionItemStatusChange,
    Organization,
    Role,
    User,
    WeeklyMeeting,
)
from compliance.models.meetings import NOTES_MAX_LENGTH
from compliance.permissions import Capability, can, has_capability, membership_for
from controls.models import Control

TITLE_MAX_LENGTH = ActionItem._meta.get_field("title").max_length or 200
# A due date further out than this is a typo, not a plan.
MAX_DUE_YEARS = 5


class ActionItemChanges(TypedDict, total=False):
    title: str
    owner: User
    due_on: dt.date
    control: Control | None


EDITABLE_FIELDS = frozenset(ActionItemChanges.__annotations__)


class FieldsDenied(PermissionDenied):
    """Refused because of what these fields ask for; ``messages`` by field name (the API
    answers 403 with them, the pages show them on the field)."""

    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages.values()))


def may_manage(actor: User, organization: Organization) -> bool:
    return has_capability(membership_for(actor, organization), Capability.MANAGE_MEETINGS)


def may_raise(actor: User, organization: Organization) -> bool:
    """Admins raise items for anyone, members for themselves."""
    membership = membership_for(actor, organization)
    return (
        has_capability(membership, Capability.VIEW_PROGRAM)
        and membership is not None
        and (membership.role in (Role.ADMIN, Role.MEMBER))
    )


def _item_snapshot(item: ActionItem) -> dict[str, Any]:
    data = snapshot(item, ("title",))
    data["owner"] = item.owner.email if item.owner_id and item.owner else None
    data.update(snapshot(item, ("due_on",)))
    data["control"] = item.control.ref_id if item.control_id and item.control else None
    data.update(snapshot(item, ("status", "raised_week")))
    return data


def _validate_item(item: ActionItem, *, today: dt.date | None) -> None:
    """One item's fields; ``today`` (on creation) refuses a due date already past."""
    errors: dict[str, str] = {}
    item.title = " ".join((item.title or "").split())
    if not item.title:
        errors["title"] = "Say what is to be done."
    elif len(item.title) > TITLE_MAX_LENGTH:
        errors["title"] = f"Keep the title under {TITLE_MAX_LENGTH} characters."
    if item.owner_id is None:
        errors["owner"] = "Choose who will do it."
    elif not selectors.owner_choices(item.organization).filter(pk=item.owner_id).exists():
        errors["owner"] = "Choose an admin or member of this organization."
    if not isinstance(item.due_on, dt.date):
        errors["due_on"] = "Give the date it is due."
    else:
        earliest = today if today is not None else item.raised_week
        if item.due_on < earliest:
            errors["due_on"] = (
                "A new item cannot be due in the past."
                if today is not None
                else "An item cannot be due before the week it was raised."
            )
        elif item.due_on > earliest + dt.timedelta(days=366 * MAX_DUE_YEARS):
            errors["due_on"] = f"Give a due date within {MAX_DUE_YEARS} years."
    if item.control_id is not None:
        control = (
            Control.objects.filter(pk=item.control_id)
            .values("organization_id", "archived_at")
            .first()
        )
        if (
            control is None
            or control["organization_id"] != item.organization_id
            or control["archived_at"] is not None
        ):
            errors["control"] = "Choose an active control of this organization."
    if errors:
        raise ValidationError(errors)


def _record_status(
    *, actor: User, item: ActionItem, from_status: str, to_status: str, at: dt.datetime
) -> None:
    change = ActionItemStatusChange.objects.create(
        item=item, actor=actor, from_status=from_status, to_status=to_status
    )
    if at != change.created_at:  # a backdated write (the demo's history)
        ActionItemStatusChange.objects.filter(pk=change.pk).update(created_at=at)


@transaction.atomic
def action_item_create(
    *,
    actor: User,
    organization: Organization,
    title: str,
    owner: User | None,
    due_on: dt.date | None,
    control: Control | None = None,
    now: dt.datetime | None = None,
) -> ActionItem:
    """Raise an item in the week it is (at ``now``) in the organization's time zone."""
    if not may_raise(actor, organization):
        raise PermissionDenied("Only admins and members raise action items.")
    if owner is not None and owner.pk != actor.pk and not may_manage(actor, organization):
        raise FieldsDenied({"owner": "You raise action items for yourself; an admin can raise "
                            "them for others."})  # fmt: skip
    now = now or timezone.now()
    item = ActionItem(
        organization=organization,
        title=title,
        owner=owner,
        due_on=due_on,  # type: ignore[misc]  # checked just below
        control=control,
        raised_week=week_of(organization, now).start,
        created_by=actor,
        created_at=now,
    )
    _validate_item(item, today=local_date(organization, now))
    item.save()
    _record_status(actor=actor, item=item, from_status="", to_status=item.status, at=now)
    audit_record(
        actor=actor,
        organization=organization,
        action="action_item.create",
        obj=item,
        after=_item_snapshot(item),
    )
    return item


def _locked(item: ActionItem) -> ActionItem:
    return (
        ActionItem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("organization", "owner", "control")
        .get(pk=item.pk)
    )


def _require_change(actor: User, item: ActionItem) -> None:
    if not can(actor, "change", item):
        raise PermissionDenied("Only its owner and admins change an action item.")


@transaction.atomic
def action_item_update(*, actor: User, item: ActionItem, changes: ActionItemChanges) -> ActionItem:
    """Change the title, due date or control; the owner too, for admins."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    item = _locked(item)
    _require_change(actor, item)
    owner = changes.get("owner", item.owner)
    if owner is not None and owner.pk != item.owner_id and not may_manage(actor, item.organization):
        raise FieldsDenied({"owner": "Only admins give an action item to someone else."})
    before = _item_snapshot(item)
    for name, value in changes.items():
        setattr(item, name, value)
    _validate_item(item, today=None)
    old, new = changed(before, _item_snapshot(item))
    if not new:
        return item
    item.save()
    audit_record(
        actor=actor,
        organization=item.organization,
        action="action_item.update",
        obj=item,
        before=old,
        after=new,
    )
    return item


@transaction.atomic
def action_item_close(
    *, actor: User, item: ActionItem, now: dt.datetime | None = None
) -> ActionItem:
    """Mark the item done (written only if it is still open)."""
    item = _locked(item)
    _require_change(actor, item)
    now = now or timezone.now()
    if now < item.created_at:
        raise ValidationError({"done_at": "An item cannot be done before it was raised."})
    updated = ActionItem.objects.filter(pk=item.pk, status=ActionItemStatus.OPEN).update(
        status=ActionItemStatus.DONE, done_at=now, done_by=actor, updated_at=now
    )
    if updated != 1:
        raise ValidationError({"status": "This action item is already done."})
    item.status, item.done_at, item.done_by = ActionItemStatus.DONE, now, actor
    _record_status(
        actor=actor, item=item, from_status=ActionItemStatus.OPEN, to_status=item.status, at=now
    )
    audit_record(
        actor=actor,
        organization=item.organization,
        action="action_item.close",
        obj=item,
        before={"status": ActionItemStatus.OPEN},
        after={"status": ActionItemStatus.DONE, "done_by": actor.email},
    )
    return item


@transaction.atomic
def action_item_reopen(
    *, actor: User, item: ActionItem, now: dt.datetime | None = None
) -> ActionItem:
    """Open a done item again: it carries over again from the week it was raised."""
    item = _locked(item)
    _require_change(actor, item)
    now = now or timezone.now()
    updated = ActionItem.objects.filter(pk=item.pk, status=ActionItemStatus.DONE).update(
        status=ActionItemStatus.OPEN, done_at=None, done_by=None, updated_at=now
    )
    if updated != 1:
        raise ValidationError({"status": "This action item is already open."})
    done_by = item.done_by.email if item.done_by_id and item.done_by else None
    item.status, item.done_at, item.done_by = ActionItemStatus.OPEN, None, None
    _record_status(
        actor=actor, item=item, from_status=ActionItemStatus.DONE, to_status=item.status, at=now
    )
    audit_record(
        actor=actor,
        organization=item.organization,
        action="action_item.reopen",
        obj=item,
        before={"status": ActionItemStatus.DONE, "done_by": done_by},
        after={"status": ActionItemStatus.OPEN},
    )
    return item


@transaction.atomic
def action_item_delete(*, actor: User, item: ActionItem) -> None:
    """Remove an item raised by mistake (admins); the audit trail keeps what it was."""
    item = _locked(item)
    if not may_manage(actor, item.organization):
        raise PermissionDenied("Only admins delete action items.")
    before = _item_snapshot(item)
    audit_record(
        actor=actor,
        organization=item.organization,
        action="action_item.delete",
        obj=item,
        before=before,
    )
    item.delete()


# --- notes --------------------------------------------------------------------------------------


@transaction.atomic
def meeting_notes_save(
    *,
    actor: User,
    organization: Organization,
    week: Week,
    notes: str,
    now: dt.datetime | None = None,
) -> WeeklyMeeting:
    """Write the week's notes (admins), this week's or an earlier one's."""
    if not may_manage(actor, organization):
        raise PermissionDenied("Only admins write the meeting notes.")
    now = now or timezone.now()
    if week > current_week(organization, now):
        raise ValidationError({"week": "Notes are written for this week or an earlier one."})
    notes = (notes or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise ValidationError(
            {"notes": f"Keep the notes under {NOTES_MAX_LENGTH:,} characters ({len(notes):,})."}
        )
    meeting = _meeting_for_update(organization, week, now, create=bool(notes))
    if meeting.notes == notes:
        return meeting  # unchanged (or still empty, and then not stored)
    before = meeting.notes
    meeting.notes, meeting.updated_by, meeting.updated_at = notes, actor, now
    meeting.save(update_fields=["notes", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        organization=organization,
        action="meeting_notes.update",
        obj=meeting,
        before={"notes": before} if before else None,
        after={"notes": notes},
    )
    return meeting


def _meeting_for_update(
    organization: Organization, week: Week, now: dt.datetime, *, create: bool
) -> WeeklyMeeting:
    """The week's row, locked; created (empty) when there is none yet and ``create`` says so,
    else an unsaved empty one."""
    rows = WeeklyMeeting.objects.select_for_update(no_key=True)
    meeting = rows.filter(organization=organization, week_start=week.start).first()
    if meeting is not None:
        return meeting
    if not create:
        return WeeklyMeeting(organization=organization, week_start=week.start, updated_at=now)
    try:
        with transaction.atomic():
            return WeeklyMeeting.objects.create(
                organization=organization, week_start=week.start, updated_at=now
            )
    except IntegrityError:  # written by someone else meanwhile
        return rows.get(organization=organization, week_start=week.start)
