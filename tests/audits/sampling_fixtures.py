"""Shared by the sampling and effectiveness tests: auditors of another engagement and revoked,
people, tests and runs at the period's boundaries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from audits import services
from audits.models import Audit, AuditorAccess
from compliance.models import Role, User
from controls.models import ControlTest, TestRun
from people.models import Person
from tests.conftest import World, enable_mfa
from tests.factories import MembershipFactory, UserFactory


def fresh(user: User) -> User:
    """The user as a new request sees them (no cached memberships or windows)."""
    return User.objects.get(pk=user.pk)


def auditor_user(world: World, persona: str) -> User:
    user = UserFactory(email=f"{persona}@acme.test", full_name=persona.title())
    MembershipFactory(user=user, organization=world.org, role=Role.AUDITOR)
    enable_mfa(user)
    world.users[persona] = user
    return user


def add_personas(world: World, engagement: Audit, make_audit: Callable[..., Audit]) -> World:
    """Adds ``other_auditor`` (of another engagement of the organization) and
    ``revoked_auditor`` (of this one, revoked)."""
    admin = world.users["admin"]
    other = make_audit(name="Another engagement")
    auditor_user(world, "other_auditor")
    services.auditor_invite(actor=admin, audit=other, email="other_auditor@acme.test")
    auditor_user(world, "revoked_auditor")
    access = services.auditor_invite(
        actor=admin, audit=engagement, email="revoked_auditor@acme.test"
    )
    services.auditor_revoke(actor=admin, access=AuditorAccess.objects.get(pk=access.pk))
    return world


def person(
    world: World, name: str, start: dt.date, end: dt.date | None = None, **kw: Any
) -> Person:
    return Person.objects.create(
        organization=kw.pop("organization", world.org),
        full_name=name,
        email=f"{name.lower().replace(' ', '.')}@acme.test",
        employment_type="employee",
        start_date=start,
        end_date=end,
    )


def utc(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def make_test(world: World, name: str = "MFA enforced", **kw: Any) -> ControlTest:
    test = ControlTest.objects.create(
        organization=kw.pop("organization", world.org),
        control=kw.pop("control", world.control),
        name=name,
        check_key=kw.pop("check_key", "attest.personnel_requirement"),
        schedule_kind="interval",
        interval_minutes=kw.pop("interval_minutes", 60),
        **kw,
    )
    ControlTest.objects.filter(pk=test.pk).update(created_at=utc(dt.date(2025, 1, 1)))
    test.refresh_from_db()
    return test


def run(test: ControlTest, at: dt.datetime, status: str = "passed", **kw: Any) -> TestRun:
    return TestRun.objects.create(
        control_test=test,
        organization=test.organization,
        trigger=kw.pop("trigger", "schedule"),
        status=status,
        started_at=at,
        finished_at=at,
        **kw,
    )
