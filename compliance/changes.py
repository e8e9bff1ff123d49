"""What changed in a week: the weekly page's "What changed since last week" and the digest's.

Two kinds of change, read two ways:

- **States** (controls newly ready, controls that regressed and why, requirements that became
  gaps) are the difference between two moments' per-control states: the week's snapshot and
  the one before it (``ReadinessSnapshot.control_states`` / ``gap_requirements``, frozen as of
  each week's end). For the week in progress, whose snapshot is not taken yet, the "after" side
  is the stored readiness now (``ControlReadiness`` / ``RequirementReadiness``, which equal
  ``readiness_as_of(now)``; docs/readiness.md), so the page says what changed *so far*.
- **Events** (evidence accepted, policy versions approved, automated tests newly failing) are
  read from the records of the same window: after the earlier snapshot's moment, up to the
  later one (or now).

A controls' state is the same in every framework it is mapped to (readiness is a control's,
not a framework's), so the frameworks' states are merged; gaps are per framework. A fixed
number of queries whatever the size (a guard test runs it at two sizes); lists are capped at
:data:`LIMIT` with their full count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse

from compliance.models import Organization, ReadinessSnapshot
from compliance.permissions import UserLike, restrict
from controls.models import (
    AdoptedFramework,
    BlockerKind,
    Control,
    ControlReadiness,
    ControlRequirement,
    ControlStatus,
    ControlTest,
    Requirement,
    RequirementReadiness,
    RunStatus,
    TestRun,
)
from evidence.models import EvidenceItem, EvidenceRevision, ReviewStatus
from policies.models import Policy, PolicyVersion

LIMIT = 25  # rows listed per kind of change; the count says how many there were

# A control's state: (status, ready, blocker kinds).
State = tuple[str, bool, tuple[str, ...]]


@dataclass(frozen=True)
class Row:
    """One changed thing, in words, with the page it is on."""

    title: str
    url: str
    detail: str = ""
    who: str = ""
    when: dt.datetime | None = None


@dataclass
class Listed:
    """Up to :data:`LIMIT` rows and how many there were in all."""

    rows: list[Row] = field(default_factory=list)
    count: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass
class WeekChanges:
    """The changes between ``since`` and ``until`` (``until`` None: up to now)."""

    since: dt.datetime | None  # the earlier snapshot's moment; None: no earlier snapshot
    since_week: dt.date | None
    until: dt.datetime | None
    known: bool  # False: no pair of states to compare (no snapshot, or one from before 0008)
    why_unknown: str = ""
    newly_ready: Listed = field(default_factory=Listed)
    regressed: Listed = field(default_factory=Listed)
    new_gaps: Listed = field(default_factory=Listed)
    evidence_accepted: Listed = field(default_factory=Listed)
    policies_approved: Listed = field(default_factory=Listed)
    tests_newly_failing: Listed = field(default_factory=Listed)

    @property
    def kinds(self) -> list[tuple[str, str, Listed]]:
        """(key, heading, rows) in the page's order."""
        return [
            ("newly_ready", "Newly ready", self.newly_ready),
            ("regressed", "Regressed", self.regressed),
            ("new_gaps", "New gaps", self.new_gaps),
            ("evidence_accepted", "Evidence accepted", self.evidence_accepted),
            ("policies_approved", "Policies approved", self.policies_approved),
            ("tests_newly_failing", "Automated tests newly failing", self.tests_newly_failing),
        ]

    @property
    def empty(self) -> bool:
        return not any(listed.count for _, _, listed in self.kinds)


def _states(rows: Iterable[ReadinessSnapshot]) -> dict[int, State]:
    states: dict[int, State] = {}
    for row in rows:
        for key, (status, ready, kinds) in row.control_states.items():
            states[int(key)] = (status, bool(ready), tuple(k for k in kinds.split(",") if k))
    return states


def _gaps(rows: Iterable[ReadinessSnapshot]) -> set[int]:
    return {pk for row in rows for pk in row.gap_requirements}


def _live_states(
    organization: Organization, adoptions: Sequence[AdoptedFramework]
) -> tuple[dict[int, State], set[int]]:
    """The stored readiness now of the controls mapped to the adopted frameworks' in-scope
    requirements, and those requirements that are gaps: two queries."""
    in_scope = Q()
    for adoption in adoptions:
        in_scope |= Q(
            requirement__framework_id=adoption.framework_id,
            requirement__category_id__in=[c.pk for c in adoption.scope.all()],
        )
    if not adoptions:
        return {}, set()
    mapped = Control.objects.filter(
        organization=organization,
        archived_at__isnull=True,
        pk__in=ControlRequirement.objects.filter(in_scope).values("control_id"),
    )
    states = {
        control_id: (status, ready, tuple(kinds))
        for control_id, status, ready, kinds in ControlReadiness.objects.filter(
            organization=organization, control__in=mapped
        ).values_list("control_id", "control__status", "ready", "blocker_kinds")
    }
    gaps = set(
        RequirementReadiness.objects.filter(
            in_scope, organization=organization, state="gap"
        ).values_list("requirement_id", flat=True)
    )
    return states, gaps


def _reasons(state: State) -> str:
    status, _, kinds = state
    if kinds:
        labels = dict(BlockerKind.choices)
        return ", ".join(str(labels.get(k, k)).lower() for k in kinds)
    if status not in (ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE):
        return f"status {ControlStatus(status).label.lower()}"
    return ""


def _was(state: State | None) -> str:
    if state is None:
        return "new in the program"
    reasons = _reasons(state) or "not ready"
    return f"was {reasons.removeprefix('status ')}"


def _control_rows(
    organization: Organization, user: UserLike, *lists: Mapping[int, str]
) -> list[Listed]:
    """Each of ``lists`` (control id → detail, disjoint) as a :class:`Listed` of its first
    :data:`LIMIT` controls by reference: one query for them all (a union of each list's first
    rows; none when nothing changed), so the count does not depend on which lists have rows."""
    parts = [
        restrict(
            Control.objects.filter(organization=organization, pk__in=list(changed)),
            user,
            organization=organization,
        )
        .order_by("ref_id", "pk")
        .values_list("pk", "ref_id", "name", "owner__full_name", "owner__email")[:LIMIT]
        for changed in lists
        if changed
    ]
    found: dict[int, tuple[Any, ...]] = {}
    if parts:
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        found = {row[0]: row for row in query}
    org = organization.slug
    listed = []
    for changed in lists:
        shown = sorted((found[pk] for pk in changed if pk in found), key=lambda r: (r[1], r[0]))
        listed.append(
            Listed(
                [
                    Row(
                        f"{ref_id} {name}",
                        reverse("control_detail", args=[org, pk]),
                        changed[pk],
                        who=full_name or email or "",
                    )
                    for pk, ref_id, name, full_name, email in shown
                ],
                len(changed),
            )
        )
    return listed


def _name(user: Any) -> str:
    return user.display_name if user is not None else ""


def _requirement_rows(organization: Organization, ids: set[int]) -> Listed:
    if not ids:
        return Listed()
    shown = list(
        Requirement.objects.filter(pk__in=list(ids))
        .select_related("framework")
        .order_by("framework__short_name", "order", "pk")[:LIMIT]
    )
    return Listed(
        [
            Row(
                f"{r.ref_id} {r.title}",
                reverse("requirement_detail", args=[organization.slug, r.pk]),
                f"{r.framework.short_name or r.framework.name}: no active control mapped",
            )
            for r in shown
        ],
        len(ids),
    )


def _listed(rows: Any, row: Callable[[Any], Row]) -> Listed:
    """The first :data:`LIMIT` of the ordered ``rows`` as ``row`` draws them, and how many
    there are: two queries."""
    return Listed([row(x) for x in rows[:LIMIT]], rows.count())


def _window(
    rows: Any, field_name: str, since: dt.datetime | None, until: dt.datetime | None
) -> Any:
    if since is not None:
        rows = rows.filter(**{f"{field_name}__gt": since})
    if until is not None:
        rows = rows.filter(**{f"{field_name}__lte": until})
    return rows


def _evidence_accepted(
    organization: Organization, user: UserLike, since: dt.datetime | None, until: dt.datetime | None
) -> Listed:
    revisions = _window(
        # People's evidence: what Attest records itself (each automated test run's result,
        # system_key set) is accepted as it is made and shows as the tests' changes instead.
        EvidenceRevision.objects.filter(
            item__organization=organization,
            item__system_key="",
            review_status=ReviewStatus.ACCEPTED,
        ),
        "reviewed_at",
        since,
        until,
    )
    revisions = revisions.filter(
        item__in=restrict(
            EvidenceItem.objects.filter(organization=organization), user, organization=organization
        )
    )
    return _listed(
        revisions.select_related("item", "reviewed_by").order_by("-reviewed_at", "-pk"),
        lambda r: Row(
            r.item.title,
            reverse("evidence_detail", args=[organization.slug, r.item_id]),
            f"version {r.number}",
            who=_name(r.reviewed_by),
            when=r.reviewed_at,
        ),
    )


def _policies_approved(
    organization: Organization, user: UserLike, since: dt.datetime | None, until: dt.datetime | None
) -> Listed:
    policies = restrict(
        Policy.objects.filter(organization=organization), user, organization=organization
    )
    versions = _window(
        PolicyVersion.objects.filter(policy__in=policies, approved_at__isnull=False),
        "approved_at",
        since,
        until,
    )
    return _listed(
        versions.select_related("policy", "approved_by").order_by("-approved_at", "-pk"),
        lambda v: Row(
            v.policy.title,
            reverse("policy_detail", args=[organization.slug, v.policy_id]),
            f"version {v.number}"
            + (f", effective {v.effective_date:%d %b %Y}" if v.effective_date else ""),
            who=_name(v.approved_by),
            when=v.approved_at,
        ),
    )


def _tests_newly_failing(
    organization: Organization, user: UserLike, since: dt.datetime | None, until: dt.datetime | None
) -> Listed:
    """Enabled tests whose latest run by ``until`` failed and whose latest run by ``since``
    did not (it passed, could not run, or there was none)."""

    def latest(by: dt.datetime | None) -> Subquery:
        runs = TestRun.objects.filter(
            control_test=OuterRef("pk"),
            status__in=[RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR],
        )
        if by is not None:
            runs = runs.filter(finished_at__lte=by)
        else:
            runs = runs.filter(finished_at__isnull=False)
        return Subquery(runs.order_by("-finished_at", "-id").values("status")[:1])

    tests = (
        ControlTest.objects.filter(organization=organization, enabled=True)
        .annotate(now_status=latest(until))
        .filter(now_status=RunStatus.FAILED)
    )
    if since is not None:
        tests = tests.annotate(then_status=latest(since)).filter(
            Q(then_status__isnull=True) | ~Q(then_status=RunStatus.FAILED)
        )
    tests = restrict(tests, user, organization=organization)
    return _listed(
        tests.select_related("control").order_by("name", "pk"),
        lambda t: Row(
            t.name,
            reverse("control_test_detail", args=[organization.slug, t.pk]),
            f"{t.control.ref_id} {t.control.name}",
        ),
    )


def week_changes(
    *,
    organization: Organization,
    user: UserLike,
    adoptions: Sequence[AdoptedFramework],
    week: dt.date,
    current: bool,
) -> WeekChanges:
    """The changes of the week starting Monday ``week``: between the latest snapshot before it
    and its own snapshot or, for the week in progress (``current``), the state now."""
    before_rows = _latest_before(organization, week)
    before_week = before_rows[0].week if before_rows else None
    since = before_rows[0].as_of if before_rows else None
    if current:
        after_states, after_gaps = _live_states(organization, adoptions)
        until = None
        after_known = True
    else:
        after_rows = list(
            ReadinessSnapshot.objects.filter(organization=organization, week=week).only(
                "as_of", "control_states", "gap_requirements", "framework_id"
            )
        )
        until = after_rows[0].as_of if after_rows else None
        after_states, after_gaps = _states(after_rows), _gaps(after_rows)
        after_known = bool(after_rows) and all(r.control_states for r in after_rows)
    changes = WeekChanges(since, before_week, until, known=False)
    if since is not None and (current or until is not None):
        # The events of the window, whether or not the two weeks' states can be compared.
        changes.evidence_accepted = _evidence_accepted(organization, user, since, until)
        changes.policies_approved = _policies_approved(organization, user, since, until)
        changes.tests_newly_failing = _tests_newly_failing(organization, user, since, until)
    if not after_known:
        changes.why_unknown = (
            "This week has no snapshot, so its changes are not known."
            if until is None
            else "This week's snapshot was taken before Attest recorded each control's state."
        )
    elif not before_rows:
        changes.why_unknown = "There is no earlier weekly snapshot to compare with."
    elif not all(r.control_states for r in before_rows):
        changes.why_unknown = (
            "The previous snapshot was taken before Attest recorded each control's state."
        )
    else:
        changes.known = True
        before_states, before_gaps = _states(before_rows), _gaps(before_rows)
        newly = {
            pk: _was(before_states.get(pk))
            for pk, state in after_states.items()
            if state[1] and not (pk in before_states and before_states[pk][1])
        }
        regressed = {
            pk: _reasons(state) or "not ready"
            for pk, state in after_states.items()
            if not state[1] and pk in before_states and before_states[pk][1]
        }
        changes.newly_ready, changes.regressed = _control_rows(organization, user, newly, regressed)
        changes.new_gaps = _requirement_rows(organization, after_gaps - before_gaps)
    return changes


def _latest_before(organization: Organization, week: dt.date) -> list[ReadinessSnapshot]:
    """Every framework's snapshot of the newest week before ``week`` that has any: two
    queries."""
    newest = (
        ReadinessSnapshot.objects.filter(organization=organization, week__lt=week)
        .order_by("-week")
        .values_list("week", flat=True)
        .first()
    )
    if newest is None:
        return []
    return list(
        ReadinessSnapshot.objects.filter(organization=organization, week=newest).only(
            "week", "as_of", "control_states", "gap_requirements", "framework_id"
        )
    )
