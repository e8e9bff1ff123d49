"""The gap analysis of one adopted framework: what stands between it and readiness, by section.

Each section is a generator of :class:`GapRow` over ``.iterator()`` querysets, so a report of
200,000 rows never sits in memory and costs the same few queries as one of ten. The sections
read the stored readiness (``ControlReadiness.blockers`` and ``blocker_kinds``, kept current by
the services and repaired nightly), never a second definition of "ready":

- requirements in scope that no active control maps to (the stored ``gap`` state);
- the framework's controls without an owner, and those not implemented (by status);
- the blockers of its controls, grouped as evidence (missing, stale, request overdue), automated
  tests (failing, could not run, not run yet), policies (not approved, review overdue) and
  people (personnel requirements overdue, leavers' access not revoked), one row per blocker;
- sections that apps above the ground floor register with :func:`register_gap_section`
  (vendors: reviews overdue, never done, or rejected), organization-wide.

Every query goes through the permission choke point (``compliance.permissions.restrict``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from compliance.models import Organization, ReadinessSnapshot
from compliance.permissions import UserLike, restrict
from compliance.readiness import (
    READY_CONTROL_STATUSES,
    FrameworkReadiness,
    blocked_stored,
    organization_local_date,
    stored_organization_readiness,
)
from controls.models import (
    AdoptedFramework,
    BlockerKind,
    Control,
    ControlRequirement,
    ControlStatus,
    Requirement,
)
from controls.models import RequirementReadiness as StoredRequirementReadiness

# A pk no object has, reversed in a link's URL and then replaced by each row's pk.
_PK_PLACEHOLDER = 987654321
# Rows fetched from the database at a time by each section's iterator.
CHUNK = 2000
# How many weekly snapshots the summary shows (the trend chart and the weekly page show more).
SUMMARY_WEEKS = 12


@dataclass(frozen=True)
class GapRow:
    """One line of a section: the item, what is wrong with it, its owner, a due date where one
    exists, and the absolute link to the item's page in the app."""

    item: str
    detail: str
    owner: str
    due: dt.date | None
    url: str


@dataclass(frozen=True)
class GapScope:
    """Whose report, of which framework: what every section reads."""

    user: UserLike
    organization: Organization
    adoption: AdoptedFramework
    today: dt.date
    _links: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def link(self, name: str, pk: int) -> str:
        """The absolute URL of the page ``name`` of the object ``pk`` in this organization
        (reversed once per page name, then the pk filled in: sections call it once per row)."""
        template = self._links.get(name)
        if template is None:
            path = reverse(name, args=[self.organization.slug, _PK_PLACEHOLDER])
            template = self._links[name] = absolute(path)
        return template.replace(str(_PK_PLACEHOLDER), str(int(pk)), 1)

    def requirements(self) -> QuerySet[Requirement]:
        """The framework's assessable requirements in the adoption's scope."""
        return Requirement.objects.filter(
            framework_id=self.adoption.framework_id,
            category_id__in=[c.pk for c in self.adoption.scope.all()],
            assessable=True,
            withdrawn=False,
        )

    def controls(self) -> QuerySet[Control]:
        """The active controls mapped to those requirements that the user may see."""
        mapped = ControlRequirement.objects.filter(
            requirement__in=self.requirements().values("pk")
        ).values("control_id")
        controls = Control.objects.filter(
            organization=self.organization, archived_at__isnull=True, pk__in=mapped
        )
        return restrict(controls, self.user, organization=self.organization)


def absolute(path: str) -> str:
    """An app path as an absolute URL (``SITE_URL``): reports leave the app."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + path


def owner_name(name: str | None, email: str | None) -> str:
    return name or email or ""


@dataclass(frozen=True)
class GapSection:
    """One section of the report: its key (the XLSX sheet, the page anchor), its title, what it
    lists, the heading of its ``detail`` column, and the generator of its rows."""

    key: str
    title: str
    description: str
    detail_heading: str
    rows: Callable[[GapScope], Iterator[GapRow]]
    organization_wide: bool = False


# --- the sections -------------------------------------------------------------------------------


def requirements_without_controls(scope: GapScope) -> Iterator[GapRow]:
    """In-scope requirements in the stored ``gap`` state: no active control maps to them."""
    rows = (
        StoredRequirementReadiness.objects.filter(
            organization=scope.organization,
            state="gap",
            requirement__in=scope.requirements().values("pk"),
        )
        .order_by("requirement__order", "requirement__ref_id")
        .values_list(
            "requirement_id",
            "requirement__ref_id",
            "requirement__title",
            "requirement__category__name",
        )
    )
    for pk, ref_id, title, category in rows.iterator(chunk_size=CHUNK):
        yield GapRow(
            f"{ref_id} {title}",
            f"{category}: no control maps to it",
            "",
            None,
            scope.link("requirement_detail", pk),
        )


def _control_rows(
    scope: GapScope, controls: QuerySet[Control], detail: Callable[[str], str]
) -> Iterator[GapRow]:
    rows = controls.order_by("ref_id", "pk").values_list(
        "pk", "ref_id", "name", "status", "owner__full_name", "owner__email", "target_date"
    )
    labels = dict(ControlStatus.choices)
    for pk, ref_id, name, status, full_name, email, target in rows.iterator(chunk_size=CHUNK):
        yield GapRow(
            f"{ref_id} {name}",
            detail(str(labels.get(status, status))),
            owner_name(full_name, email),
            target,
            scope.link("control_detail", pk),
        )


def controls_without_owners(scope: GapScope) -> Iterator[GapRow]:
    return _control_rows(
        scope, scope.controls().filter(owner__isnull=True), lambda status: f"No owner ({status})"
    )


def controls_not_implemented(scope: GapScope) -> Iterator[GapRow]:
    return _control_rows(
        scope, scope.controls().exclude(status__in=READY_CONTROL_STATUSES), lambda status: status
    )


def blocker_rows(*kinds: BlockerKind) -> Callable[[GapScope], Iterator[GapRow]]:
    """A section of the stored blockers of these kinds: one row per blocker of the framework's
    controls, with the reason the readiness definition gave and its link (the control's page
    when it gave none). A stale-evidence row is due on the date the evidence went stale."""
    wanted = {str(kind) for kind in kinds}
    labels = dict(BlockerKind.choices)

    def rows(scope: GapScope) -> Iterator[GapRow]:
        found = (
            scope.controls()
            .filter(blocked_stored(*kinds))
            .order_by("ref_id", "pk")
            .values_list(
                "pk", "ref_id", "name", "owner__full_name", "owner__email",
                "readiness__blockers", "readiness__evidence_due",
            )
        )  # fmt: skip
        for pk, ref_id, name, full_name, email, blockers, stale_on in found.iterator(
            chunk_size=CHUNK
        ):
            for blocker in blockers:
                kind = blocker.get("kind", "")
                if kind not in wanted:
                    continue
                url = blocker.get("url") or ""
                yield GapRow(
                    f"{ref_id} {name}",
                    f"{labels.get(kind, kind)}: {blocker.get('reason', '')}",
                    owner_name(full_name, email),
                    stale_on if kind == BlockerKind.EVIDENCE_STALE else None,
                    absolute(url) if url else scope.link("control_detail", pk),
                )

    return rows


SECTIONS: list[GapSection] = [
    GapSection(
        "requirements",
        "Requirements without controls",
        "Requirements in scope that no active control maps to.",
        "Category",
        requirements_without_controls,
    ),
    GapSection(
        "unowned",
        "Controls without owners",
        "The framework's controls that nobody owns.",
        "Status",
        controls_without_owners,
    ),
    GapSection(
        "not_implemented",
        "Controls not implemented",
        "The framework's controls that are neither implemented nor not applicable; due is "
        "their target date.",
        "Status",
        controls_not_implemented,
    ),
    GapSection(
        "evidence",
        "Evidence missing or stale",
        "Implemented controls without accepted evidence (none yet, or only rejected), with "
        "stale evidence (due: the day it went stale), or with an overdue evidence request "
        "(its occurrence open, rejected or late).",
        "Blocker",
        blocker_rows(
            BlockerKind.EVIDENCE_MISSING, BlockerKind.EVIDENCE_STALE, BlockerKind.REQUEST_OVERDUE
        ),
    ),
    GapSection(
        "tests",
        "Automated tests failing",
        "Implemented controls whose automated test fails, could not run, or has not run yet.",
        "Blocker",
        blocker_rows(BlockerKind.TEST_FAILING, BlockerKind.TEST_ERROR, BlockerKind.TEST_NOT_RUN),
    ),
    GapSection(
        "policies",
        "Policies not approved",
        "Implemented controls whose policy has no approved version, or is past its yearly review.",
        "Blocker",
        blocker_rows(BlockerKind.POLICY_UNAPPROVED, BlockerKind.POLICY_REVIEW_OVERDUE),
    ),
    GapSection(
        "people",
        "People items overdue",
        "Implemented controls blocked by personnel requirements overdue (background checks, "
        "agreements, training…) or leavers whose access was not revoked in time.",
        "Blocker",
        blocker_rows(BlockerKind.PEOPLE_OVERDUE, BlockerKind.ACCESS_NOT_REVOKED),
    ),
]


def register_gap_section(section: GapSection) -> GapSection:
    """For the apps above the ground floor (vendors): a further section of every report."""
    if all(existing.key != section.key for existing in SECTIONS):
        SECTIONS.append(section)
    return section


# --- the report ---------------------------------------------------------------------------------


def adoption_for(organization: Organization, slug: str | None) -> list[AdoptedFramework]:
    """The adoptions a report covers: the one of framework ``slug``, or every adoption (by name)
    when ``slug`` is empty. A slug the organization did not adopt is a 404 that says so."""
    adoptions = (
        AdoptedFramework.objects.filter(organization=organization)
        .select_related("framework", "organization")
        .prefetch_related("scope")
        .order_by("framework__name")
    )
    if slug:
        adoptions = adoptions.filter(framework__slug=slug)
        found = list(adoptions)
        if not found:
            raise Http404(f"“{slug[:50]}” is not a framework this organization adopted.")
        return found
    return list(adoptions)


@dataclass
class FrameworkReport:
    """One framework's report: its scope, readiness now, latest snapshots and the sections."""

    scope: GapScope
    readiness: FrameworkReadiness | None
    snapshots: list[ReadinessSnapshot] = field(default_factory=list)  # oldest first
    sections: Sequence[GapSection] = field(default_factory=lambda: list(SECTIONS))

    @property
    def adoption(self) -> AdoptedFramework:
        return self.scope.adoption

    def rows(self, section: GapSection) -> Iterator[GapRow]:
        return section.rows(self.scope)


def framework_reports(
    *, user: UserLike, organization: Organization, slug: str | None = None
) -> list[FrameworkReport]:
    """The report of each adoption asked for (see :func:`adoption_for`), with readiness now
    (from the stored state) and the last :data:`SUMMARY_WEEKS` snapshots. A fixed number of
    queries: the adoptions, the readiness tallies, one snapshot query per framework."""
    from compliance.selectors import snapshot_trend

    adoptions = adoption_for(organization, slug)
    today = organization_local_date(organization)
    readiness = {
        r.adoption.framework_id: r
        for r in stored_organization_readiness(organization=organization)
        if r.adoption is not None
    }
    reports = []
    for adoption in adoptions:
        reports.append(
            FrameworkReport(
                scope=GapScope(
                    user=user, organization=organization, adoption=adoption, today=today
                ),
                readiness=readiness.get(adoption.framework_id),
                snapshots=snapshot_trend(user=user, adoption=adoption, weeks=SUMMARY_WEEKS),
            )
        )
    return reports


@dataclass
class CappedSection:
    """A section's first rows and how many it has in all (counted by reading the rest of the
    generator without keeping it)."""

    section: GapSection
    rows: list[GapRow]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def capped_section(report: FrameworkReport, section: GapSection, limit: int) -> CappedSection:
    kept: list[GapRow] = []
    total = 0
    for row in report.rows(section):
        total += 1
        if len(kept) < limit:
            kept.append(row)
    return CappedSection(section, kept, total)


def report_filename(
    organization: Organization, reports: Sequence[FrameworkReport], ext: str
) -> str:
    which = reports[0].adoption.framework.slug if len(reports) == 1 else "all-frameworks"
    return f"{organization.slug}-gap-analysis-{which}.{ext}"
