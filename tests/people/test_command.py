"""manage.py import_people: a non-zero exit with every bad row, or the import's summary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from compliance.models import AuditEvent
from people.models import Person
from tests.conftest import World
from tests.people.factories import PersonFactory

GOOD = (
    "full_name,email,start_date,manager_email\n"
    "Grace,grace@acme.test,2023-01-02,\n"
    "Ada,ada@acme.test,2024-02-05,grace@acme.test\n"
)
BAD = (
    "full_name,email,start_date,employment_type\n"
    "Grace,grace@acme.test,2023-01-02,employee\n"
    "Ada,ada@acme.test,05/02/2024,employee\n"
    "Alan,grace@acme.test,2024-01-01,intern\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def call(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_people", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_clean_file(world: World, tmp_path: Path) -> None:
    out, _ = call("acme", str(write(tmp_path, GOOD)))
    assert out.strip() == "Imported 2 new people into acme."
    ada = Person.objects.get(email="ada@acme.test")
    assert ada.manager is not None and ada.manager.email == "grace@acme.test"
    assert AuditEvent.objects.get(action="people.import").actor is None


def test_bad_rows_fail_the_command_with_every_message_and_import_nothing(
    world: World, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as exc:
        call("acme", str(write(tmp_path, BAD)))
    message = str(exc.value)
    assert message.startswith("Nothing was imported: 3 problem(s) on 2 line(s)")
    assert "line 3: start_date '05/02/2024' is not a date; use YYYY-MM-DD." in message
    assert "line 4: email grace@acme.test is also on line 2." in message
    assert "line 4: employment_type 'intern' is not valid; use employee or contractor." in message
    assert not Person.objects.exists()


def test_valid_only_imports_the_good_rows_and_lists_the_skipped_ones(
    world: World, tmp_path: Path
) -> None:
    out, err = call("acme", str(write(tmp_path, BAD)), "--valid-only")
    assert out.strip() == "Imported 1 new person into acme; skipped 2 line(s) with errors."
    assert "skipped line 3: start_date '05/02/2024'" in err
    assert list(Person.objects.values_list("email", flat=True)) == ["grace@acme.test"]


def test_update_existing_updates_people_already_in_the_roster(world: World, tmp_path: Path) -> None:
    PersonFactory(organization=world.org, email="grace@acme.test", full_name="G. Hopper")
    out, _ = call("acme", str(write(tmp_path, GOOD)), "--update-existing")
    assert out.strip() == "Imported 1 new person into acme, updated 1 (0 unchanged)."
    assert Person.objects.get(email="grace@acme.test").full_name == "Grace"


def test_an_unknown_organization_fails_the_command(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No organization with the slug 'nowhere'"):
        call("nowhere", str(write(tmp_path, GOOD)))


def test_a_missing_file_fails_the_command(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call("acme", str(tmp_path / "missing.csv"))
    assert not Person.objects.exists()


def test_a_file_without_the_required_columns_fails_the_command(
    world: World, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as exc:
        call("acme", str(write(tmp_path, "name;mail\nAda;ada@acme.test\n")), "--valid-only")
    assert "line 1: The header lacks the column(s): full_name, email, start_date." in str(exc.value)
