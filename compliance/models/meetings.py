"""The weekly program meeting's record: each week's notes and the action items it raised.

A week is an ISO week (Monday to Sunday) in the organization's time zone, stored as the date of
its Monday. Which action items a week shows is defined in :mod:`compliance.meetings.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from compliance.models.audit import StatusChange
from compliance.models.organizations import Organization

NOTES_MAX_LENGTH = 20_000


class WeeklyMeeting(models.Model):
    """One week's meeting notes (Markdown, sanitised when shown, as policy bodies are)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="weekly_meetings"
    )
    week_start = models.DateField(
        "week", help_text="The Monday of the ISO week, in the organization's time zone."
    )
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start"]
        constraints = [
            # Also the index of "this organization's notes of week W".
            models.UniqueConstraint(
                fields=["organization", "week_start"], name="weekly_meeting_one_per_week"
            ),
            models.CheckConstraint(
                condition=Q(week_start__iso_week_day=1), name="weekly_meeting_starts_monday"
            ),
        ]

    def __str__(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"Meeting notes of week {week}, {year}"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ActionItem(models.Model):
    """Something the weekly meeting asked someone to do by a date. Open items carry over from
    week to week until they are done."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="action_items"
    )
    title = models.CharField(max_length=200)
    # Required by the services; null only once the user is deleted.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="action_items",
    )
    due_on = models.DateField("due date")
    control = models.ForeignKey(
        "controls.Control",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
    )
    status = models.CharField(
        max_length=8, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN
    )
    raised_week = models.DateField(
        "raised in the week of", help_text="The Monday of the week the item was raised."
    )
    done_at = models.DateTimeField("done", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ActionItemStatus.OPEN, done_at__isnull=True)
                | Q(status=ActionItemStatus.DONE, done_at__isnull=False),
                name="action_item_done_has_time",
            ),
            models.CheckConstraint(
                condition=Q(raised_week__iso_week_day=1), name="action_item_week_starts_monday"
            ),
        ]
        indexes = [
            # A week's page: the items raised in or before that week (then by when done).
            models.Index(fields=["organization", "raised_week"], name="action_item_org_week"),
            # My work: a person's open items, soonest due first.
            models.Index(
                fields=["owner", "due_on"],
                condition=Q(status=ActionItemStatus.OPEN),
                name="action_item_open_by_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == ActionItemStatus.OPEN


class ActionItemStatusChange(StatusChange):
    """Every time an action item was raised, marked done or reopened."""

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=8, choices=ActionItemStatus.choices, blank=True)
    to_status = models.CharField(max_length=8, choices=ActionItemStatus.choices)

    def __str__(self) -> str:
        return f"{self.item_id}: {self.from_status or '—'} → {self.to_status}"
