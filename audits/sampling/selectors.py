"""Reads of populations and samples, through the permission choke point: the organization's
readers see every engagement's, an auditor those of their live engagements."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from audits import scope
from audits.models import Audit, Population, PopulationItem, Sample, SampleItem
from compliance.permissions import UserLike, restrict


def _id(pk: Any, what: str) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None


def population_list(*, user: UserLike, audit: Audit) -> QuerySet[Population]:
    return (
        restrict(Population.objects.filter(audit=audit), user, organization=audit.organization)
        .select_related("created_by", "control")
        .annotate(sample_count=Count("samples"))
        .order_by("-frozen_at", "-pk")
    )


def population_get(*, user: UserLike, audit: Audit, pk: Any) -> Population:
    population = population_list(user=user, audit=audit).filter(pk=_id(pk, "population")).first()
    if population is None:
        raise Http404("No such population in this engagement.")
    population.audit = audit
    return population


def population_items(population: Population) -> QuerySet[PopulationItem]:
    return population.items.select_related("evidence").order_by("position")


def sample_list(*, user: UserLike, population: Population) -> QuerySet[Sample]:
    audit = population.audit
    return (
        restrict(
            Sample.objects.filter(population=population), user, organization=audit.organization
        )
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def sample_get(*, user: UserLike, population: Population, pk: Any) -> Sample:
    sample = sample_list(user=user, population=population).filter(pk=_id(pk, "sample")).first()
    if sample is None:
        raise Http404("No such sample of this population.")
    sample.population = population
    return sample


def sample_items(sample: Sample) -> list[PopulationItem]:
    """The drawn items in the order they were drawn (one query)."""
    rows = (
        SampleItem.objects.filter(sample=sample)
        .select_related("item__evidence")
        .order_by("position")
    )
    return [row.item for row in rows]


def samples_with_items(samples: list[Sample]) -> dict[int, list[PopulationItem]]:
    """The drawn items of each sample, in draw order (one query for any number of samples)."""
    found: dict[int, list[PopulationItem]] = {s.pk: [] for s in samples}
    rows = (
        SampleItem.objects.filter(sample__in=[s.pk for s in samples])
        .select_related("item__evidence")
        .order_by("sample_id", "position")
    )
    for row in rows:
        found[row.sample_id].append(row.item)
    return found


def downloadable(*, user: UserLike, audit: Audit, items: list[PopulationItem]) -> set[int]:
    """Of the items' evidence revisions, the files ``user`` may download through the
    engagement's logged download view (within its window): one query."""
    from audits import selectors
    from evidence.models import EvidenceRevision

    ids = {i.evidence_revision_id for i in items if i.evidence_revision_id}
    if not ids:
        return set()
    visible = selectors.evidence(user=user, audit=audit).values("pk")  # type: ignore[arg-type]
    return set(
        EvidenceRevision.objects.filter(pk__in=ids, item__in=visible)
        .filter(scope.revisions_q(scope.window_of(audit)))
        .exclude(storage_key="")
        .values_list("pk", flat=True)
    )
