"""Reads of frameworks, requirements and controls, always through the permission choke point."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from compliance.models import Organization, User
from compliance.permissions import permitted_ids, restrict
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlStatusChange,
    Framework,
    Requirement,
    RequirementReadiness,
)


def framework_list() -> QuerySet[Framework]:
    """Catalogs are global and readable by every signed-in user."""
    return Framework.objects.annotate(
        requirement_count=Count("requirements", filter=Q(requirements__assessable=True))
    ).order_by("name")


def framework_get(*, slug: str) -> Framework:
    framework = Framework.objects.filter(slug=slug).first()
    if framework is None:
        raise Http404("No such framework.")
    return framework


def adoption_list(*, user: User, organization: Organization) -> QuerySet[AdoptedFramework]:
    return (
        restrict(AdoptedFramework.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("framework")
        .prefetch_related("scope")
    )


def adoption_get(
    *, user: User, organization: Organization, framework: Framework
) -> AdoptedFramework | None:
    return adoption_list(user=user, organization=organization).filter(framework=framework).first()


def requirement_list(*, framework: Framework) -> QuerySet[Requirement]:
    return (
        Requirement.objects.filter(framework=framework)
        .select_related("category", "parent")
        .order_by("order")
    )


def requirement_get(*, pk: int) -> Requirement:
    requirement = (
        Requirement.objects.select_related("framework", "category", "parent").filter(pk=pk).first()
    )
    if requirement is None:
        raise Http404("No such requirement.")
    return requirement


def control_list(
    *, user: User, organization: Organization, archived: bool = False
) -> QuerySet[Control]:
    queryset = restrict(Control.objects.all(), user, organization=organization).filter(
        organization=organization, archived_at__isnull=not archived
    )
    return queryset.select_related("owner", "backup_owner")


def control_get(*, user: User, organization: Organization, pk: Any) -> Control:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such control.") from None
    control = (
        restrict(Control.objects.all(), user, organization=organization)
        .filter(organization=organization, pk=pk)
        .select_related("owner", "backup_owner", "organization", "readiness")
        .prefetch_related(
            Prefetch(
                "mappings",
                queryset=ControlRequirement.objects.select_related(
                    "requirement__framework", "requirement__category"
                ).order_by("requirement__framework__name", "requirement__order"),
            ),
        )
        .first()
    )
    if control is None:
        raise Http404("No such control.")
    return control


def control_history(*, control: Control) -> QuerySet[ControlStatusChange]:
    """A control's status changes, newest first (the control is already visible)."""
    return (
        ControlStatusChange.objects.filter(control=control)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def control_changeable_ids(
    *, user: User, organization: Organization, ids: list[int] | None = None
) -> set[int]:
    """Which of these controls the user may edit (one query for a whole page)."""
    queryset = Control.objects.filter(
        pk__in=permitted_ids(user, Control, "change", organization=organization)
    )
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return set(queryset.values_list("pk", flat=True))


def control_can_change(*, user: User, control: Control) -> bool:
    return bool(
        control_changeable_ids(user=user, organization=control.organization, ids=[control.pk])
    )


def my_controls(*, user: User, organization: Organization) -> QuerySet[Control]:
    """Controls the user owns or backs up."""
    return control_list(user=user, organization=organization).filter(
        Q(owner=user) | Q(backup_owner=user)
    )


# --- stored readiness ---------------------------------------------------------------------------

REQUIREMENT_CONTROLS_LIMIT = 50


def stored_requirement_states(
    *, organization: Organization, framework: Framework
) -> dict[int, RequirementReadiness]:
    """The stored state of each of the framework's requirements for the organization, by
    requirement id (one query, on the unique (organization, requirement) index)."""
    return {
        row.requirement_id: row
        for row in RequirementReadiness.objects.filter(
            organization=organization, requirement__framework=framework
        )
    }


def stored_requirement_state(
    *, organization: Organization, requirement: Requirement
) -> RequirementReadiness | None:
    return RequirementReadiness.objects.filter(
        organization=organization, requirement=requirement
    ).first()


def requirement_controls(
    *, user: User, organization: Organization, requirement: Requirement, limit: int | None = None
) -> list[Control]:
    """The active controls mapped to a requirement that the user may see, with their stored
    readiness (``control.readiness``), by ID; at most ``limit`` (one query)."""
    queryset = (
        control_list(user=user, organization=organization)
        .filter(mappings__requirement=requirement)
        .select_related("readiness")
        .order_by("ref_id")
    )
    return list(queryset[: limit or REQUIREMENT_CONTROLS_LIMIT])
