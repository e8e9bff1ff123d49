"""Reads of the audits app, all through the permission choke point (compliance.permissions):
the engagements a user may see, and each engagement's window of the program."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from audits import scope
from audits.models import AccessLogEntry, Audit, AuditorAccess
from compliance.models import Organization, User
from compliance.permissions import UserLike, restrict


def audit_list(*, user: UserLike, organization: Organization) -> QuerySet[Audit]:
    return (
        restrict(Audit.objects.filter(organization=organization), user, organization=organization)
        .select_related("adoption__framework", "organization")
        .prefetch_related("scope")
        .order_by("-created_at", "-pk")
    )


def audit_get(*, user: UserLike, organization: Organization, pk: Any) -> Audit:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such engagement.") from None
    audit = audit_list(user=user, organization=organization).filter(pk=pk).first()
    if audit is None:
        raise Http404("No such engagement.")
    return audit


def audit_can_change(*, user: UserLike, audit: Audit) -> bool:
    return restrict(
        Audit.objects.filter(pk=audit.pk), user, "change", organization=audit.organization
    ).exists()


def accesses(audit: Audit) -> list[AuditorAccess]:
    return list(audit.accesses.select_related("user", "invited_by").order_by("email", "-pk"))


def access_log(audit: Audit) -> QuerySet[AccessLogEntry]:
    return audit.access_log.select_related("user").order_by("-created_at", "-pk")


# --- the engagement's window of the program (each narrowed by the choke point too) ---------------


def in_scope_requirements(audit: Audit) -> QuerySet[Any]:
    from controls.models import ControlRequirement, Requirement

    window = scope.window_of(audit)
    return (
        Requirement.objects.filter(
            category_id__in=window.categories, assessable=True, withdrawn=False
        )
        .select_related("category")
        .order_by("order", "ref_id")
        .prefetch_related(
            Prefetch(
                "mappings",
                queryset=ControlRequirement.objects.filter(
                    control__organization=audit.organization
                ).select_related("control__owner"),
            )
        )
    )


def scoped(queryset: QuerySet[Any], user: UserLike, audit: Audit, condition: Any) -> QuerySet[Any]:
    """``queryset`` narrowed to what ``user`` may see and to this engagement's window."""
    window = scope.window_of(audit)
    visible = restrict(queryset, user, organization=audit.organization)
    return visible.filter(
        pk__in=queryset.model._default_manager.filter(condition(window)).values("pk")
    )


def controls(*, user: User, audit: Audit) -> QuerySet[Any]:
    from controls.models import Control

    return scoped(
        Control.objects.filter(organization=audit.organization, archived_at__isnull=True),
        user,
        audit,
        scope.controls_q,
    ).select_related("owner")


def evidence(*, user: User, audit: Audit) -> QuerySet[Any]:
    from evidence.models import EvidenceItem

    return (
        scoped(
            EvidenceItem.objects.filter(organization=audit.organization),
            user,
            audit,
            scope.evidence_q,
        )
        .select_related("latest_revision")
        .prefetch_related("controls")
        .order_by("-effective_date", "-pk")
    )


REVISIONS_PER_ITEM = 5


def revisions(*, user: User, audit: Audit, items: list[Any]) -> dict[int, list[Any]]:
    """The newest :data:`REVISIONS_PER_ITEM` revisions of each of ``items`` within the window,
    by item, each with ``in_window`` (how many the item has in it): one query, capped rows."""
    from django.db.models import Count, F, Window
    from django.db.models.functions import RowNumber

    from evidence.models import EvidenceRevision

    rows = (
        EvidenceRevision.objects.filter(item__in=[i.pk for i in items])
        .filter(scope.revisions_q(scope.window_of(audit)))
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("item_id")], order_by=F("number").desc()),
            in_window=Window(Count("pk"), partition_by=[F("item_id")]),
        )
        .filter(rank__lte=REVISIONS_PER_ITEM)
        .order_by("item_id", "-number")
    )
    found: dict[int, list[Any]] = {}
    for revision in rows:
        found.setdefault(revision.item_id, []).append(revision)
    return found


def revision_get(*, user: User, audit: Audit, pk: Any) -> Any:
    """A revision within the engagement's window that ``user`` may see; else 404."""
    from evidence.models import EvidenceRevision

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such revision.") from None
    from django.db.models import Q

    from audits.pbc_selectors import attached_item_ids
    from evidence.models import EvidenceItem

    items = evidence(user=user, audit=audit).values("pk")
    # Evidence attached to one of the engagement's requests: every revision (the answer).
    attached = restrict(
        EvidenceItem.objects.filter(pk__in=attached_item_ids(audit)),
        user,
        organization=audit.organization,
    ).values("pk")
    revision = (
        EvidenceRevision.objects.filter(pk=pk)
        .filter(
            (Q(item__in=items) & scope.revisions_q(scope.window_of(audit))) | Q(item__in=attached)
        )
        .select_related("item", "item__organization")
        .first()
    )
    if revision is None:
        raise Http404("No such revision in this engagement.")
    return revision


def test_runs(*, user: User, audit: Audit) -> QuerySet[Any]:
    from controls.models import TestRun

    return (
        scoped(
            TestRun.objects.filter(organization=audit.organization), user, audit, scope.test_runs_q
        )
        .select_related("control_test__control")
        .order_by("-finished_at", "-pk")
    )


def policy_versions(*, user: User, audit: Audit) -> QuerySet[Any]:
    from policies.models import PolicyVersion

    return (
        scoped(
            PolicyVersion.objects.filter(policy__organization=audit.organization),
            user,
            audit,
            scope.policy_versions_q,
        )
        .select_related("policy", "approved_by")
        .annotate(acknowledgements_count=Count("acknowledgements", distinct=True))
        .order_by("policy__title", "-number")
    )


def people(*, user: User, audit: Audit) -> QuerySet[Any]:
    from people.models import Person

    return scoped(
        Person.objects.filter(organization=audit.organization), user, audit, scope.people_q
    ).order_by("full_name", "pk")


def vendors(*, user: User, audit: Audit) -> QuerySet[Any]:
    from vendors.models import Vendor

    return scoped(
        Vendor.objects.filter(organization=audit.organization), user, audit, scope.vendors_q
    ).order_by("name", "pk")


def vendor_reviews(*, user: User, audit: Audit) -> QuerySet[Any]:
    from vendors.models import VendorReview

    return (
        scoped(
            VendorReview.objects.filter(vendor__organization=audit.organization),
            user,
            audit,
            scope.vendor_reviews_q,
        )
        .select_related("vendor")
        .order_by("-reviewed_on", "-pk")
    )


def counts(*, user: User, audit: Audit) -> dict[str, int]:
    """How many rows each page of the engagement lists (one query each)."""
    return {
        "controls": controls(user=user, audit=audit).count(),
        "evidence": evidence(user=user, audit=audit).count(),
        "test_runs": test_runs(user=user, audit=audit).count(),
        "policies": policy_versions(user=user, audit=audit).count(),
        "people": people(user=user, audit=audit).count(),
        "vendors": vendors(user=user, audit=audit).count(),
    }
