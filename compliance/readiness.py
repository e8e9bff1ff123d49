"""Readiness: the share of in-scope requirements whose mapped controls are all ready.

This module is the one definition of "ready" for controls and requirements; dashboards, the
requirement pages, the API and (later) weekly snapshots read it from here. Each figure comes
with the requirements behind it, so every number on a page can link to its list.

A control is ready when it is not applicable (with a justification), or implemented with no
*blocker*. Blockers come from the apps that know about the control's operation, registered with
:func:`register_blocker_source`: stale or missing evidence and overdue evidence requests
(evidence), unapproved or overdue policies (policies), people missing an onboarding requirement
(people), and automated tests that never ran, erred or fail. Each blocker has a kind
(``controls.models.BlockerKind``, stored so that pages count and filter controls by it), says
why and links to the fix.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from compliance.history import control_status_at, controls_active_at
from compliance.models import Organization
from controls.models import (
    AdoptedFramework,
    BlockerKind,
    Control,
    ControlReadiness,
    ControlRequirement,
    ControlStatus,
    Framework,
    FrameworkCategory,
    ReadinessRecomputation,
    Requirement,
)
from controls.models import RequirementReadiness as StoredRequirementReadiness
from controls.models.readiness import kind_pattern

READY_CONTROL_STATUSES = frozenset({ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE})
# The kinds My work's "Evidence needed" group and the controls list's `evidence=needed` list.
EVIDENCE_NEEDED_KINDS = (BlockerKind.EVIDENCE_MISSING, BlockerKind.EVIDENCE_STALE)


@dataclass(frozen=True)
class Blocker:
    """Why an implemented control is not ready (its kind, and in words), and where to fix it.

    ``since`` is the date the blocker began, when the source knows it: the evidence went stale,
    the request or the review fell due, a failing resource's remediation deadline passed."""

    control_id: int
    kind: BlockerKind
    reason: str
    url: str = ""
    since: dt.date | None = None


# A source answers for many controls at once, in a fixed number of queries.
class BlockerSource(Protocol):
    """``as_of`` (an aware datetime) asks what blocked the controls at that past moment, judged
    from the recorded history (see :func:`readiness_as_of`); ``None`` is now, from the current
    rows."""

    def __call__(
        self,
        organization: Organization,
        control_ids: Sequence[int],
        *,
        as_of: dt.datetime | None = None,
    ) -> Iterable[Blocker]: ...


_BLOCKER_SOURCES: list[BlockerSource] = []


def register_blocker_source(source: BlockerSource) -> BlockerSource:
    if source not in _BLOCKER_SOURCES:
        _BLOCKER_SOURCES.append(source)
    return source


def control_blockers(
    *,
    organization: Organization,
    control_ids: Sequence[int],
    as_of: dt.datetime | None = None,
) -> dict[int, list[Blocker]]:
    """Blockers of the given (implemented) controls, by control id; with ``as_of``, those they
    had at that past moment (see :func:`readiness_as_of`)."""
    found: dict[int, list[Blocker]] = defaultdict(list)
    if not control_ids:
        return found
    for source in _BLOCKER_SOURCES:
        for blocker in source(organization, control_ids, as_of=as_of):
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

    def add(self, state: RequirementState, count: int = 1) -> None:
        self.total += count
        if state is RequirementState.READY:
            self.ready += count
        elif state is RequirementState.GAP:
            self.gaps += count
        else:
            self.not_ready += count

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
    # When read from the stored state: when its newest row was computed.
    computed_at: dt.datetime | None = None

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


def _adoptions_in_scope(
    organization: Organization, *, through: str = ""
) -> tuple[list[AdoptedFramework], Q]:
    """The organization's adoptions (framework and scope loaded) and a filter for the
    requirements in their scope (``through`` prefixes the fields, e.g. ``"requirement__"``)."""
    adoptions = list(
        AdoptedFramework.objects.filter(organization=organization)
        .select_related("framework")
        .prefetch_related("scope")
    )
    in_scope = Q(pk__in=[])
    for adoption in adoptions:
        in_scope |= Q(
            **{
                f"{through}framework_id": adoption.framework_id,
                f"{through}category_id__in": [c.pk for c in adoption.scope.all()],
            }
        )
    return adoptions, in_scope


def organization_readiness(
    *, organization: Organization, blockers: Mapping[int, Sequence[Blocker]] | None = None
) -> list[FrameworkReadiness]:
    """Readiness of every adopted framework, overall and per in-scope category (``blockers`` as
    for :func:`requirement_readiness`)."""
    adoptions, scope_filter = _adoptions_in_scope(organization)
    if not adoptions:
        return []
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
        result, categories = _framework_tally(adoption)
        for state in by_framework.get(adoption.framework_id, []):
            result.add(state.state)
            result.requirements.append(state)
            categories[state.requirement.category_id].add(state.state)
        results.append(result)
    return results


def _framework_tally(
    adoption: AdoptedFramework,
) -> tuple[FrameworkReadiness, dict[int, CategoryReadiness]]:
    """An empty tally for the adoption, and its in-scope categories' tallies by id (in the
    catalog's order, already attached to it)."""
    categories = {
        c.pk: CategoryReadiness(category=c)
        for c in sorted(adoption.scope.all(), key=lambda c: c.order)
    }
    return FrameworkReadiness(adoption=adoption, categories=list(categories.values())), categories


# --- As of a past moment ------------------------------------------------------------------------
#
# The same definition, judged from the recorded history instead of the current rows: each blocker
# source answers for ``as_of``, and the facts read here (a control's status, its mappings, the
# adoptions) are taken as they were then. docs/readiness.md ("Readiness as of a past date") says
# what each fact is read from, and what a past figure assumes where no history is recorded.


@dataclass(frozen=True)
class ControlAsOf:
    """A control as it was at the moment: its status then and what blocked it then (owner and
    target date are today's: they carry no history)."""

    id: int
    ref_id: str
    name: str
    status: str
    owner_id: int | None
    target_date: dt.date | None
    blockers: tuple[Blocker, ...] = ()

    @property
    def ready(self) -> bool:
        return control_is_ready(self.status, self.blockers)

    @property
    def status_label(self) -> str:
        return str(ControlStatus(self.status).label) if self.status in ControlStatus.values else ""

    @property
    def in_place(self) -> bool:
        """Implemented or not applicable: what a target date is about."""
        return self.status in READY_CONTROL_STATUSES


@dataclass
class OwnerTally:
    """One owner's controls, as the dashboard counts them: all of them, those not ready
    (``open``), and those past their target date and not in place (``overdue``)."""

    owner_id: int
    name: str
    total: int = 0
    open: int = 0
    overdue: int = 0


@dataclass
class ReadinessAsOf:
    """What :func:`readiness_as_of` returns.

    ``frameworks``: per framework adopted by then, exactly the shape of
    :func:`organization_readiness` (overall and per in-scope category tallies, and per
    requirement its state with its mapped controls, their status then and blockers then).
    ``controls``: every control active then, by id. ``owners``: per owner, over every control
    active then; ``framework_owners``: the same per framework id, over the controls mapped to
    its in-scope requirements. Owners are sorted as on the dashboard: most open first."""

    at: dt.datetime
    on: dt.date  # the organization-local date at ``at``: what freshness and due dates are judged on
    frameworks: list[FrameworkReadiness]
    controls: dict[int, ControlAsOf]
    owners: list[OwnerTally]
    framework_owners: dict[int, list[OwnerTally]]


def _owner_tallies(
    controls: Iterable[ControlAsOf], names: Mapping[int, str], on: dt.date
) -> list[OwnerTally]:
    tallies: dict[int, OwnerTally] = {}
    for control in controls:
        if control.owner_id is None:
            continue
        tally = tallies.get(control.owner_id)
        if tally is None:
            tally = tallies[control.owner_id] = OwnerTally(
                control.owner_id, names.get(control.owner_id, "")
            )
        tally.total += 1
        tally.open += int(not control.ready)
        late = control.target_date is not None and control.target_date < on
        tally.overdue += int(late and not control.in_place)
    return sorted(tallies.values(), key=lambda t: (-t.open, t.name.lower(), t.owner_id))


def readiness_as_of(*, organization: Organization, at: dt.datetime) -> ReadinessAsOf:
    """Readiness as it was at ``at`` (an aware datetime, e.g. the end of a week), computed from
    the recorded history with the one definition of this module.

    ``readiness_as_of(at=timezone.now())`` equals the stored state (and
    :func:`organization_readiness`). Dates (freshness, due dates, expiries) are judged on the
    organization-local date at ``at``. A fixed number of queries (about twenty), whatever the
    number of controls, requirements, evidence or runs: every blocker source answers for all
    controls at once. Raises ``ValueError`` for a naive datetime."""
    if timezone.is_naive(at):
        raise ValueError("readiness_as_of needs an aware datetime.")
    on = organization_local_date(organization, at)
    rows = (
        Control.objects.filter(controls_active_at(at), organization=organization)
        .annotate(status_then=control_status_at(at))
        .order_by("ref_id")
        .values_list(
            "pk",
            "ref_id",
            "name",
            "status_then",
            "owner_id",
            "owner__full_name",
            "owner__email",
            "target_date",
        )
    )
    found = list(rows)
    names = {row[4]: row[5] or row[6] for row in found if row[4] is not None}
    implemented = [row[0] for row in found if row[3] == ControlStatus.IMPLEMENTED]
    blockers = control_blockers(organization=organization, control_ids=implemented, as_of=at)
    controls = {
        pk: ControlAsOf(pk, ref_id, name, status, owner_id, target, tuple(blockers.get(pk, ())))
        for pk, ref_id, name, status, owner_id, _, _, target in found
    }

    adoptions, _ = _adoptions_in_scope(organization)
    adoptions = [a for a in adoptions if a.adopted_at <= at]
    frameworks: list[FrameworkReadiness] = []
    framework_owners: dict[int, list[OwnerTally]] = {}
    if adoptions:
        in_scope = Q(pk__in=[])
        for adoption in adoptions:
            in_scope |= Q(
                framework_id=adoption.framework_id,
                category_id__in=[c.pk for c in adoption.scope.all()],
            )
        requirements = list(
            Requirement.objects.filter(in_scope, assessable=True, withdrawn=False)
            .select_related("category")
            .order_by("framework_id", "order")
        )
        mapped: dict[int, list[MappedControl]] = defaultdict(list)
        for requirement_id, control_id in (
            ControlRequirement.objects.filter(
                requirement__in=[r.pk for r in requirements],
                control__organization=organization,
                created_at__lte=at,
            )
            .order_by("control__ref_id")
            .values_list("requirement_id", "control_id")
        ):
            control = controls.get(control_id)
            if control is not None:  # active then
                mapped[requirement_id].append(
                    MappedControl(
                        control.id, control.ref_id, control.name, control.status, control.blockers
                    )
                )
        by_framework: dict[int, list[RequirementReadiness]] = defaultdict(list)
        for requirement in requirements:
            by_framework[requirement.framework_id].append(
                RequirementReadiness(requirement, mapped.get(requirement.pk, []))
            )
        for adoption in adoptions:
            result, categories = _framework_tally(adoption)
            seen: dict[int, ControlAsOf] = {}
            for state in by_framework.get(adoption.framework_id, []):
                result.add(state.state)
                result.requirements.append(state)
                categories[state.requirement.category_id].add(state.state)
                seen.update((c.id, controls[c.id]) for c in state.controls)
            frameworks.append(result)
            framework_owners[adoption.framework_id] = _owner_tallies(seen.values(), names, on)
    return ReadinessAsOf(
        at=at,
        on=on,
        frameworks=frameworks,
        controls=controls,
        owners=_owner_tallies(controls.values(), names, on),
        framework_owners=framework_owners,
    )


# --- Stored state -------------------------------------------------------------------------------
#
# The functions above are the definition; the ones below keep its results in ControlReadiness and
# RequirementReadiness rows, so pages read them with aggregate SQL. Services call
# controls_changed / requirements_changed in the transaction of the change; a nightly full
# recomputation catches what dates change (evidence going stale, reviews coming due) and repairs
# and reports drift.

logger = logging.getLogger("compliance.readiness")

DRIFT_SAMPLE_SIZE = 20
# Full recomputations that end a bulk load (written without the services): drift is expected and
# logged at INFO; after the nightly run or the command it is logged at WARNING.
# So does the recomputation of an upgrade that adds what the rows store (controls 0010).
BULK_TRIGGERS = frozenset({"seed", "import", "test", "upgrade"})


def organization_local_date(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    """Today in the organization's time zone: every blocker is date-granular there."""
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()


def _requirement_state(total: int, ready: int) -> str:
    if not total:
        return RequirementState.GAP.value
    return RequirementState.READY.value if ready == total else RequirementState.NOT_READY.value


def _blocker_json(blockers: Sequence[Blocker]) -> list[dict[str, str]]:
    return [{"kind": str(b.kind), "reason": b.reason, "url": b.url} for b in blockers]


def _blocker_kinds(blockers: Sequence[Blocker]) -> list[str]:
    return sorted({str(b.kind) for b in blockers})


def _evidence_due(blockers: Sequence[Blocker]) -> dt.date | None:
    return min(
        (b.since for b in blockers if b.kind == BlockerKind.EVIDENCE_STALE and b.since),
        default=None,
    )


def _adopted_requirements(organization: Organization) -> QuerySet[Requirement]:
    """What RequirementReadiness rows exist for: every assessable, non-withdrawn requirement of
    every adopted framework (scope is applied when reading)."""
    return Requirement.objects.filter(
        framework__adoptions__organization=organization, assessable=True, withdrawn=False
    )


def _control_rows(
    organization: Organization, control_ids: Sequence[int], now: dt.datetime
) -> tuple[list[ControlReadiness], list[int]]:
    """Fresh rows for the given controls (active ones) and the ids that should have none
    (archived or gone). A fixed number of queries."""
    controls = list(
        Control.objects.filter(organization=organization, pk__in=control_ids).values_list(
            "pk", "status", "archived_at"
        )
    )
    active = [(pk, status) for pk, status, archived_at in controls if archived_at is None]
    implemented = [pk for pk, status in active if status == ControlStatus.IMPLEMENTED]
    blockers = control_blockers(organization=organization, control_ids=implemented)
    today = organization_local_date(organization, now)
    rows = []
    for pk, status in active:
        found = blockers.get(pk, [])
        rows.append(
            ControlReadiness(
                control_id=pk,
                organization=organization,
                ready=control_is_ready(status, found),
                blockers=_blocker_json(found),
                blocker_kinds=_blocker_kinds(found),
                evidence_due=_evidence_due(found),
                computed_on=today,
                computed_at=now,
            )
        )
    kept = {row.control_id for row in rows}
    return rows, [pk for pk in control_ids if pk not in kept]


def _save_control_rows(rows: Sequence[ControlReadiness], gone: Sequence[int]) -> None:
    if gone:
        ControlReadiness.objects.filter(control_id__in=list(gone)).delete()
    if rows:
        ControlReadiness.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["control"],
            update_fields=[
                "ready",
                "blockers",
                "blocker_kinds",
                "evidence_due",
                "computed_on",
                "computed_at",
            ],
        )


def _refresh_requirement_rows(
    organization: Organization, locked: Sequence[StoredRequirementReadiness], now: dt.datetime
) -> None:
    """Recount the (locked) requirement rows from the stored control rows: one query to count,
    one to save."""
    if not locked:
        return
    counts: dict[int, tuple[int, int]] = {
        row["requirement_id"]: (row["total"], row["ready"])
        for row in ControlRequirement.objects.filter(
            requirement_id__in=[r.requirement_id for r in locked],
            control__organization=organization,
            control__archived_at__isnull=True,
        )
        .values("requirement_id")
        .annotate(total=Count("pk"), ready=Count("pk", filter=Q(control__readiness__ready=True)))
        .order_by()
    }
    for row in locked:
        row.controls_total, row.controls_ready = counts.get(row.requirement_id, (0, 0))
        row.state = _requirement_state(row.controls_total, row.controls_ready)
        row.computed_at = now
    StoredRequirementReadiness.objects.bulk_update(
        locked, ["controls_total", "controls_ready", "state", "computed_at"]
    )


def _lock_requirement_rows(
    organization: Organization, requirement_ids: Iterable[int]
) -> list[StoredRequirementReadiness]:
    # Ordered by pk, so concurrent transactions take the locks in one order and never deadlock.
    return list(
        StoredRequirementReadiness.objects.select_for_update(no_key=True)
        .filter(organization=organization, requirement_id__in=sorted(set(requirement_ids)))
        .order_by("pk")
    )


# Inside bulk_load(): the organizations whose facts changed, recomputed in full at the end.
_BULK_LOAD: ContextVar[set[int] | None] = ContextVar("readiness_bulk_load", default=None)


@contextmanager
def bulk_load(*, trigger: str) -> Iterator[None]:
    """For loaders that make many changes through the services (the demo, imports): the
    per-change updates are skipped inside the block, and each organization they touched is
    recomputed in full once at its end (in the caller's transaction). Nested blocks join the
    outermost one."""
    if _BULK_LOAD.get() is not None:
        yield
        return
    token = _BULK_LOAD.set(set())
    try:
        yield
        touched = _BULK_LOAD.get() or set()
    finally:
        _BULK_LOAD.reset(token)
    for organization in Organization.objects.filter(pk__in=touched).order_by("pk"):
        recompute_readiness(organization=organization, trigger=trigger)


def _deferred(organization: Organization) -> bool:
    """In a bulk load: note the organization for the recomputation at its end."""
    touched = _BULK_LOAD.get()
    if touched is None:
        return False
    touched.add(organization.pk)
    return True


@transaction.atomic
def controls_changed(
    *,
    organization: Organization,
    control_ids: Iterable[int],
    requirement_ids: Iterable[int] = (),
    now: dt.datetime | None = None,
) -> None:
    """Bring the stored state of these controls, and of the requirements they map to, up to date.

    Call it in the transaction of the change, after the change. ``requirement_ids`` names
    requirements a control stopped mapping to (their mapping row is gone). The requirement rows
    are locked *before* the control rows are read, so two transactions changing two controls of
    one requirement recount it one after the other and the second sees the first's result.
    A fixed number of queries, whatever the number of controls."""
    ids = sorted({int(pk) for pk in control_ids})
    if not ids or _deferred(organization):
        return
    now = now or timezone.now()
    mapped = set(
        ControlRequirement.objects.filter(control_id__in=ids).values_list(
            "requirement_id", flat=True
        )
    )
    locked = _lock_requirement_rows(organization, mapped | set(requirement_ids))
    rows, gone = _control_rows(organization, ids, now)
    _save_control_rows(rows, gone)
    _refresh_requirement_rows(organization, locked, now)


@transaction.atomic
def requirements_changed(
    *,
    organization: Organization,
    requirement_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Create the rows of newly adopted requirements, drop those no longer adopted, and recount
    the given requirements (all of the organization's when None). For adoption and catalog
    changes; scope changes need nothing (scope is applied when reading)."""
    if _deferred(organization):
        return
    now = now or timezone.now()
    wanted = set(_adopted_requirements(organization).values_list("pk", flat=True))
    StoredRequirementReadiness.objects.filter(organization=organization).exclude(
        requirement_id__in=wanted
    ).delete()
    existing = set(
        StoredRequirementReadiness.objects.filter(organization=organization).values_list(
            "requirement_id", flat=True
        )
    )
    new = wanted - existing
    StoredRequirementReadiness.objects.bulk_create(
        [
            StoredRequirementReadiness(
                organization=organization,
                requirement_id=pk,
                state=RequirementState.GAP.value,
                computed_at=now,
            )
            for pk in sorted(new)
        ],
        ignore_conflicts=True,
    )
    targets = wanted if requirement_ids is None else (set(requirement_ids) & wanted) | new
    _refresh_requirement_rows(organization, _lock_requirement_rows(organization, targets), now)


def _control_state(row: ControlReadiness) -> dict[str, Any]:
    """What a control row says, as compared by the recomputation (JSON, for the drift sample)."""
    return {
        "ready": row.ready,
        "blockers": row.blockers,
        "blocker_kinds": list(row.blocker_kinds),
        "evidence_due": row.evidence_due.isoformat() if row.evidence_due else None,
    }


def _drift(kind: str, label: str, stored: Any, recomputed: Any) -> dict[str, Any]:
    return {"object": f"{kind} {label}", "stored": stored, "recomputed": recomputed}


@transaction.atomic
def recompute_readiness(
    *, organization: Organization, trigger: str, now: dt.datetime | None = None
) -> ReadinessRecomputation:
    """Recompute every control and requirement of the organization from the definition, compare
    with what was stored, repair it, and record the run.

    A stored row that differs although it was computed for today's local date is *drift* (an
    update was missed): logged at WARNING and sampled on the run. One computed for an earlier
    date that now differs is the expected effect of time passing (``date_changed``)."""
    now = now or timezone.now()
    today = organization_local_date(organization, now)
    run = ReadinessRecomputation.objects.create(
        organization=organization, trigger=trigger, computed_on=today, started_at=now
    )
    sample: list[dict[str, Any]] = []
    drifted = date_changed = 0

    def differs(computed_on: dt.date | None, item: dict[str, Any]) -> None:
        nonlocal drifted, date_changed
        if computed_on is not None and computed_on < today:
            date_changed += 1
            return
        drifted += 1
        if len(sample) < DRIFT_SAMPLE_SIZE:
            sample.append(item)

    # Every requirement row first (in pk order), as controls_changed does: no service can change
    # a requirement's count while the whole organization is recomputed.
    locked_requirements = list(
        StoredRequirementReadiness.objects.select_for_update(no_key=True)
        .filter(organization=organization)
        .order_by("pk")
    )
    # Controls.
    refs = dict(Control.objects.filter(organization=organization).values_list("pk", "ref_id"))
    stored_controls = {
        row.control_id: row for row in ControlReadiness.objects.filter(organization=organization)
    }
    rows, _ = _control_rows(organization, sorted(refs), now)
    fresh = {row.control_id: row for row in rows}
    for row in rows:
        old = stored_controls.get(row.control_id)
        recomputed = _control_state(row)
        if old is None:
            differs(None, _drift("control", refs[row.control_id], None, recomputed))
        elif _control_state(old) != recomputed:
            stored = _control_state(old)
            differs(old.computed_on, _drift("control", refs[row.control_id], stored, recomputed))
    extra = [pk for pk in stored_controls if pk not in fresh]
    for pk in extra:
        label = refs.get(pk, str(pk))
        differs(None, _drift("control", label, {"ready": stored_controls[pk].ready}, None))
    _save_control_rows(rows, extra)

    # Requirements, counted from the fresh control rows.
    wanted = dict(_adopted_requirements(organization).values_list("pk", "ref_id"))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for requirement_id, control_id in ControlRequirement.objects.filter(
        requirement_id__in=list(wanted), control_id__in=list(fresh)
    ).values_list("requirement_id", "control_id"):
        counts[requirement_id][0] += 1
        counts[requirement_id][1] += int(fresh[control_id].ready)
    stored_requirements = {row.requirement_id: row for row in locked_requirements}
    local = zoneinfo.ZoneInfo(organization.time_zone)
    saved = []
    for pk, ref_id in wanted.items():
        total, ready = counts.get(pk, (0, 0))
        state = _requirement_state(total, ready)
        recomputed = {"state": state, "controls_total": total, "controls_ready": ready}
        previous = stored_requirements.get(pk)
        if previous is None:
            differs(None, _drift("requirement", ref_id, None, recomputed))
            previous = StoredRequirementReadiness(organization=organization, requirement_id=pk)
        elif (previous.state, previous.controls_total, previous.controls_ready) != (
            state,
            total,
            ready,
        ):
            stored = {
                "state": previous.state,
                "controls_total": previous.controls_total,
                "controls_ready": previous.controls_ready,
            }
            differs(
                previous.computed_at.astimezone(local).date(),
                _drift("requirement", ref_id, stored, recomputed),
            )
        previous.state, previous.controls_total, previous.controls_ready, previous.computed_at = (
            state,
            total,
            ready,
            now,
        )
        saved.append(previous)
    gone = [pk for pk in stored_requirements if pk not in wanted]
    for pk in gone:
        dropped = stored_requirements[pk]
        differs(None, _drift("requirement", str(pk), {"state": dropped.state}, None))
    if gone:
        StoredRequirementReadiness.objects.filter(
            organization=organization, requirement_id__in=gone
        ).delete()
    StoredRequirementReadiness.objects.bulk_create(
        saved,
        update_conflicts=True,
        unique_fields=["organization", "requirement"],
        update_fields=["state", "controls_total", "controls_ready", "computed_at"],
    )

    run.controls_checked = len(rows)
    run.requirements_checked = len(saved)
    run.drifted = drifted
    run.date_changed = date_changed
    run.drift_sample = sample
    run.finished_at = timezone.now()
    run.save()
    if drifted and trigger in BULK_TRIGGERS:
        # A bulk load wrote without the services on purpose: its rows are written now, no alarm.
        logger.info(
            "Readiness of %s computed after a bulk load (%s): %d row(s) written.",
            organization.slug,
            trigger,
            drifted,
        )
    elif drifted:
        logger.warning(
            "Readiness of %s had drifted: %d row(s) repaired (%s run). First: %s",
            organization.slug,
            drifted,
            trigger,
            sample[:3],
        )
    return run


def organizations_due_for_recomputation(now: dt.datetime | None = None) -> list[int]:
    """Organizations whose last full recomputation was for an earlier local date (or never ran):
    the hourly tick recomputes them once after their local midnight."""
    latest = ReadinessRecomputation.objects.filter(organization=OuterRef("pk")).order_by(
        "-started_at"
    )
    due = []
    for pk, time_zone, last_on in Organization.objects.annotate(
        last_on=Subquery(latest.values("computed_on")[:1])
    ).values_list("pk", "time_zone", "last_on"):
        today = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(time_zone)).date()
        if last_on is None or last_on < today:
            due.append(pk)
    return due


# --- Reading the stored state -------------------------------------------------------------------


def stored_organization_readiness(*, organization: Organization) -> list[FrameworkReadiness]:
    """The figures of :func:`organization_readiness`, read from the stored rows: one GROUP BY
    framework, category and state over the in-scope rows (three queries in all)."""
    adoptions, in_scope = _adoptions_in_scope(organization, through="requirement__")
    if not adoptions:
        return []
    tallies = (
        StoredRequirementReadiness.objects.filter(in_scope, organization=organization)
        .values("requirement__framework_id", "requirement__category_id", "state")
        .annotate(count=Count("pk"), latest=Max("computed_at"))
        .order_by()
    )
    by_framework: dict[int, list[Any]] = defaultdict(list)
    for row in tallies:
        by_framework[row["requirement__framework_id"]].append(row)
    results = []
    for adoption in adoptions:
        result, categories = _framework_tally(adoption)
        for row in by_framework.get(adoption.framework_id, []):
            state = RequirementState(row["state"])
            result.add(state, row["count"])
            categories[row["requirement__category_id"]].add(state, row["count"])
            if result.computed_at is None or row["latest"] > result.computed_at:
                result.computed_at = row["latest"]
        results.append(result)
    return results


def not_ready_stored() -> Q:
    """Controls that are not ready by their stored row (a control without one counts as not
    ready), as a filter on Control."""
    return ~Q(readiness__ready=True)


def blocked_stored(*kinds: str) -> Q:
    """Controls whose stored row has a blocker of one of these kinds, as a filter on Control
    (``blocker_kinds`` holds it between delimiters). As of the row's last
    computation: a blocker that began at today's local midnight (evidence going stale) shows
    once the hourly tick has recomputed the organization."""
    found = Q()
    for kind in kinds:
        found |= Q(readiness__blocker_kinds__contains=kind_pattern(str(kind)))
    return found


def blocker_counts() -> dict[str, Count]:
    """Aggregates for ``Control`` querysets: ``blocked_<kind>`` counts the controls blocked by
    that kind (pass them with a page's other counts to one ``aggregate()``: no query of their
    own)."""
    return {
        f"blocked_{kind}": Count(
            "pk", filter=Q(readiness__blocker_kinds__contains=kind_pattern(str(kind)))
        )
        for kind in BlockerKind
    }
