"""Reads of packages, through the choke point."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from audits.models import Audit, AuditPackage
from compliance.models import Membership, Role
from compliance.permissions import UserLike, restrict

# The package tab lists the latest packages only.
LATEST = 10


def may_export(membership: Membership | None, audit: Audit) -> bool:
    """Admins, and the engagement's auditors (whoever reached ``audit`` through audit_get has
    a live access to it)."""
    return (
        membership is not None
        and membership.organization_id == audit.organization_id
        and membership.role in (Role.ADMIN, Role.AUDITOR)
    )


def packages(*, user: UserLike, audit: Audit) -> QuerySet[AuditPackage]:
    return (
        restrict(AuditPackage.objects.filter(audit=audit), user, organization=audit.organization)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")
    )


def latest_packages(*, user: UserLike, audit: Audit) -> list[AuditPackage]:
    return list(packages(user=user, audit=audit)[:LATEST])


def package_get(*, user: UserLike, audit: Audit, pk: Any) -> AuditPackage:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such package.") from None
    package = packages(user=user, audit=audit).filter(pk=pk).first()
    if package is None:
        raise Http404("No such package.")
    return package
