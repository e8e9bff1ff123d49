"""A believable demo company, built only through the services (so it has a real audit trail)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from compliance import services as core
from compliance.meetings import demo as meetings_demo
from compliance.models import Membership, Organization, Role, User
from compliance.readiness import bulk_load
from controls import services as controls
from controls.models import (
    Control,
    ControlRequirement,
    ControlStatus,
    Framework,
    Frequency,
    RecomputationTrigger,
)
from controls.monitoring import demo as monitoring_demo
from controls.monitoring import history
from evidence import demo as evidence_demo
from people import demo as people_demo
from policies import demo as policies_demo
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

    soc2 = Framework.objects.get(slug="soc2")
    controls.framework_adopt(actor=dana, organization=org, framework=soc2, scope_codes=["CC", "A"])
    controls.control_set_import(actor=dana, organization=org, control_set_key=SOC2_SET)

    imported = list(Control.objects.filter(organization=org).order_by("ref_id"))
    _leave_gaps(dana, org, count=3)
    for control in imported:
        owner_key = OWNERS[control.category]
        owner = users[owner_key]
        backup = users[BACKUPS[owner_key]]
        roll = rng.random()
        if control.category == "physical" and "data cent" in control.name.lower():
            status = ControlStatus.NOT_APPLICABLE
        elif roll < 0.72:
            status = ControlStatus.IMPLEMENTED
        elif roll < 0.88:
            status = ControlStatus.IN_PROGRESS
        else:
            status = ControlStatus.NOT_STARTED
        if control.long_lead and status == ControlStatus.IMPLEMENTED and rng.random() < 0.5:
            status = ControlStatus.IN_PROGRESS
        target = None
        if status not in (ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE):
            target = today + dt.timedelta(days=rng.randint(-20, 110))
        changes: controls.ControlChanges = {
            "owner": owner,
            "backup_owner": backup,
            "target_date": target,
        }
        if rng.random() < 0.08:
            changes["owner"] = None  # a few unowned controls for the dashboard's blockers
            changes["backup_owner"] = None
        if status == ControlStatus.NOT_APPLICABLE:
            changes["na_justification"] = (
                "Northwind runs entirely on AWS; it has no data centre or server room of its "
                "own. Physical safeguards are the provider's and are checked through its SOC 2 "
                "report every year."
            )
        if status != ControlStatus.NOT_STARTED:
            if status == ControlStatus.IMPLEMENTED:
                controls.control_update(
                    actor=owner, control=control, changes={"status": ControlStatus.IN_PROGRESS},
                    reason="Work started",
                )  # fmt: skip
            changes["status"] = status
        if status == ControlStatus.IMPLEMENTED:
            changes["narrative"] = demo_narrative(control, owner=owner, organization=org)
        controls.control_update(
            actor=dana, control=control, changes=changes, reason=_reason(status)
        )

    evidence_demo.seed(organization=org, users=users, today=today)
    # The roster first: policies are sent to the people in scope.
    people_demo.seed(organization=org, users=users, today=today)
    policies_demo.seed(organization=org, users=users, today=today)
    vendors_demo.seed(organization=org, users=users, today=today)
    monitoring_demo.seed(organization=org, users=users)
    meetings_demo.seed(organization=org, users=users)

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
