"""Object policies of policies, versions and acknowledgements (see compliance.permissions).

Program readers (admins, members, viewers) see every policy of the organization; auditors see
none until the audits app grants them an engagement. Admins change everything. A member may work
on the text of the policies they own: create a new draft, edit it and submit it for review.
Reviewing it (sending it back to draft, approving), retiring and sending stay with admins,
through Capability.MANAGE_POLICIES: an owner does not review their own text.
"""

from __future__ import annotations

from django.db.models import Q

from compliance.models import Membership, Role
from compliance.permissions import PROGRAM_READERS, ObjectPolicy, register_policy, roles
from policies.models import (
    Acknowledgement,
    AcknowledgementRequest,
    Distribution,
    Policy,
    PolicyVersion,
)


def _policy_change(membership: Membership) -> Q | None:
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        return Q(owner_id=membership.user_id)
    return None


def _version_change(membership: Membership) -> Q | None:
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        return Q(policy__owner_id=membership.user_id)
    return None


register_policy(ObjectPolicy(model=Policy, view=roles(*PROGRAM_READERS), change=_policy_change))
register_policy(
    ObjectPolicy(
        model=PolicyVersion,
        view=roles(*PROGRAM_READERS),
        change=_version_change,
        organization_field="policy__organization_id",
    )
)
for model in (Distribution, AcknowledgementRequest, Acknowledgement):
    register_policy(
        ObjectPolicy(
            model=model,
            view=roles(*PROGRAM_READERS),
            change=roles(Role.ADMIN),
            organization_field="version__policy__organization_id",
        )
    )
