"""The catalog library: the shipped frameworks, version-aware loading, and malformed files."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from compliance.audit import chain_for, verify_chain
from compliance.models import AuditEvent
from controls.library_files import LibraryFileError
from controls.models import Framework, FrameworkCategory, Requirement
from controls.services import catalog_load
from tests.factories import ControlFactory, OrganizationFactory, adopt, map_control

EXAMPLE_KEY = "urn:test:framework:example"


def example_catalog(**header: Any) -> dict[str, Any]:
    """A small valid catalog; tests copy it and break or change one thing."""
    data: dict[str, Any] = {
        "format": "attest.catalog/v1",
        "key": EXAMPLE_KEY,
        "slug": "example",
        "name": "Example Criteria",
        "short_name": "EX",
        "edition": "2024",
        "version": 1,
        "publisher": "Attest tests",
        "description": "A catalog written by the tests.",
        "categories": [
            {"code": "X", "name": "Core", "mandatory": True, "description": "Always in scope."},
            {"code": "Y", "name": "Extra", "mandatory": False},
        ],
        "requirements": [
            {"ref_id": "X1", "title": "Core criteria", "category": "X", "assessable": False},
            {
                "ref_id": "X1.1",
                "parent": "X1",
                "category": "X",
                "title": "Access is restricted",
                "description": "Only authorized people reach production.",
            },
            {
                "ref_id": "X1.2",
                "parent": "X1",
                "category": "X",
                "title": "Changes are approved",
                "description": "Every change is reviewed before release.",
            },
            {
                "ref_id": "X1.3",
                "parent": "X1",
                "category": "X",
                "title": "Incidents are handled",
                "description": "Incidents are triaged and closed.",
            },
            {"ref_id": "Y1", "title": "Extra criteria", "category": "Y", "assessable": False},
            {
                "ref_id": "Y1.1",
                "parent": "Y1",
                "category": "Y",
                "title": "Backups are tested",
                "description": "A restore is rehearsed every quarter.",
            },
        ],
    }
    data.update(header)
    return data


def other_catalog() -> dict[str, Any]:
    """A second valid catalog with its own key and slug."""
    return example_catalog(key="urn:test:framework:other", slug="other", name="Other", version=1)


def write(directory: Path, name: str, content: dict[str, Any] | str) -> Path:
    path = directory / name
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def requirement(data: dict[str, Any], ref_id: str) -> dict[str, Any]:
    return next(r for r in data["requirements"] if r["ref_id"] == ref_id)


def database_state() -> dict[str, Any]:
    """Everything a catalog load can write, to compare before and after a refused load."""
    return {
        "frameworks": sorted(Framework.objects.values_list("key", "version", "content_sha256")),
        "categories": sorted(FrameworkCategory.objects.values_list("framework__key", "code")),
        "requirements": sorted(
            Requirement.objects.values_list("pk", "key", "title", "withdrawn", "assessable")
        ),
        "audit_events": AuditEvent.objects.count(),
    }


# --- the shipped library ------------------------------------------------------------------------


def assessable_by_category(slug: str) -> Counter[str]:
    return Counter(
        Requirement.objects.filter(framework__slug=slug, assessable=True).values_list(
            "category__code", flat=True
        )
    )


@pytest.mark.django_db
def test_the_shipped_soc2_catalog_has_61_assessable_criteria() -> None:
    catalog_load()

    counts = assessable_by_category("soc2")
    assert counts == {"CC": 33, "A": 3, "C": 2, "PI": 5, "P": 18}
    assert counts.total() == 61
    mandatory = FrameworkCategory.objects.filter(framework__slug="soc2", mandatory=True)
    assert list(mandatory.values_list("code", flat=True)) == ["CC"]


@pytest.mark.django_db
def test_the_shipped_iso27001_catalog_has_93_annex_a_controls() -> None:
    catalog_load()

    counts = assessable_by_category("iso27001")
    assert counts == {"A.5": 37, "A.6": 8, "A.7": 14, "A.8": 34}
    assert counts.total() == 93


@pytest.mark.django_db
def test_every_shipped_requirement_has_a_title_a_description_and_a_stable_key() -> None:
    catalog_load()

    requirements = Requirement.objects.select_related("framework")
    assert requirements.count() > 154  # 61 + 93 assessable, plus grouping nodes
    for req in requirements:
        assert req.title.strip(), req.ref_id
        assert req.description.strip(), req.ref_id
        assert req.key == f"{req.framework.key}:{req.ref_id.lower()}"
        assert req.category.framework_id == req.framework_id
        if req.parent is not None:
            assert req.parent.framework_id == req.framework_id


@pytest.mark.django_db
def test_loading_the_shipped_library_twice_changes_nothing() -> None:
    first = catalog_load()
    state = database_state()
    ids = dict(Requirement.objects.values_list("key", "pk"))

    second = catalog_load()

    assert {r.outcome for r in first} == {"created"}
    assert {r.outcome for r in second} == {"unchanged"}
    assert database_state() == state
    assert dict(Requirement.objects.values_list("key", "pk")) == ids


# --- loading: created, unchanged, updated, skipped ----------------------------------------------


@pytest.mark.django_db
def test_loading_a_catalog_creates_its_framework_categories_and_requirement_tree(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "example.yaml", example_catalog())

    [result] = catalog_load(paths=[path])

    assert (result.key, result.path, result.outcome) == (EXAMPLE_KEY, str(path), "created")
    framework = Framework.objects.get(key=EXAMPLE_KEY)
    assert (framework.slug, framework.short_name, framework.version) == ("example", "EX", 1)
    assert list(framework.categories.values_list("code", "mandatory")) == [
        ("X", True),
        ("Y", False),
    ]
    rows = framework.requirements.values_list("ref_id", "parent__ref_id", "assessable", "key")
    assert list(rows) == [
        ("X1", None, False, f"{EXAMPLE_KEY}:x1"),
        ("X1.1", "X1", True, f"{EXAMPLE_KEY}:x1.1"),
        ("X1.2", "X1", True, f"{EXAMPLE_KEY}:x1.2"),
        ("X1.3", "X1", True, f"{EXAMPLE_KEY}:x1.3"),
        ("Y1", None, False, f"{EXAMPLE_KEY}:y1"),
        ("Y1.1", "Y1", True, f"{EXAMPLE_KEY}:y1.1"),
    ]
    event = AuditEvent.objects.get(action="framework.load")
    assert event.organization is None
    assert event.after["version"] == 1
    assert verify_chain(chain_for(None)).problem is None


@pytest.mark.django_db
def test_loading_the_same_catalog_twice_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "example.yaml", example_catalog())
    catalog_load(paths=[path])
    state = database_state()

    [result] = catalog_load(paths=[path])

    assert result.outcome == "unchanged"
    assert database_state() == state


@pytest.mark.django_db
def test_a_newer_version_updates_the_catalog_in_place_keeping_requirement_ids_and_keys(
    tmp_path: Path,
) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    ids_before = dict(Requirement.objects.values_list("key", "pk"))
    v2 = example_catalog(version=2, name="Example Criteria (revised)")
    requirement(v2, "X1.1")["title"] = "Access is restricted to named people"
    requirement(v2, "Y1.1")["description"] = "A full restore is rehearsed twice a year."

    [result] = catalog_load(paths=[write(tmp_path, "v2.yaml", v2)])

    assert result.outcome == "updated"
    framework = Framework.objects.get(key=EXAMPLE_KEY)
    assert (framework.version, framework.name) == (2, "Example Criteria (revised)")
    assert dict(Requirement.objects.values_list("key", "pk")) == ids_before
    x11 = Requirement.objects.get(key=f"{EXAMPLE_KEY}:x1.1")
    assert x11.title == "Access is restricted to named people"
    y11 = Requirement.objects.get(key=f"{EXAMPLE_KEY}:y1.1")
    assert y11.description == "A full restore is rehearsed twice a year."
    event = AuditEvent.objects.get(action="framework.update")
    assert (event.before, event.after["version"]) == ({"version": 1}, 2)


@pytest.mark.django_db
def test_a_requirement_dropped_by_a_newer_version_is_deleted_if_unused_and_withdrawn_if_mapped(
    tmp_path: Path,
) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    framework = Framework.objects.get(key=EXAMPLE_KEY)
    org = OrganizationFactory()
    adopt(org, framework)
    mapped = Requirement.objects.get(framework=framework, ref_id="X1.3")
    map_control(ControlFactory(organization=org), mapped)
    v2 = example_catalog(version=2)
    v2["requirements"] = [r for r in v2["requirements"] if r["ref_id"] not in {"X1.2", "X1.3"}]

    [result] = catalog_load(paths=[write(tmp_path, "v2.yaml", v2)])

    assert result.outcome == "updated"
    assert "X1.3" in result.detail
    assert not Requirement.objects.filter(key=f"{EXAMPLE_KEY}:x1.2").exists()
    mapped.refresh_from_db()
    assert mapped.withdrawn is True
    assert mapped.mappings.count() == 1
    assert (
        not Requirement.objects.filter(framework=framework, withdrawn=True)
        .exclude(pk=mapped.pk)
        .exists()
    )
    assert AuditEvent.objects.get(action="framework.update").after["withdrawn"] == ["X1.3"]


@pytest.mark.django_db
def test_a_group_dropped_with_all_its_unused_children_is_deleted_not_withdrawn(
    tmp_path: Path,
) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    v2 = example_catalog(version=2)
    v2["categories"] = v2["categories"][:1]
    v2["requirements"] = [r for r in v2["requirements"] if r["category"] != "Y"]

    [result] = catalog_load(paths=[write(tmp_path, "v2.yaml", v2)])

    assert result.outcome == "updated"
    assert "withdrawn" not in result.detail
    refs = Requirement.objects.filter(framework__key=EXAMPLE_KEY).values_list("ref_id", flat=True)
    assert list(refs) == ["X1", "X1.1", "X1.2", "X1.3"]
    # The category lost its last requirement and was dropped from the file: it goes too.
    codes = FrameworkCategory.objects.filter(framework__key=EXAMPLE_KEY).values_list(
        "code", flat=True
    )
    assert list(codes) == ["X"]


@pytest.mark.django_db
def test_a_group_dropped_with_a_mapped_child_is_withdrawn_with_it(tmp_path: Path) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    framework = Framework.objects.get(key=EXAMPLE_KEY)
    org = OrganizationFactory()
    adopt(org, framework)
    map_control(ControlFactory(organization=org), Requirement.objects.get(ref_id="Y1.1"))
    v2 = example_catalog(version=2)
    v2["categories"] = v2["categories"][:1]
    v2["requirements"] = [r for r in v2["requirements"] if r["category"] != "Y"]

    [result] = catalog_load(paths=[write(tmp_path, "v2.yaml", v2)])

    withdrawn = Requirement.objects.filter(framework=framework, withdrawn=True)
    assert sorted(withdrawn.values_list("ref_id", flat=True)) == ["Y1", "Y1.1"]
    assert Requirement.objects.get(ref_id="Y1.1").parent.ref_id == "Y1"
    assert "Y1.1" in result.detail
    # Still referenced by the withdrawn requirements, so the category stays.
    assert framework.categories.filter(code="Y").exists()


@pytest.mark.django_db
def test_a_withdrawn_requirement_that_returns_in_a_later_version_counts_again(
    tmp_path: Path,
) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    framework = Framework.objects.get(key=EXAMPLE_KEY)
    org = OrganizationFactory()
    adopt(org, framework)
    mapped = Requirement.objects.get(framework=framework, ref_id="X1.3")
    map_control(ControlFactory(organization=org), mapped)
    v2 = example_catalog(version=2)
    v2["requirements"] = [r for r in v2["requirements"] if r["ref_id"] != "X1.3"]
    catalog_load(paths=[write(tmp_path, "v2.yaml", v2)])

    catalog_load(paths=[write(tmp_path, "v3.yaml", example_catalog(version=3))])

    mapped.refresh_from_db()
    assert mapped.withdrawn is False
    assert Requirement.objects.get(key=f"{EXAMPLE_KEY}:x1.3").pk == mapped.pk


@pytest.mark.django_db
def test_an_older_version_of_a_loaded_catalog_is_skipped(tmp_path: Path) -> None:
    v2 = example_catalog(version=2)
    requirement(v2, "X1.1")["title"] = "Access is restricted to named people"
    catalog_load(paths=[write(tmp_path, "v2.yaml", v2)])
    state = database_state()

    [result] = catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])

    assert result.outcome == "skipped"
    assert "version 2" in result.detail
    assert database_state() == state
    assert Requirement.objects.get(ref_id="X1.1").title == "Access is restricted to named people"


@pytest.mark.django_db
def test_changing_a_catalog_without_raising_its_version_is_rejected(tmp_path: Path) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    state = database_state()
    edited = example_catalog()
    requirement(edited, "X1.1")["title"] = "Quietly edited"
    path = write(tmp_path, "edited.yaml", edited)

    with pytest.raises(LibraryFileError) as excinfo:
        catalog_load(paths=[path])

    assert excinfo.value.path == str(path)
    assert excinfo.value.entry == "header"
    assert "raise 'version'" in str(excinfo.value)
    assert database_state() == state


@pytest.mark.django_db
def test_a_refused_catalog_rolls_back_the_valid_catalogs_loaded_before_it_in_the_same_call(
    tmp_path: Path,
) -> None:
    catalog_load(paths=[write(tmp_path, "v1.yaml", example_catalog())])
    state = database_state()
    edited = example_catalog()
    requirement(edited, "X1.2")["title"] = "Quietly edited"
    valid = write(tmp_path, "other.yaml", other_catalog())
    bad = write(tmp_path, "edited.yaml", edited)

    with pytest.raises(LibraryFileError) as excinfo:
        catalog_load(paths=[valid, bad])

    assert excinfo.value.path == str(bad)
    assert database_state() == state
    assert not Framework.objects.filter(slug="other").exists()


@pytest.mark.django_db
def test_two_files_with_the_same_key_are_rejected_before_anything_is_written(
    tmp_path: Path,
) -> None:
    first = write(tmp_path, "first.yaml", example_catalog())
    second = write(tmp_path, "second.yaml", example_catalog(slug="example-two"))

    with pytest.raises(LibraryFileError) as excinfo:
        catalog_load(paths=[first, second])

    assert excinfo.value.path == str(second)
    assert str(first) in excinfo.value.problem
    assert not Framework.objects.exists()


@pytest.mark.django_db
def test_a_catalog_taking_the_slug_of_another_framework_is_rejected(tmp_path: Path) -> None:
    catalog_load(paths=[write(tmp_path, "example.yaml", example_catalog())])
    state = database_state()
    path = write(tmp_path, "thief.yaml", example_catalog(key="urn:test:framework:thief"))

    with pytest.raises(LibraryFileError, match="slug 'example' already belongs to"):
        catalog_load(paths=[path])

    assert database_state() == state


# --- malformed files ----------------------------------------------------------------------------


def drop_title(data: dict[str, Any]) -> None:
    del data["requirements"][2]["title"]


def add_unknown_field(data: dict[str, Any]) -> None:
    data["requirements"][2]["owner"] = "Dana"


def duplicate_ref_id(data: dict[str, Any]) -> None:
    data["requirements"][3]["ref_id"] = "X1.2"


def duplicate_ref_id_in_other_case(data: dict[str, Any]) -> None:
    data["requirements"][3]["ref_id"] = "x1.2"  # keys are lowercased: it would clash


def parent_defined_later(data: dict[str, Any]) -> None:
    data["requirements"][2]["parent"] = "Y1"


def undeclared_category(data: dict[str, Any]) -> None:
    data["requirements"][2]["category"] = "Z"


def text_for_assessable(data: dict[str, Any]) -> None:
    data["requirements"][2]["assessable"] = "yes"


def over_long_title(data: dict[str, Any]) -> None:
    data["requirements"][2]["title"] = "t" * 201


def no_mandatory_category(data: dict[str, Any]) -> None:
    data["categories"][0]["mandatory"] = False


def wrong_format(data: dict[str, Any]) -> None:
    data["format"] = "attest.catalog/v2"


def nothing_assessable(data: dict[str, Any]) -> None:
    for entry in data["requirements"]:
        entry["assessable"] = False


def zero_version(data: dict[str, Any]) -> None:
    data["version"] = 0


INVALID_YAML = "format: attest.catalog/v1\nkey: [unclosed\nslug: example\n"

MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None] | str, str, str]] = [
    ("invalid yaml", INVALID_YAML, "line 3", "is not valid YAML"),
    ("wrong format", wrong_format, "header", "'format' must be 'attest.catalog/v1'"),
    ("missing title", drop_title, "requirements[2] (X1.2)", "'title' is required"),
    # Unknown fields are checked before the ref_id is read, so the entry is named by index only.
    ("unknown field", add_unknown_field, "requirements[2]", "unknown field(s): owner"),
    ("duplicate ref_id", duplicate_ref_id, "requirements[3] (X1.2)", "'X1.2' appears twice"),
    (
        "ref_id differing only in case",
        duplicate_ref_id_in_other_case,
        "requirements[3] (x1.2)",
        "ref_id 'x1.2' differs from 'X1.2' only in case",
    ),
    (
        "parent not defined earlier",
        parent_defined_later,
        "requirements[2] (X1.2)",
        "parent 'Y1' must be a ref_id listed before this entry",
    ),
    (
        "undeclared category",
        undeclared_category,
        "requirements[2] (X1.2)",
        "category 'Z' is not declared under 'categories'",
    ),
    (
        "non-boolean assessable",
        text_for_assessable,
        "requirements[2] (X1.2)",
        "'assessable' must be true or false, found 'yes'",
    ),
    (
        "over-long title",
        over_long_title,
        "requirements[2] (X1.2)",
        "'title' is 201 characters long; the limit is 200",
    ),
    (
        "no mandatory category",
        no_mandatory_category,
        "header",
        "at least one category must be mandatory",
    ),
    ("nothing assessable", nothing_assessable, "header", "no assessable requirement"),
    ("zero version", zero_version, "header", "'version' must be a positive integer, found 0"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("valid_file_first", [False, True], ids=["alone", "after-a-valid-file"])
@pytest.mark.parametrize(
    ("breakage", "entry", "problem"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_a_malformed_catalog_is_refused_naming_file_entry_and_problem_and_changes_nothing(
    tmp_path: Path,
    breakage: Callable[[dict[str, Any]], None] | str,
    entry: str,
    problem: str,
    valid_file_first: bool,
) -> None:
    catalog_load(paths=[write(tmp_path, "loaded.yaml", other_catalog())])
    state = database_state()
    if isinstance(breakage, str):
        content: dict[str, Any] | str = breakage
    else:
        content = copy.deepcopy(example_catalog())
        breakage(content)
    bad = write(tmp_path, "broken.yaml", content)
    new_valid = write(
        tmp_path, "valid.yaml", example_catalog(key="urn:test:framework:new", slug="new")
    )
    paths = [new_valid, bad] if valid_file_first else [bad]

    with pytest.raises(LibraryFileError) as excinfo:
        catalog_load(paths=paths)

    error = excinfo.value
    assert (error.path, error.entry) == (str(bad), entry)
    assert problem in error.problem
    assert str(error).startswith(f"{bad}: {entry}: ")
    assert database_state() == state


# --- the management command ---------------------------------------------------------------------


@pytest.mark.django_db
def test_load_catalogs_reports_what_it_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, "example.yaml", example_catalog())
    out = StringIO()

    call_command("load_catalogs", str(path), stdout=out)
    call_command("load_catalogs", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert any(line.split() == ["created", EXAMPLE_KEY, "(6", "requirements)"] for line in lines)
    assert any(line.split() == ["unchanged", EXAMPLE_KEY] for line in lines)
    assert any("urn:attest:control-set:soc2-starter" in line for line in lines)
    assert Framework.objects.filter(key=EXAMPLE_KEY).count() == 1


@pytest.mark.django_db
def test_load_catalogs_with_a_malformed_file_fails_naming_the_file_and_loads_nothing(
    tmp_path: Path,
) -> None:
    content = example_catalog()
    drop_title(content)
    valid = write(tmp_path, "valid.yaml", other_catalog())
    bad = write(tmp_path, "broken.yaml", content)

    with pytest.raises(CommandError) as excinfo:
        call_command("load_catalogs", str(valid), str(bad), stdout=StringIO())

    message = str(excinfo.value)
    assert message.startswith("Nothing was loaded.")
    assert str(bad) in message
    assert "requirements[2] (X1.2)" in message
    assert "'title' is required" in message
    assert not Framework.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_load_catalogs_with_a_missing_file_fails_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"

    with pytest.raises(CommandError) as excinfo:
        call_command("load_catalogs", str(missing), stdout=StringIO())

    assert f"{missing}: file: cannot be read" in str(excinfo.value)
    assert not Framework.objects.exists()
