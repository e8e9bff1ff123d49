"""A believable demo company, built only through the services (so it has a real audit trail)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audits import demo as audits_demo
from compliance import services as core
from compliance import snapshots
from compliance.demo_timeline import WEEKS, Timeline, stamped
from compliance.meetings import demo as meetings_demo
from compliance.models import Membership, Organization, Role, User
from compliance.readiness import bulk_load
from controls import services as controls
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlStatus,
    ControlStatusChange,
    Framework,
    Frequency,
    RecomputationTrigger,
)
from controls.monitoring import demo as monitoring_demo
from controls.monitoring import history
from evidence import demo as evidence_demo
from people import demo as people_demo
from policies import demo as policies_demo
from trust import demo as trust_page_demo
from trust import demo_documents as trust_documents_demo
from trust import demo_library as library_demo
from vendors import demo as vendors_demo

DEMO_PASSWORD = "attest-demo"  # noqa: S105 - printed for the demo on purpose
SLUG = "northwind"
LABS_SLUG = "northwind-labs"
SOC2_SET = "urn:attest:control-set:soc2-starter"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    title: str
    role: str


USERS = [
    DemoUser("dana@northwind.test", "Dana Whitfield", "CFO, compliance lead", Role.ADMIN),
    DemoUser("marcus@northwind.test", "Marcus Lee", "VP Engineering", Role.MEMBER),
    DemoUser("priya@northwind.test", "Priya Raman", "Security engineer", Role.MEMBER),
    DemoUser("tom@northwind.test", "Tom Becker", "IT manager", Role.MEMBER),
    DemoUser("alice@northwind.test", "Alice Moreno", "Head of People", Role.MEMBER),
    DemoUser("sam@northwind.test", "Sam Ortiz", "Board observer", Role.VIEWER),
    DemoUser("jordan@examplecpa.test", "Jordan Kim", "Auditor, Example CPA LLP", Role.AUDITOR),
]

# Who owns which kind of control, as in a 120-person SaaS company.
OWNERS = {
    "governance": "dana", "risk": "dana", "vendor": "dana", "communication": "dana",
    "people": "alice", "asset": "tom", "physical": "tom", "access": "priya", "crypto": "priya",
    "monitoring": "priya", "data": "priya", "privacy": "priya", "operations": "marcus",
    "change": "marcus", "incident": "marcus", "continuity": "marcus",
}  # fmt: skip
BACKUPS = {"dana": "marcus", "alice": "dana", "tom": "priya", "priya": "marcus", "marcus": "priya"}


def demo_exists() -> bool:
    return Organization.objects.filter(slug=SLUG).exists()


def _user(spec: DemoUser) -> User:
    user = User.objects.filter(email=spec.email).first()
    if user is None:
        user = User.objects.create_user(spec.email, DEMO_PASSWORD, full_name=spec.name)
    return user


@transaction.atomic
def seed_demo(*, today: dt.date | None = None) -> Organization:
    """Create the demo organizations. Call only when :func:`demo_exists` is false."""
    # A bulk load (some of it written without the services): the stored readiness is recomputed
    # in full once at the end, not after each change.
    with bulk_load(trigger=RecomputationTrigger.SEED):
        organization = _seed_demo(today=today or timezone.localdate())
    # Its backdated test runs, rolled up by day as the hourly beat job would.
    history.roll_up_all()
    # The weekly snapshots of the ten completed weeks, each computed from that history as of
    # its week's end (what `manage.py snapshot_week --backfill 10` does).
    snapshots.snapshots_create(
        organization=organization,
        weeks=snapshots.weeks_to_fill(
            organization, latest=snapshots.last_completed_week(organization), count=WEEKS
        ),
    )
    return organization


def _seed_demo(*, today: dt.date) -> Organization:
    rng = random.Random(2026)  # the same demo every time
    if not Framework.objects.exists():
        controls.catalog_load()
    users = {spec.email.split("@")[0]: _user(spec) for spec in USERS}
    dana = users["dana"]

    org = core.organization_create(
        actor=dana, name="Northwind Cloud", slug=SLUG, time_zone="America/New_York"
    )
    for spec in USERS[1:]:
        user = users[spec.email.split("@")[0]]
        expires = None
        if spec.role == Role.AUDITOR:
            expires = timezone.now() + dt.timedelta(days=120)
        Membership.objects.create(user=user, organization=org, role=spec.role, expires_at=expires)

    timeline = Timeline.of(org)
    kickoff = timeline.at(0, 0, 9)
    soc2 = Framework.objects.get(slug="soc2")
    # The rows adoption and the control set's import write are re-dated to the kick-off.
    with stamped(
        kickoff,
        (AdoptedFramework.objects.filter(organization=org), "adopted_at"),
        (Control.objects.filter(organization=org), "created_at"),
        (ControlRequirement.objects.filter(control__organization=org), "created_at"),
        (ControlStatusChange.objects.filter(control__organization=org), "created_at"),
    ):
        controls.framework_adopt(
            actor=dana,
            organization=org,
            framework=soc2,
            scope_codes=["CC", "A"],
            target_audit_date=timeline.day(AUDIT_WEEK, 4),
        )
        controls.control_set_import(actor=dana, organization=org, control_set_key=SOC2_SET)
        _leave_gaps(dana, org, count=3)

    for control in Control.objects.filter(organization=org).order_by("ref_id"):
        _control_story(control, users=users, rng=rng, timeline=timeline, organization=org)

    evidence_demo.seed(organization=org, users=users, today=today, timeline=timeline)
    # The roster first: policies are sent to the people in scope.
    people_demo.seed(organization=org, users=users, today=today, timeline=timeline)
    policies_demo.seed(organization=org, users=users, today=today, timeline=timeline)
    vendors_demo.seed(organization=org, users=users, today=today, timeline=timeline)
    monitoring_demo.seed(organization=org, users=users, timeline=timeline)
    meetings_demo.seed(organization=org, users=users)
    audits = audits_demo.seed(
        organization=org, users=users, timeline=timeline, audit_date=timeline.day(AUDIT_WEEK, 4)
    )
    # The trust page's documents and access requests (after the audits: a past report date
    # makes the gated document the SOC 2 report).
    trust_documents_demo.seed(organization=org, users=users, timeline=timeline)
    # The public trust page itself: certifications read from those engagements.
    trust_page_demo.seed(organization=org, users=users, timeline=timeline, audits=audits)
    library_demo.seed(organization=org, users=users, today=today)

    # A second, smaller organization to show switching: an ISO 27001 effort at the R&D arm.
    labs = core.organization_create(
        actor=dana, name="Northwind Labs", slug=LABS_SLUG, time_zone="Europe/Berlin"
    )
    Membership.objects.create(user=users["marcus"], organization=labs, role=Role.MEMBER)
    iso = Framework.objects.get(slug="iso27001")
    controls.framework_adopt(
        actor=dana, organization=labs, framework=iso, scope_codes=["A.5", "A.6", "A.7", "A.8"]
    )
    return org


# How often evidence of a control reaches Attest, as a phrase that ends a sentence.
EVIDENCE_CADENCE = {
    Frequency.CONTINUOUS: "continuously, from the automated checks",
    Frequency.DAILY: "every day",
    Frequency.WEEKLY: "every week",
    Frequency.MONTHLY: "every month",
    Frequency.QUARTERLY: "every quarter",
    Frequency.ANNUAL: "once a year",
    Frequency.EVENT_DRIVEN: "each time the event happens",
}


def demo_narrative(control: Control, *, owner: User, organization: Organization) -> str:
    """How an implemented demo control operates, in the company's words: who runs it, what is
    done (the library's description, told of this company) and how often evidence comes in.
    It never restates the control's name, which the page already shows above it."""
    description = " ".join(control.description.split())
    for generic in ("The company's", "the company's"):
        description = description.replace(generic, f"{organization.name}'s")
    for generic in ("The company", "the company"):
        description = description.replace(generic, organization.name)
    cadence = EVIDENCE_CADENCE.get(Frequency(control.frequency), "as it is produced")
    return (
        f"{owner.full_name} is responsible for this control. {description} Evidence is "
        f"added to Attest {cadence}."
    ).strip()


def _reason(status: str) -> str:
    reasons: dict[str, str] = {
        ControlStatus.IMPLEMENTED: "Operating; first evidence collected",
        ControlStatus.IN_PROGRESS: "Work started",
        ControlStatus.NOT_APPLICABLE: "Carved out to the cloud provider",
    }
    return reasons.get(status, "")


# The program's weeks (see compliance/demo_timeline.py): when each control's work started and
# when it was in place. Week 0 is the kick-off; what was already done then is in place in week 0.
# A control with no start is not started; one with a start and no end is still in progress.
# Long-lead work (MDM, the risk assessment, the DR test, the penetration test, vendor reviews)
# starts early; the policies each control needs are approved over the weeks (policies/demo.py),
# and evidence arrives as each control is put in place (evidence/demo.py).
PLAN: dict[str, tuple[int | None, int | None]] = {
    # In place at the kick-off: practices the company already had.
    "AST-01": (0, 0), "COM-01": (0, 0), "COM-02": (0, 0), "COM-03": (0, 0), "GOV-01": (0, 0),
    "GOV-03": (0, 0), "GOV-05": (0, 0), "INC-01": (0, 0), "INC-02": (0, 0), "INC-03": (0, 0),
    "INC-05": (0, 0), "MON-02": (0, 0), "RSK-02": (0, 0), "CRY-02": (0, 0), "CHG-01": (0, 0),
    "PRV-06": (0, 0), "IAM-04": (0, 0), "GOV-07": (0, 0),
    "AST-04": (0, 1), "MON-01": (0, 1), "RSK-03": (0, 1), "RSK-04": (0, 1), "INC-04": (0, 1),
    "PHY-03": (0, 1),
    "HR-02": (0, 1), "HR-03": (0, 2), "CHG-02": (1, 2), "AST-02": (1, 2), "IAM-07": (1, 2),
    "CRY-03": (1, 2),
    "HR-01": (1, 3), "IAM-01": (1, 3), "IAM-03": (2, 3), "GOV-02": (0, 1), "CHG-04": (2, 3),
    "DAT-02": (2, 3),
    "RSK-01": (0, 2), "IAM-02": (1, 4), "DAT-01": (2, 3), "HR-04": (3, 4),
    "OPS-05": (3, 4),
    "AST-05": (2, 3), "GOV-04": (3, 5), "MON-03": (4, 5), "OPS-01": (3, 5), "CHG-05": (4, 5),
    "DAT-06": (4, 6), "OPS-04": (3, 4), "BCP-05": (3, 7), "BCP-04": (1, 6), "BCP-01": (4, 6),
    "OPS-06": (5, 6),
    "GOV-06": (2, 7), "CHG-03": (5, 9), "VEN-01": (5, 7), "VEN-04": (6, 7), "PHY-01": (6, 7),
    "AST-03": (0, 8),
    # Still in progress, and not started.
    "BCP-02": (3, None), "BCP-03": (9, None), "CRY-01": (5, None), "IAM-05": (2, None),
    "OPS-02": (1, None), "VEN-02": (4, None), "VEN-03": (2, None),
    "IAM-06": (None, None), "OPS-03": (None, None),
}  # fmt: skip
AUDIT_WEEK = 20  # the Type I date: the Friday of this program week
# Long-lead work still under way, with its target date in weeks after the audit date (negative:
# before it). The penetration test lands after the audit date, so the weekly page flags it.
LONG_LEAD_TARGETS = {"OPS-02": 3, "VEN-03": -5, "VEN-02": -8}


def _control_story(
    control: Control,
    *,
    users: dict[str, User],
    rng: random.Random,
    timeline: Timeline,
    organization: Organization,
) -> None:
    """Owners named at the kick-off, then the control's status changes at their weeks. The
    change rows the service writes are re-dated right after each call (this function is the
    one place the controls' history is backdated)."""
    owner_key = OWNERS[control.category]
    owner, backup = users[owner_key], users[BACKUPS[owner_key]]
    started, done = PLAN.get(control.ref_id, (None, None))
    not_applicable = control.category == "physical" and "data cent" in control.name.lower()
    changes: controls.ControlChanges = {"owner": owner, "backup_owner": backup}
    if started == 0:
        changes["status"] = ControlStatus.IN_PROGRESS  # under way from the kick-off meeting
    if rng.random() < 0.08:
        changes["owner"] = None  # a few unowned controls for the dashboard's blockers
        changes["backup_owner"] = None
    if not_applicable:
        changes["status"] = ControlStatus.NOT_APPLICABLE
        changes["na_justification"] = (
            "Northwind runs entirely on AWS; it has no data centre or server room of its "
            "own. Physical safeguards are the provider's and are checked through its SOC 2 "
            "report every year."
        )
    if done is None and not not_applicable:
        audit = timeline.day(AUDIT_WEEK, 4)
        if control.ref_id in LONG_LEAD_TARGETS:
            changes["target_date"] = audit + dt.timedelta(weeks=LONG_LEAD_TARGETS[control.ref_id])
        else:
            changes["target_date"] = timeline.today + dt.timedelta(days=rng.randint(-20, 100))
    history = ControlStatusChange.objects.filter(control=control)
    with stamped(timeline.at(0, 0, 10), (history, "created_at")):
        controls.control_update(
            actor=users["dana"],
            control=control,
            changes=changes,
            reason=_reason(ControlStatus(changes.get("status", ControlStatus.NOT_STARTED))),
        )
    acting = changes["owner"] or users["dana"]
    if started:
        with stamped(timeline.at(started, 1, 11), (history, "created_at")):
            controls.control_update(
                actor=acting,
                control=control,
                changes={"status": ControlStatus.IN_PROGRESS},
                reason=_reason(ControlStatus.IN_PROGRESS),
            )
    if done is not None:
        with stamped(timeline.at(done, 1 if done == started else 2, 15), (history, "created_at")):
            controls.control_update(
                actor=acting,
                control=control,
                changes={
                    "status": ControlStatus.IMPLEMENTED,
                    "narrative": demo_narrative(
                        control, owner=changes["owner"] or users["dana"], organization=organization
                    ),
                },
                reason=_reason(ControlStatus.IMPLEMENTED),
            )


def _leave_gaps(actor: User, organization: Organization, *, count: int) -> None:
    """Unmap the least-covered in-scope requirements, so the demo shows real gaps."""
    mappings = list(
        ControlRequirement.objects.filter(
            control__organization=organization, requirement__category__code__in=["CC", "A"]
        ).select_related("control", "requirement")
    )
    per_requirement = Counter(m.requirement_id for m in mappings)
    chosen = sorted(per_requirement, key=lambda pk: (per_requirement[pk], pk))[:count]
    for mapping in mappings:
        if mapping.requirement_id in chosen:
            controls.control_unmap(actor=actor, mapping=mapping)


def logins() -> list[tuple[str, str, str]]:
    return [(spec.email, spec.title, Role(spec.role).label) for spec in USERS]
