"""Object policies of the audits app, and what auditors may see of the program.

Engagements: program readers see every engagement of their organization; admins change them.
An auditor sees the engagements granted to them (the guardian grant ``view_audit`` with an
access that has neither expired nor been revoked), and, of every model an auditor can reach, the
rows within the scope and window of those engagements (audits.scope), through the one choke
point (compliance.permissions). Auditors change nothing of the program.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from audits import scope
from audits.models import Audit, AuditorAccess
from audits.scope import Window
from compliance.models import Membership, Role
from compliance.permissions import (
    PROGRAM_READERS,
    ObjectPolicy,
    granted_ids,
    register_auditor_scope,
    register_policy,
    roles,
)

register_policy(ObjectPolicy(model=Audit, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN)))
register_policy(
    ObjectPolicy(
        model=AuditorAccess,
        view=roles(Role.ADMIN),
        change=roles(Role.ADMIN),
        organization_field="audit__organization_id",
    )
)


def auditor_windows(membership: Membership) -> list[Window]:
    """The windows of the engagements an auditor membership may see now (two queries, once per
    membership object)."""
    cached: list[Window] | None = getattr(membership, "_attest_audit_windows", None)
    if cached is not None:
        return cached
    audits = (
        Audit.objects.filter(
            organization_id=membership.organization_id,
            pk__in=granted_ids(membership.user_id, Audit, "view_audit"),
        )
        .filter(
            pk__in=AuditorAccess.objects.filter(
                user_id=membership.user_id,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            ).values("audit_id")
        )
        .select_related("organization")
        .prefetch_related("scope")
        .order_by("pk")
    )
    windows = [scope.window_of(audit) for audit in audits]
    membership._attest_audit_windows = windows  # type: ignore[attr-defined]
    return windows


def within(condition: Callable[[Window], Q]) -> Callable[[Membership], Q | None]:
    """An auditor scope: ``condition`` of any of the membership's engagements (no engagement:
    no row)."""

    def auditor_scope(membership: Membership) -> Q | None:
        windows = auditor_windows(membership)
        if not windows:
            return None
        combined = Q(pk__in=[])
        for window in windows:
            combined |= condition(window)
        return combined

    return auditor_scope


def _audits(membership: Membership) -> Q | None:
    windows = auditor_windows(membership)
    return Q(pk__in=[w.audit_id for w in windows]) if windows else None


def _register() -> None:
    from controls.models import Control, ControlTest, TestRun
    from evidence.models import EvidenceItem, EvidenceRequest, RequestOccurrence
    from people.models import Person
    from policies.models import Acknowledgement, Policy, PolicyVersion
    from vendors.models import Vendor, VendorReview

    register_auditor_scope(Audit, _audits)
    register_auditor_scope(Control, within(scope.controls_q))
    register_auditor_scope(ControlTest, within(scope.control_tests_q))
    register_auditor_scope(TestRun, within(scope.test_runs_q))
    register_auditor_scope(EvidenceItem, within(scope.evidence_q))
    register_auditor_scope(EvidenceRequest, within(scope.evidence_requests_q))
    register_auditor_scope(RequestOccurrence, within(scope.occurrences_q))
    register_auditor_scope(Policy, within(scope.policies_q))
    register_auditor_scope(PolicyVersion, within(scope.policy_versions_q))
    register_auditor_scope(Acknowledgement, within(scope.acknowledgements_q))
    register_auditor_scope(Person, within(scope.people_q))
    register_auditor_scope(Vendor, within(scope.vendors_q))
    register_auditor_scope(VendorReview, within(scope.vendor_reviews_q))


_register()
