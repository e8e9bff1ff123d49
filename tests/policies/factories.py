"""Builders for the policies tests: people on the roster and policies in every state, made
through the services (so they carry their status rows and audit events)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import factory
from django.utils import timezone

from compliance.models import User
from people.models import EmploymentType, Person
from policies import services
from policies.models import Policy, PolicyVersion
from tests.conftest import World

BODY = """# Sample policy

## Purpose

Keep things safe.

- one rule
- another rule
"""


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    full_name = factory.Sequence(lambda n: f"Person {n:03d}")
    email = factory.Sequence(lambda n: f"person{n}@acme.test")
    department = "Engineering"
    employment_type = EmploymentType.EMPLOYEE
    start_date = dt.date(2024, 1, 15)


def make_policy(
    world: World,
    *,
    title: str = "Access Control Policy",
    owner: User | None = None,
    body: str = BODY,
    controls: tuple = (),
    review_months: int = 12,
) -> Policy:
    return services.policy_create(
        actor=world.users["admin"],
        organization=world.org,
        title=title,
        category="access",
        owner=owner,
        body=body,
        controls=list(controls),
        review_months=review_months,
    )


def first_version(policy: Policy) -> PolicyVersion:
    return PolicyVersion.objects.get(policy=policy, number=1)


def approve(
    world: World, version: PolicyVersion, *, effective: dt.date | None = None
) -> PolicyVersion:
    admin = world.users["admin"]
    services.policy_version_submit(actor=admin, version=version)
    return services.policy_version_approve(actor=admin, version=version, effective_date=effective)


def approved_policy(world: World, **kwargs: object) -> tuple[Policy, PolicyVersion]:
    effective = kwargs.pop("effective", None)
    policy = make_policy(world, **kwargs)  # type: ignore[arg-type]
    version = approve(world, first_version(policy), effective=effective)  # type: ignore[arg-type]
    return policy, version


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@dataclass
class PolicyWorld:
    """People on acme's roster: the member persona is Mia (linked to their account), plus
    colleagues in two departments, a contractor, someone who left and a future hire."""

    world: World
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def org(self):  # type: ignore[no-untyped-def]
        return self.world.org


def build_policy_world(world: World) -> PolicyWorld:
    org = world.org
    today = timezone.localdate()
    people = {
        "member": PersonFactory(
            organization=org,
            full_name="Mia Member",
            email="member@acme.test",
            user=world.users["member"],
        ),
        "owner": PersonFactory(organization=org, full_name="Olga Owner", email="OWNER@acme.test"),
        "eng": PersonFactory(organization=org, full_name="Eli Engineer", department="Engineering"),
        "sales": PersonFactory(organization=org, full_name="Sara Sales", department="Sales"),
        "contractor": PersonFactory(
            organization=org,
            full_name="Carl Contractor",
            department="Engineering",
            employment_type=EmploymentType.CONTRACTOR,
        ),
        "left": PersonFactory(
            organization=org,
            full_name="Lea Left",
            start_date=dt.date(2023, 1, 1),
            end_date=today - dt.timedelta(days=10),
        ),
        "future": PersonFactory(
            organization=org,
            full_name="Finn Future",
            start_date=today + dt.timedelta(days=20),
        ),
        "globex": PersonFactory(organization=world.other_org, full_name="Gus Globex"),
    }
    return PolicyWorld(world=world, people=people)
