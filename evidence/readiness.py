"""Evidence's say in readiness: an implemented control needs accepted, fresh evidence, and no
overdue evidence request (see compliance.readiness)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from compliance.history import control_frequency_at, value_at
from compliance.models import Organization
from compliance.readiness import Blocker, register_blocker_source
from compliance.snapshots import register_snapshot_source
from controls.models import BlockerKind, Control
from evidence.freshness import fresh_until, needs_evidence
from evidence.models import (
    EvidenceItem,
    EvidenceRevision,
    OccurrenceStatus,
    OccurrenceStatusChange,
    RequestOccurrence,
    ReviewStatus,
)


def organization_today(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    import zoneinfo

    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()


def latest_accepted_evidence(control_ids: Sequence[int]) -> dict[int, object]:
    """The newest effective date of accepted evidence, per control (one query)."""
    rows = (
        EvidenceItem.objects.filter(
            controls__in=control_ids, revisions__review_status=ReviewStatus.ACCEPTED
        )
        .values("controls")
        .annotate(latest=Max("effective_date"))
    )
    return {row["controls"]: row["latest"] for row in rows}


def latest_accepted_evidence_as_of(
    control_ids: Sequence[int], *, at: dt.datetime, on: dt.date
) -> dict[int, object]:
    """As :func:`latest_accepted_evidence`, at a past moment (one query): items with a revision
    accepted by then (the review's time), at the effective date the item had then (recorded on
    its latest revision uploaded by then; today's for revisions from before that was recorded),
    when that date was not after the day ``on``."""
    accepted = EvidenceRevision.objects.filter(
        Q(reviewed_at__lte=at) | Q(reviewed_at__isnull=True, uploaded_at__lte=at),
        item=OuterRef("pk"),
        review_status=ReviewStatus.ACCEPTED,
    )
    then = EvidenceRevision.objects.filter(item=OuterRef("pk"), uploaded_at__lte=at).order_by(
        "-number"
    )
    rows = (
        EvidenceItem.objects.filter(Exists(accepted), controls__in=control_ids)
        .annotate(
            effective_then=Coalesce(
                Subquery(then.values("effective_date")[:1]), F("effective_date")
            )
        )
        .filter(effective_then__lte=on)
        .values("controls")
        .annotate(latest=Max("effective_then"))
        .order_by()
    )
    return {row["controls"]: row["latest"] for row in rows}


def overdue_occurrences_as_of(
    control_ids: Sequence[int], *, at: dt.datetime, on: dt.date
) -> QuerySet[RequestOccurrence]:
    """Occurrences of (active) requests of these controls that were overdue at a past moment:
    due before the day ``on``, created by then, and not delivered by then (their status then,
    from their status changes, is open, rejected or overdue). Unlike the current status, this
    does not wait for the overdue tick to mark them."""
    status_then = value_at(
        OccurrenceStatusChange.objects.filter(occurrence=OuterRef("pk")),
        at=at,
        old="from_status",
        new="to_status",
        current="status",
    )
    return (
        RequestOccurrence.objects.filter(
            request__controls__in=control_ids,
            request__active=True,
            created_at__lte=at,
            due_date__lt=on,
        )
        .annotate(status_then=status_then)
        .filter(
            status_then__in=[
                OccurrenceStatus.OPEN,
                OccurrenceStatus.REJECTED,
                OccurrenceStatus.OVERDUE,
            ]
        )
    )


@register_blocker_source
def evidence_blockers(
    organization: Organization, control_ids: Sequence[int], *, as_of: dt.datetime | None = None
) -> Iterator[Blocker]:
    today = organization_today(organization, as_of)
    latest = (
        latest_accepted_evidence(control_ids)
        if as_of is None
        else latest_accepted_evidence_as_of(control_ids, at=as_of, on=today)
    )
    slug = organization.slug
    frequencies = Control.objects.filter(pk__in=control_ids).values_list("pk", "frequency")
    if as_of is not None:
        frequencies = (
            Control.objects.filter(pk__in=control_ids)
            .annotate(frequency_then=control_frequency_at(as_of))
            .values_list("pk", "frequency_then")
        )
    for control_id, frequency in frequencies:
        if not needs_evidence(frequency):
            continue
        url = reverse("control_detail", args=[slug, control_id]) + "#evidence"
        effective = latest.get(control_id)
        if effective is None:
            yield Blocker(
                control_id, BlockerKind.EVIDENCE_MISSING, "No accepted evidence yet.", url
            )
            continue
        until = fresh_until(effective, frequency)  # type: ignore[arg-type]
        if until is not None and today > until:
            yield Blocker(
                control_id,
                BlockerKind.EVIDENCE_STALE,
                f"Evidence went stale on {date_format(until, 'j M Y')}.",
                url,
                since=until,
            )
    overdue = (
        RequestOccurrence.objects.filter(
            request__controls__in=control_ids,
            request__active=True,
            status=OccurrenceStatus.OVERDUE,
        )
        .values_list("request__controls", "request_id", "request__title", "due_date")
        .order_by("due_date")
    )
    if as_of is not None:
        overdue = (
            overdue_occurrences_as_of(control_ids, at=as_of, on=today)
            .values_list("request__controls", "request_id", "request__title", "due_date")
            .order_by("due_date", "request_id", "pk")
        )
    # One blocker per control and request, however many of its occurrences are overdue (a
    # quarterly review missed for two years is one thing to fix, not eight lines); oldest first.
    requests: dict[tuple[int, int], list[Any]] = {}
    for control_id, request_id, title, due in overdue:
        requests.setdefault((control_id, request_id), [title, due, 0])[2] += 1
    for (control_id, request_id), (title, due, count) in requests.items():
        first = date_format(due, "j M Y")
        yield Blocker(
            control_id,
            BlockerKind.REQUEST_OVERDUE,
            f"“{title}” was due {first} and is overdue."
            if count == 1
            else f"“{title}” has {count} overdue occurrences, the first due {first}.",
            reverse("evidence_request_detail", args=[slug, request_id]),
            since=due,
        )


@register_snapshot_source
def evidence_snapshot_counts(
    organization: Organization, *, at: dt.datetime, on: dt.date
) -> dict[str, int]:
    """Occurrences of the organization's active requests not delivered at ``at`` (their status
    then open, rejected or overdue): overdue when due before ``on``, due when due within the
    seven days from ``on``. One query."""
    status_then = value_at(
        OccurrenceStatusChange.objects.filter(occurrence=OuterRef("pk")),
        at=at,
        old="from_status",
        new="to_status",
        current="status",
    )
    counts = (
        RequestOccurrence.objects.filter(
            request__organization=organization,
            request__active=True,
            created_at__lte=at,
            due_date__lte=on + dt.timedelta(days=7),
        )
        .annotate(status_then=status_then)
        .filter(
            status_then__in=[
                OccurrenceStatus.OPEN,
                OccurrenceStatus.REJECTED,
                OccurrenceStatus.OVERDUE,
            ]
        )
        .aggregate(
            overdue=Count("pk", filter=Q(due_date__lt=on)),
            due=Count("pk", filter=Q(due_date__gte=on)),
        )
    )
    return {"evidence_overdue": counts["overdue"], "evidence_due": counts["due"]}
