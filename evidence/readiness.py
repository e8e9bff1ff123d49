"""Evidence's say in readiness: an implemented control needs accepted, fresh evidence, and no
overdue evidence request (see compliance.readiness)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from compliance.models import Organization
from compliance.readiness import Blocker, register_blocker_source
from controls.models import BlockerKind, Control
from evidence.freshness import fresh_until, needs_evidence
from evidence.models import EvidenceItem, OccurrenceStatus, RequestOccurrence, ReviewStatus


def organization_today(organization: Organization) -> timezone.datetime.date:  # type: ignore[name-defined]
    import zoneinfo

    return timezone.now().astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()


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


@register_blocker_source
def evidence_blockers(organization: Organization, control_ids: Sequence[int]) -> Iterator[Blocker]:
    today = organization_today(organization)
    latest = latest_accepted_evidence(control_ids)
    slug = organization.slug
    for control_id, frequency in Control.objects.filter(pk__in=control_ids).values_list(
        "pk", "frequency"
    ):
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
    for control_id, request_id, title, due in overdue:
        yield Blocker(
            control_id,
            BlockerKind.REQUEST_OVERDUE,
            f"“{title}” was due {date_format(due, 'j M Y')} and is overdue.",
            reverse("evidence_request_detail", args=[slug, request_id]),
            since=due,
        )
