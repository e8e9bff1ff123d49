"""Object policies of frameworks adoption, controls and mappings (see compliance.permissions)."""

from __future__ import annotations

from django.db.models import Q

from compliance.models import Membership, Role
from compliance.permissions import (
    PROGRAM_READERS,
    ObjectPolicy,
    granted_ids,
    register_policy,
    roles,
)
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlTest,
    Integration,
    TestRun,
)


def _control_change(membership: Membership) -> Q | None:
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        user_id = membership.user_id
        return (
            Q(owner_id=user_id)
            | Q(backup_owner_id=user_id)
            | Q(pk__in=granted_ids(user_id, Control, "change_control"))
        )
    return None


def _mapping_change(membership: Membership) -> Q | None:
    control_filter = _control_change(membership)
    if control_filter is None:
        return None
    return Q(control__in=Control.objects.filter(control_filter))


register_policy(
    ObjectPolicy(model=AdoptedFramework, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN))
)
register_policy(ObjectPolicy(model=Control, view=roles(*PROGRAM_READERS), change=_control_change))
register_policy(
    ObjectPolicy(
        model=ControlRequirement,
        view=roles(*PROGRAM_READERS),
        change=_mapping_change,
        organization_field="control__organization_id",
    )
)


def _test_change(membership: Membership) -> Q | None:
    """Admins, and members on the tests of controls they may change (edit, run now)."""
    control_filter = _control_change(membership)
    if control_filter is None:
        return None
    return Q(control__in=Control.objects.filter(control_filter))


register_policy(ObjectPolicy(model=ControlTest, view=roles(*PROGRAM_READERS), change=_test_change))
register_policy(ObjectPolicy(model=TestRun, view=roles(*PROGRAM_READERS), change=roles()))
# Integrations hold credentials: only admins see or change them.
register_policy(ObjectPolicy(model=Integration, view=roles(Role.ADMIN), change=roles(Role.ADMIN)))
