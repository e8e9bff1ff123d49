"""People's part of "My work": admins see what is overdue, people see their own open items."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.work import WorkItem, work_items
from people.models import PersonnelRequirement
from people.services import record_create
from people.work import people_work
from tests.conftest import World
from tests.people.factories import PersonFactory


def people_items(world: World, persona: str) -> list[WorkItem]:
    user = world.users[persona]
    kinds = {"Your onboarding", "Onboarding overdue", "Revoke access"}
    return [i for i in work_items(user=user, organization=world.org) if i.kind in kinds]


def test_nothing_is_listed_before_the_organization_tracks_people(world: World) -> None:
    PersonFactory(organization=world.org, user=world.users["member"])
    assert people_items(world, "admin") == []
    assert people_items(world, "member") == []


def test_admins_see_overdue_onboarding_by_requirement_and_each_late_offboarding(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    started = today - dt.timedelta(days=20)  # training (30 days) is due, not overdue
    PersonFactory.create_batch(2, organization=world.org, start_date=started)
    ryan = PersonFactory(
        organization=world.org,
        full_name="Ryan Walsh",
        start_date=dt.date(2020, 1, 1),
        end_date=today - dt.timedelta(days=4),
    )
    items = people_items(world, "admin")
    by_title = {i.title: i for i in items}
    check = by_title["Background check: 2 people overdue"]
    assert check.url == (
        reverse("person_list", args=["acme"]) + "?requirement=background_check&state=overdue"
    )
    assert (check.due, check.tone) == (started, "bad")
    revoke = next(i for i in items if i.kind == "Revoke access")
    assert revoke.title.startswith("Ryan Walsh left on")
    assert revoke.url == reverse("person_detail", args=["acme", ryan.pk])
    assert revoke.due == today - dt.timedelta(days=3)
    # Due (not overdue) items are not an admin's to-do.
    assert not any("Security awareness training" in i.title for i in items)


def test_members_see_no_one_elses_items(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=40))
    assert people_items(world, "member") == []


def test_a_person_sees_their_own_open_items_they_can_act_on(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    me = PersonFactory(
        organization=world.org, user=world.users["member"], start_date=today - dt.timedelta(5)
    )
    record_create(actor=None, person=me, kind="agreement", completed_on=today)
    items = people_items(world, "member")
    assert {i.title for i in items} == {
        "Security awareness training",
        "Password manager enrolled",
        "MFA enabled",
    }
    mfa = next(i for i in items if i.title == "MFA enabled")
    assert (mfa.status, mfa.tone, mfa.due) == ("Overdue", "bad", today - dt.timedelta(days=4))
    training = next(i for i in items if i.title == "Security awareness training")
    assert (training.status, training.due) == ("Due", today + dt.timedelta(days=25))
    assert training.url == reverse("person_detail", args=["acme", me.pk])


def test_a_training_about_to_expire_is_listed_for_renewal(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    me = PersonFactory(
        organization=world.org, user=world.users["viewer"], start_date=dt.date(2020, 1, 1)
    )
    for kind in ("agreement", "password_manager", "mfa"):
        record_create(actor=None, person=me, kind=kind, completed_on=dt.date(2020, 1, 2))
    record_create(
        actor=None, person=me, kind="security_training", completed_on=today - dt.timedelta(350)
    )
    [item] = people_items(world, "viewer")
    assert item.title.startswith("Security awareness training (Expires")
    assert item.status == "Due"


def test_the_work_source_costs_the_same_queries_for_few_or_many_people(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    PersonFactory(organization=world.org, user=world.users["admin"], start_date=today)

    admin = world.users["admin"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            list(people_work(admin, world.org))
        return len(captured.captured_queries)

    queries()  # loads the admin's memberships once

    PersonFactory.create_batch(3, organization=world.org, start_date=today - dt.timedelta(40))
    few = queries()
    PersonFactory.create_batch(40, organization=world.org, start_date=today - dt.timedelta(40))
    PersonFactory.create_batch(5, organization=world.org, end_date=today - dt.timedelta(9))
    assert queries() == few
