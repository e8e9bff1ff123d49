"""Reads of evidence, always through the permission choke point."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404

from compliance.models import Organization, User
from compliance.permissions import restrict
from compliance.readiness import EVIDENCE_NEEDED_KINDS, blocked_stored
from controls.models import Control, ControlStatus
from controls.selectors import my_controls
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
    """The evidence the user may see, one row per item, nothing computed per row: sort and
    filter it on its own columns (indexed for the list's orders), cut the page, then add the
    page's facts with :func:`with_revision_facts`."""
    return (
        restrict(EvidenceItem.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("created_by", "occurrence__request")
    )


def filter_latest_review(items: QuerySet[EvidenceItem], *, status: str) -> QuerySet[EvidenceItem]:
    """Items whose latest revision is ``status``: the item's own copy of that status (indexed
    with the organization for the review queue, its count and the "rejected" filter)."""
    return items.filter(review_status=status)


def filter_control(items: QuerySet[EvidenceItem], control_id: int) -> QuerySet[EvidenceItem]:
    """Items attached to a control: a subquery on the link table, so each item stays one row
    (a join would repeat items and need a DISTINCT over the whole list)."""
    links = EvidenceItem.controls.through.objects.filter(control_id=control_id)
    return items.filter(pk__in=links.values("evidenceitem_id"))


def pending_review_count(*, user: User, organization: Organization) -> int:
    """Items waiting for a review (their latest revision is pending): read from the items'
    (organization, review status) index, never from every item or revision."""
    items = evidence_list(user=user, organization=organization)
    return filter_latest_review(items, status=ReviewStatus.PENDING).count()


def with_revision_facts(
    items: Iterable[EvidenceItem], *, controls_shown: int | None = None
) -> list[EvidenceItem]:
    """The facts of a page of items, in a fixed number of queries whatever the page or the
    items' history: each item's ``latest_revision`` (with ``earlier_accepted``: some earlier
    revision was accepted), its ``revision_count``, and its controls by ref id (the first
    ``controls_shown`` of them in ``shown_controls`` and all of them counted in
    ``control_count``, ``more_controls`` the ones not shown; all of them otherwise)."""
    items = list(items)
    if not items:
        return items
    ids = [item.pk for item in items]
    latest_ids = [item.latest_revision_id for item in items if item.latest_revision_id]
    accepted = EvidenceRevision.objects.filter(
        item=OuterRef("item"), review_status=ReviewStatus.ACCEPTED, number__lt=OuterRef("number")
    )
    latest = {
        revision.item_id: revision
        for revision in EvidenceRevision.objects.filter(pk__in=latest_ids)
        .annotate(earlier_accepted=Exists(accepted))
        .select_related("uploaded_by", "reviewed_by")
        .order_by()
    }
    controls = Control.objects.order_by("ref_id", "pk")
    if controls_shown is not None:
        links: Any = EvidenceItem.controls.through  # the link table Django made
        counts = dict(
            links.objects.filter(evidenceitem_id__in=ids)
            .values("evidenceitem_id")
            .annotate(n=Count("pk"))
            .values_list("evidenceitem_id", "n")
        )
        controls = controls[:controls_shown]
    if controls_shown is None:  # the whole set, as ``item.controls.all()`` (the API's field)
        prefetch_related_objects(items, Prefetch("controls", queryset=controls))
    else:
        prefetch_related_objects(
            items, Prefetch("controls", queryset=controls, to_attr="shown_controls")
        )
    for item in items:
        revision = latest.get(item.pk)
        item.latest_revision = revision
        # Revisions are numbered 1, 2, 3… under the item's lock and never deleted (they are
        # immutable; they go only with their item): the latest's number is their count.
        item.revision_count = revision.number if revision else 0  # type: ignore[attr-defined]
        if controls_shown is None:
            item.shown_controls = list(item.controls.all())  # type: ignore[attr-defined]
            item.control_count = len(item.shown_controls)  # type: ignore[attr-defined]
        else:
            item.control_count = counts.get(item.pk, 0)  # type: ignore[attr-defined]
        item.more_controls = item.control_count - len(item.shown_controls)  # type: ignore[attr-defined]
    return items


def evidence_get(*, user: User, organization: Organization, pk: Any) -> EvidenceItem:
    """One item with its page facts (its revisions come a page at a time: :func:`revision_list`)."""
    item = evidence_list(user=user, organization=organization).filter(pk=_pk(pk)).first()
    if item is None:
        raise Http404("No such evidence.")
    return item


def revision_list(*, item: EvidenceItem) -> QuerySet[EvidenceRevision]:
    """An item's revisions, newest first (the item is already visible to the user)."""
    return (
        EvidenceRevision.objects.filter(item=item)
        .select_related("uploaded_by", "reviewed_by")
        .order_by("-number")
    )


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


def items_in_review(*, organization: Organization, status: str) -> QuerySet[EvidenceItem]:
    """The organization's items whose latest revision is ``status``, that revision joined
    (``item.latest_revision``): what "My work" lists for reviewers and uploaders."""
    return EvidenceItem.objects.filter(
        organization=organization, review_status=status
    ).select_related("latest_revision")


def last_uploaded_by(items: QuerySet[EvidenceItem], *, user: User) -> QuerySet[EvidenceItem]:
    """The items whose newest revision the user uploaded (the evidence list's "uploaded by
    me" filter; with "rejected", what "My work" asks the uploader to fix)."""
    return items.filter(latest_revision__uploaded_by=user)


def controls_needing_evidence(*, user: User, organization: Organization) -> QuerySet[Control]:
    """The implemented controls the user owns or backs up that missing or stale evidence keeps
    from being ready, by their stored readiness (one indexed read, nothing computed per
    control): exactly the controls list's ``owner=me&status=implemented&evidence=needed``.
    Longest-stale first, then those with no accepted evidence, by ref_id; each annotated with
    ``stale_on`` (when its evidence went stale) and ``kinds`` (its blocker kinds)."""
    return (
        my_controls(user=user, organization=organization)
        .select_related(None)  # the group shows the control, not its owners
        .filter(blocked_stored(*EVIDENCE_NEEDED_KINDS), status=ControlStatus.IMPLEMENTED)
        .annotate(stale_on=F("readiness__evidence_due"), kinds=F("readiness__blocker_kinds"))
        .order_by(F("stale_on").asc(nulls_last=True), "ref_id")
    )


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
    """Evidence attached to one control (for the control page; the control is already visible),
    with its latest revision's number and review status read from the item itself."""
    return (
        EvidenceItem.objects.filter(controls=control)
        .annotate(
            latest_number=F("latest_revision__number"),
            latest_review=F("review_status"),
        )
        .select_related("created_by")
        .order_by("-effective_date", "-pk")
    )
