"""Who sees an engagement's packages: admins (every engagement of their organization) and the
engagement's auditors (through the choke point, within their engagements). Nobody changes one:
the worker writes it."""

from __future__ import annotations

from django.db.models import Q

from audits.models import AuditPackage
from audits.policies import auditor_windows
from compliance.models import Membership, Role
from compliance.permissions import ObjectPolicy, register_auditor_scope, register_policy, roles

register_policy(
    ObjectPolicy(
        model=AuditPackage,
        view=roles(Role.ADMIN),
        change=lambda membership: None,
        organization_field="audit__organization_id",
    )
)


def _engagements(membership: Membership) -> Q | None:
    windows = auditor_windows(membership)
    return Q(audit_id__in=[w.audit_id for w in windows]) if windows else None


register_auditor_scope(AuditPackage, _engagements)
