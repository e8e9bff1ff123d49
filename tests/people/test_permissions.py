"""Every people page and endpoint against every persona.

Program readers (admins, members, viewers) see the roster and completion; only admins
(Capability.MANAGE_PEOPLE) create, edit, import, record and configure; auditors get 403; another
organization's person is a 404. Denied writes change nothing: no audit event, the row unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from compliance.models import AuditEvent
from people.models import Person, PersonnelRecord, PersonnelRequirement
from tests.conftest import PERSONAS, World
from tests.matrix import (
    ADMIN_ONLY_READ,
    HIDDEN_FROM_ALL,
    READ_PROGRAM,
    Case,
    admin_only_write,
    check_page_case,
)
from tests.people.factories import PersonFactory

API = "/api/organizations"


def u(name: str, *args: object) -> str:
    return reverse(name, args=args)


def pat(world: World) -> Person:
    return Person.objects.get(organization=world.org, email="pat@acme.test")


def foreign(world: World) -> Person:
    return Person.objects.get(organization=world.other_org, email="gina@globex.test")


def person_state(person: Person) -> Any:
    person.refresh_from_db()
    return (person.full_name, person.title, person.end_date, person.records.count())


def person_data(world: World) -> dict[str, Any]:
    return {
        "full_name": "Pat Jones",
        "email": "pat@acme.test",
        "title": "Principal engineer",
        "department": "Engineering",
        "employment_type": "employee",
        "start_date": "2024-03-01",
        "end_date": "",
        "manager": "",
    }


def record_data(world: World) -> dict[str, Any]:
    return {
        "kind": "background_check",
        "completed_on": "2024-02-20",
        "provider": "Sterling",
        "result": "clear",
        "notes": "",
    }


def import_data(world: World) -> dict[str, Any]:
    content = b"full_name,email,start_date\nNew Hire,new.hire@acme.test,2025-01-06\n"
    return {"file": SimpleUploadedFile("people.csv", content, "text/csv"), "mode": "all_or_nothing"}


def roster_count(world: World) -> int:
    return Person.objects.filter(organization=world.org).count()


def requirement_state(world: World) -> Any:
    requirement = PersonnelRequirement.objects.filter(
        organization=world.org, kind="security_training"
    ).first()
    return requirement and (requirement.due_days, requirement.control_id)


READERS_FOREIGN = {**HIDDEN_FROM_ALL, "auditor": 403}  # another org's row through acme's URL
ADMIN_FOREIGN_WRITE = {**ADMIN_ONLY_READ, "admin": 404}  # capability first, then the lookup

PAGE_CASES = [
    Case("roster", "get", lambda w: u("person_list", "acme"), READ_PROGRAM),
    Case(
        "roster filtered by completion",
        "get",
        lambda w: u("person_list", "acme") + "?requirement=background_check&state=overdue",
        READ_PROGRAM,
    ),
    Case("completion matrix", "get", lambda w: u("person_completion", "acme"), READ_PROGRAM),
    Case("requirements", "get", lambda w: u("people_requirements", "acme"), READ_PROGRAM),
    Case("person page", "get", lambda w: u("person_detail", "acme", pat(w).pk), READ_PROGRAM),
    Case(
        "another organization's person through our URL",
        "get",
        lambda w: u("person_detail", "acme", foreign(w).pk),
        READERS_FOREIGN,
    ),
    Case(
        "another organization's person through its URL",
        "get",
        lambda w: u("person_detail", "globex", foreign(w).pk),
        {**HIDDEN_FROM_ALL, "outsider": 200},
    ),
    Case("add person form", "get", lambda w: u("person_create", "acme"), admin_only_write(200)),
    Case(
        "add person",
        "post",
        lambda w: u("person_create", "acme"),
        admin_only_write(302),
        data=lambda w: {**person_data(w), "email": "someone.new@acme.test"},
        state=roster_count,
    ),
    Case("edit form", "get", lambda w: u("person_edit", "acme", pat(w).pk), admin_only_write(200)),
    Case(
        "edit person",
        "post",
        lambda w: u("person_edit", "acme", pat(w).pk),
        admin_only_write(302),
        data=person_data,
        state=lambda w: person_state(pat(w)),
    ),
    Case(
        "edit another organization's person",
        "post",
        lambda w: u("person_edit", "acme", foreign(w).pk),
        ADMIN_FOREIGN_WRITE,
        data=person_data,
        state=lambda w: person_state(foreign(w)),
    ),
    Case(
        "record a completion",
        "post",
        lambda w: u("person_record_create", "acme", pat(w).pk),
        admin_only_write(302),
        data=record_data,
        state=lambda w: person_state(pat(w)),
    ),
    Case(
        "record URL opened in the browser",
        "get",
        lambda w: u("person_record_create", "acme", pat(w).pk),
        admin_only_write(302),  # back to the person's page, where the form is
    ),
    Case(
        "record for another organization's person",
        "post",
        lambda w: u("person_record_create", "acme", foreign(w).pk),
        ADMIN_FOREIGN_WRITE,
        data=record_data,
        state=lambda w: PersonnelRecord.objects.count(),
    ),
    Case("import page", "get", lambda w: u("person_import", "acme"), admin_only_write(200)),
    Case(
        "import a CSV",
        "post",
        lambda w: u("person_import", "acme"),
        admin_only_write(302),
        data=import_data,
        state=roster_count,
    ),
    Case(
        "import template",
        "get",
        lambda w: u("person_import_template", "acme"),
        admin_only_write(200),
    ),
    Case(
        "requirement form",
        "get",
        lambda w: u("people_requirement_edit", "acme", "security_training"),
        admin_only_write(200),
    ),
    Case(
        "configure a requirement",
        "post",
        lambda w: u("people_requirement_edit", "acme", "security_training"),
        admin_only_write(302),
        data=lambda w: {
            "applies_to_employees": "on",
            "applies_to_contractors": "on",
            "due_days": "21",
            "control": w.control.pk,
        },
        state=requirement_state,
    ),
    Case(
        "configure an unknown requirement",
        "post",
        lambda w: u("people_requirement_edit", "acme", "juggling"),
        {**ADMIN_ONLY_READ, "admin": 404},
        data=lambda w: {"due_days": "3"},
        state=requirement_state,
    ),
]


@pytest.fixture
def people(world: World) -> None:
    PersonFactory(organization=world.org, full_name="Pat Jones", email="pat@acme.test")
    PersonFactory(organization=world.other_org, full_name="Gina Globex", email="gina@globex.test")


PAGE_PARAMS = [param for case in PAGE_CASES for param in case.params()]


@pytest.mark.parametrize(
    ("case", "persona"), PAGE_PARAMS, ids=[f"{c.name}-{p}" for c, p in PAGE_PARAMS]
)
def test_page_permissions(world: World, people: None, case: Case, persona: str) -> None:
    check_page_case(world, case, persona)


# --- the API ------------------------------------------------------------------------------------

API_READ = {**READ_PROGRAM, "anonymous": 401}
API_ADMIN_ONLY = {**ADMIN_ONLY_READ, "anonymous": 401}


def api_admin_write(success: int) -> dict[str, Any]:
    return {**API_ADMIN_ONLY, "admin": success}


def api_import_data(world: World) -> dict[str, Any]:
    return import_data(world)


API_CASES = [
    Case("people list", "get", lambda w: f"{API}/acme/people/", API_READ),
    Case(
        "people list filtered",
        "get",
        lambda w: f"{API}/acme/people/?status=current&department=Engineering&ordering=-start_date",
        API_READ,
    ),
    Case("person detail", "get", lambda w: f"{API}/acme/people/{pat(w).pk}/", API_READ),
    Case(
        "another organization's person",
        "get",
        lambda w: f"{API}/acme/people/{foreign(w).pk}/",
        {**HIDDEN_FROM_ALL, "anonymous": 401, "auditor": 403},
    ),
    Case(
        "create a person",
        "post",
        lambda w: f"{API}/acme/people/",
        api_admin_write(201),
        data=lambda w: {
            "full_name": "Api Person",
            "email": "api.person@acme.test",
            "start_date": "2025-01-06",
        },
        state=roster_count,
    ),
    Case(
        "update a person",
        "patch",
        lambda w: f"{API}/acme/people/{pat(w).pk}/",
        api_admin_write(200),
        data=lambda w: {"title": "Principal engineer", "end_date": "2025-06-30"},
        state=lambda w: person_state(pat(w)),
    ),
    Case(
        "update another organization's person",
        "patch",
        lambda w: f"{API}/acme/people/{foreign(w).pk}/",
        {**API_ADMIN_ONLY, "admin": 404},
        data=lambda w: {"title": "Changed"},
        state=lambda w: person_state(foreign(w)),
    ),
    Case("records list", "get", lambda w: f"{API}/acme/people/{pat(w).pk}/records/", API_READ),
    Case(
        "records of another organization's person",
        "get",
        lambda w: f"{API}/acme/people/{foreign(w).pk}/records/",
        {**HIDDEN_FROM_ALL, "anonymous": 401, "auditor": 403},
    ),
    Case(
        "record a completion",
        "post",
        lambda w: f"{API}/acme/people/{pat(w).pk}/records/",
        api_admin_write(201),
        data=lambda w: {
            "requirement": "security_training",
            "completed_on": str(dt.date(2024, 3, 4)),
            "provider": "KnowBe4",
        },
        state=lambda w: person_state(pat(w)),
    ),
    Case(
        "record for another organization's person",
        "post",
        lambda w: f"{API}/acme/people/{foreign(w).pk}/records/",
        {**API_ADMIN_ONLY, "admin": 404},
        data=lambda w: {"requirement": "mfa", "completed_on": "2024-03-04"},
        state=lambda w: PersonnelRecord.objects.count(),
    ),
    Case(
        "import a CSV",
        "post",
        lambda w: f"{API}/acme/people/import/",
        api_admin_write(201),
        data=api_import_data,
        state=roster_count,
    ),
]
API_PARAMS = [param for case in API_CASES for param in case.params()]


@pytest.mark.parametrize(
    ("case", "persona"), API_PARAMS, ids=[f"{c.name}-{p}" for c, p in API_PARAMS]
)
def test_api_permissions(world: World, people: None, case: Case, persona: str) -> None:
    client = world.api(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()
    data = case.data(world)
    multipart = any(hasattr(v, "read") for v in data.values())

    response = getattr(client, case.method)(
        case.url(world), data=data, format="multipart" if multipart else "json"
    )

    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:800]
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    if response.status_code >= 400:
        assert "detail" in response.json(), "an error without a JSON detail"
    if case.method == "get":
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    else:
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


def test_every_persona_has_an_expectation() -> None:
    for case in PAGE_CASES + API_CASES:
        assert set(case.expected) == set(PERSONAS), case.name
