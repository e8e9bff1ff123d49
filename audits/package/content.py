"""What a package holds of an engagement: its window of the program as the requester may see
it (the choke point, audits.selectors), or whole for the command line (``user`` None)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audits import scope, selectors
from audits.models import Audit
from compliance.models import User


def _scoped(queryset: QuerySet[Any], user: User | None, audit: Audit, condition: Any) -> Any:
    if user is not None:
        return selectors.scoped(queryset, user, audit, condition)
    window = scope.window_of(audit)
    model = queryset.model
    return queryset.filter(pk__in=model._default_manager.filter(condition(window)).values("pk"))


def controls(audit: Audit, user: User | None) -> QuerySet[Any]:
    from controls.models import Control

    return _scoped(
        Control.objects.filter(organization=audit.organization, archived_at__isnull=True),
        user,
        audit,
        scope.controls_q,
    )


def evidence_items(audit: Audit, user: User | None) -> QuerySet[Any]:
    from evidence.models import EvidenceItem

    return _scoped(
        EvidenceItem.objects.filter(organization=audit.organization), user, audit, scope.evidence_q
    )


def file_revisions(audit: Audit, user: User | None) -> QuerySet[Any]:
    """The stored files of the evidence in the window: one per revision effective in it."""
    from evidence.models import EvidenceRevision

    items = evidence_items(audit, user).values("pk")
    return (
        EvidenceRevision.objects.filter(item__in=items)
        .filter(scope.revisions_q(scope.window_of(audit)))
        .exclude(storage_key="")
        .select_related("item")
        .order_by("item_id", "number")
    )


def test_runs(audit: Audit, user: User | None) -> QuerySet[Any]:
    from controls.models import TestRun

    return _scoped(
        TestRun.objects.filter(organization=audit.organization), user, audit, scope.test_runs_q
    )
