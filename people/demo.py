"""Northwind Cloud's roster for the demo, built only through the people services.

About 25 people across engineering, sales, support, people ops and finance, a few contractors,
one hire starting soon and two leavers. Most onboarding is done; a realistic few items are not:
an account executive without a background check (so HR-01 is not ready), a contractor who never
enrolled in the password manager, a training about to expire, a new starter still within their
deadlines, and a leaver whose access was not revoked within the SLA (so HR-04 is not ready).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from compliance.demo_timeline import Timeline
from compliance.models import Organization, User
from controls.models import Control
from evidence.models import EvidenceItem
from people import services
from people.models import (
    BackgroundCheckResult,
    EmploymentType,
    Person,
    PersonnelRecord,
    RequirementKind,
)

# Requirement → the starter control it feeds (by ref_id), when the organization has it.
CONTROL_REFS: dict[str, str] = {
    RequirementKind.BACKGROUND_CHECK: "HR-01",
    RequirementKind.AGREEMENT: "HR-02",
    RequirementKind.SECURITY_TRAINING: "HR-03",
    RequirementKind.OFFBOARDING: "HR-04",
    RequirementKind.MFA: "IAM-02",
    # Workforce passwords live in the identity provider's world (IAM-01 covers SSO and the
    # password rules), the closest starter control to "everyone uses the password manager".
    RequirementKind.PASSWORD_MANAGER: "IAM-01",
}


@dataclass(frozen=True)
class DemoPerson:
    key: str  # the email's local part
    name: str
    title: str
    department: str
    manager: str  # a key, or ""
    started: int  # days before today (negative: starts later)
    left: int | None = None  # days before today
    contractor: bool = False
    agency: bool = False  # a contractor placed by an agency, with the agency's email

    @property
    def email(self) -> str:
        return f"{self.key}@{'contractors' if self.agency else 'northwind'}.test"


P = DemoPerson
ENG, SALES, SUPPORT, PEOPLE, FINANCE = "Engineering", "Sales", "Support", "People Ops", "Finance"
ROSTER = [  # managers come before their reports
    P("elena", "Elena Novak", "Chief Executive Officer", FINANCE, "", 2200),
    P("dana", "Dana Whitfield", "CFO, compliance lead", FINANCE, "elena", 1900),
    P("rahul", "Rahul Mehta", "Controller", FINANCE, "dana", 1100),
    P("sam", "Sam Ortiz", "Board observer (advisor)", FINANCE, "elena", 700, contractor=True),
    P("marcus", "Marcus Lee", "VP Engineering", ENG, "elena", 2000),
    P("priya", "Priya Raman", "Security engineer", ENG, "marcus", 1300),
    P("tom", "Tom Becker", "IT manager", ENG, "marcus", 1500),
    P("hana", "Hana Suzuki", "Staff engineer", ENG, "marcus", 1600),
    P("diego", "Diego Alvarez", "Backend engineer", ENG, "hana", 620),
    P("olivia", "Olivia Brown", "Frontend engineer", ENG, "hana", 410),
    P("kwame", "Kwame Mensah", "Site reliability engineer", ENG, "marcus", 300),
    P("lena", "Lena Fischer", "Data engineer", ENG, "hana", 12),
    P(
        "viktor",
        "Viktor Petrov",
        "Penetration tester",
        ENG,
        "priya",
        95,
        contractor=True,
        agency=True,
    ),
    P("ines", "Ines Costa", "Mobile developer", ENG, "hana", 160, contractor=True, agency=True),
    P("grace", "Grace Kim", "VP Sales", SALES, "elena", 1200),
    P("noah", "Noah Williams", "Account executive", SALES, "grace", 45),
    P("amara", "Amara Okafor", "Account executive", SALES, "grace", 520),
    P("lucas", "Lucas Martin", "Sales engineer", SALES, "grace", 840),
    P("sofia", "Sofia Rossi", "Support lead", SUPPORT, "elena", 980),
    P("ben", "Ben Carter", "Support engineer", SUPPORT, "sofia", 230),
    P("mei", "Mei Chen", "Support engineer", SUPPORT, "sofia", -9),
    P("alice", "Alice Moreno", "Head of People", PEOPLE, "elena", 1400),
    P("jonas", "Jonas Berg", "People partner", PEOPLE, "alice", 380),
    P("chloe", "Chloe Dubois", "Support engineer", SUPPORT, "sofia", 700, left=60),
    P("ryan", "Ryan Walsh", "Backend engineer", ENG, "hana", 900, left=5),
]

# The realistic gaps (everything else is done).
NO_BACKGROUND_CHECK = {"noah"}
NO_PASSWORD_MANAGER = {"ines"}
TRAINING_EXPIRING = {"lucas"}  # done 11 months ago: renewal due
NEW_STARTER = {"lena"}  # training not done yet, and not late
NOT_REVOKED = {"ryan"}  # left 5 days ago, access still there
CHECK_PROVIDERS = ["Sterling", "Checkr", "HireRight"]


def _days(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days)


def _link_controls(organization: Organization, actor: User) -> None:
    controls = {
        c.ref_id: c
        for c in Control.objects.filter(
            organization=organization, ref_id__in=CONTROL_REFS.values(), archived_at__isnull=True
        )
    }
    for requirement in services.people_requirements_ensure(organization=organization):
        control = controls.get(CONTROL_REFS.get(requirement.kind, ""))
        if control is not None and requirement.control_id != control.pk:
            services.requirement_update(
                actor=actor, requirement=requirement, changes={"control": control}
            )


def seed(
    *,
    organization: Organization,
    users: dict[str, User],
    today: dt.date,
    timeline: Timeline | None = None,
) -> list[Person]:
    actor = users["dana"]
    _link_controls(organization, actor)
    people: dict[str, Person] = {}
    for spec in ROSTER:
        people[spec.key] = services.person_create(
            actor=actor,
            organization=organization,
            full_name=spec.name,
            email=spec.email,
            title=spec.title,
            department=spec.department,
            manager=people.get(spec.manager),
            employment_type=EmploymentType.CONTRACTOR
            if spec.contractor
            else EmploymentType.EMPLOYEE,
            start_date=_days(today, spec.started),
            end_date=_days(today, spec.left) if spec.left is not None else None,
        )
    evidence = (
        EvidenceItem.objects.filter(organization=organization, title__icontains="background")
        .order_by("-effective_date")
        .first()
    )
    for index, spec in enumerate(ROSTER):
        _records(actor, people[spec.key], spec, today, index, evidence)
    _redate(organization, timeline or Timeline.of(organization))
    return list(people.values())


def _redate(organization: Organization, timeline: Timeline) -> None:
    """The roster was entered at the program's kick-off (someone hired since, three weeks before
    their start), each record when it was completed (or at the kick-off, for one done before):
    the one place this demo step re-dates the rows the services stamped "now"."""
    kickoff = timeline.at(0, 0, 9, 45)
    for person in Person.objects.filter(organization=organization):
        entered = max(kickoff, timeline.on(person.start_date - dt.timedelta(days=21), 10))
        Person.objects.filter(pk=person.pk).update(created_at=entered)
        for record in PersonnelRecord.objects.filter(person=person):
            recorded = max(entered, timeline.on(record.completed_on, 17))
            PersonnelRecord.objects.filter(pk=record.pk).update(recorded_at=recorded)


def _records(
    actor: User,
    person: Person,
    spec: DemoPerson,
    today: dt.date,
    index: int,
    evidence: EvidenceItem | None,
) -> None:
    start = person.start_date

    def record(kind: str, on: dt.date, **extra: object) -> None:
        services.record_create(
            actor=actor,
            person=person,
            kind=kind,
            completed_on=min(on, today),
            today=today,
            **extra,  # type: ignore[arg-type]
        )

    if spec.key not in NO_BACKGROUND_CHECK and not spec.contractor:
        provider = CHECK_PROVIDERS[index % len(CHECK_PROVIDERS)]
        if spec.key == "diego":
            # A "consider" result, reviewed and cleared a week later: the latest counts.
            record(
                RequirementKind.BACKGROUND_CHECK, start - dt.timedelta(days=16),
                provider=provider, result=BackgroundCheckResult.CONSIDER,
                notes="An address history mismatch; sent to the candidate to explain.",
            )  # fmt: skip
        record(
            RequirementKind.BACKGROUND_CHECK, start - dt.timedelta(days=9),
            provider=provider, result=BackgroundCheckResult.CLEAR,
            evidence=evidence if index % 4 == 0 else None,
        )  # fmt: skip
    record(RequirementKind.AGREEMENT, start - dt.timedelta(days=7), notes="Signed with the offer.")
    if start > today:
        return  # starts later: the rest is not due yet
    if spec.key not in NEW_STARTER:
        if spec.key in TRAINING_EXPIRING:
            done = _days(today, 345)
        else:
            # Yearly: the latest completion sits somewhere in the last ten months.
            done = max(start + dt.timedelta(days=10), _days(today, 30 + (index * 37) % 270))
        record(RequirementKind.SECURITY_TRAINING, done, provider="KnowBe4")
    if spec.key not in NO_PASSWORD_MANAGER:
        record(RequirementKind.PASSWORD_MANAGER, start + dt.timedelta(days=2))
    record(RequirementKind.MFA, start)
    if person.end_date is not None and spec.key not in NOT_REVOKED:
        record(
            RequirementKind.OFFBOARDING, person.end_date,
            notes="Identity provider account suspended; laptop returned.",
        )  # fmt: skip
