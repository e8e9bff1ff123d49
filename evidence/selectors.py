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


def request_list(*, user: User, organization: Organization) -> QuerySet[EvidenceRequest]:
    open_statuses = [OccurrenceStatus.OPEN, OccurrenceStatus.REJECTED, OccurrenceStatus.OVERDUE]
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
    request = (
        request_list(user=user, organization=organization)
        .filter(pk=_pk(pk))
        .prefetch_related(
            Prefetch(
                "occurrences",
                queryset=RequestOccurrence.objects.order_by("-due_date").prefetch_related(
                    Prefetch("evidence_items", queryset=EvidenceItem.objects.order_by("-pk"))
                ),
            )
        )
        .first()
    )
    if request is None:
        raise Http404("No such evidence request.")
    return request


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
