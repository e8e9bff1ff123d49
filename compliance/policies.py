"""Object policies of the core models (see :mod:`compliance.permissions`)."""

from __future__ import annotations

from django.db.models import Q

from compliance.models import (
    ActionItem,
    Membership,
    Organization,
    ReadinessSnapshot,
    Role,
    WeeklyMeeting,
)
from compliance.permissions import PROGRAM_READERS, ObjectPolicy, register_policy, roles


def _membership_view(membership: Membership) -> Q | None:
    if membership.role in PROGRAM_READERS:
        return Q()
    # An auditor sees their own membership only (who they are in this organization).
    return Q(user_id=membership.user_id)


register_policy(
    ObjectPolicy(
        model=Organization,
        view=lambda membership: Q(),
        change=roles(Role.ADMIN),
        organization_field="id",
    )
)
register_policy(ObjectPolicy(model=Membership, view=_membership_view, change=roles(Role.ADMIN)))


def _action_item_change(membership: Membership) -> Q | None:
    """Admins change every action item; a member the items they own (edit, close, reopen)."""
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        return Q(owner_id=membership.user_id)
    return None


register_policy(
    ObjectPolicy(model=WeeklyMeeting, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN))
)
register_policy(
    ObjectPolicy(model=ActionItem, view=roles(*PROGRAM_READERS), change=_action_item_change)
)
# Weekly snapshots: the program's readers read them; nobody changes one (they are immutable).
register_policy(
    ObjectPolicy(model=ReadinessSnapshot, view=roles(*PROGRAM_READERS), change=lambda m: None)
)
