"""The permission choke point.

Two questions, answered in one place for every view, API endpoint, export and task:

* *What may this user do across an organization?* Role capabilities (:func:`has_capability`).
* *Which rows may this user see or change?* :func:`permitted_ids` returns an ``id__in``
  subquery built from organization membership, role and django-guardian object grants, from the
  policy registered for the model. Callers filter with it; nothing reads tenant rows without it.

Deny by default: a model without a policy, a user without an active membership, or an action a
policy does not name yields no rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import models
from django.db.models import Q, QuerySet
from guardian.shortcuts import assign_perm, remove_perm
from guardian.utils import get_user_obj_perms_model

from compliance.models import Membership, Organization, Role, User

Action = Literal["view", "change"]


class Capability(StrEnum):
    """Organization-wide abilities that come with a role (explained in docs/permissions.md)."""

    VIEW_PROGRAM = "view_program"  # the internal program: dashboard, controls, frameworks, people
    MANAGE_MEMBERS = "manage_members"
    ADOPT_FRAMEWORK = "adopt_framework"
    ADD_CONTROL = "add_control"
    ARCHIVE_CONTROL = "archive_control"
    GRANT_ACCESS = "grant_access"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    MANAGE_EVIDENCE_REQUESTS = "manage_evidence_requests"
    REVIEW_EVIDENCE = "review_evidence"
    # Create policies; review versions (send back to draft, approve: never by the owner alone,
    # who only writes and submits), retire, send for acknowledgement.
    MANAGE_POLICIES = "manage_policies"
    MANAGE_PEOPLE = "manage_people"  # the personnel roster and its onboarding records
    # Connections to GitHub, AWS… and their secrets, and binding them to control tests (a test
    # that uses one is changed only with this capability; its control's owners may run it).
    MANAGE_INTEGRATIONS = "manage_integrations"
    ACCEPT_RISK = "accept_risk"  # exceptions for failing resources of automated tests
    MANAGE_VENDORS = "manage_vendors"  # add vendors, set tiers and owners, offboard
    MANAGE_ORGANIZATION = "manage_organization"  # its name, time zone and sign-in rules
    # The weekly meeting's record: write its notes; raise action items for anyone, reassign and
    # delete them (a member raises, edits and closes only their own).
    MANAGE_MEETINGS = "manage_meetings"
    # Audit engagements: create and edit them, share them with auditors, read their access log.
    MANAGE_AUDITS = "manage_audits"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.MEMBER: frozenset({Capability.VIEW_PROGRAM}),
    Role.VIEWER: frozenset({Capability.VIEW_PROGRAM}),
    # Auditors see only the engagements granted to them (audits app); nothing of the program.
    Role.AUDITOR: frozenset(),
}


def has_capability(membership: Membership | None, capability: Capability) -> bool:
    if membership is None or not membership.is_active:
        return False
    return capability in ROLE_CAPABILITIES.get(membership.role, frozenset())


UserLike = User | AnonymousUser


def active_memberships(user: UserLike) -> dict[int, Membership]:
    """The user's active memberships by organization id, loaded once per user object."""
    if not user.is_authenticated or not user.is_active:
        return {}
    cached: dict[int, Membership] | None = getattr(user, "_attest_memberships", None)
    if cached is None:
        cached = {
            m.organization_id: m
            for m in Membership.objects.active().filter(user=user).select_related("organization")
        }
        user._attest_memberships = cached  # type: ignore[attr-defined]
    return cached


def forget_memberships(user: UserLike) -> None:
    """Drop the per-object cache after a membership of this user changed."""
    if hasattr(user, "_attest_memberships"):
        del user._attest_memberships


def membership_for(user: UserLike, organization: Organization | int) -> Membership | None:
    org_id = organization if isinstance(organization, int) else organization.pk
    return active_memberships(user).get(org_id)


# Who may create an organization, from the ORGANIZATION_CREATORS setting. Operators (staff and
# superusers) always may; "not_auditors" admits people holding a role other than auditor in at
# least one organization (an external auditor, or someone whose memberships all ended, may not).
def may_create_organization(user: UserLike) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    policy = settings.ORGANIZATION_CREATORS
    if policy == "anyone":
        return True
    if policy == "not_auditors":
        return any(m.role != Role.AUDITOR for m in active_memberships(user).values())
    return False


def organization_creation_refused() -> str:
    """Why a user who may not create organizations is refused (for the 403)."""
    if settings.ORGANIZATION_CREATORS == "operators":
        return "Only the operators of this Attest installation can create organizations."
    return (
        "Auditors cannot create organizations: only members, viewers and admins of an "
        "organization, and operators, can. Ask an operator of this Attest installation."
    )


# --- object policies ----------------------------------------------------------------------------

RoleFilter = Callable[[Membership], Q | None]


@dataclass(frozen=True)
class ObjectPolicy:
    """Which rows of a model a membership may see and change.

    Each callable gets the membership and returns a ``Q`` on the model (``Q()`` means every row of
    the organization) or ``None`` (no row). The organization filter is added by the choke point.
    """

    model: type[models.Model]
    view: RoleFilter
    change: RoleFilter
    organization_field: str = "organization_id"  # lookup of the owning organization's id


_POLICIES: dict[type[models.Model], ObjectPolicy] = {}

# What an auditor may see of a model: the rows within the scope and window of the engagements
# granted to them (the audits app registers one per model an auditor can reach), in place of
# the model's policy; auditors never change such a model. A model without one follows its
# policy (which gives auditors nothing of the program: their organization, their membership).
_AUDITOR_SCOPES: dict[type[models.Model], RoleFilter] = {}


def register_policy(policy: ObjectPolicy) -> ObjectPolicy:
    _POLICIES[policy.model] = policy
    return policy


def register_auditor_scope(model: type[models.Model], scope: RoleFilter) -> RoleFilter:
    _AUDITOR_SCOPES[model] = scope
    return scope


def policy_for(model: type[models.Model]) -> ObjectPolicy:
    try:
        return _POLICIES[model]
    except KeyError:
        raise LookupError(f"No permission policy is registered for {model.__name__}.") from None


def _permitted(
    user: UserLike, model: type[models.Model], action: Action, organization: Organization | None
) -> tuple[Q | None, bool]:
    """The condition on ``model`` rows that ``user`` may ``action`` (None: no row), and whether
    it only names organizations (every selected role may act on every row of its organization)."""
    policy = policy_for(model)
    memberships = active_memberships(user)
    if organization is not None:
        selected = [memberships[organization.pk]] if organization.pk in memberships else []
    else:
        selected = list(memberships.values())
    condition: Q | None = None
    whole_organizations = True
    for membership in selected:
        if membership.role == Role.AUDITOR and model in _AUDITOR_SCOPES:
            # Within the engagements granted to them, and never a change.
            role_filter = _AUDITOR_SCOPES[model](membership) if action == "view" else None
        else:
            role_filter = getattr(policy, action)(membership)
        if role_filter is None:
            continue
        whole_organizations = whole_organizations and role_filter == Q()
        scoped = Q(**{policy.organization_field: membership.organization_id}) & role_filter
        condition = scoped if condition is None else condition | scoped
    return condition, whole_organizations


def permitted_ids(
    user: UserLike,
    model: type[models.Model],
    action: Action = "view",
    *,
    organization: Organization | None = None,
) -> QuerySet[Any]:
    """An ``id__in`` subquery of the rows of ``model`` that ``user`` may ``action``."""
    condition, _ = _permitted(user, model, action, organization)
    manager = model._default_manager
    if condition is None:
        return manager.none().values("pk")
    return manager.filter(condition).values("pk")


def restrict(
    queryset: QuerySet[Any],
    user: UserLike,
    action: Action = "view",
    *,
    organization: Organization | None = None,
) -> QuerySet[Any]:
    """``queryset`` narrowed to what ``user`` may ``action``."""
    condition, whole_organizations = _permitted(user, queryset.model, action, organization)
    if condition is None:
        return queryset.none()
    if whole_organizations:
        # Only the organization lookup (forward foreign keys, one row each): filter in place.
        # A self-join "id IN (SELECT id ... same table)" can make PostgreSQL misjudge the row
        # count and nest loops over the whole organization (seconds on a large inventory).
        return queryset.filter(condition)
    # Role filters may cross many-valued relations (evidence ↔ controls): a subquery keeps
    # each row once.
    return queryset.filter(pk__in=queryset.model._default_manager.filter(condition).values("pk"))


def can(user: UserLike, action: Action, obj: models.Model) -> bool:
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()


# --- object grants (django-guardian) ------------------------------------------------------------


def granted_ids(user_id: int, model: type[models.Model], codename: str) -> QuerySet[Any]:
    """Ids of ``model`` rows on which the user holds the object permission ``codename``."""
    perm_model = get_user_obj_perms_model(model)  # type: ignore[arg-type]  # accepts classes
    return perm_model.objects.filter(  # type: ignore[attr-defined]
        user_id=user_id,
        permission__codename=codename,
        permission__content_type__app_label=model._meta.app_label,
        permission__content_type__model=model._meta.model_name,
    ).values("content_object_id")


def grant_object_permission(user: User, codename: str, obj: models.Model) -> None:
    """The one writer of object grants (called by services, inside their transaction)."""
    assign_perm(_permission(obj, codename), user, obj)


def revoke_object_permission(user: User, codename: str, obj: models.Model) -> None:
    remove_perm(_permission(obj, codename), user, obj)


def _permission(obj: models.Model, codename: str) -> Permission:
    return Permission.objects.get(
        codename=codename,
        content_type__app_label=obj._meta.app_label,
        content_type__model=obj._meta.model_name,
    )


# --- role helpers used by policies --------------------------------------------------------------


def every_row() -> Q:
    return Q()


def roles(*allowed: str) -> RoleFilter:
    """A filter that admits every row of the organization for the given roles."""

    def role_filter(membership: Membership) -> Q | None:
        return every_row() if membership.role in allowed else None

    return role_filter


PROGRAM_READERS = (Role.ADMIN, Role.MEMBER, Role.VIEWER)
