"""Who sees requests and findings, and the evidence attached to requests.

Program readers see every request and finding of their organization; the choke point lets
auditors see those of the engagements granted to them (never change: their own work goes
through audits.pbc_services, which checks they are an auditor of the engagement). Evidence
attached to a request is visible to that engagement's auditors even outside its window (it is
the answer they asked for)."""

from __future__ import annotations

from django.db.models import Q

from audits import scope
from audits.models import AuditFinding, AuditRequest, AuditRequestComment
from audits.policies import auditor_windows, within
from audits.scope import Window
from compliance.models import Membership, Role
from compliance.permissions import (
    PROGRAM_READERS,
    ObjectPolicy,
    RoleFilter,
    register_auditor_scope,
    register_policy,
    roles,
)


def attached_evidence_q(w: Window) -> Q:
    """Evidence items attached to a request of the engagement."""
    through = AuditRequest.evidence.through
    return Q(
        pk__in=through.objects.filter(auditrequest__audit_id=w.audit_id).values("evidenceitem_id")
    )


def evidence_or_attached_q(w: Window) -> Q:
    return scope.evidence_q(w) | attached_evidence_q(w)


def _engagements(field: str) -> RoleFilter:
    def auditor_scope(membership: Membership) -> Q | None:
        windows = auditor_windows(membership)
        return Q(**{f"{field}__in": [w.audit_id for w in windows]}) if windows else None

    return auditor_scope


for _model, _field, _org in (
    (AuditRequest, "audit_id", "audit__organization_id"),
    (AuditFinding, "audit_id", "audit__organization_id"),
    (AuditRequestComment, "request__audit_id", "request__audit__organization_id"),
):
    register_policy(
        ObjectPolicy(
            model=_model,
            view=roles(*PROGRAM_READERS),
            change=roles(Role.ADMIN),
            organization_field=_org,
        )
    )
    register_auditor_scope(_model, _engagements(_field))


def _register_evidence() -> None:
    from evidence.models import EvidenceItem

    # In place of audits.policies' evidence scope: the window's evidence, plus the answers.
    register_auditor_scope(EvidenceItem, within(evidence_or_attached_q))


_register_evidence()
