"""Evidence's part of "My work" (see compliance.work): requests waiting for the user, their
rejected uploads, their implemented controls whose evidence is missing or stale and, for
reviewers, what waits for a decision. Each group is its first items, its total and a link to
the list filtered to exactly those items (two queries a group)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from compliance.models import Organization, User
from compliance.permissions import Capability, has_capability, membership_for
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, register_work_source
from controls.models import BlockerKind, ControlStatus
from evidence.models import OccurrenceStatus, RequestOccurrence, ReviewStatus
from evidence.selectors import (
    OPEN_OCCURRENCE_STATUSES,
    controls_needing_evidence,
    items_in_review,
    last_uploaded_by,
    requests_waiting_for,
)

_TONE: dict[str, str] = {
    OccurrenceStatus.OPEN: "muted",
    OccurrenceStatus.REJECTED: "bad",
    OccurrenceStatus.OVERDUE: "bad",
}


@register_work_source
def evidence_work(
    user: User, organization: Organization, *, limit: int = GROUP_LIMIT
) -> Iterator[WorkGroup]:
    slug = organization.slug
    membership = membership_for(user, organization)
    if not has_capability(membership, Capability.VIEW_PROGRAM):
        return
    evidence_list = reverse("evidence_list", args=[slug])

    # Requests with an occurrence to deliver, by their earliest one.
    first_open = RequestOccurrence.objects.filter(
        request=OuterRef("pk"), status__in=OPEN_OCCURRENCE_STATUSES
    ).order_by("due_date", "sequence")
    requests = requests_waiting_for(user=user, organization=organization)
    rows = requests.annotate(
        occurrence_id=Subquery(first_open.values("pk")[:1]),
        occurrence_due=Subquery(first_open.values("due_date")[:1]),
        occurrence_status=Subquery(first_open.values("status")[:1]),
    ).order_by("occurrence_due", "title", "pk")[:limit]
    yield WorkGroup(
        key="evidence_requests",
        title="Evidence requests",
        items=[
            WorkItem(
                kind="Evidence request",
                title=row.title,
                url=reverse("evidence_create", args=[slug]) + f"?occurrence={row.occurrence_id}",
                due=row.occurrence_due,
                status=OccurrenceStatus(row.occurrence_status).label,
                tone=_TONE.get(row.occurrence_status, "muted"),
            )
            for row in rows
        ],
        total=requests.count(),
        all_url=reverse("evidence_request_list", args=[slug]) + "?waiting=me",
        all_label="requests waiting for you",
    )

    # Evidence whose newest revision the user uploaded and a reviewer rejected.
    rejected = last_uploaded_by(
        items_in_review(organization=organization, status=ReviewStatus.REJECTED), user=user
    )
    sent_back = list(
        rejected.order_by("-latest_revision__reviewed_at", "-latest_revision_id")[:limit]
    )
    yield WorkGroup(
        key="rejected_evidence",
        title="Rejected evidence",
        items=[
            WorkItem(
                kind="Rejected evidence",
                title=f"{item.title}: {item.latest_revision.review_reason}",
                url=reverse("evidence_detail", args=[slug, item.pk]),
                status="Rejected",
                tone="bad",
            )
            for item in sent_back
            if item.latest_revision is not None  # always: the status comes from it
        ],
        total=rejected.count(),
        all_url=f"{evidence_list}?review={ReviewStatus.REJECTED}&uploader=me",
        all_label="rejected evidence you uploaded",
    )

    # Implemented controls the user owns or backs up that missing or stale evidence blocks (the
    # stored readiness), longest-stale first.
    needing = controls_needing_evidence(user=user, organization=organization)
    items = []
    for control in needing[:limit]:
        stale = BlockerKind.EVIDENCE_STALE in control.kinds  # type: ignore[attr-defined]
        items.append(
            WorkItem(
                kind="Evidence needed",
                title=f"{control.ref_id} {control.name}",
                url=reverse("evidence_create", args=[slug]) + f"?control={control.pk}",
                due=control.stale_on,  # type: ignore[attr-defined]
                status="Stale" if stale else "Missing",
                tone="warn",
            )
        )
    yield WorkGroup(
        key="evidence_needed",
        title="Evidence needed",
        items=items,
        total=needing.count(),
        all_url=reverse("control_list", args=[slug])
        + f"?owner=me&status={ControlStatus.IMPLEMENTED}&evidence=needed",
        all_label="of your controls needing evidence",
    )

    # Reviewers: evidence whose newest revision waits for a decision, oldest upload first (a
    # revision's id follows upload order: the first ten are read from the review index, not
    # sorted out of every pending item).
    if has_capability(membership, Capability.REVIEW_EVIDENCE):
        pending = items_in_review(organization=organization, status=ReviewStatus.PENDING)
        waiting = list(pending.order_by("latest_revision_id")[:limit])
        yield WorkGroup(
            key="evidence_to_review",
            title="Evidence to review",
            items=[
                WorkItem(
                    kind="Review evidence",
                    title=f"{item.title} (revision {item.latest_revision.number})",
                    url=reverse("evidence_detail", args=[slug, item.pk]),
                    status="Pending review",
                    tone="info",
                )
                for item in waiting
                if item.latest_revision is not None  # always: the status comes from it
            ],
            total=pending.count(),
            all_url=f"{evidence_list}?review={ReviewStatus.PENDING}",
            all_label="evidence waiting for review",
        )
