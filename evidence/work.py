"""Evidence's part of "My work" (see compliance.work)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from compliance.models import Organization, User
from compliance.permissions import membership_for
from compliance.work import WorkItem, register_work_source
from controls.models import ControlStatus
from evidence.freshness import fresh_until, needs_evidence
from evidence.models import (
    EvidenceItem,
    EvidenceRevision,
    OccurrenceStatus,
    RequestOccurrence,
    ReviewStatus,
)
from evidence.readiness import latest_accepted_evidence, organization_today

_TONE: dict[str, str] = {
    OccurrenceStatus.OPEN: "muted",
    OccurrenceStatus.REJECTED: "bad",
    OccurrenceStatus.OVERDUE: "bad",
}


@register_work_source
def evidence_work(user: User, organization: Organization) -> Iterator[WorkItem]:
    slug = organization.slug
    today = organization_today(organization)
    mine = Q(owner=user) | Q(backup_owner=user)

    # Request occurrences the user owns, or that evidence controls the user owns.
    occurrences = (
        RequestOccurrence.objects.filter(
            Q(request__owner=user) | Q(request__controls__in=organization.controls.filter(mine)),
            request__organization=organization,
            request__active=True,
            status__in=[OccurrenceStatus.OPEN, OccurrenceStatus.REJECTED, OccurrenceStatus.OVERDUE],
        )
        .select_related("request")
        .distinct()
    )
    for occurrence in occurrences:
        yield WorkItem(
            kind="Evidence request",
            title=occurrence.request.title,
            url=reverse("evidence_create", args=[slug]) + f"?occurrence={occurrence.pk}",
            due=occurrence.due_date,
            status=occurrence.get_status_display(),
            tone=_TONE.get(occurrence.status, "muted"),
        )

    # Evidence the user uploaded whose latest revision was rejected.
    newer = EvidenceRevision.objects.filter(item=OuterRef("item"), number__gt=OuterRef("number"))
    rejected = (
        EvidenceRevision.objects.filter(
            item__organization=organization,
            review_status=ReviewStatus.REJECTED,
            uploaded_by=user,
        )
        .exclude(Exists(newer))
        .select_related("item")
    )
    for revision in rejected:
        yield WorkItem(
            kind="Rejected evidence",
            title=f"{revision.item.title}: {revision.review_reason}",
            url=reverse("evidence_detail", args=[slug, revision.item_id]),
            status="Rejected",
            tone="bad",
        )

    # Implemented controls the user owns whose evidence is missing or stale.
    controls = list(
        organization.controls.filter(
            mine, status=ControlStatus.IMPLEMENTED, archived_at__isnull=True
        )
    )
    latest = latest_accepted_evidence([c.pk for c in controls])
    for control in controls:
        if not needs_evidence(control.frequency):
            continue
        effective = latest.get(control.pk)
        until = fresh_until(effective, control.frequency) if effective else None  # type: ignore[arg-type]
        if effective is not None and (until is None or today <= until):
            continue
        yield WorkItem(
            kind="Evidence needed",
            title=f"{control.ref_id} {control.name}",
            url=reverse("evidence_create", args=[slug]) + f"?control={control.pk}",
            due=until,
            status="Stale" if effective else "Missing",
            tone="warn",
        )

    # Reviewers: what waits for a decision.
    membership = membership_for(user, organization)
    if membership is not None and membership.role == "admin":
        pending = EvidenceRevision.objects.filter(
            item__organization=organization, review_status=ReviewStatus.PENDING
        ).select_related("item")
        for revision in pending:
            yield WorkItem(
                kind="Review evidence",
                title=f"{revision.item.title} (revision {revision.number})",
                url=reverse("evidence_detail", args=[organization.slug, revision.item_id]),
                status="Pending review",
                tone="info",
            )
    _ = EvidenceItem  # the model these sources read
