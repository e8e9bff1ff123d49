"""The people API: the roster with completion, records, and the CSV import's JSON errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from people.models import Person, PersonnelRecord, PersonnelRequirement
from people.services import record_create
from tests.conftest import World
from tests.people.factories import PersonFactory

ACME = "/api/organizations/acme/people/"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", text.encode(), "text/csv")


# --- the roster ---------------------------------------------------------------------------------


def test_the_list_shows_each_person_with_their_completion(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    pat = PersonFactory(
        organization=world.org, full_name="Pat", start_date=today - dt.timedelta(days=3)
    )
    record_create(actor=None, person=pat, kind="mfa", completed_on=today)
    PersonFactory(organization=world.other_org, full_name="Globex person")

    response = world.api("viewer").get(ACME)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["full_name"] == "Pat"
    cells = {c["requirement"]: c for c in row["completion"]}
    assert cells["mfa"]["state"] == "done"
    assert cells["background_check"] == {
        "requirement": "background_check",
        "state": "overdue",
        "due": str(today - dt.timedelta(days=3)),
        "done_on": None,
        "expires": None,
        "note": "",
    }
    assert cells["offboarding"]["state"] == "not_required"


def test_the_list_filters_and_sorts(world: World, today: dt.date) -> None:
    left = today - dt.timedelta(days=1)
    PersonFactory(organization=world.org, full_name="Old", department="Sales",
                  start_date=dt.date(2020, 1, 1), end_date=left)  # fmt: skip
    PersonFactory(organization=world.org, full_name="Early", department="Sales",
                  start_date=dt.date(2021, 1, 1))  # fmt: skip
    PersonFactory(organization=world.org, full_name="Late", department="Sales",
                  start_date=dt.date(2024, 1, 1))  # fmt: skip
    PersonFactory(organization=world.org, full_name="Engineer", department="Engineering")

    response = world.api("member").get(
        ACME, {"department": "Sales", "status": "current", "ordering": "-start_date"}
    )
    assert [r["full_name"] for r in response.json()["results"]] == ["Late", "Early"]
    bad = world.api("member").get(ACME, {"status": "retired"})
    assert bad.status_code == 400
    assert "status" in bad.json()


def test_the_list_costs_the_same_queries_for_few_or_many_people(
    world: World, requirements: dict[str, PersonnelRequirement]
) -> None:
    client = world.api("admin")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(ACME).status_code == 200
        return len(captured.captured_queries)

    PersonFactory.create_batch(3, organization=world.org)
    queries()  # the first request loads the user's memberships once
    few = queries()
    boss = PersonFactory(organization=world.org)
    PersonFactory.create_batch(30, organization=world.org, manager=boss)
    assert queries() == few


def test_an_admin_creates_a_person_linked_to_their_account(world: World) -> None:
    response = world.api("admin").post(
        ACME,
        {
            "full_name": "Member Person",
            "email": "member@acme.test",
            "start_date": "2025-01-06",
            "employment_type": "contractor",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["user"], body["employment_type"]) == (world.users["member"].pk, "contractor")
    assert {c["requirement"] for c in body["completion"]} >= {"background_check", "mfa"}


OK = {"full_name": "X", "email": "x@acme.test", "start_date": "2025-01-06"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"full_name": "X", "email": "nope", "start_date": "2025-01-06"}, "email"),
        ({"full_name": "X", "email": "x@acme.test", "start_date": "06/01/2025"}, "start_date"),
        ({"full_name": "X", "email": "x@acme.test"}, "start_date"),
        (
            {"full_name": "X", "email": "x@acme.test", "start_date": "2025-01-06",
             "end_date": "2024-01-01"},
            "end_date",
        ),
        ({**OK, "user": 1}, "user"),
        ({**OK, "salary": 1}, "salary"),
        ({"full_name": "X", "email": "taken@acme.test", "start_date": "2025-01-06"}, "email"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    world: World, data: dict[str, Any], field: str
) -> None:
    PersonFactory(organization=world.org, email="taken@acme.test")
    before = AuditEvent.objects.count()
    response = world.api("admin").post(ACME, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Person.objects.count() == 1
    assert AuditEvent.objects.count() == before


def test_a_manager_from_another_organization_is_refused(world: World) -> None:
    foreign = PersonFactory(organization=world.other_org)
    response = world.api("admin").post(
        ACME,
        {"full_name": "X", "email": "x@acme.test", "start_date": "2025-01-06",
         "manager": foreign.pk},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "manager" in response.json()


def test_setting_the_last_day_starts_offboarding(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org, start_date=dt.date(2022, 1, 1))
    response = world.api("admin").patch(
        f"{ACME}{pat.pk}/", {"end_date": str(today - dt.timedelta(days=3))}, format="json"
    )
    assert response.status_code == 200
    cells = {c["requirement"]: c for c in response.json()["completion"]}
    assert cells["offboarding"]["state"] == "overdue"
    assert cells["mfa"]["state"] == "not_required"


# --- records ------------------------------------------------------------------------------------


def test_records_are_listed_latest_first_and_filtered(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    for days in (400, 10):
        record_create(
            actor=world.users["admin"],
            person=pat,
            kind="security_training",
            completed_on=today - dt.timedelta(days=days),
        )
    record_create(actor=None, person=pat, kind="mfa", completed_on=today)
    response = world.api("viewer").get(
        f"{ACME}{pat.pk}/records/", {"requirement": "security_training"}
    )
    rows = response.json()["results"]
    assert [r["completed_on"] for r in rows] == [
        str(today - dt.timedelta(days=10)),
        str(today - dt.timedelta(days=400)),
    ]
    assert rows[0]["recorded_by"] == "admin@acme.test"


def test_an_admin_records_a_background_check_with_evidence(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    report = EvidenceItem.objects.create(
        organization=world.org, title="Report", kind="note", effective_date=today
    )
    response = world.api("admin").post(
        f"{ACME}{pat.pk}/records/",
        {
            "requirement": "background_check",
            "completed_on": str(today),
            "provider": "Sterling",
            "check_result": "clear",
            "evidence": report.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    record = PersonnelRecord.objects.get()
    assert (record.result, record.evidence) == ("clear", report)
    assert response.json()["check_result"] == "clear"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"requirement": "background_check", "completed_on": "2025-01-01"}, "provider"),
        ({"requirement": "mfa", "completed_on": "2025-01-01", "check_result": "clear"},
         "check_result"),
        ({"requirement": "policy_acknowledgements", "completed_on": "2025-01-01"}, "requirement"),
        ({"requirement": "offboarding", "completed_on": "2025-01-01"}, "requirement"),
        ({"requirement": "mfa", "completed_on": "2999-01-01"}, "completed_on"),
        ({"requirement": "mfa", "completed_on": "2025-01-01", "evidence": "foreign"}, "evidence"),
        ({"requirement": "mfa", "completed_on": "2025-01-01", "person": 1}, "person"),
    ],
)  # fmt: skip
def test_a_bad_record_is_a_400_naming_the_field(
    world: World, data: dict[str, Any], field: str, today: dt.date
) -> None:
    pat = PersonFactory(organization=world.org)
    if data.get("evidence") == "foreign":
        data["evidence"] = EvidenceItem.objects.create(
            organization=world.other_org, title="Globex", kind="note", effective_date=today
        ).pk
    response = world.api("admin").post(f"{ACME}{pat.pk}/records/", data, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not PersonnelRecord.objects.exists()


# --- import -------------------------------------------------------------------------------------


BAD_CSV = (
    "full_name,email,start_date,manager_email\n"
    "Grace,grace@acme.test,2023-01-02,\n"
    "Ada,ada@acme.test,2024-13-01,grace@acme.test\n"
    "Alan,alan@acme.test,2024-01-01,nobody@acme.test\n"
)


def test_an_import_with_bad_rows_answers_400_listing_each_row(world: World) -> None:
    response = world.api("admin").post(
        f"{ACME}import/", {"file": upload(BAD_CSV)}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Nothing was imported: 2 problem(s) on 2 line(s)."
    assert body["errors"] == [
        {
            "line": 3,
            "column": "start_date",
            "reason": "start_date '2024-13-01' is not a date; use YYYY-MM-DD.",
        },
        {
            "line": 4,
            "column": "manager_email",
            "reason": "manager_email nobody@acme.test is not in the roster or in this file.",
        },
    ]
    assert (body["created"], body["skipped_lines"]) == (0, [])
    assert not Person.objects.exists()


def test_a_valid_only_import_answers_201_with_the_skipped_lines(world: World) -> None:
    response = world.api("admin").post(
        f"{ACME}import/", {"file": upload(BAD_CSV), "mode": "valid_only"}, format="multipart"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["skipped_lines"], body["rows"]) == (1, [3, 4], 3)
    assert [e["line"] for e in body["errors"]] == [3, 4]
    assert list(Person.objects.values_list("email", flat=True)) == ["grace@acme.test"]


def test_an_import_can_update_existing_people(world: World) -> None:
    PersonFactory(organization=world.org, email="grace@acme.test", full_name="G.")
    response = world.api("admin").post(
        f"{ACME}import/",
        {"file": upload("full_name,email,start_date\nGrace,grace@acme.test,2023-01-02\n"),
         "update_existing": "true"},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["updated"]) == (0, 1)
    assert Person.objects.get().full_name == "Grace"


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "file"), ({"mode": "sometimes"}, "mode"), ({"extra": "1"}, "extra")],
)
def test_an_import_request_without_a_file_or_with_a_bad_mode_is_refused(
    world: World, data: dict[str, Any], field: str
) -> None:
    if field != "file":
        data["file"] = upload(BAD_CSV)
    response = world.api("admin").post(f"{ACME}import/", data, format="multipart")
    assert response.status_code == 400
    assert field in response.json()


def test_a_header_only_file_is_refused(world: World) -> None:
    response = world.api("admin").post(
        f"{ACME}import/", {"file": upload("full_name,email,start_date\n")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The file has no rows to import."


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_people_endpoints(world: World) -> None:
    schema = world.api("viewer").get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    person = paths["/api/organizations/{org}/people/{id}/"]
    assert {"get", "patch"} <= set(person)
    assert "put" not in person
    assert "post" in paths["/api/organizations/{org}/people/{person}/records/"]
    upload_schema = paths["/api/organizations/{org}/people/import/"]["post"]
    assert "multipart/form-data" in upload_schema["requestBody"]["content"]
    assert {"201", "400"} <= set(upload_schema["responses"])
