"""The vendor import: every bad input reported by line and column, all-or-nothing or valid-only,
each vendor created through vendor_create (its validation, its audit event)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from compliance.models import AuditEvent, Membership
from people.completion import organization_today
from tests.conftest import World
from tests.vendors.factories import VendorFactory
from vendors.import_services import ImportResult, vendors_import
from vendors.importer import MAX_ROWS, TEMPLATE_ROWS, parse_file
from vendors.models import Vendor

HEADER = (
    "name,category,risk_tier,owner_email,website,description,data_access,is_subprocessor,"
    "location,onboarded_on,review_every_months\n"
)
AWS = (
    "Amazon Web Services,Cloud infrastructure,Critical,owner@acme.test,aws.amazon.com,Hosting,"
    "Customer data; personal_data,yes,US,2023-01-09,\n"
)
SLACK = "Slack,communication,LOW,,https://slack.com,Chat,,no,EU,2024-05-01,24\n"


def run(
    world: World,
    content: str | bytes,
    mode: str = "all_or_nothing",
    filename: str = "vendors.csv",
) -> ImportResult:
    data = content.encode() if isinstance(content, str) else content
    return vendors_import(
        actor=world.users["admin"],
        organization=world.org,
        source=io.BytesIO(data),
        filename=filename,
        mode=mode,
    )


def problems(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.reason) for e in result.sorted_errors()]


def inventory(world: World) -> list[str]:
    return sorted(Vendor.objects.filter(organization=world.org).values_list("name", flat=True))


# --- the happy path -----------------------------------------------------------------------------


def test_a_clean_file_creates_each_vendor_with_every_field(world: World) -> None:
    result = run(world, HEADER + AWS + SLACK)
    assert result.errors == []
    assert result.created == ["Amazon Web Services", "Slack"]
    aws = Vendor.objects.get(name="Amazon Web Services")
    assert (aws.category, aws.risk_tier, aws.owner, aws.website) == (
        "infrastructure",
        "critical",
        world.users["owner"],
        "https://aws.amazon.com",
    )
    assert aws.data_access == ["customer_data", "personal_data"]
    assert (aws.is_subprocessor, aws.location, aws.onboarded_on) == (
        True,
        "US",
        dt.date(2023, 1, 9),
    )
    assert aws.review_every_months is None
    slack = Vendor.objects.get(name="Slack")
    assert (slack.category, slack.risk_tier, slack.owner, slack.is_subprocessor) == (
        "communication",
        "low",
        None,
        False,
    )
    assert slack.review_every_months == 24


def test_each_vendor_has_its_create_event_and_the_import_one_summary(world: World) -> None:
    run(world, HEADER + AWS + SLACK)
    created = AuditEvent.objects.filter(action="vendor.create", organization=world.org)
    assert sorted(e.object_repr for e in created) == ["Amazon Web Services", "Slack"]
    summary = AuditEvent.objects.get(action="vendor.import")
    assert summary.actor == world.users["admin"]
    assert summary.after["created"] == ["Amazon Web Services", "Slack"]
    assert summary.after["mode"] == "all_or_nothing"


def test_only_name_is_required_and_the_rest_takes_the_forms_defaults(world: World) -> None:
    result = run(world, "Name\nTiny Tool\n")
    assert result.errors == []
    tiny = Vendor.objects.get(name="Tiny Tool")
    assert (tiny.category, tiny.risk_tier, tiny.is_subprocessor, tiny.data_access) == (
        "software",
        "medium",
        False,
        [],
    )
    assert tiny.onboarded_on == organization_today(world.org)


def test_the_template_imports_once_its_owner_is_a_member(world: World) -> None:
    rows = [list(r) for r in TEMPLATE_ROWS]
    rows[1][3] = "admin@acme.test"
    text = "\n".join(",".join(f'"{c}"' for c in row) for row in rows) + "\n"
    result = run(world, text)
    assert result.errors == []
    assert len(result.created) == len(TEMPLATE_ROWS) - 1


def test_the_inventory_export_imports_into_another_organization(world: World) -> None:
    VendorFactory(
        organization=world.org,
        name="Exported",
        category="payments",
        risk_tier="high",
        data_access=["financial_data"],
        is_subprocessor=True,
        location="EU",
        owner=world.users["admin"],
    )
    client = world.client("admin")
    exported = b"".join(client.get("/o/acme/vendors/export.csv").streaming_content)  # type: ignore[attr-defined]
    Membership.objects.create(user=world.users["admin"], organization=world.other_org, role="admin")
    result = vendors_import(
        actor=world.users["admin"],
        organization=world.other_org,
        source=io.BytesIO(exported),
        filename="export.csv",
    )
    assert result.errors == [], problems(result)
    copy = Vendor.objects.get(organization=world.other_org, name="Exported")
    assert (copy.category, copy.risk_tier, copy.data_access, copy.is_subprocessor) == (
        "payments",
        "high",
        ["financial_data"],
        True,
    )
    assert copy.owner == world.users["admin"]
    assert any("Ignored unknown column" in w for w in result.warnings)


def test_an_xlsx_workbook_is_read_from_its_first_sheet(world: World) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Risk tier", "Onboarded on", "Subprocessor"])
    sheet.append(["Stripe", "High", dt.date(2022, 3, 4), True])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run(world, buffer.getvalue(), filename="vendors.xlsx")
    assert result.errors == []
    stripe = Vendor.objects.get(name="Stripe")
    assert (stripe.risk_tier, stripe.onboarded_on, stripe.is_subprocessor) == (
        "high",
        dt.date(2022, 3, 4),
        True,
    )


# --- bad files: refused whole, nothing written --------------------------------------------------


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_only"])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty."),
        (b"  \n\n", "The file is empty."),
        ("name,location\nCaf\xe9 Ltd,FR\n".encode("latin-1"), "not UTF-8"),
        (b"website,location\nhttps://a.test,US\n", "lacks the column(s): name"),
        (b"name,Name\nA,B\n", "repeats: name"),
    ],
    ids=["empty", "blank-lines", "latin-1", "missing-name", "repeated-column"],
)
def test_a_bad_file_is_refused_in_words_and_nothing_is_written(
    world: World, content: bytes, expected: str, mode: str
) -> None:
    events = AuditEvent.objects.count()
    result = run(world, content, mode=mode)
    assert not result.imported
    assert len(result.errors) == 1
    assert expected in result.errors[0].reason
    assert inventory(world) == []
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_only"])
def test_a_formula_cell_is_refused_with_the_cell_named(world: World, mode: str) -> None:
    content = HEADER + SLACK + 'Evil,software,low,,=HYPERLINK("http://evil","x"),,,,,,\n'
    result = run(world, content, mode=mode)
    assert not result.imported
    ((line, column, reason),) = problems(result)
    assert (line, column) == (3, "website")
    assert reason.startswith("E3 holds a formula")
    assert "HYPERLINK" in reason
    assert inventory(world) == []


def test_a_formula_in_an_ignored_column_is_not_read_and_not_refused(world: World) -> None:
    result = run(world, "name,notes\nPlain,=1+1\n")
    assert result.errors == []
    assert inventory(world) == ["Plain"]


def test_a_formula_in_an_xlsx_cell_is_refused(world: World) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["name", "description"])
    sheet.append(["Sneaky", '=HYPERLINK("http://evil","x")'])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run(world, buffer.getvalue(), filename="v.xlsx")
    assert [(e.line, e.column) for e in result.errors] == [(2, "description")]
    assert "B2 holds a formula" in result.errors[0].reason
    assert inventory(world) == []


def test_a_file_over_the_row_limit_is_refused(world: World) -> None:
    rows = "".join(f"Vendor {i}\n" for i in range(MAX_ROWS + 1))
    result = run(world, "name\n" + rows, mode="valid_only")
    assert [e.reason for e in result.errors] == [
        f"The file has more than {MAX_ROWS:,} vendors; split it."
    ]
    assert inventory(world) == []


def test_a_file_at_the_row_limit_is_parsed() -> None:
    rows = "".join(f"Vendor {i}\n" for i in range(MAX_ROWS))
    parsed = parse_file(io.BytesIO(("name\n" + rows).encode()), filename="v.csv")
    assert parsed.errors == []
    assert len(parsed.rows) == MAX_ROWS


# --- bad rows -----------------------------------------------------------------------------------


def test_every_problem_of_a_row_is_named_by_line_and_column(world: World) -> None:
    bad = ",gadgets,extreme,not-an-email,not a url,,secrets;customer_data,maybe,,2024-13-01,61\n"
    result = run(world, HEADER + SLACK + bad)
    assert [(line, column) for line, column, _ in problems(result)] == [
        (3, "category"),
        (3, "data_access"),
        (3, "is_subprocessor"),
        (3, "name"),
        (3, "onboarded_on"),
        (3, "owner_email"),
        (3, "review_every_months"),
        (3, "risk_tier"),
        (3, "website"),
    ]
    reasons = " ".join(reason for _, _, reason in problems(result))
    assert "'gadgets' is not one of: Cloud infrastructure, Software (SaaS)" in reasons
    assert "'secrets'" in reasons
    assert "'2024-13-01' is not a date; use YYYY-MM-DD" in reasons
    assert inventory(world) == []


def test_an_owner_who_is_not_a_member_or_admin_is_refused(world: World) -> None:
    content = (
        HEADER
        + "One,,,nobody@acme.test,,,,,,,\n"
        + "Two,,,viewer@acme.test,,,,,,,\n"
        + "Three,,,outsider@globex.test,,,,,,,\n"
        + "Four,,,MEMBER@acme.test,,,,,,,\n"
    )
    result = run(world, content)
    assert [(line, column) for line, column, _ in problems(result)] == [
        (2, "owner_email"),
        (3, "owner_email"),
        (4, "owner_email"),
    ]
    assert problems(result)[0][2] == "no admin or member of Acme has the email nobody@acme.test."
    assert inventory(world) == []


def test_a_name_repeated_in_the_file_names_the_first_line(world: World) -> None:
    result = run(world, HEADER + SLACK + SLACK.replace("Slack", "SLACK"))
    assert problems(result) == [(3, "name", "name SLACK is also on line 2.")]
    assert inventory(world) == []


def test_a_name_already_in_the_inventory_is_refused(world: World) -> None:
    VendorFactory(organization=world.org, name="slack")
    result = run(world, HEADER + AWS + SLACK)
    assert problems(result) == [(3, "name", "Slack is already in the inventory.")]
    assert inventory(world) == ["slack"]


def test_a_name_of_another_organization_is_no_clash(world: World) -> None:
    VendorFactory(organization=world.other_org, name="Slack")
    assert run(world, HEADER + SLACK).errors == []


def test_a_row_with_more_values_than_columns_is_reported(world: World) -> None:
    result = run(world, "name,location\nA,US,extra\nB,EU\n")
    assert problems(result) == [(2, "", "The row has 3 values but the header names 2 columns.")]


def test_blank_lines_are_skipped_and_lines_count_from_the_header(world: World) -> None:
    result = run(world, "name,risk_tier\n\nGood,low\n\nBad,huge\n")
    assert result.read == 2
    assert [(line, column) for line, column, _ in problems(result)] == [(5, "risk_tier")]


# --- modes --------------------------------------------------------------------------------------


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(world: World) -> None:
    events = AuditEvent.objects.count()
    result = run(world, HEADER + AWS + "Bad,,,,,,,perhaps,,,\n" + SLACK)
    assert result.rejected
    assert result.bad_lines == [3]
    assert inventory(world) == []
    assert AuditEvent.objects.count() == events


def test_valid_only_imports_the_good_rows_and_reports_the_bad(world: World) -> None:
    result = run(world, HEADER + AWS + "Bad,,,,,,,perhaps,,,\n" + SLACK, mode="valid_only")
    assert result.created == ["Amazon Web Services", "Slack"]
    assert result.as_dict()["skipped_lines"] == [3]
    assert inventory(world) == ["Amazon Web Services", "Slack"]
    assert AuditEvent.objects.get(action="vendor.import").after["skipped_lines"] == [3]


def test_valid_only_with_every_row_bad_imports_nothing(world: World) -> None:
    events = AuditEvent.objects.count()
    result = run(world, HEADER + "Bad,,,,,,,perhaps,,,\n", mode="valid_only")
    assert result.rejected
    assert inventory(world) == []
    assert AuditEvent.objects.count() == events


# --- cost ---------------------------------------------------------------------------------------


def many(count: int, prefix: str) -> str:
    lines = [HEADER.strip()]
    for i in range(count):
        owner = "owner@acme.test" if i % 2 else "admin@acme.test"
        lines.append(
            f"{prefix} {i},software,high,{owner},https://{prefix}{i}.test,,Customer data,"
            f"{'yes' if i % 3 else 'no'},EU,2024-01-0{i % 9 + 1},"
        )
    return "\n".join(lines) + "\n"


def test_the_import_looks_nothing_up_per_row_beyond_what_vendor_create_writes(
    world: World,
) -> None:
    def queries(count: int, prefix: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert run(world, many(count, prefix)).errors == []
        return len(captured.captured_queries)

    queries(2, "warm")  # the first write of the organization starts its audit chain
    ten, hundred = queries(10, "few"), queries(100, "many")
    per_row = (hundred - ten) / 90
    # vendor_create per row: its two checks (name, owner), the insert and its savepoints, the
    # audit event (head lock, insert, head update). The import's own lookups (existing names,
    # owners by email) are one query each whatever the size of the file.
    assert per_row == int(per_row), (ten, hundred)
    assert per_row <= 10, per_row
    assert ten - 10 * per_row <= 8, (ten, per_row)
    assert Vendor.objects.filter(organization=world.org).count() == 112


# --- the command --------------------------------------------------------------------------------


def test_the_command_imports_a_file(world: World, tmp_path: Path) -> None:
    path = tmp_path / "vendors.csv"
    path.write_text(HEADER + AWS + SLACK)
    out = io.StringIO()
    call_command("import_vendors", "acme", str(path), stdout=out)
    assert "Imported 2 vendors into acme." in out.getvalue()
    assert inventory(world) == ["Amazon Web Services", "Slack"]
    assert AuditEvent.objects.filter(action="vendor.create", actor__isnull=True).count() == 2


def test_the_command_exits_non_zero_naming_each_problem(world: World, tmp_path: Path) -> None:
    path = tmp_path / "vendors.csv"
    path.write_text(HEADER + AWS + "Bad,,,,,,,perhaps,,,\n")
    with pytest.raises(CommandError) as raised:
        call_command("import_vendors", "acme", str(path))
    assert "Nothing was imported: 1 problem(s)" in str(raised.value)
    assert "line 3, is_subprocessor: is_subprocessor 'perhaps': use yes or no." in str(raised.value)
    assert inventory(world) == []


def test_the_command_with_valid_only_reports_the_skipped_rows(world: World, tmp_path: Path) -> None:
    path = tmp_path / "vendors.csv"
    path.write_text(HEADER + AWS + "Bad,,,,,,,perhaps,,,\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_vendors", "acme", str(path), "--valid-only", stdout=out, stderr=err)
    assert "Imported 1 vendor into acme; skipped 1 line(s) with errors." in out.getvalue()
    assert "skipped line 3, is_subprocessor" in err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "{file}"], "No organization with the slug 'nowhere'."),
        (["acme", "{missing}"], "Cannot read"),
        (["acme", "{latin}"], "not UTF-8"),
    ],
    ids=["organization", "missing-file", "latin-1"],
)
def test_the_command_refuses_bad_arguments(
    world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    files: dict[str, Any] = {
        "file": tmp_path / "ok.csv",
        "missing": tmp_path / "missing.csv",
        "latin": tmp_path / "latin.csv",
    }
    files["file"].write_text("name\nA\n")
    files["latin"].write_bytes("name\nCaf\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match=message):
        call_command("import_vendors", *[a.format(**files) for a in args])
    assert inventory(world) == []
