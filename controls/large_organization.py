"""A large organization for benchmarks and capacity checks, written in bulk.

``manage.py generate_large_organization`` builds the shape of issues 10 and 11: three frameworks
adopted (SOC 2, ISO/IEC 27001 and a synthetic third catalog, the library holding two), 2,000
controls (two mappings into each framework, five owners), 20,000 evidence items (ten per
control) with two years of revisions and reviews (nine each: 180,000, plus one per test run:
200,000 in all), evidence requests with occurrences, an audit trail, 50 automated tests x 400
hourly runs x 50 resources = 1,000,000 per-resource results, each run frozen as a revision of
its test's evidence like the runner does, and two years of weekly readiness snapshots.
``Size`` scales every figure; the "year of hourly tests" preset is one test per control, run
every hour for a year, one resource each.

The history is recorded the way the services record it, so readiness as of any past date is
computed, not invented: controls and their mappings exist from the start of the two years, each
control's status changes (not started → in progress → implemented) are spread over them, every
revision has its upload, review and effective date, and the tests exist from their first run.
The weekly snapshots are then computed by the weekly job's own code (``snapshots_create``,
readiness as of each week's end), oldest first.

Rows are written with ``bulk_create`` and, for the big tables, PostgreSQL's ``COPY`` with ids
taken from the tables' sequences: the services would take hours (one audit event, one file and
a lock per write). The data is synthetic but valid: constraints hold, the audit chain verifies,
each test's ``last_run`` is its newest run. Evidence files are not written to storage (their
revisions carry a key, a size and a SHA-256 but no bytes): the integrity sweep would report them
missing, so generate into a database made for measuring, never a production one.

Everything happens in one transaction: an organization with the slug exists only complete, and
a second run with the same slug is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from compliance.audit import SYSTEM_ACTOR, _event_digest, chain_for
from compliance.models import AuditChainHead, AuditEvent, Membership, Organization, Role, User
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlTest,
    Finding,
    Framework,
    FrameworkCategory,
    Integration,
    IntegrationKind,
    Requirement,
    ResultStatus,
    RunStatus,
    TestResult,
    TestRun,
)
from controls.monitoring import history
from controls.services import catalog_load

BATCH = 5000


@dataclass(frozen=True)
class Size:
    controls: int = 2000
    mappings_per_control: int = 2
    owners: int = 5
    evidence_per_control: int = 10
    tests: int = 50
    runs_per_test: int = 400
    resources_per_run: int = 50
    run_interval_hours: int = 1
    audit_events_per_control: int = 10
    # Frameworks adopted: SOC 2, then ISO/IEC 27001, then the synthetic third catalog.
    frameworks: int = 3
    # Revisions of each person's evidence item, spread over ``history_days``.
    revisions_per_item: int = 9
    history_days: int = 730
    # Weekly readiness snapshots, the newest being last week's.
    snapshot_weeks: int = 104

    @property
    def results(self) -> int:
        return self.tests * self.runs_per_test * self.resources_per_run

    @property
    def revisions(self) -> int:
        """Evidence revisions: people's (``revisions_per_item`` each) and one per test run."""
        items = self.controls * self.evidence_per_control
        return items * self.revisions_per_item + self.tests * self.runs_per_test

    def describe(self) -> str:
        return (
            f"{self.controls:,} controls, {self.frameworks} frameworks, "
            f"{self.controls * self.evidence_per_control:,} evidence items, "
            f"{self.revisions:,} revisions, {self.tests:,} tests x {self.runs_per_test:,} runs x "
            f"{self.resources_per_run:,} resources = {self.results:,} results, "
            f"{self.snapshot_weeks} weeks of snapshots"
        )

    def scaled(self, factor: float) -> Size:
        """Every count multiplied by ``factor`` (at least one of each); per-row shapes kept."""

        def times(n: int) -> int:
            return max(1, round(n * factor))

        return replace(
            self,
            controls=times(self.controls),
            tests=min(times(self.tests), times(self.controls)),
            runs_per_test=times(self.runs_per_test),
            resources_per_run=times(self.resources_per_run),
        )


#: The issue's organization: 2,000 controls, 20,000 evidence items, 1M results.
ISSUE_SIZE = Size()
#: A year of hourly tests on 2,000 controls: 17.5M runs and results (issue 10, item 5).
HOURLY_YEAR = Size(tests=2000, runs_per_test=365 * 24, resources_per_run=1)


class AlreadyGenerated(Exception):
    pass


@dataclass
class Generated:
    organization: Organization
    admin: User
    counts: dict[str, int]


def generate_large_organization(
    *,
    slug: str,
    size: Size = ISSUE_SIZE,
    seed: int = 10,
    progress: Callable[[str], None] = lambda _: None,
) -> Generated:
    """Build the organization ``slug`` of ``size``; refuses a slug that exists."""
    if not 1 <= size.frameworks <= 3:
        raise ValueError("frameworks: 1 (SOC 2), 2 (and ISO/IEC 27001) or 3 (and a synthetic one).")
    if Organization.objects.filter(slug=slug).exists():
        raise AlreadyGenerated(
            f"An organization with the slug {slug!r} exists already; nothing was changed. "
            "Choose another --slug (or delete that organization) to generate again."
        )
    catalog_load()
    frameworks = [Framework.objects.filter(slug=s).first() for s in ("soc2", "iso27001")]
    if None in frameworks:
        raise RuntimeError("The catalogs did not load (controls/library/frameworks).")
    with transaction.atomic():
        generator = _Generator(slug=slug, size=size, rng=random.Random(seed), progress=progress)
        result = generator.run([f for f in frameworks if f is not None] + [_synthetic_framework()])
    _recompute_readiness(result.organization)
    # The runs' closed days, rolled up as the hourly beat job would (controls.monitoring.history).
    history.roll_up(result.organization)
    if size.snapshot_weeks:
        with transaction.atomic():
            result.counts["weekly snapshots"] = _snapshots(result.organization, size.snapshot_weeks)
        progress(f"{result.counts['weekly snapshots']:,} weekly snapshots")
    return result


SYNTHETIC_KEY = "attest.generated.benchmark-catalog"
SYNTHETIC_CATEGORIES = 4
SYNTHETIC_REQUIREMENTS = 60  # per category


def _synthetic_framework() -> Framework:
    """A third catalog for generated organizations (the library holds SOC 2 and ISO/IEC 27001):
    four categories of sixty requirements, shared by every generated organization."""
    framework, created = Framework.objects.get_or_create(
        key=SYNTHETIC_KEY,
        defaults={
            "slug": "generated-catalog",
            "name": "Generated benchmark catalog",
            "short_name": "Generated",
            "publisher": "Attest (synthetic, for benchmarks)",
            "version": 1,
            "content_sha256": _sha(SYNTHETIC_KEY, SYNTHETIC_CATEGORIES, SYNTHETIC_REQUIREMENTS),
        },
    )
    if created:
        categories = FrameworkCategory.objects.bulk_create(
            FrameworkCategory(
                framework=framework, code=f"G{c + 1}", name=f"Generated area {c + 1}", order=c
            )
            for c in range(SYNTHETIC_CATEGORIES)
        )
        Requirement.objects.bulk_create(
            Requirement(
                framework=framework,
                key=f"{SYNTHETIC_KEY}:G{c + 1}.{r + 1}",
                ref_id=f"G{c + 1}.{r + 1}",
                title=f"Generated requirement {c + 1}.{r + 1}",
                category=category,
                order=c * SYNTHETIC_REQUIREMENTS + r,
            )
            for c, category in enumerate(categories)
            for r in range(SYNTHETIC_REQUIREMENTS)
        )
    return framework


def _snapshots(organization: Organization, weeks: int) -> int:
    """The weekly snapshots of the last ``weeks`` weeks, computed as the weekly job does
    (readiness as of each week's end, from the generated history)."""
    from compliance.snapshots import last_completed_week, snapshots_create

    last = last_completed_week(organization)
    return snapshots_create(
        organization=organization,
        weeks=[last - dt.timedelta(weeks=n) for n in range(weeks)],
    ).created


def _recompute_readiness(organization: Organization) -> None:
    """Rows written with COPY bypass the services, so the stored readiness is computed once,
    in full, at the end (as any bulk load does)."""
    from compliance.readiness import recompute_readiness
    from controls.models import RecomputationTrigger

    recompute_readiness(organization=organization, trigger=RecomputationTrigger.IMPORT)


def _copy(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``COPY`` rows into ``model``'s table; returns how many."""
    meta = model._meta
    columns = ", ".join(connection.ops.quote_name(_column(model, f)) for f in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name
    return field.column


def _next_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` ids from the table's own sequence, so rows written by ``COPY`` can be referred to."""
    if n == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, n],
        )
        return [row[0] for row in cursor.fetchall()]


def _sha(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


class _Generator:
    def __init__(
        self, *, slug: str, size: Size, rng: random.Random, progress: Callable[[str], None]
    ) -> None:
        self.slug = slug
        self.size = size
        self.rng = rng
        self.progress = progress
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.today = self.now.date()
        self.counts: dict[str, int] = {}

    def run(self, frameworks: Sequence[Framework]) -> Generated:
        self.organization = Organization.objects.create(
            name=f"Large organization {self.slug}", slug=self.slug
        )
        self.owners = self._owners()
        frameworks = frameworks[: self.size.frameworks]
        for framework in frameworks:
            adoption = AdoptedFramework.objects.create(
                organization=self.organization, framework=framework, adopted_by=self.owners[0]
            )
            adoption.scope.set(framework.categories.all())
        # Adopted when the history starts, so the weekly snapshots of those weeks are in place.
        AdoptedFramework.objects.filter(organization=self.organization).update(
            adopted_at=self.now - dt.timedelta(days=self.size.history_days)
        )
        self.controls = self._controls(frameworks)
        self._evidence()
        self._requests()
        self._tests()
        self._audit_trail()
        self.progress("done")
        return Generated(self.organization, self.owners[0], self.counts)

    # --- people and controls --------------------------------------------------------------------

    def _owners(self) -> list[User]:
        users = []
        for i in range(self.size.owners):
            user = User.objects.create_user(
                f"{self.slug}-owner{i + 1}@example.com", full_name=f"Owner {i + 1}"
            )
            role = Role.ADMIN if i == 0 else Role.MEMBER
            Membership.objects.create(user=user, organization=self.organization, role=role)
            users.append(user)
        return users

    def _controls(self, frameworks: Sequence[Framework]) -> list[Control]:
        catalogs = [
            list(Requirement.objects.filter(framework=f, assessable=True, withdrawn=False))
            for f in frameworks
        ]
        statuses = ["implemented"] * 93 + ["in_progress"] * 5 + ["not_started"] * 2
        frequencies = ["quarterly", "annual", "monthly", "continuous", "event_driven"]
        controls = [
            Control(
                organization=self.organization,
                ref_id=f"L-{i + 1:05d}",
                name=f"Generated control {i + 1}",
                category="access",
                owner=self.owners[i % len(self.owners)],
                status=self.rng.choice(statuses),
                frequency=frequencies[i % len(frequencies)],
            )
            for i in range(self.size.controls)
        ]
        Control.objects.bulk_create(controls, batch_size=BATCH)
        mappings = [
            ControlRequirement(control=control, requirement=requirement)
            for control in controls
            for requirements in catalogs
            for requirement in self.rng.sample(
                requirements, min(self.size.mappings_per_control, len(requirements))
            )
        ]
        ControlRequirement.objects.bulk_create(mappings, batch_size=BATCH)
        # Everything exists from the start of the history; statuses moved over it.
        start = self.now - dt.timedelta(days=self.size.history_days)
        Control.objects.filter(organization=self.organization).update(created_at=start)
        ControlRequirement.objects.filter(control__organization=self.organization).update(
            created_at=start
        )
        self._status_history(controls, start)
        self.counts["frameworks"] = len(frameworks)
        self.counts["controls"] = len(controls)
        self.counts["mappings"] = len(mappings)
        self.progress(f"{len(controls):,} controls")
        return controls

    def _status_history(self, controls: Sequence[Control], start: dt.datetime) -> None:
        """Each control not started at ``start``; an implemented one went in progress and then
        implemented at moments spread over the history (a steady rise), one in progress went in
        progress."""
        from controls.models import ControlStatusChange

        span = (self.now - start) - dt.timedelta(days=37)
        rows: list[tuple[int, str, str, int | None, str, dt.datetime]] = []
        for control in controls:
            if control.status == "not_started":
                continue
            done = start + dt.timedelta(days=30) + span * self.rng.random()
            began = done - dt.timedelta(days=self.rng.randrange(7, 30))
            rows.append((control.pk, "not_started", "in_progress", self.owners[0].pk, "", began))
            if control.status == "implemented":
                rows.append((control.pk, "in_progress", "implemented", control.owner_id, "", done))
        self.counts["status changes"] = _copy(
            ControlStatusChange,
            ["control", "from_status", "to_status", "actor", "reason", "created_at"],
            rows,
        )

    # --- evidence ---------------------------------------------------------------------------------

    def _evidence(self) -> None:
        from evidence.models import (
            EvidenceItem,
            EvidenceKind,
            EvidenceRevision,
            ReviewStatus,
            RevisionReview,
        )
        from evidence.services import evidence_refresh_latest

        per = self.size.evidence_per_control
        item_ids = _next_ids(EvidenceItem, len(self.controls) * per)
        kinds = [EvidenceKind.FILE] * 6 + [EvidenceKind.LINK] * 3 + [EvidenceKind.NOTE]
        items = []  # (id, control, kind, owner)
        for index, item_id in enumerate(item_ids):
            control = self.controls[index // per]
            items.append((item_id, control, kinds[index % len(kinds)], control.owner_id))
        org = self.organization.pk
        # Each item's revisions are spread from the start of the history to the item's effective
        # date (within the last 400 days, so some are stale): revision k of n on the k-th step.
        first_day = self.today - dt.timedelta(days=self.size.history_days)
        n = max(1, self.size.revisions_per_item)
        effective = [self.today - dt.timedelta(days=self.rng.randrange(0, 400)) for _ in items]

        def day_of(i: int, k: int) -> dt.date:
            if n == 1:
                return effective[i]
            return first_day + (effective[i] - first_day) * k // (n - 1)

        def at(day: dt.date, hours: float) -> dt.datetime:
            moment = (
                self.now - dt.timedelta(days=(self.today - day).days) + dt.timedelta(hours=hours)
            )
            return min(moment, self.now)

        self.counts["evidence items"] = _copy(
            EvidenceItem,
            ["id", "organization", "title", "kind", "effective_date", "created_by", "created_at",
             "system_key", "review_status"],
            (
                (item_id, org, f"Evidence {i + 1} of {control.ref_id}", kind, effective[i], owner,
                 at(day_of(i, 0), -8), "", "")
                for i, (item_id, control, kind, owner) in enumerate(items)
            ),
        )  # fmt: skip
        _copy(
            EvidenceItem.controls.through,
            ["evidenceitem", "control"],
            ((item_id, control.pk) for item_id, control, _, _ in items),
        )
        # Earlier revisions were accepted (one in twenty rejected); the newest is accepted, or
        # waiting for review on every fourth item (rejected on every fortieth). Each decision
        # is taken one to three days after the upload and has its review row.
        revisions = []  # (item, number, kind, uploader, status, uploaded, reviewed, day)
        for i, (item_id, _, kind, owner) in enumerate(items):
            for k in range(n):
                newest = k == n - 1
                if newest and i % 4 == 0:
                    status = ReviewStatus.REJECTED if i % 40 == 0 else ReviewStatus.PENDING
                elif not newest and (i + k) % 20 == 0:
                    status = ReviewStatus.REJECTED
                else:
                    status = ReviewStatus.ACCEPTED
                day = day_of(i, k)
                uploaded = at(day, -self.rng.uniform(0, 8))
                reviewed = (
                    None if status == ReviewStatus.PENDING
                    else min(uploaded + dt.timedelta(hours=self.rng.uniform(1, 72)), self.now)
                )  # fmt: skip
                revisions.append((item_id, k + 1, kind, owner, status, uploaded, reviewed, day))
        revision_ids = _next_ids(EvidenceRevision, len(revisions))
        reviewer = self.owners[0].pk

        def revision_rows() -> Iterator[tuple[Any, ...]]:
            for rid, (item_id, number, kind, owner, status, uploaded, reviewed, day) in zip(
                revision_ids, revisions, strict=True
            ):
                is_file = kind == EvidenceKind.FILE
                yield (
                    rid, item_id, number,
                    f"generated/{self.slug}/{rid}" if is_file else "",
                    f"evidence-{rid}.pdf" if is_file else "",
                    48_213 if is_file else 0,
                    "application/pdf" if is_file else "",
                    _sha("revision", rid) if is_file else "",
                    f"https://docs.example.com/evidence/{rid}" if kind == EvidenceKind.LINK else "",
                    "Reviewed in the weekly meeting." if kind == EvidenceKind.NOTE else "",
                    owner, uploaded, status,
                    reviewer if reviewed else None,
                    reviewed,
                    "Screenshot is unreadable." if status == ReviewStatus.REJECTED else "",
                    day,
                )  # fmt: skip

        self.counts["evidence revisions"] = _copy(
            EvidenceRevision,
            ["id", "item", "number", "storage_key", "original_name", "size", "content_type",
             "sha256", "url", "note", "uploaded_by", "uploaded_at", "review_status",
             "reviewed_by", "reviewed_at", "review_reason", "effective_date"],
            revision_rows(),
        )  # fmt: skip
        self.counts["revision reviews"] = _copy(
            RevisionReview,
            ["revision", "from_status", "to_status", "actor", "reason", "created_at"],
            (
                (rid, ReviewStatus.PENDING, status, reviewer, "", reviewed)
                for rid, (_, _, _, _, status, _, reviewed, _) in zip(
                    revision_ids, revisions, strict=True
                )
                if reviewed is not None
            ),
        )
        # Each item's latest revision and its status, as the services keep them.
        evidence_refresh_latest(items=EvidenceItem.objects.filter(organization=self.organization))
        self.progress(f"{len(items):,} evidence items, {len(revisions):,} revisions")

    def _requests(self) -> None:
        """One quarterly evidence request per ten controls, two years of occurrences each."""
        from evidence.models import (
            Cadence,
            EvidenceRequest,
            OccurrenceStatus,
            RequestOccurrence,
        )

        first_due = self.today - dt.timedelta(days=7 * 91)
        requests = EvidenceRequest.objects.bulk_create(
            (
                EvidenceRequest(
                    organization=self.organization,
                    title=f"Quarterly review {i + 1}",
                    owner=self.owners[i % len(self.owners)],
                    cadence=Cadence.QUARTERLY,
                    first_due_date=first_due,
                )
                for i in range(max(1, len(self.controls) // 10))
            ),
            batch_size=BATCH,
        )
        through = EvidenceRequest.controls.through
        through.objects.bulk_create(
            (
                through(evidencerequest_id=request.pk, control_id=self.controls[i * 10].pk)
                for i, request in enumerate(requests)
            ),
            batch_size=BATCH,
        )

        def status(due: dt.date, i: int) -> str:
            if due > self.today:
                return OccurrenceStatus.OPEN
            return OccurrenceStatus.OVERDUE if i % 7 == 0 else OccurrenceStatus.ACCEPTED

        self.counts["request occurrences"] = _copy(
            RequestOccurrence,
            ["request", "sequence", "due_date", "status", "created_at"],
            (
                (request.pk, q + 1, due, status(due, i), self.now)
                for i, request in enumerate(requests)
                for q in range(8)
                for due in [first_due + dt.timedelta(days=91 * q)]
            ),
        )
        self.counts["evidence requests"] = len(requests)

    # --- automated tests ----------------------------------------------------------------------

    def _tests(self) -> None:
        from evidence.models import EvidenceItem, EvidenceKind, ReviewStatus

        size = self.size
        step = max(1, len(self.controls) // max(1, size.tests))
        integration = Integration.objects.create(
            organization=self.organization,
            kind=IntegrationKind.GITHUB,
            name="GitHub (generated)",
            config={"api_url": "https://api.github.com"},
            created_by=self.owners[0],
        )
        tests = ControlTest.objects.bulk_create(
            (
                ControlTest(
                    organization=self.organization,
                    control=self.controls[(t * step) % len(self.controls)],
                    name=f"Generated check {t + 1}",
                    check_key="github.branch_protection",
                    parameters={"min_approvals": 1},
                    integration=integration,
                    interval_minutes=60 * size.run_interval_hours,
                    created_by=self.owners[0],
                )
                for t in range(size.tests)
            ),
            batch_size=BATCH,
        )
        # Each test's runs are frozen as revisions of one evidence item, like the runner does.
        snapshot_items = EvidenceItem.objects.bulk_create(
            (
                EvidenceItem(
                    organization=self.organization,
                    title=f"Automated test: {test.name}",
                    kind=EvidenceKind.FILE,
                    effective_date=self.today,
                    system_key=f"control-test:{test.pk}",
                )
                for test in tests
            ),
            batch_size=BATCH,
        )
        EvidenceItem.controls.through.objects.bulk_create(
            (
                EvidenceItem.controls.through(evidenceitem_id=item.pk, control_id=test.control_id)
                for item, test in zip(snapshot_items, tests, strict=True)
            ),
            batch_size=BATCH,
        )
        from evidence.models import EvidenceRevision
        from evidence.services import evidence_refresh_latest

        interval = dt.timedelta(hours=size.run_interval_hours)
        resources = [f"generated/repo-{k + 1:03d}" for k in range(size.resources_per_run)]
        last_runs: list[int] = []
        findings: list[Finding] = []
        runs_total = results_total = 0
        for t, (test, item) in enumerate(zip(tests, snapshot_items, strict=True)):
            run_ids = _next_ids(TestRun, size.runs_per_test)
            revision_ids = _next_ids(EvidenceRevision, size.runs_per_test)
            # The latest run of every fifth test fails on two resources (findings open);
            # older runs fail now and then.
            failing: list[set[int]] = []
            for r in range(size.runs_per_test):
                latest = r == size.runs_per_test - 1
                if latest:
                    fails = {0, 1} if t % 5 == 0 else set()
                elif (r + t) % 10 == 0:
                    fails = {r % len(resources)}
                else:
                    fails = set()
                failing.append({f for f in fails if f < len(resources)})
            start = self.now - interval * size.runs_per_test
            slots = [start + interval * (r + 1) for r in range(size.runs_per_test)]
            # The test was set up just before its first run.
            ControlTest.objects.filter(pk=test.pk).update(created_at=start)

            _copy(
                EvidenceRevision,
                ["id", "item", "number", "storage_key", "original_name", "size", "content_type",
                 "sha256", "url", "note", "uploaded_at", "review_status", "reviewed_at",
                 "review_reason"],
                (
                    (rid, item.pk, r + 1, f"generated/{self.slug}/run-{run_ids[r]}.json",
                     f"test-{test.pk}-run-{run_ids[r]}.json", 2_000 + 120 * len(resources),
                     "application/json", _sha("run", run_ids[r]), "", "", slots[r],
                     ReviewStatus.ACCEPTED, slots[r],
                     f"Recorded by Attest from run {run_ids[r]}.")
                    for r, rid in enumerate(revision_ids)
                ),
            )  # fmt: skip
            runs_total += _copy(
                TestRun,
                ["id", "control_test", "organization", "trigger", "slot", "status", "queued_at",
                 "enqueued_at", "started_at", "finished_at", "attempts", "worker", "log",
                 "error", "passed_count", "failed_count", "evidence_revision"],
                (
                    (rid, test.pk, self.organization.pk, "schedule", slots[r],
                     RunStatus.FAILED if failing[r] else RunStatus.PASSED, slots[r], slots[r],
                     slots[r] + dt.timedelta(seconds=1), slots[r] + dt.timedelta(seconds=31), 1,
                     "generated", "", "", len(resources) - len(failing[r]), len(failing[r]),
                     revision_ids[r])
                    for r, rid in enumerate(run_ids)
                ),
            )  # fmt: skip
            results_total += _copy(
                TestResult,
                ["run", "resource_id", "resource_name", "status", "message", "remediation", "raw"],
                (
                    (rid, resource, resource.split("/")[-1],
                     ResultStatus.FAIL if k in failing[r] else ResultStatus.PASS,
                     "Branch protection is off." if k in failing[r] else "", "", "{}")
                    for r, rid in enumerate(run_ids)
                    for k, resource in enumerate(resources)
                ),
            )  # fmt: skip
            last_runs.append(run_ids[-1])
            for k in sorted(failing[-1]):
                findings.append(
                    Finding(
                        control_test=test,
                        resource_id=resources[k],
                        resource_name=resources[k].split("/")[-1],
                        message="Branch protection is off.",
                        severity=test.severity,
                        opened_at=slots[-1],
                        due_date=self.today + dt.timedelta(days=14),
                        first_run_id=run_ids[-1],
                        last_run_id=run_ids[-1],
                    )
                )
            if (t + 1) % 10 == 0 or t + 1 == len(tests):
                self.progress(f"{t + 1:,} tests, {runs_total:,} runs, {results_total:,} results")
        evidence_refresh_latest(
            items=EvidenceItem.objects.filter(organization=self.organization).exclude(system_key="")
        )
        Finding.objects.bulk_create(findings, batch_size=BATCH)
        for test, run_id in zip(tests, last_runs, strict=True):
            test.last_run_id = run_id
            test.next_run_at = self.now + interval
        ControlTest.objects.bulk_update(tests, ["last_run", "next_run_at"], batch_size=1000)
        self.counts["control tests"] = len(tests)
        self.counts["test runs"] = runs_total
        self.counts["test results"] = results_total
        self.counts["open findings"] = len(findings)

    # --- the audit trail ------------------------------------------------------------------------

    def _audit_trail(self) -> None:
        """Events hash-chained like ``audit_record`` does, so ``verify_audit_trail`` passes."""
        chain = chain_for(self.organization)
        head, _ = AuditChainHead.objects.get_or_create(chain=chain)
        seq, previous = head.seq, head.hash
        total = len(self.controls) * self.size.audit_events_per_control
        start = self.now - dt.timedelta(days=365)
        spacing = dt.timedelta(days=365) / max(1, total)
        events: list[AuditEvent] = []
        for i in range(total):
            control = self.controls[i % len(self.controls)]
            seq += 1
            event = AuditEvent(
                chain=chain,
                seq=seq,
                organization=self.organization,
                actor=None,
                actor_label=SYSTEM_ACTOR,
                action="control.updated",
                object_type="controls.control",
                object_id=str(control.pk),
                object_repr=str(control)[:200],
                before={"status": "in_progress"},
                after={"status": control.status},
                request_id="",
                created_at=start + spacing * i,
                prev_hash=previous,
            )
            event.hash = previous = _event_digest(event)
            events.append(event)
            if len(events) == BATCH:
                AuditEvent.objects.bulk_create(events)
                events = []
        AuditEvent.objects.bulk_create(events)
        AuditChainHead.objects.filter(chain=chain).update(seq=seq, hash=previous)
        self.counts["audit events"] = total
