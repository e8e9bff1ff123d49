"""Writes of populations and samples. Only an auditor with live access to the engagement creates
them (their own work); each write runs in one transaction with its audit event.

A population is built from what the auditor may see of the engagement's window (the permission
choke point, audits.scope), copied into its items and never recomputed. A sample draws with
``random.Random(seed)``: the seed is stored, so the same seed draws the same items again.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audits import scope
from audits.models import Audit, Population, PopulationItem, PopulationKind, Sample, SampleItem
from audits.policies import auditor_windows
from compliance.audit import audit_record
from compliance.models import Role, User
from compliance.permissions import membership_for, restrict

# Suggested sample sizes by how often the control operates (low, high): a range grows with the
# population (a tenth of it) within its bounds. Override with settings.AUDIT_SAMPLE_SIZES.
DEFAULT_SAMPLE_SIZES: dict[str, tuple[int, int]] = {
    "annual": (1, 1),
    "semi_annual": (1, 1),
    "quarterly": (2, 2),
    "monthly": (2, 2),
    "weekly": (5, 5),
    "daily": (25, 25),
    "continuous": (25, 60),  # many times a day
    "event_driven": (25, 25),
}
# What a population of each kind is, when no control says how often it operates.
KIND_FREQUENCY = {
    PopulationKind.MERGED_PULL_REQUESTS: "continuous",
    PopulationKind.TEST_RUNS: "continuous",
    PopulationKind.NEW_HIRES: "event_driven",
    PopulationKind.TERMINATIONS: "event_driven",
    PopulationKind.VENDOR_REVIEWS: "event_driven",
    PopulationKind.OCCURRENCES: "quarterly",
}
MAX_POPULATION_ITEMS = 10_000
MAX_SEED = 2**63 - 1
PR_CHECK_KEY = "github.pr_ticket_links"


def sample_sizes() -> dict[str, tuple[int, int]]:
    configured = getattr(settings, "AUDIT_SAMPLE_SIZES", None) or {}
    table = dict(DEFAULT_SAMPLE_SIZES)
    for key, value in configured.items():
        table[key] = (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))
    return table


def suggested_size(frequency: str, population_size: int) -> int:
    """The table's size for ``frequency``, never above the population (0 for an empty one)."""
    low, high = sample_sizes().get(frequency, sample_sizes()["event_driven"])
    size = low if low == high else min(high, max(low, math.ceil(population_size / 10)))
    return min(size, population_size)


def frequency_of(population: Population) -> str:
    if population.control is not None and population.control.frequency:
        return str(population.control.frequency)
    return KIND_FREQUENCY.get(population.kind, "event_driven")  # type: ignore[call-overload]


def may_sample(user: Any, audit: Audit) -> bool:
    """Whether ``user`` is an auditor of this engagement with live access (two-factor is
    enforced by the pages and the API before they get here)."""
    if not getattr(user, "is_authenticated", False):
        return False
    membership = membership_for(user, audit.organization)
    if membership is None or membership.role != Role.AUDITOR:
        return False
    return any(w.audit_id == audit.pk for w in auditor_windows(membership))


# --- building a population -----------------------------------------------------------------------


@dataclass
class Fact:
    object_type: str
    object_id: str
    label: str
    occurred_on: dt.date
    evidence_id: int | None = None
    evidence_revision_id: int | None = None


def _local_day(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).date()


def _people(actor: User, audit: Audit, w: scope.Window, leaving: bool) -> list[Fact]:
    from people.models import Person, PersonnelRecord, RequirementKind

    first, last = w.days(scope.TYPE_1_REVIEW_DAYS)
    field = "end_date" if leaving else "start_date"
    people = restrict(
        Person.objects.filter(organization=audit.organization),
        actor,
        organization=audit.organization,
    ).filter(**{f"{field}__gte": first, f"{field}__lte": last})
    people = people.order_by(field, "full_name", "pk")
    kind = RequirementKind.OFFBOARDING if leaving else RequirementKind.BACKGROUND_CHECK
    records = (
        PersonnelRecord.objects.filter(person__in=people.values("pk"), kind=kind)
        .exclude(evidence=None)
        .select_related("evidence")
        .order_by("person_id", "-completed_on", "-pk")
    )
    evidence: dict[int, Any] = {}
    for record in records:
        evidence.setdefault(record.person_id, record.evidence)
    facts = []
    for person in people:
        day = getattr(person, field)
        item = evidence.get(person.pk)
        what = "left" if leaving else "started"
        facts.append(
            Fact(
                "people.person",
                str(person.pk),
                f"{person.full_name} ({what} {day:%d %b %Y})",
                day,
                item.pk if item else None,
                item.latest_revision_id if item else None,
            )
        )
    return facts


def _occurrences(actor: User, audit: Audit, w: scope.Window, control: Any) -> list[Fact]:
    from evidence.models import EvidenceItem, RequestOccurrence

    occurrences = restrict(
        RequestOccurrence.objects.filter(request__organization=audit.organization),
        actor,
        organization=audit.organization,
    ).filter(scope.occurrences_q(w))
    if control is not None:
        occurrences = occurrences.filter(request__controls=control)
    occurrences = occurrences.select_related("request").order_by("due_date", "pk").distinct()
    rows = list(occurrences)
    fulfilled: dict[int | None, Any] = {}
    for item in EvidenceItem.objects.filter(occurrence__in=[o.pk for o in rows]).order_by(
        "occurrence_id", "-effective_date", "-pk"
    ):
        fulfilled.setdefault(item.occurrence_id, item)
    facts = []
    for occurrence in rows:
        found = fulfilled.get(occurrence.pk)
        facts.append(
            Fact(
                "evidence.requestoccurrence",
                str(occurrence.pk),
                f"{occurrence.request.title}, due {occurrence.due_date:%d %b %Y} "
                f"({occurrence.get_status_display().lower()})",
                occurrence.due_date,
                found.pk if found else None,
                found.latest_revision_id if found else None,
            )
        )
    return facts


def _runs(actor: User, audit: Audit, control: Any) -> Any:
    from audits import selectors

    runs = selectors.test_runs(user=actor, audit=audit)
    if control is not None:
        runs = runs.filter(control_test__control=control)
    return runs


def _test_runs(actor: User, audit: Audit, w: scope.Window, control: Any) -> list[Fact]:
    runs = _runs(actor, audit, control)
    _refuse_above_maximum(runs.count())
    runs = runs.select_related("evidence_revision").order_by("finished_at", "pk")
    zone = zoneinfo.ZoneInfo(w.zone)
    return [
        Fact(
            "controls.testrun",
            str(run.pk),
            f"{run.control_test.name}, {run.finished_at.astimezone(zone):%d %b %Y %H:%M} "
            f"({run.get_status_display().lower()})",
            _local_day(run.finished_at, w.zone),
            # The run's frozen outcome (a JSON snapshot kept as evidence).
            run.evidence_revision.item_id if run.evidence_revision else None,
            run.evidence_revision_id,
        )
        for run in runs.iterator(chunk_size=2000)
    ]


def _merged_pull_requests(actor: User, audit: Audit, w: scope.Window, control: Any) -> list[Fact]:
    """The pull requests the GitHub ticket-reference check recorded as merged in the window
    (one result per pull request and run: each counted once, from the latest run that saw it).
    Results older than TEST_RESULT_RETENTION_DAYS are deleted by the retention sweep: build such
    a population before then."""
    from controls.models import TestResult

    first, last = w.days(scope.TYPE_1_RUN_DAYS)
    runs = _runs(actor, audit, control).filter(control_test__check_key=PR_CHECK_KEY)
    results = (
        TestResult.objects.filter(run__in=runs.values("pk"))
        .exclude(raw__merged_at=None)
        .select_related("run__evidence_revision")
        .order_by("-run__finished_at", "-pk")
    )
    seen: dict[str, Fact] = {}
    for result in results.iterator(chunk_size=2000):
        if result.resource_id in seen:
            continue
        try:
            merged = dt.datetime.fromisoformat(str(result.raw.get("merged_at")))
        except ValueError:
            continue
        day = _local_day(merged, w.zone)
        if not first <= day <= last:
            continue
        revision = result.run.evidence_revision
        seen[result.resource_id] = Fact(
            "controls.testresult",
            str(result.pk),
            (result.resource_name or result.resource_id)[:500],
            day,
            # The snapshot of the run that saw it merged (kept as evidence).
            revision.item_id if revision else None,
            revision.pk if revision else None,
        )
    return sorted(seen.values(), key=lambda f: (f.occurred_on, f.label))


def _vendor_reviews(actor: User, audit: Audit) -> list[Fact]:
    from audits import selectors

    reviews = (
        selectors.vendor_reviews(user=actor, audit=audit)
        .select_related("evidence")
        .order_by("reviewed_on", "pk")
    )
    return [
        Fact(
            "vendors.vendorreview",
            str(review.pk),
            f"{review.vendor.name}, reviewed {review.reviewed_on:%d %b %Y} "
            f"({review.get_outcome_display().lower()})",
            review.reviewed_on,
            review.evidence_id,
            review.evidence.latest_revision_id if review.evidence else None,
        )
        for review in reviews
    ]


def population_facts(*, actor: User, audit: Audit, kind: str, control: Any = None) -> list[Fact]:
    """The facts of one kind within the engagement's window that ``actor`` may see."""
    w = scope.window_of(audit)
    if kind == PopulationKind.NEW_HIRES:
        return _people(actor, audit, w, leaving=False)
    if kind == PopulationKind.TERMINATIONS:
        return _people(actor, audit, w, leaving=True)
    if kind == PopulationKind.OCCURRENCES:
        return _occurrences(actor, audit, w, control)
    if kind == PopulationKind.TEST_RUNS:
        return _test_runs(actor, audit, w, control)
    if kind == PopulationKind.MERGED_PULL_REQUESTS:
        return _merged_pull_requests(actor, audit, w, control)
    if kind == PopulationKind.VENDOR_REVIEWS:
        return _vendor_reviews(actor, audit)
    raise ValueError(kind)


def _refuse_above_maximum(count: int) -> None:
    if count > MAX_POPULATION_ITEMS:
        raise ValidationError(
            {
                "kind": f"{count:,} items: more than {MAX_POPULATION_ITEMS:,}. "
                "Narrow it to one control."
            }
        )


def _require_auditor(actor: User, audit: Audit) -> None:
    if not may_sample(actor, audit):
        raise PermissionDenied("Only the engagement's auditors create populations and samples.")


@transaction.atomic
def population_create(
    *, actor: User, audit: Audit, name: str, kind: str, control: Any = None
) -> Population:
    _require_auditor(actor, audit)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Name the population, e.g. “New hires, first half”."
    elif len(name) > 200:
        errors["name"] = "Keep the name within 200 characters."
    if kind not in PopulationKind.values:
        errors["kind"] = "Choose what the population is made of."
    if control is not None:
        from audits import selectors

        if not selectors.controls(user=actor, audit=audit).filter(pk=control.pk).exists():
            errors["control"] = "Choose a control of this engagement's scope."
    if errors:
        raise ValidationError(errors)
    facts = population_facts(actor=actor, audit=audit, kind=kind, control=control)
    _refuse_above_maximum(len(facts))
    population = Population.objects.create(
        audit=audit,
        name=name,
        kind=kind,
        control=control,
        created_by=actor,
        frozen_at=timezone.now(),
        item_count=len(facts),
    )
    PopulationItem.objects.bulk_create(
        [
            PopulationItem(
                population=population,
                position=position,
                object_type=fact.object_type,
                object_id=fact.object_id,
                label=fact.label[:500],
                occurred_on=fact.occurred_on,
                evidence_id=fact.evidence_id,
                evidence_revision_id=fact.evidence_revision_id,
            )
            for position, fact in enumerate(facts, start=1)
        ],
        batch_size=1000,
    )
    audit_record(
        actor=actor,
        organization=audit.organization,
        action="audit.population_create",
        obj=population,
        after={
            "audit": audit.pk,
            "name": name,
            "kind": kind,
            "control": getattr(control, "ref_id", None),
            "items": len(facts),
        },
    )
    return population


# --- drawing a sample ----------------------------------------------------------------------------


def draw(item_ids: list[int], size: int, seed: int) -> list[int]:
    """``size`` of ``item_ids`` (in population order) drawn with ``random.Random(seed)``."""
    return random.Random(seed).sample(item_ids, size)


def _whole_number(value: Any, field: str, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = "Enter a whole number."
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[field] = "Enter a whole number."
        return None


@transaction.atomic
def sample_draw(
    *, actor: User, population: Population, size: Any = None, seed: Any = None
) -> Sample:
    """Draw a sample: ``size`` defaults to the suggested one, ``seed`` to a new random one."""
    audit = population.audit
    _require_auditor(actor, audit)
    errors: dict[str, str] = {}
    size = _whole_number(size, "size", errors)
    seed = _whole_number(seed, "seed", errors)
    count = population.item_count
    if count == 0:
        errors["size"] = "The population is empty: there is nothing to draw."
    elif size is not None and not 1 <= size <= count:
        errors["size"] = f"Draw from 1 to {count} items (the population's size)."
    if seed is not None and not 0 <= seed <= MAX_SEED:
        errors["seed"] = f"A seed is a whole number from 0 to {MAX_SEED}."
    if errors:
        raise ValidationError(errors)
    if size is None:
        size = suggested_size(frequency_of(population), count)
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    item_ids = list(population.items.order_by("position").values_list("pk", flat=True))
    drawn = draw(item_ids, size, seed)
    sample = Sample.objects.create(population=population, size=size, seed=seed, created_by=actor)
    SampleItem.objects.bulk_create(
        [
            SampleItem(sample=sample, item_id=item_id, position=position)
            for position, item_id in enumerate(drawn, start=1)
        ]
    )
    audit_record(
        actor=actor,
        organization=audit.organization,
        action="audit.sample_draw",
        obj=sample,
        after={"population": population.pk, "size": size, "seed": seed},
    )
    return sample
