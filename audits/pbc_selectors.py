"""Reads of the auditor's workspace, through the permission choke point: an engagement's
requests and findings, a request with its thread and evidence."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from audits.models import Audit, AuditFinding, AuditRequest, AuditRequestComment
from compliance.permissions import UserLike, restrict


def request_list(*, user: UserLike, audit: Audit, status: str = "") -> QuerySet[AuditRequest]:
    requests = restrict(
        AuditRequest.objects.filter(audit=audit), user, organization=audit.organization
    )
    if status:
        requests = requests.filter(status=status)
    return (
        requests.select_related("control", "assignee", "requested_by")
        .annotate(evidence_count=Count("evidence", distinct=True))
        .order_by("number")
    )


def _pk(pk: Any, what: str) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None


def request_get(*, user: UserLike, audit: Audit, pk: Any) -> AuditRequest:
    request = (
        request_list(user=user, audit=audit)
        .select_related("audit__organization")
        .filter(pk=_pk(pk, "request"))
        .first()
    )
    if request is None:
        raise Http404("No such request in this engagement.")
    return request


def request_thread(request: AuditRequest) -> list[AuditRequestComment]:
    return list(request.comments.select_related("author").order_by("created_at", "pk")[:200])


def request_evidence(*, user: UserLike, request: AuditRequest) -> list[Any]:
    """The evidence attached to ``request`` that ``user`` may see, with its latest revision."""
    from evidence.models import EvidenceItem

    items = EvidenceItem.objects.filter(audit_requests=request)
    return list(
        restrict(items, user, organization=request.audit.organization)
        .select_related("latest_revision")
        .order_by("-effective_date", "-pk")[:100]
    )


def finding_list(*, user: UserLike, audit: Audit) -> QuerySet[AuditFinding]:
    from controls.models import Control

    return (
        restrict(AuditFinding.objects.filter(audit=audit), user, organization=audit.organization)
        .select_related("raised_by", "responded_by")
        .prefetch_related(Prefetch("controls", queryset=Control.objects.order_by("ref_id")))
        .order_by("number")
    )


def finding_get(*, user: UserLike, audit: Audit, pk: Any) -> AuditFinding:
    finding = (
        finding_list(user=user, audit=audit)
        .select_related("audit__organization")
        .filter(pk=_pk(pk, "finding"))
        .first()
    )
    if finding is None:
        raise Http404("No such finding in this engagement.")
    return finding


def attached_item_ids(audit: Audit) -> QuerySet[Any]:
    return AuditRequest.evidence.through.objects.filter(auditrequest__audit_id=audit.pk).values(
        "evidenceitem_id"
    )
