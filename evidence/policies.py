"""Object policies of evidence (see compliance.permissions)."""

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
from controls.models import Control
from evidence.models import EvidenceItem, EvidenceRequest, RequestOccurrence


def _changeable_controls(membership: Membership) -> Q:
    user_id = membership.user_id
    return (
        Q(owner_id=user_id)
        | Q(backup_owner_id=user_id)
        | Q(pk__in=granted_ids(user_id, Control, "change_control"))
    )


def _item_change(membership: Membership) -> Q | None:
    """Members add revisions to evidence of controls they may change, or that they fulfil."""
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role != Role.MEMBER:
        return None
    controls = Control.objects.filter(
        _changeable_controls(membership), organization_id=membership.organization_id
    )
    return (
        Q(controls__in=controls)
        | Q(occurrence__request__owner_id=membership.user_id)
        | Q(created_by_id=membership.user_id, controls__isnull=True)
    )


def _occurrence_change(membership: Membership) -> Q | None:
    """Who may submit evidence for an occurrence: its request's owner, its controls' owners."""
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role != Role.MEMBER:
        return None
    controls = Control.objects.filter(
        _changeable_controls(membership), organization_id=membership.organization_id
    )
    return Q(request__owner_id=membership.user_id) | Q(request__controls__in=controls)


register_policy(
    ObjectPolicy(model=EvidenceRequest, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN))
)
register_policy(
    ObjectPolicy(
        model=RequestOccurrence,
        view=roles(*PROGRAM_READERS),
        change=_occurrence_change,
        organization_field="request__organization_id",
    )
)
register_policy(ObjectPolicy(model=EvidenceItem, view=roles(*PROGRAM_READERS), change=_item_change))
