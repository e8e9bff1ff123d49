"""The people pages: roster filters, the completion matrix and its links, forms and imports."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from people.models import EmploymentType, Person, PersonnelRecord, PersonnelRequirement
from people.services import record_create, requirement_update
from tests.conftest import World
from tests.people.factories import PersonFactory

ROSTER = reverse("person_list", args=["acme"])
MATRIX = reverse("person_completion", args=["acme"])


def names(html: str) -> list[str]:
    """The people listed in a roster or matrix page, in order."""
    return re.findall(r'href="/o/acme/people/\d+/">([^<]+)</a>', html)


@pytest.fixture
def staff(world: World, requirements: dict[str, PersonnelRequirement], today: dt.date) -> dict:
    """A small roster: done, overdue, upcoming, a contractor, two leavers."""
    admin = world.users["admin"]
    long_ago = dt.date(2021, 3, 1)
    done = PersonFactory(organization=world.org, full_name="Dora Done", department="Sales",
                         start_date=long_ago)  # fmt: skip
    for kind in ("agreement", "mfa", "password_manager", "security_training"):
        record_create(actor=admin, person=done, kind=kind, completed_on=today)
    record_create(actor=admin, person=done, kind="background_check", completed_on=long_ago,
                  provider="Sterling", result="clear")  # fmt: skip
    late = PersonFactory(organization=world.org, full_name="Larry Late", department="Engineering",
                         start_date=today - dt.timedelta(days=45))  # fmt: skip
    soon = PersonFactory(organization=world.org, full_name="Sue Soon", department="Engineering",
                         start_date=today + dt.timedelta(days=7))  # fmt: skip
    contractor = PersonFactory(organization=world.org, full_name="Carl Contractor",
                               department="Engineering", start_date=long_ago,
                               employment_type=EmploymentType.CONTRACTOR)  # fmt: skip
    gone = PersonFactory(organization=world.org, full_name="Gina Gone", department="Sales",
                         start_date=long_ago, end_date=today - dt.timedelta(days=30))  # fmt: skip
    record_create(actor=admin, person=gone, kind="offboarding", completed_on=gone.end_date)
    leaving = PersonFactory(organization=world.org, full_name="Leo Leaver", department="Sales",
                            start_date=long_ago, end_date=today - dt.timedelta(days=4))  # fmt: skip
    return {"done": done, "late": late, "soon": soon, "contractor": contractor, "gone": gone,
            "leaving": leaving}  # fmt: skip


# --- roster -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Carl Contractor", "Dora Done", "Gina Gone", "Larry Late", "Leo Leaver", "Sue Soon"]),
        ("?department=Sales", ["Dora Done", "Gina Gone", "Leo Leaver"]),
        ("?employment_type=contractor", ["Carl Contractor"]),
        ("?status=active", ["Carl Contractor", "Dora Done", "Larry Late"]),
        ("?status=upcoming", ["Sue Soon"]),
        ("?status=left", ["Gina Gone", "Leo Leaver"]),
        ("?status=open", ["Carl Contractor", "Dora Done", "Larry Late", "Leo Leaver", "Sue Soon"]),
        ("?q=late", ["Larry Late"]),
        ("?requirement=background_check&state=overdue", ["Larry Late"]),
        ("?requirement=background_check&state=not_required",
         ["Carl Contractor", "Gina Gone", "Leo Leaver"]),
        ("?requirement=offboarding&state=overdue", ["Leo Leaver"]),
        ("?requirement=offboarding&state=done", ["Gina Gone"]),
        ("?completion=overdue", ["Carl Contractor", "Larry Late", "Leo Leaver"]),
        ("?completion=complete", ["Dora Done", "Gina Gone"]),
        ("?sort=-start_date", ["Sue Soon", "Larry Late", "Carl Contractor", "Dora Done",
                               "Gina Gone", "Leo Leaver"]),  # ties stay in name order
        ("?status=retired", []),
    ],
)  # fmt: skip
def test_the_roster_filters_and_sorts(
    world: World, staff: dict, query: str, expected: list[str]
) -> None:
    response = world.client("viewer").get(ROSTER + query)
    assert response.status_code == 200
    assert names(response.content.decode()) == expected


def test_the_roster_answers_htmx_with_the_table_only(world: World, staff: dict) -> None:
    response = world.client("member").get(ROSTER + "?department=Sales", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<table" in html and "<html" not in html
    assert names(html) == ["Dora Done", "Gina Gone", "Leo Leaver"]


def test_the_roster_paginates(world: World, requirements: dict) -> None:
    PersonFactory.create_batch(55, organization=world.org)
    first = world.client("viewer").get(ROSTER).content.decode()
    second = world.client("viewer").get(ROSTER + "?page=2").content.decode()
    assert (len(names(first)), len(names(second))) == (50, 5)
    assert "1\u201350 of 55" in first


def test_only_admins_see_the_add_and_import_buttons(world: World, staff: dict) -> None:
    assert "Add person" in world.client("admin").get(ROSTER).content.decode()
    member_page = world.client("member").get(ROSTER).content.decode()
    assert "Add person" not in member_page and "Import CSV" not in member_page


# --- completion matrix --------------------------------------------------------------------------


def test_the_matrix_lists_people_with_overdue_items_first(world: World, staff: dict) -> None:
    html = world.client("viewer").get(MATRIX).content.decode()
    listed = names(html)
    # Open by default: current people, and leavers whose access is not revoked yet.
    assert "Gina Gone" not in listed
    assert listed[:3] == ["Larry Late", "Carl Contractor", "Leo Leaver"]
    assert set(listed[3:]) == {"Sue Soon", "Dora Done"}


def test_every_count_of_the_matrix_links_to_a_list_of_as_many_people(
    world: World, staff: dict
) -> None:
    client = world.client("viewer")
    html = client.get(MATRIX + "?department=Sales").content.decode()
    links = re.findall(
        r'<a (?:class="muted" )?href="(/o/acme/people/\?[^"]*requirement=(\w+)&amp;state=(\w+))"'
        r"[^>]*>(?:<span[^>]*>)?(\d+)",
        html,
    )
    assert len(links) == 4 * 7  # four states for each of the seven requirements
    for url, _kind, _state, count in links:
        listed = names(client.get(url.replace("&amp;", "&")).content.decode())
        assert len(listed) == int(count), url
        assert set(listed) <= {"Dora Done", "Leo Leaver"}  # Sales, open


def test_the_matrix_counts_per_requirement(world: World, staff: dict) -> None:
    response = world.client("viewer").get(MATRIX)
    tallies = {t.requirement.kind: t for t in response.context["tallies"]}
    check = tallies["background_check"]
    assert (check.overdue, check.due, check.done, check.not_required) == (1, 1, 1, 2)
    assert tallies["offboarding"].overdue == 1


def test_a_requirement_nobody_shown_needs_reads_none_due_not_a_percentage(
    world: World, staff: dict
) -> None:
    # The leavers are in Sales: among Engineering, nobody's access revocation is due.
    html = world.client("viewer").get(MATRIX + "?department=Engineering").content.decode()
    cells = dict(re.findall(r'<td data-testid="progress-(\w+)">(.*?)</td>', html, re.S))

    assert re.sub(r"<[^>]+>", "", cells["offboarding"]).strip() == "None due"
    assert "bar" not in cells["offboarding"]
    assert "0 of 3 · 0% done" in cells["agreement"]  # Carl, Larry and Sue: none done yet


def test_a_disabled_requirement_is_not_a_column(
    world: World, staff: dict, requirements: dict
) -> None:
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["password_manager"],
        changes={"applies_to_employees": False, "applies_to_contractors": False},
    )
    html = world.client("viewer").get(MATRIX).content.decode()
    assert "Password manager" not in html
    assert "MFA" in html


# --- person page --------------------------------------------------------------------------------


def test_the_person_page_shows_state_records_and_history(world: World, staff: dict) -> None:
    done = staff["done"]
    html = world.client("viewer").get(reverse("person_detail", args=["acme", done.pk])).content
    page = html.decode()
    assert "Dora Done" in page and "Sterling" in page and "Records" in page
    assert "Record a completion" not in page  # viewers read only


def test_an_admin_records_a_completion_from_the_person_page(
    world: World, staff: dict, today: dt.date
) -> None:
    late = staff["late"]
    client = world.client("admin")
    report = EvidenceItem.objects.create(
        organization=world.org, title="Check report", kind="note", effective_date=today
    )
    page = client.get(reverse("person_detail", args=["acme", late.pk])).content.decode()
    assert "Check report" in page  # the evidence dropdown
    response = client.post(
        reverse("person_record_create", args=["acme", late.pk]),
        {"kind": "background_check", "completed_on": str(today), "provider": "Checkr",
         "result": "clear", "evidence": report.pk, "notes": "Cleared"},
    )  # fmt: skip
    assert response.status_code == 302
    record = PersonnelRecord.objects.get(person=late)
    assert (record.provider, record.result, record.evidence) == ("Checkr", "clear", report)
    assert names(client.get(ROSTER + "?completion=overdue").content.decode()) == [
        "Carl Contractor",
        "Larry Late",  # still: agreement, MFA, password manager, training
        "Leo Leaver",
    ]


def test_a_bad_record_shows_the_errors_and_changes_nothing(
    world: World, staff: dict, today: dt.date
) -> None:
    late = staff["late"]
    foreign = EvidenceItem.objects.create(
        organization=world.other_org, title="Globex secret", kind="note", effective_date=today
    )
    before = AuditEvent.objects.count()
    url = reverse("person_record_create", args=["acme", late.pk])
    client = world.client("admin")
    response = client.post(url, {"kind": "background_check", "completed_on": str(today)})
    assert response.status_code == 400
    assert "Name the background check provider." in response.content.decode()
    response = client.post(
        url,
        {"kind": "mfa", "completed_on": str(today), "evidence": foreign.pk},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html  # the foreign evidence is not a choice
    assert "Globex secret" not in html
    assert AuditEvent.objects.count() == before
    assert not PersonnelRecord.objects.filter(person=late).exists()


# --- forms --------------------------------------------------------------------------------------


def test_an_admin_adds_a_person_with_a_manager(world: World, staff: dict) -> None:
    client = world.client("admin")
    form = client.get(reverse("person_create", args=["acme"])).content.decode()
    assert "Dora Done" in form  # managers from this roster only
    response = client.post(
        reverse("person_create", args=["acme"]),
        {"full_name": "Nina New", "email": "nina@acme.test", "start_date": "2025-02-03",
         "employment_type": "employee", "manager": staff["done"].pk},
    )  # fmt: skip
    assert response.status_code == 302
    assert Person.objects.get(email="nina@acme.test").manager == staff["done"]


def test_the_manager_dropdown_lists_only_this_roster(world: World, staff: dict) -> None:
    PersonFactory(organization=world.other_org, full_name="Globex Boss")
    form = world.client("admin").get(reverse("person_create", args=["acme"])).content.decode()
    assert "Globex Boss" not in form


def test_a_duplicate_email_is_shown_on_the_form(world: World, staff: dict) -> None:
    response = world.client("admin").post(
        reverse("person_create", args=["acme"]),
        {"full_name": "Copy", "email": staff["done"].email.upper(), "start_date": "2025-02-03",
         "employment_type": "employee"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "already in the roster (Dora Done)" in response.content.decode()


def test_setting_a_last_day_from_the_edit_form(world: World, staff: dict, today: dt.date) -> None:
    late = staff["late"]
    response = world.client("admin").post(
        reverse("person_edit", args=["acme", late.pk]),
        {"full_name": late.full_name, "email": late.email, "start_date": str(late.start_date),
         "employment_type": "employee", "end_date": str(today)},
    )  # fmt: skip
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.end_date == today


def test_the_requirement_form_lists_only_this_organizations_controls(world: World) -> None:
    client = world.client("admin")
    url = reverse("people_requirement_edit", args=["acme", "background_check"])
    form = client.get(url).content.decode()
    assert "MFA everywhere" in form and "Globex secret control" not in form
    response = client.post(url, {"due_days": "9999", "control": world.foreign_control.pk})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html


# --- import page --------------------------------------------------------------------------------


def post_import(client: Client, text: str, **data: str):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("people.csv", text.encode(), "text/csv")
    return client.post(reverse("person_import", args=["acme"]), {"file": upload, **data})


BAD = (
    "full_name,email,start_date\n"
    "Ok Person,ok@acme.test,2025-01-06\n"
    "No Date,nodate@acme.test,\n"
    "Ok Person Again,OK@acme.test,2025-01-06\n"
)


def test_the_import_page_lists_each_bad_line_and_imports_nothing(world: World) -> None:
    response = post_import(world.client("admin"), BAD, mode="all_or_nothing")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "start_date is required." in html
    assert "email ok@acme.test is also on line 2." in html
    assert not Person.objects.exists()


def test_importing_only_the_valid_rows_reports_the_skipped_ones(world: World) -> None:
    response = post_import(world.client("admin"), BAD, mode="valid_only")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Imported 1 new person. Skipped 2 rows with errors" in html
    assert list(Person.objects.values_list("email", flat=True)) == ["ok@acme.test"]


def test_a_clean_import_goes_back_to_the_roster(world: World) -> None:
    response = post_import(
        world.client("admin"), "full_name,email,start_date\nA,a@acme.test,2025-01-06\n",
        mode="all_or_nothing",
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == ROSTER


def test_an_import_without_a_file_is_a_form_error(world: World) -> None:
    response = world.client("admin").post(reverse("person_import", args=["acme"]), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_the_template_csv_has_the_header(world: World) -> None:
    response = world.client("admin").get(reverse("person_import_template", args=["acme"]))
    assert response.content.decode().splitlines()[0] == (
        "full_name,email,start_date,title,department,manager_email,employment_type,end_date"
    )
