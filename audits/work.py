"""Audits' part of "My work" (see compliance.work): the auditors' requests assigned to the
user and still to answer (open or assigned), soonest due first."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse

from audits.models import AuditRequest, AuditStatus, RequestStatus
from compliance.models import Organization, User
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, register_work_source
from people.completion import organization_today


@register_work_source
def audit_request_work(
    user: User, organization: Organization, *, limit: int = GROUP_LIMIT
) -> Iterator[WorkGroup | None]:
    requests = (
        AuditRequest.objects.filter(
            audit__organization=organization,
            assignee=user,
            status__in=[RequestStatus.OPEN, RequestStatus.ASSIGNED],
        )
        .exclude(audit__status=AuditStatus.CLOSED)
        .select_related("audit")
        .order_by("due_date", "audit_id", "number")
    )
    rows = list(requests[:limit])
    if not rows:
        yield None
        return
    total = len(rows) if len(rows) < limit else requests.count()
    today = organization_today(organization)
    items = []
    for r in rows:
        late = r.due_date is not None and r.due_date < today
        returned = r.status == RequestStatus.OPEN
        items.append(
            WorkItem(
                kind="Auditor request",
                title=f"{r.label} {r.title} ({r.audit.name})",
                url=reverse("audit_request_detail", args=[organization.slug, r.audit_id, r.pk]),
                due=r.due_date,
                status="Overdue" if late else ("Returned" if returned else "To answer"),
                tone="bad" if late else ("warn" if returned else "info"),
            )
        )
    yield WorkGroup(
        title="Auditor requests",
        items=items,
        total=total,
        key="audit_requests",
    )
