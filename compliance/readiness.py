"""Readiness: the share of in-scope requirements whose mapped controls are all ready.

This module is the one definition of "ready" for controls and requirements; dashboards, the
requirement pages, the API and (later) weekly snapshots read it from here. Each figure comes
with the requirements behind it, so every number on a page can link to its list.

A control is ready when it is not applicable (with a justification), or implemented with no
*blocker*. Blockers come from the apps that know about the control's operation, registered with
:func:`register_blocker_source`: stale or missing evidence and overdue evidence requests
(evidence), unapproved or overdue policies (policies), people missing an onboarding requirement
(people), and later failing automated tests. Each blocker says why and links to the fix.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Q

from compliance.models import Organization
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlStatus,
    Framework,
    FrameworkCategory,
    Requirement,
)

READY_CONTROL_STATUSES = frozenset({ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE})


@dataclass(frozen=True)
class Blocker:
    """Why an implemented control is not ready, and where to fix it."""

    control_id: int
    reason: str
    url: str = ""


# A source answers for many controls at once, in a fixed number of queries.
BlockerSource = Callable[[Organization, Sequence[int]], Iterable[Blocker]]
_BLOCKER_SOURCES: list[BlockerSource] = []


def register_blocker_source(source: BlockerSource) -> BlockerSource:
    if source not in _BLOCKER_SOURCES:
        _BLOCKER_SOURCES.append(source)
    return source


def control_blockers(
    *, organization: Organization, control_ids: Sequence[int]
) -> dict[int, list[Blocker]]:
    """Blockers of the given (implemented) controls, by control id."""
    found: dict[int, list[Blocker]] = defaultdict(list)
    if not control_ids:
        return found
    for source in _BLOCKER_SOURCES:
        for blocker in source(organization, control_ids):
            found[blocker.control_id].append(blocker)
    return found


def implemented_control_blockers(*, organization: Organization) -> dict[int, list[Blocker]]:
    """Blockers of every active implemented control of the organization (a fixed number of
    queries, whatever the number of controls)."""
    implemented = list(
        Control.objects.filter(
            organization=organization,
            status=ControlStatus.IMPLEMENTED,
            archived_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return control_blockers(organization=organization, control_ids=implemented)


def not_ready_controls(blockers: Mapping[int, Sequence[Blocker]]) -> Q:
    """Controls that are not ready, as a filter: not implemented (and not "not applicable"), or
    implemented with a blocker. ``blockers`` comes from :func:`implemented_control_blockers`."""
    blocked = sorted(pk for pk, found in blockers.items() if found)
    return ~Q(status__in=READY_CONTROL_STATUSES) | Q(pk__in=blocked)


class RequirementState(StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"
    GAP = "gap"  # no active control maps to it

    @property
    def label(self) -> str:
        return {"ready": "Ready", "not_ready": "Not ready", "gap": "Gap"}[self.value]


def control_is_ready(status: str, blockers: Sequence[Blocker] = ()) -> bool:
    if status == ControlStatus.NOT_APPLICABLE:
        return True
    return status == ControlStatus.IMPLEMENTED and not blockers


@dataclass(frozen=True)
class MappedControl:
    id: int
    ref_id: str
    name: str
    status: str
    blockers: tuple[Blocker, ...] = ()

    @property
    def is_ready(self) -> bool:
        return control_is_ready(self.status, self.blockers)

    def get_status_display(self) -> str:
        return ControlStatus(self.status).label


@dataclass
class RequirementReadiness:
    requirement: Requirement
    controls: list[MappedControl] = field(default_factory=list)

    @property
    def state(self) -> RequirementState:
        if not self.controls:
            return RequirementState.GAP
        if all(c.is_ready for c in self.controls):
            return RequirementState.READY
        return RequirementState.NOT_READY


def _percent(part: int, whole: int) -> int:
    # Rounded down, so 100 % means every requirement is ready.
    return math.floor(100 * part / whole) if whole else 0


@dataclass
class Tally:
    total: int = 0
    ready: int = 0
    not_ready: int = 0
    gaps: int = 0

    def add(self, state: RequirementState) -> None:
        self.total += 1
        if state is RequirementState.READY:
            self.ready += 1
        elif state is RequirementState.GAP:
            self.gaps += 1
        else:
            self.not_ready += 1

    @property
    def percent(self) -> int:
        return _percent(self.ready, self.total)


@dataclass
class CategoryReadiness(Tally):
    category: FrameworkCategory | None = None


@dataclass
class FrameworkReadiness(Tally):
    adoption: AdoptedFramework | None = None
    categories: list[CategoryReadiness] = field(default_factory=list)
    requirements: list[RequirementReadiness] = field(default_factory=list)

    @property
    def framework(self) -> Framework:
        assert self.adoption is not None
        return self.adoption.framework


def requirement_readiness(
    *,
    organization: Organization,
    requirements: list[Requirement],
    blockers: Mapping[int, Sequence[Blocker]] | None = None,
) -> list[RequirementReadiness]:
    """The state of each requirement for one organization (one query for the mappings).

    ``blockers`` may be given when the caller already has them for every implemented control
    (from :func:`implemented_control_blockers`), so a page computes them once."""
    mapped: dict[int, list[MappedControl]] = defaultdict(list)
    rows = (
        ControlRequirement.objects.filter(
            requirement__in=[r.pk for r in requirements],
            control__organization=organization,
            control__archived_at__isnull=True,
        )
        .order_by("control__ref_id")
        .values_list(
            "requirement_id", "control_id", "control__ref_id", "control__name", "control__status"
        )
    )
    found = list(rows)
    if blockers is None:
        implemented = sorted({row[1] for row in found if row[4] == ControlStatus.IMPLEMENTED})
        blockers = control_blockers(organization=organization, control_ids=implemented)
    for requirement_id, control_id, ref_id, name, status in found:
        mapped[requirement_id].append(
            MappedControl(control_id, ref_id, name, status, tuple(blockers.get(control_id, ())))
        )
    return [RequirementReadiness(r, mapped.get(r.pk, [])) for r in requirements]


def organization_readiness(
    *, organization: Organization, blockers: Mapping[int, Sequence[Blocker]] | None = None
) -> list[FrameworkReadiness]:
    """Readiness of every adopted framework, overall and per in-scope category (``blockers`` as
    for :func:`requirement_readiness`)."""
    adoptions = list(
        AdoptedFramework.objects.filter(organization=organization)
        .select_related("framework")
        .prefetch_related("scope")
    )
    if not adoptions:
        return []
    scope_filter = Q(pk__in=[])
    for adoption in adoptions:
        scope_filter |= Q(
            framework_id=adoption.framework_id,
            category_id__in=[c.pk for c in adoption.scope.all()],
        )
    requirements = list(
        Requirement.objects.filter(scope_filter, assessable=True, withdrawn=False)
        .select_related("category")
        .order_by("framework_id", "order")
    )
    states = requirement_readiness(
        organization=organization, requirements=requirements, blockers=blockers
    )
    by_framework: dict[int, list[RequirementReadiness]] = defaultdict(list)
    for state in states:
        by_framework[state.requirement.framework_id].append(state)

    results = []
    for adoption in adoptions:
        result = FrameworkReadiness(adoption=adoption)
        categories = {
            c.pk: CategoryReadiness(category=c)
            for c in sorted(adoption.scope.all(), key=lambda c: c.order)
        }
        for state in by_framework.get(adoption.framework_id, []):
            result.add(state.state)
            result.requirements.append(state)
            categories[state.requirement.category_id].add(state.state)
        result.categories = list(categories.values())
        results.append(result)
    return results
