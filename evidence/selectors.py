"""Reads of evidence, always through the permission choke point."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from compliance.models import Organization, User
from compliance.permissions import restrict
from controls.models import Control
from evidence.models import (
    EvidenceItem,
    EvidenceRequest,
    EvidenceRevision,
    OccurrenceStatus,
    RequestOccurrence,
    ReviewStatus,
)


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None


def latest_revision_subquery(field: str) -> Subquery:
    return Subquery(
        EvidenceRevision.objects.filter(item=OuterRef("pk")).order_by("-number").values(field)[:1]
    )


def evidence_list(*, user: User, organization: Organization) -> QuerySet[EvidenceItem]:
    return (
        restrict(EvidenceItem.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .annotate(
            latest_number=latest_revision_subquery("number"),
            latest_review=latest_revision_subquery("review_status"),
            latest_uploaded_at=latest_revision_subquery("uploaded_at"),
            accepted=Exists(
                EvidenceRevision.objects.filter(
                    item=OuterRef("pk"), review_status=ReviewStatus.ACCEPTED
                )
            ),
        )
        .select_related("created_by", "occurrence__request")
        .prefetch_related(Prefetch("controls", queryset=Control.objects.order_by("ref_id")))
    )


def evidence_get(*, user: User, organization: Organization, pk: Any) -> EvidenceItem:
    item = (
        evidence_list(user=user, organization=organization)
        .filter(pk=_pk(pk))
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=EvidenceRevision.objects.select_related(
                    "uploaded_by", "reviewed_by"
                ).order_by("-number"),
            )
        )
        .first()
    )
    if item is None:
        raise Http404("No such evidence.")
    return item


def revision_get(*, user: User, organization: Organization, pk: Any) -> EvidenceRevision:
    visible = restrict(EvidenceItem.objects.all(), user, organization=organization).filter(
        organization=organization
    )
    revision = (
        EvidenceRevision.objects.filter(pk=_pk(pk), item__in=visible)
        .select_related("item", "item__organization", "uploaded_by")
        .first()
    )
    if revision is None:
        raise Http404("No such revision.")
    return revision


def item_can_change(*, user: User, item: EvidenceItem) -> bool:
    return restrict(
        EvidenceItem.objects.filter(pk=item.pk), user, "change", organization=item.organization
    ).exists()


def uploadable_controls(*, user: User, organization: Organization) -> QuerySet[Control]:
    """Controls the user may attach evidence to: those they may change, not archived."""
    return (
        restrict(Control.objects.all(), user, "change", organization=organization)
        .filter(organization=organization, archived_at__isnull=True)
        .order_by("ref_id")
    )


def can_upload(*, user: User, organization: Organization) -> bool:
    """Whether the user may add evidence at all (the "Add evidence" button): some control."""
    return uploadable_controls(user=user, organization=organization).exists()


def request_can_submit(*, user: User, evidence_request: EvidenceRequest) -> bool:
    """Whether the user may submit evidence for the occurrences of this request (who may is
    decided by the request: its owner, its controls' owners, admins)."""
    return restrict(
        RequestOccurrence.objects.filter(request=evidence_request),
        user,
        "change",
        organization=evidence_request.organization,
    ).exists()


OPEN_OCCURRENCE_STATUSES = [
    OccurrenceStatus.OPEN,
    OccurrenceStatus.REJECTED,
    OccurrenceStatus.OVERDUE,
]


def requests_waiting_for(*, user: User, organization: Organization) -> QuerySet[EvidenceRequest]:
    """Active requests with an occurrence still to deliver that is the user's: they own the
    request or one of its controls (as owner or backup). What "My work" lists, and the request
    list's "Waiting for me" filter, so the two agree."""
    theirs = Control.objects.filter(organization=organization).filter(
        Q(owner=user) | Q(backup_owner=user)
    )
    through = EvidenceRequest.controls.through
    return EvidenceRequest.objects.filter(
        Q(owner=user)
        | Exists(through.objects.filter(evidencerequest_id=OuterRef("pk"), control__in=theirs)),
        Exists(
            RequestOccurrence.objects.filter(
                request=OuterRef("pk"), status__in=OPEN_OCCURRENCE_STATUSES
            )
        ),
        organization=organization,
        active=True,
    )


def latest_revisions(*, organization: Organization) -> QuerySet[EvidenceRevision]:
    """The newest revision of each evidence item of the organization."""
    newer = EvidenceRevision.objects.filter(item=OuterRef("item"), number__gt=OuterRef("number"))
    return EvidenceRevision.objects.filter(item__organization=organization).exclude(Exists(newer))


def last_uploaded_by(
    items: QuerySet[EvidenceItem], *, user: User, organization: Organization
) -> QuerySet[EvidenceItem]:
    """The items whose newest revision the user uploaded (the evidence list's "uploaded by
    me" filter; with "rejected", what "My work" asks the uploader to fix)."""
    mine = latest_revisions(organization=organization).filter(uploaded_by=user)
    return items.filter(pk__in=mine.values("item_id"))


def controls_needing_evidence(controls: QuerySet[Control], *, today: Any) -> QuerySet[Control]:
    """Of ``controls``, those whose frequency asks for evidence and whose newest accepted
    evidence is missing or stale on ``today`` (the rule of evidence.freshness, in SQL)."""
    from evidence.freshness import PERIOD, oldest_fresh

    latest = Subquery(
        EvidenceItem.objects.filter(
            controls=OuterRef("pk"), revisions__review_status=ReviewStatus.ACCEPTED
        )
        .order_by("-effective_date")
        .values("effective_date")[:1]
    )
    asking = [frequency for frequency, period in PERIOD.items() if period is not None]
    stale = Q(latest_accepted__isnull=True)
    for frequency in asking:
        stale |= Q(frequency=frequency, latest_accepted__lt=oldest_fresh(frequency, today))
    return controls.filter(frequency__in=asking).annotate(latest_accepted=latest).filter(stale)


def request_list(*, user: User, organization: Organization) -> QuerySet[EvidenceRequest]:
    open_statuses = OPEN_OCCURRENCE_STATUSES
    return (
        restrict(EvidenceRequest.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .annotate(
            expected=Count("occurrences", distinct=True),
            delivered=Count(
                "occurrences",
                filter=Q(occurrences__status=OccurrenceStatus.ACCEPTED),
                distinct=True,
            ),
            overdue=Count(
                "occurrences", filter=Q(occurrences__status=OccurrenceStatus.OVERDUE), distinct=True
            ),
            next_due=Min("occurrences__due_date", filter=Q(occurrences__status__in=open_statuses)),
        )
        .select_related("owner")
        .prefetch_related(Prefetch("controls", queryset=Control.objects.order_by("ref_id")))
        .order_by(F("next_due").asc(nulls_last=True), "title")
    )


def request_get(*, user: User, organization: Organization, pk: Any) -> EvidenceRequest:
    request = request_list(user=user, organization=organization).filter(pk=_pk(pk)).first()
    if request is None:
        raise Http404("No such evidence request.")
    return request


def request_occurrences(*, evidence_request: EvidenceRequest) -> QuerySet[RequestOccurrence]:
    """A request's occurrences, newest due first, with their evidence (for a page of them)."""
    return (
        RequestOccurrence.objects.filter(request=evidence_request)
        .order_by("-due_date", "-pk")
        .prefetch_related(Prefetch("evidence_items", queryset=EvidenceItem.objects.order_by("-pk")))
    )


def occurrence_for_upload(*, user: User, organization: Organization, pk: Any) -> RequestOccurrence:
    """An occurrence the user may submit evidence for (404 if hidden, PermissionError if not)."""
    visible = restrict(RequestOccurrence.objects.all(), user, organization=organization).filter(
        request__organization=organization, pk=_pk(pk)
    )
    occurrence = visible.select_related("request").first()
    if occurrence is None:
        raise Http404("No such evidence request.")
    changeable = restrict(
        RequestOccurrence.objects.filter(pk=occurrence.pk),
        user,
        "change",
        organization=organization,
    )
    if not changeable.exists():
        raise PermissionError("You cannot submit evidence for this request.")
    return occurrence


def control_evidence(*, control: Control) -> QuerySet[EvidenceItem]:
    """Evidence attached to one control (for the control page; the control is already visible)."""
    return (
        EvidenceItem.objects.filter(controls=control)
        .annotate(
            latest_number=latest_revision_subquery("number"),
            latest_review=latest_revision_subquery("review_status"),
            accepted=Exists(
                EvidenceRevision.objects.filter(
                    item=OuterRef("pk"), review_status=ReviewStatus.ACCEPTED
                )
            ),
        )
        .select_related("created_by")
        .order_by("-effective_date", "-pk")
    )
