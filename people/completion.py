"""Who has done what: the one definition of a person's requirement state.

Every page, the API, readiness, "My work" and the daily task read completion from here. A
person's cell for a requirement is one of:

* ``not_required`` — the requirement does not apply (employment type, or an onboarding item of
  someone who has left, or offboarding of someone with no last day);
* ``done`` — the latest record satisfies it (a background check whose latest result is clear,
  a security training less than 12 months old, any record otherwise; for policy
  acknowledgements, nothing outstanding in the policies app);
* ``due`` — not done yet, due date today or later (and a training that expires within 30 days);
* ``overdue`` — not done and the due date has passed.

Due dates: the start date plus the requirement's days for onboarding items; the last day plus
the SLA days for offboarding; the expiry date for a training that has expired. Everything is
computed for a whole set of people in a fixed number of queries.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from compliance.models import Organization
from people.models import (
    BackgroundCheckResult,
    Person,
    PersonnelRecord,
    PersonnelRequirement,
    RequirementKind,
)

logger = logging.getLogger(__name__)

TRAINING_VALID_MONTHS = 12
RENEWAL_WINDOW_DAYS = 30  # a training expiring this soon is due again
# Above this many people, records are read for the whole organization instead of by id.
_IDS_LIMIT = 500


def organization_today(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the end of a shorter month (29 Feb → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


class CellState(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    DONE = "done"
    NOT_REQUIRED = "not_required"
    UNKNOWN = "unknown"  # the policies app cannot answer yet

    @property
    def label(self) -> str:
        return {
            "overdue": "Overdue",
            "due": "Due",
            "done": "Done",
            "not_required": "Not required",
            "unknown": "Unknown",
        }[self.value]

    @property
    def tone(self) -> str:
        return {
            "overdue": "bad",
            "due": "warn",
            "done": "ok",
            "not_required": "muted",
            "unknown": "muted",
        }[self.value]


# Filter values a list accepts for one requirement's state.
CELL_STATES = [CellState.OVERDUE, CellState.DUE, CellState.DONE, CellState.NOT_REQUIRED]


@dataclass(frozen=True)
class Cell:
    state: CellState
    due: dt.date | None = None
    done_on: dt.date | None = None
    expires: dt.date | None = None
    note: str = ""

    @property
    def tone(self) -> str:
        return self.state.tone

    @property
    def is_open(self) -> bool:
        return self.state in (CellState.DUE, CellState.OVERDUE)


NOT_REQUIRED = Cell(CellState.NOT_REQUIRED)


@dataclass(frozen=True)
class LatestRecord:
    completed_on: dt.date
    result: str


@dataclass
class PersonCompletion:
    person: Person
    cells: dict[str, Cell] = field(default_factory=dict)

    def count(self, state: CellState) -> int:
        return sum(1 for cell in self.cells.values() if cell.state == state)

    @property
    def overdue(self) -> int:
        return self.count(CellState.OVERDUE)

    @property
    def due(self) -> int:
        return self.count(CellState.DUE)

    @property
    def done(self) -> int:
        return self.count(CellState.DONE)

    @property
    def required(self) -> int:
        return sum(1 for c in self.cells.values() if c.state != CellState.NOT_REQUIRED)

    @property
    def sort_key(self) -> tuple[int, int, str, int]:
        return (-self.overdue, -self.due, self.person.full_name.lower(), self.person.pk)

    def cell_list(self, requirements: Sequence[PersonnelRequirement]) -> list[Cell]:
        return [self.cells.get(r.kind, NOT_REQUIRED) for r in requirements]


# --- reading ------------------------------------------------------------------------------------


def latest_records(
    *,
    organization: Organization,
    person_ids: Sequence[int],
    kinds: Iterable[str],
    completed_by: dt.date | None = None,
) -> dict[tuple[int, str], LatestRecord]:
    """The latest record per (person, kind): newest completion date, then newest row; with
    ``completed_by``, among the records completed on or before that day."""
    kinds = [k for k in kinds if k != RequirementKind.POLICY_ACKNOWLEDGEMENTS]
    if not person_ids or not kinds:
        return {}
    rows = PersonnelRecord.objects.filter(
        person__organization=organization, kind__in=kinds
    ).order_by("person_id", "kind", "-completed_on", "-id")
    if completed_by is not None:
        rows = rows.filter(completed_on__lte=completed_by)
    if len(person_ids) <= _IDS_LIMIT:
        rows = rows.filter(person_id__in=person_ids)
    wanted = set(person_ids)
    latest: dict[tuple[int, str], LatestRecord] = {}
    for person_id, kind, completed_on, result in rows.values_list(
        "person_id", "kind", "completed_on", "result"
    ):
        if person_id in wanted and (person_id, kind) not in latest:
            latest[(person_id, kind)] = LatestRecord(completed_on, result)
    return latest


@dataclass(frozen=True)
class Outstanding:
    count: int
    due: dt.date | None = None  # the earliest due date the policies app gave, if any


def _item_due(item: Any) -> dt.date | None:
    value = item.get("due_date") if isinstance(item, Mapping) else getattr(item, "due_date", None)
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _as_outstanding(value: Any) -> Outstanding:
    """Read one person's answer from the policies app: a count or a collection of items."""
    if isinstance(value, bool) or value is None:
        return Outstanding(int(bool(value)))
    if isinstance(value, int):
        return Outstanding(value)
    items = list(value)
    dues = [d for d in (_item_due(i) for i in items) if d is not None]
    return Outstanding(len(items), min(dues) if dues else None)


def outstanding_acknowledgements(
    *,
    organization: Organization,
    person_ids: Sequence[int],
    today: dt.date,
    as_of: dt.datetime | None = None,
) -> dict[int, Outstanding] | None:
    """Policy acknowledgements each person still owes, from the policies app (``as_of``: owed
    at that past moment, ``today`` being its local date).

    ``None`` when the policies app does not provide the function (yet): the cells are then
    shown as unknown rather than guessed.
    """
    try:
        from policies.selectors import outstanding_acknowledgements as policies_outstanding
    except ImportError:
        logger.warning("policies.selectors.outstanding_acknowledgements is not available.")
        return None
    if not person_ids:
        return {}
    answer = policies_outstanding(
        organization=organization, person_ids=list(person_ids), today=today, as_of=as_of
    )
    return {int(pid): _as_outstanding(value) for pid, value in dict(answer).items()}


# --- evaluating ---------------------------------------------------------------------------------


def has_left(person: Person, today: dt.date) -> bool:
    return person.end_date is not None and person.end_date < today


def evaluate_cell(
    *,
    requirement: PersonnelRequirement,
    person: Person,
    today: dt.date,
    latest: LatestRecord | None,
    outstanding: Outstanding | None = None,
    acknowledgements_known: bool = True,
) -> Cell:
    """One person's state for one requirement (pure: no queries)."""
    if not requirement.applies_to(person.employment_type):
        return NOT_REQUIRED
    kind = requirement.kind
    if kind == RequirementKind.OFFBOARDING:
        if person.end_date is None:
            return NOT_REQUIRED
        due = person.end_date + dt.timedelta(days=requirement.due_days)
        if latest is not None:
            late = (latest.completed_on - due).days
            note = f"Revoked {late} day{'s' if late != 1 else ''} after the SLA" if late > 0 else ""
            return Cell(CellState.DONE, due=due, done_on=latest.completed_on, note=note)
        return _open(due, today, "Access not revoked yet")

    if has_left(person, today):
        return NOT_REQUIRED
    due = person.start_date + dt.timedelta(days=requirement.due_days)

    if kind == RequirementKind.POLICY_ACKNOWLEDGEMENTS:
        if not acknowledgements_known:
            return Cell(CellState.UNKNOWN, due=due, note="The policies app cannot tell yet")
        if outstanding is None or outstanding.count == 0:
            return Cell(CellState.DONE)
        note = f"{outstanding.count} polic{'ies' if outstanding.count != 1 else 'y'} to acknowledge"
        return _open(max(due, outstanding.due) if outstanding.due else due, today, note)

    if kind == RequirementKind.BACKGROUND_CHECK:
        if latest is not None and latest.result == BackgroundCheckResult.CLEAR:
            return _done_by(due, latest.completed_on)
        note = ""
        if latest is not None:
            note = f"Latest result: {BackgroundCheckResult(latest.result).label.lower()}"
        return _open(due, today, note)

    if kind == RequirementKind.SECURITY_TRAINING and latest is not None:
        expires = add_months(latest.completed_on, TRAINING_VALID_MONTHS)
        if today < expires - dt.timedelta(days=RENEWAL_WINDOW_DAYS):
            return Cell(CellState.DONE, due=due, done_on=latest.completed_on, expires=expires)
        if today < expires:
            return Cell(
                CellState.DUE,
                due=expires,
                done_on=latest.completed_on,
                expires=expires,
                note=f"Expires {date_format(expires, 'j M Y')}; renew before then",
            )
        cell = _open(expires, today, f"Expired {date_format(expires, 'j M Y')}")
        return Cell(cell.state, due=cell.due, done_on=latest.completed_on, expires=expires,
                    note=cell.note)  # fmt: skip

    if latest is not None:
        return _done_by(due, latest.completed_on)
    return _open(due, today)


def _done_by(due: dt.date, done_on: dt.date) -> Cell:
    """Done; a completion after the due date counts, and says how late it was."""
    late = (done_on - due).days
    note = f"Done {late} day{'s' if late != 1 else ''} after the due date" if late > 0 else ""
    return Cell(CellState.DONE, due=due, done_on=done_on, note=note)


def _open(due: dt.date, today: dt.date, note: str = "") -> Cell:
    return Cell(CellState.OVERDUE if today > due else CellState.DUE, due=due, note=note)


def evaluate(
    *,
    organization: Organization,
    people: Sequence[Person],
    requirements: Sequence[PersonnelRequirement],
    today: dt.date,
    as_of: dt.datetime | None = None,
) -> list[PersonCompletion]:
    """Every person's cells for the given requirements: two queries, three with policies.

    ``as_of`` (whose local date is ``today``) judges them at that past moment: records
    completed by that day, acknowledgements made by then of the versions approved then."""
    requirements = [r for r in requirements if r.is_enabled]
    ids = [p.pk for p in people]
    latest = latest_records(
        organization=organization,
        person_ids=ids,
        kinds=[r.kind for r in requirements],
        completed_by=None if as_of is None else today,
    )
    acknowledgements: dict[int, Outstanding] | None = {}
    ack_requirement = next(
        (r for r in requirements if r.kind == RequirementKind.POLICY_ACKNOWLEDGEMENTS), None
    )
    if ack_requirement is not None:
        concerned = [
            p.pk
            for p in people
            if ack_requirement.applies_to(p.employment_type) and not has_left(p, today)
        ]
        acknowledgements = outstanding_acknowledgements(
            organization=organization, person_ids=concerned, today=today, as_of=as_of
        )
    results = []
    for person in people:
        completion = PersonCompletion(person)
        for requirement in requirements:
            completion.cells[requirement.kind] = evaluate_cell(
                requirement=requirement,
                person=person,
                today=today,
                latest=latest.get((person.pk, requirement.kind)),
                outstanding=(acknowledgements or {}).get(person.pk),
                acknowledgements_known=acknowledgements is not None,
            )
        results.append(completion)
    return results


@dataclass
class RequirementTally:
    requirement: PersonnelRequirement
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def overdue(self) -> int:
        return self.counts[CellState.OVERDUE]

    @property
    def due(self) -> int:
        return self.counts[CellState.DUE]

    @property
    def done(self) -> int:
        return self.counts[CellState.DONE]

    @property
    def not_required(self) -> int:
        return self.counts[CellState.NOT_REQUIRED]

    @property
    def required(self) -> int:
        return self.overdue + self.due + self.done + self.counts[CellState.UNKNOWN]

    @property
    def percent(self) -> int:
        return (100 * self.done) // self.required if self.required else 100


def tally(
    completions: Sequence[PersonCompletion], requirements: Sequence[PersonnelRequirement]
) -> list[RequirementTally]:
    tallies = [RequirementTally(r) for r in requirements]
    for completion in completions:
        for t in tallies:
            t.counts[completion.cells.get(t.requirement.kind, NOT_REQUIRED).state] += 1
    return tallies


def matches(
    completion: PersonCompletion, *, kind: str = "", state: str = "", overall: str = ""
) -> bool:
    """The completion filters of the lists: one requirement's state, and/or overall completion."""
    if kind:
        cell = completion.cells.get(kind, NOT_REQUIRED)
        if state and cell.state != state:
            return False
    elif state and not any(c.state == state for c in completion.cells.values()):
        return False
    if overall == "overdue" and not completion.overdue:
        return False
    if overall == "incomplete" and not (completion.overdue or completion.due):
        return False
    return not (overall == "complete" and (completion.overdue or completion.due))
