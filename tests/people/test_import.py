"""The roster CSV import: every bad input reported by line, all-or-nothing or valid-only."""

from __future__ import annotations

import datetime as dt
import io
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import AuditEvent
from people.importer import MAX_ROWS, ImportMode, parse_csv
from people.models import Person
from people.services import ImportResult, people_import
from tests.conftest import World
from tests.people.factories import PersonFactory

HEADER = "full_name,email,start_date,end_date,title,department,manager_email,employment_type\n"
ADA = "Ada Byron,ada@acme.test,2025-02-03,,Engineer,Engineering,grace@acme.test,employee\n"
GRACE = "Grace Hopper,grace@acme.test,2023-06-12,,VP Engineering,Engineering,,employee\n"


def run(
    world: World, text: str | bytes, mode: str = "all_or_nothing", **kwargs: Any
) -> ImportResult:
    data = text.encode() if isinstance(text, str) else text
    return people_import(
        actor=world.users["admin"],
        organization=world.org,
        source=io.BytesIO(data),
        mode=mode,
        **kwargs,
    )


def reasons(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in sorted(result.errors, key=lambda e: e.line)]


def roster() -> list[str]:
    return sorted(Person.objects.values_list("email", flat=True))


# --- the happy path -----------------------------------------------------------------------------


def test_a_clean_file_imports_everyone_with_their_managers(world: World) -> None:
    result = run(world, HEADER + ADA + GRACE)  # Ada's manager comes later in the file
    assert result.errors == []
    assert sorted(result.created) == ["ada@acme.test", "grace@acme.test"]
    ada = Person.objects.get(email="ada@acme.test")
    assert ada.manager is not None and ada.manager.email == "grace@acme.test"
    assert (ada.start_date, ada.title, ada.department) == (
        dt.date(2025, 2, 3),
        "Engineer",
        "Engineering",
    )
    event = AuditEvent.objects.get(action="people.import")
    assert sorted(event.after["created"]) == ["ada@acme.test", "grace@acme.test"]


def test_imported_people_are_linked_to_their_accounts(world: World) -> None:
    run(world, "full_name,email,start_date\nMember,MEMBER@acme.test,2024-01-01\n")
    assert Person.objects.get(email="member@acme.test").user == world.users["member"]


def test_a_manager_already_in_the_roster_can_be_named(world: World) -> None:
    boss = PersonFactory(organization=world.org, email="boss@acme.test")
    run(
        world,
        "full_name,email,start_date,manager_email\nNew,new@acme.test,2024-01-01,boss@acme.test\n",
    )
    assert Person.objects.get(email="new@acme.test").manager == boss


def test_an_excel_utf8_file_with_a_byte_order_mark_and_aliases_is_read(world: World) -> None:
    text = (
        "\ufeffName,Email,Start Date,Manager,Type\nZoë Ådne,zoe@acme.test,2024-05-06,,Contractor\n"
    )
    result = run(world, text.encode("utf-8"))
    assert result.errors == []
    zoe = Person.objects.get(email="zoe@acme.test")
    assert (zoe.full_name, zoe.employment_type) == ("Zoë Ådne", "contractor")


def test_unknown_columns_are_ignored_with_a_warning(world: World) -> None:
    result = run(world, "full_name,email,start_date,salary\nA,a@acme.test,2024-01-01,100\n")
    assert result.created == ["a@acme.test"]
    assert result.warnings == ["Ignored unknown column(s): salary."]


def test_blank_lines_are_skipped(world: World) -> None:
    result = run(world, "full_name,email,start_date\n\nA,a@acme.test,2024-01-01\n,,\n")
    assert (result.read, result.created, result.errors) == (1, ["a@acme.test"], [])


# --- every bad input, by line -------------------------------------------------------------------


def test_missing_columns_in_the_header_are_named_and_nothing_is_read(world: World) -> None:
    result = run(world, "name,title\nAda,Engineer\n", mode="valid_only")
    assert reasons(result) == [(1, "The header lacks the column(s): email, start_date.")]
    assert roster() == []


def test_an_empty_file_is_an_error(world: World) -> None:
    assert reasons(run(world, "")) == [
        (1, "The file is empty; its first line must name the columns.")
    ]


def test_a_repeated_column_is_an_error(world: World) -> None:
    result = run(world, "full_name,email,start_date,Email\n")
    assert reasons(result) == [(1, "The header repeats: email.")]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (",a@acme.test,2024-01-01", "full_name is required."),
        ("A,,2024-01-01", "email is required."),
        ("A,a@acme.test,", "start_date is required."),
        ("A,not-an-email,2024-01-01", "email 'not-an-email' is not an email address."),
        ("A,a@acme.test,03/04/2024", "start_date '03/04/2024' is not a date; use YYYY-MM-DD."),
        ("A,a@acme.test,2024-02-30", "start_date '2024-02-30' is not a date; use YYYY-MM-DD."),
        (
            "A,a@acme.test,2024-01-01,yesterday",
            "end_date 'yesterday' is not a date; use YYYY-MM-DD.",
        ),
        (
            "A,a@acme.test,2024-05-01,2024-04-30",
            "end_date 2024-04-30 is before start_date 2024-05-01.",
        ),
        (
            "A,a@acme.test,2024-01-01,,,,,freelancer",
            "employment_type 'freelancer' is not valid; use employee or contractor.",
        ),
        ("A,a@acme.test,2024-01-01,,,,a@acme.test", "A person cannot be their own manager."),
        (
            "A,a@acme.test,2024-01-01,,,,nobody@acme.test",
            "manager_email nobody@acme.test is not in the roster or in this file.",
        ),
        ("A,a@acme.test,2024-01-01,,,,boss@", "manager_email 'boss@' is not an email address."),
        ("A" * 151 + ",a@acme.test,2024-01-01", "full_name is longer than 150 characters."),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_imported(
    world: World, audit_count: Callable[[], int], row: str, expected: str
) -> None:
    padded = row + "," * (7 - row.count(","))  # the eight columns of HEADER
    text = HEADER + GRACE + padded + "\n"
    before = audit_count()
    result = run(world, text)
    assert reasons(result) == [(3, expected)]
    assert result.imported is False
    assert roster() == []
    assert audit_count() == before


def test_a_row_with_too_few_or_too_many_values_is_reported(world: World) -> None:
    text = HEADER + "A,a@acme.test\n" + GRACE.strip() + ",extra\n"
    assert reasons(run(world, text)) == [
        (2, "The row has 2 values but the header names 8 columns."),
        (3, "The row has 9 values but the header names 8 columns."),
    ]


def test_a_duplicate_email_in_the_file_names_the_first_line(world: World) -> None:
    result = run(
        world, "full_name,email,start_date\nA,a@acme.test,2024-01-01\nB,A@ACME.test,2024-01-01\n"
    )
    assert reasons(result) == [(3, "email a@acme.test is also on line 2.")]
    assert roster() == []


def test_an_email_already_in_the_roster_is_an_error_by_default(world: World) -> None:
    PersonFactory(organization=world.org, email="ada@acme.test", title="Before")
    result = run(world, HEADER + ADA + GRACE)
    assert reasons(result) == [
        (
            2,
            "email ada@acme.test is already in the roster; this import only adds people "
            "(choose 'update existing people' to change them).",
        )
    ]
    assert roster() == ["ada@acme.test"]
    assert Person.objects.get(email="ada@acme.test").title == "Before"


def test_a_manager_on_a_line_with_errors_is_named(world: World) -> None:
    text = HEADER + ADA + "Grace Hopper,grace@acme.test,not-a-date,,,,,\n"
    result = run(world, text, mode="valid_only")
    assert reasons(result) == [
        (2, "manager_email grace@acme.test is on line 3, which has errors."),
        (3, "start_date 'not-a-date' is not a date; use YYYY-MM-DD."),
    ]
    assert roster() == []


def test_managers_forming_a_loop_are_refused(world: World) -> None:
    text = (
        "full_name,email,start_date,manager_email\n"
        "A,a@acme.test,2024-01-01,b@acme.test\n"
        "B,b@acme.test,2024-01-01,a@acme.test\n"
        "C,c@acme.test,2024-01-01,a@acme.test\n"
    )
    result = run(world, text, mode="valid_only")
    assert reasons(result) == [
        (2, "managers form a loop: a@acme.test → b@acme.test → a@acme.test."),
        (3, "managers form a loop: b@acme.test → a@acme.test → b@acme.test."),
        (4, "manager_email a@acme.test is on line 2, which has errors."),
    ]
    assert roster() == []


def test_a_row_with_errors_is_also_told_about_an_unknown_manager(world: World) -> None:
    text = (
        "full_name,email,start_date,manager_email,employment_type\n"
        "Kim,kim@acme.test,2025-02-03,nobody@acme.test,freelancer\n"
        "Lee,lee@acme.test,someday,kim@acme.test,employee\n"
    )
    assert reasons(run(world, text)) == [
        (2, "employment_type 'freelancer' is not valid; use employee or contractor."),
        (2, "manager_email nobody@acme.test is not in the roster or in this file."),
        (3, "start_date 'someday' is not a date; use YYYY-MM-DD."),
    ]


def test_a_file_that_is_not_utf8_is_refused(world: World) -> None:
    text = "full_name,email,start_date\nJosé,jose@acme.test,2024-01-01\n".encode("latin-1")
    result = run(world, text)
    assert result.errors and "not UTF-8" in result.errors[0].reason
    assert roster() == []


def test_line_numbers_count_lines_of_the_file_even_inside_quotes(world: World) -> None:
    text = (
        "full_name,email,start_date,title\n"
        'A,a@acme.test,2024-01-01,"Two\nline title"\n'
        "B,b@acme.test,someday,\n"
    )
    assert reasons(run(world, text)) == [(4, "start_date 'someday' is not a date; use YYYY-MM-DD.")]


def test_every_problem_of_a_file_is_reported_in_one_pass(world: World) -> None:
    PersonFactory(organization=world.org, email="taken@acme.test")
    text = (
        "full_name,email,start_date,end_date,employment_type\n"
        "A,a@acme.test,2024-13-01,,employee\n"
        "B,taken@acme.test,2024-01-01,,employee\n"
        "C,c@acme.test,2024-05-01,2024-01-01,intern\n"
        "D,d@acme.test,2024-01-01,,employee\n"
    )
    result = run(world, text)
    assert [line for line, _ in reasons(result)] == [2, 3, 4, 4]
    assert roster() == ["taken@acme.test"]


def test_a_file_over_the_row_limit_is_refused(world: World) -> None:
    rows = "".join(f"P,p{i}@acme.test,2024-01-01\n" for i in range(MAX_ROWS + 1))
    result = run(world, "full_name,email,start_date\n" + rows, mode="valid_only")
    assert reasons(result) == [
        (MAX_ROWS + 2, f"The file has more than {MAX_ROWS:,} rows; split it.")
    ]
    assert roster() == []


# --- all or nothing, or only the valid rows -----------------------------------------------------


BAD_FILE = (
    HEADER
    + GRACE
    + ADA
    + "Bad Date,bad@acme.test,2024-99-01,,,,,\n"
    + "Reports To Bad,r@acme.test,2024-01-01,,,,bad@acme.test,\n"
    + "Contractor,c@acme.test,2024-01-01,,,,,contractor\n"
)


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(
    world: World, audit_count: Callable[[], int]
) -> None:
    before = audit_count()
    result = run(world, BAD_FILE)
    assert result.mode == ImportMode.ALL_OR_NOTHING
    assert result.rejected
    assert result.bad_lines == [4, 5]
    assert roster() == []
    assert audit_count() == before


def test_valid_only_imports_the_good_rows_and_reports_the_bad(world: World) -> None:
    result = run(world, BAD_FILE, mode="valid_only")
    assert result.bad_lines == [4, 5]
    assert reasons(result)[1] == (5, "manager_email bad@acme.test is on line 4, which has errors.")
    assert roster() == ["ada@acme.test", "c@acme.test", "grace@acme.test"]
    assert result.as_dict()["skipped_lines"] == [4, 5]
    event = AuditEvent.objects.get(action="people.import")
    assert event.after["skipped_lines"] == [4, 5]


def test_valid_only_with_every_row_bad_imports_nothing(world: World) -> None:
    result = run(world, "full_name,email,start_date\nA,a,2024-01-01\n", mode="valid_only")
    assert result.rejected
    assert not AuditEvent.objects.filter(action="people.import").exists()


# --- updating the roster ------------------------------------------------------------------------


def test_update_mode_changes_the_columns_the_file_has_and_nothing_else(world: World) -> None:
    boss = PersonFactory(organization=world.org, email="boss@acme.test")
    ada = PersonFactory(
        organization=world.org,
        email="ada@acme.test",
        full_name="Ada",
        title="Engineer",
        department="R&D",
        manager=boss,
        start_date=dt.date(2024, 1, 1),
    )
    same = PersonFactory(
        organization=world.org,
        email="same@acme.test",
        full_name="Same",
        start_date=dt.date(2024, 1, 1),
    )
    text = (
        "full_name,email,start_date,title\n"
        "Ada Byron,ADA@acme.test,2024-01-01,Staff engineer\n"
        "Same,same@acme.test,2024-01-01,Engineer\n"
        "New,new@acme.test,2024-02-01,\n"
    )
    result = run(world, text, update_existing=True)
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (
        ["new@acme.test"],
        ["ada@acme.test"],
        1,
    )
    ada.refresh_from_db()
    assert (ada.full_name, ada.title, ada.department, ada.manager) == (
        "Ada Byron",
        "Staff engineer",
        "R&D",  # no department column: kept
        boss,  # no manager column: kept
    )
    same.refresh_from_db()
    assert same.title == "Engineer"


def test_update_mode_sets_a_last_day_and_a_new_manager(world: World) -> None:
    PersonFactory(organization=world.org, email="ada@acme.test", start_date=dt.date(2024, 1, 1))
    text = (
        "full_name,email,start_date,end_date,manager_email\n"
        "Grace,grace@acme.test,2020-01-01,,\n"
        "Ada,ada@acme.test,2024-01-01,2025-03-31,grace@acme.test\n"
    )
    result = run(world, text, update_existing=True)
    assert result.errors == []
    ada = Person.objects.get(email="ada@acme.test")
    assert ada.end_date == dt.date(2025, 3, 31)
    assert ada.manager is not None and ada.manager.email == "grace@acme.test"


def test_update_mode_refuses_a_start_after_the_stored_last_day(world: World) -> None:
    PersonFactory(
        organization=world.org,
        email="ada@acme.test",
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2021, 1, 1),
    )
    result = run(
        world, "full_name,email,start_date\nAda,ada@acme.test,2022-01-01\n", update_existing=True
    )
    assert reasons(result) == [
        (2, "start_date 2022-01-01 is after the last day in the roster (2021-01-01).")
    ]


def test_update_mode_refuses_a_manager_loop_with_the_roster(world: World) -> None:
    a = PersonFactory(organization=world.org, email="a@acme.test")
    PersonFactory(organization=world.org, email="b@acme.test", manager=a)
    text = "full_name,email,start_date,manager_email\nA,a@acme.test,2024-01-15,b@acme.test\n"
    result = run(world, text, update_existing=True)
    assert reasons(result) == [
        (2, "managers form a loop: a@acme.test → b@acme.test → a@acme.test.")
    ]
    a.refresh_from_db()
    assert a.manager is None


# --- large files --------------------------------------------------------------------------------


def big_file(rows: int) -> bytes:
    lines = [HEADER.strip()]
    lines.append("Chief,chief@acme.test,2018-01-01,,CEO,Exec,,employee")
    for i in range(rows - 1):
        manager = "chief@acme.test" if i < 50 else f"p{i % 50}@acme.test"
        kind = "contractor" if i % 9 == 0 else "employee"
        start = f"2024-01-{i % 28 + 1:02d}"
        lines.append(f"Person {i},p{i}@acme.test,{start},,Engineer,Dept {i % 7},{manager},{kind}")
    return ("\n".join(lines) + "\n").encode()


def test_a_10000_row_import_is_a_few_bulk_queries(world: World) -> None:
    data = big_file(10_000)
    with CaptureQueriesContext(connection) as captured:
        started = time.monotonic()
        result = run(world, data)
        elapsed = time.monotonic() - started
    assert result.errors == []
    assert len(result.created) == 10_000
    assert Person.objects.filter(organization=world.org).count() == 10_000
    batches = math.ceil(10_000 / 1000)
    assert len(captured.captured_queries) <= 15 + 2 * batches, len(captured.captured_queries)
    assert elapsed < 30
    sample = Person.objects.get(email="p777@acme.test")
    assert sample.manager is not None and sample.manager.email == "p27@acme.test"


def test_the_query_count_does_not_grow_with_rows(world: World) -> None:
    def queries(rows: int, prefix: str) -> int:
        data = big_file(rows).replace(b"@acme.test", f"@{prefix}.test".encode())
        with CaptureQueriesContext(connection) as captured:
            assert run(world, data).errors == []
        return len(captured.captured_queries)

    queries(5, "warm")  # the first write of the organization starts its audit chain
    # Both files have three levels of managers, each one batch.
    assert queries(120, "few") == queries(900, "many")


def test_parsing_reads_the_upload_as_a_stream(world: World) -> None:
    class OneWay(io.RawIOBase):
        """A non-seekable stream that can be read only once, like a network upload."""

        def __init__(self, data: bytes) -> None:
            self.source = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            chunk = self.source.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    parsed = parse_csv(io.BufferedReader(OneWay(big_file(500))))
    assert parsed.errors == []
    assert len(parsed.rows) == 500
