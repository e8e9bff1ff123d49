"""Starter control sets: the shipped SOC 2 set, importing it into an organization, bad files."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError

from compliance.models import Organization, Role, User
from controls import library_files
from controls.library_files import ControlSetData, ControlTemplate, LibraryFileError
from controls.models import Control, ControlRequirement, ControlStatusChange, Framework
from controls.services import (
    catalog_load,
    control_create,
    control_set_get,
    control_set_import,
    control_set_plan,
    framework_adopt,
)
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

STARTER = "urn:attest:control-set:soc2-starter"


@functools.cache
def shipped_catalog(slug: str) -> library_files.CatalogData:
    for path in sorted(library_files.CATALOG_DIR.glob("*.yaml")):
        catalog = library_files.parse_catalog(path)
        if catalog.slug == slug:
            return catalog
    raise AssertionError(f"no shipped catalog {slug!r}")


def assessable_refs(slug: str) -> set[str]:
    return {r.ref_id for r in shipped_catalog(slug).requirements if r.assessable}


def starter() -> ControlSetData:
    return control_set_get(STARTER)


def refs(template: ControlTemplate, slug: str) -> set[str]:
    return set(template.mappings.get(slug, []))


def mapped_refs(control: Control, slug: str) -> set[str]:
    return set(
        control.mappings.filter(requirement__framework__slug=slug).values_list(
            "requirement__ref_id", flat=True
        )
    )


def touches(template: ControlTemplate, slug: str, categories: set[str]) -> bool:
    category_of = {r.ref_id: r.category for r in shipped_catalog(slug).requirements}
    return any(category_of[ref] in categories for ref in refs(template, slug))


@pytest.fixture
def library(db: Any) -> None:
    catalog_load()


@pytest.fixture
def admin(db: Any) -> User:
    return UserFactory(email="dana@northwind.test")


@pytest.fixture
def org(admin: User) -> Organization:
    organization = OrganizationFactory(slug="northwind")
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    return organization


def adopt_soc2(admin: User, org: Organization, *scope: str) -> None:
    soc2 = Framework.objects.get(slug="soc2")
    framework_adopt(actor=admin, organization=org, framework=soc2, scope_codes=scope)


def adopt_iso(admin: User, org: Organization) -> None:
    iso = Framework.objects.get(slug="iso27001")
    framework_adopt(
        actor=admin, organization=org, framework=iso, scope_codes=["A.5", "A.6", "A.7", "A.8"]
    )


def mapping_rows() -> list[tuple[int, int]]:
    return sorted(ControlRequirement.objects.values_list("control_id", "requirement_id"))


# --- the shipped starter set --------------------------------------------------------------------


def test_the_starter_set_has_at_least_60_controls_with_unique_ids() -> None:
    controls = starter().controls

    assert len(controls) >= 60
    assert len({t.ref_id for t in controls}) == len(controls)
    assert all(t.name and t.description for t in controls)


def test_the_starter_set_maps_to_every_one_of_the_61_soc2_criteria() -> None:
    mapped = set().union(*(refs(t, "soc2") for t in starter().controls))

    assert len(assessable_refs("soc2")) == 61
    assert mapped == assessable_refs("soc2")


def test_every_iso27001_reference_of_the_starter_set_is_an_annex_a_control() -> None:
    mapped = set().union(*(refs(t, "iso27001") for t in starter().controls))

    assert mapped  # the set does map to ISO 27001
    assert mapped <= assessable_refs("iso27001")


def test_every_starter_control_maps_only_to_the_two_shipped_frameworks() -> None:
    for template in starter().controls:
        assert set(template.mappings) <= {"soc2", "iso27001"}, template.ref_id
        assert refs(template, "soc2"), template.ref_id


def test_every_starter_mapping_names_a_loaded_requirement(library: None) -> None:
    for slug in ("soc2", "iso27001"):
        wanted = set().union(*(refs(t, slug) for t in starter().controls))
        loaded = Framework.objects.get(slug=slug).requirements.filter(
            ref_id__in=wanted, assessable=True, withdrawn=False
        )
        assert loaded.count() == len(wanted), slug


# --- importing ----------------------------------------------------------------------------------


def test_importing_creates_only_the_controls_that_touch_the_scope_mapped_to_adopted_frameworks(
    library: None, admin: User, org: Organization
) -> None:
    adopt_soc2(admin, org, "CC", "A")
    templates = {t.ref_id: t for t in starter().controls}
    expected = {ref for ref, t in templates.items() if touches(t, "soc2", {"CC", "A"})}
    assert expected != set(templates)  # some templates (privacy, processing) are out of scope

    result = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert set(result.created) == expected
    assert result.mapped == []
    controls = Control.objects.filter(organization=org)
    assert set(controls.values_list("ref_id", flat=True)) == expected
    for control in controls:
        template = templates[control.ref_id]
        assert control.source_key == f"{STARTER}#{control.ref_id}"
        assert (control.name, control.category, control.frequency) == (
            template.name,
            template.category,
            template.frequency,
        )
        assert control.long_lead is template.long_lead
        # Every SOC 2 criterion of the template (in scope or not); nothing of ISO 27001.
        assert mapped_refs(control, "soc2") == refs(template, "soc2")
        assert mapped_refs(control, "iso27001") == set()
        change = control.status_changes.get()
        assert (change.from_status, change.to_status) == ("", "not_started")


def test_the_import_plan_lists_the_same_templates_the_import_creates(
    library: None, admin: User, org: Organization
) -> None:
    adopt_soc2(admin, org, "CC")

    templates, adopted = control_set_plan(organization=org, control_set=starter())
    result = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert [t.ref_id for t in templates] == result.created
    assert set(adopted) == {"soc2"}
    assert len(adopted["soc2"]) == 61


def test_importing_without_an_adopted_framework_creates_nothing(
    library: None, admin: User, org: Organization
) -> None:
    result = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert (result.created, result.mapped, result.skipped) == ([], [], [])
    assert not Control.objects.filter(organization=org).exists()


def test_importing_the_starter_set_twice_creates_nothing_new(
    library: None, admin: User, org: Organization
) -> None:
    adopt_soc2(admin, org, "CC", "A")
    first = control_set_import(actor=admin, organization=org, control_set_key=STARTER)
    controls = sorted(Control.objects.values_list("pk", "ref_id", "updated_at"))
    mappings = mapping_rows()
    changes = ControlStatusChange.objects.count()

    second = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert (second.created, second.mapped) == ([], [])
    assert second.skipped == [f"{ref} (already imported)" for ref in first.created]
    assert sorted(Control.objects.values_list("pk", "ref_id", "updated_at")) == controls
    assert mapping_rows() == mappings
    assert ControlStatusChange.objects.count() == changes


def test_adopting_iso27001_later_adds_its_mappings_to_imported_controls_without_duplicates(
    library: None, admin: User, org: Organization
) -> None:
    adopt_soc2(admin, org, "CC", "A")
    first = control_set_import(actor=admin, organization=org, control_set_key=STARTER)
    ids = dict(Control.objects.filter(organization=org).values_list("ref_id", "pk"))
    adopt_iso(admin, org)
    templates = {t.ref_id: t for t in starter().controls}

    second = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert set(second.mapped) == {ref for ref in first.created if refs(templates[ref], "iso27001")}
    # Templates outside the SOC 2 scope that touch ISO 27001 (in scope in full) are new now.
    assert set(second.created) == {
        ref for ref, t in templates.items() if ref not in first.created and refs(t, "iso27001")
    }
    assert set(second.created).isdisjoint(first.created)
    for ref, pk in ids.items():
        control = Control.objects.get(organization=org, ref_id=ref)
        assert control.pk == pk
        assert mapped_refs(control, "iso27001") == refs(templates[ref], "iso27001")
        assert mapped_refs(control, "soc2") == refs(templates[ref], "soc2")
    assert Control.objects.filter(organization=org).count() == len(first.created) + len(
        second.created
    )

    mappings = mapping_rows()
    third = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert (third.created, third.mapped) == ([], [])
    assert mapping_rows() == mappings


def test_a_starter_control_whose_id_is_taken_by_a_hand_made_control_is_skipped_and_reported(
    library: None, admin: User, org: Organization
) -> None:
    adopt_soc2(admin, org, "CC")
    soc2 = Framework.objects.get(slug="soc2")
    own = control_create(
        actor=admin,
        organization=org,
        ref_id="GOV-01",
        name="Our own policy process",
        category="governance",
        frequency="annual",
        requirements=[soc2.requirements.get(ref_id="CC1.1")],
    )

    result = control_set_import(actor=admin, organization=org, control_set_key=STARTER)

    assert "GOV-01 (ID already used by another control)" in result.skipped
    assert "GOV-01" not in result.created
    assert result.created  # the rest of the set was imported
    own.refresh_from_db()
    assert (own.name, own.source_key) == ("Our own policy process", "")
    assert mapped_refs(own, "soc2") == {"CC1.1"}
    assert not Control.objects.filter(source_key=f"{STARTER}#GOV-01").exists()


def test_importing_an_unknown_control_set_is_rejected(
    library: None, admin: User, org: Organization
) -> None:
    adopt_soc2(admin, org, "CC")

    with pytest.raises(ValidationError) as excinfo:
        control_set_import(actor=admin, organization=org, control_set_key="urn:nope")

    assert excinfo.value.message_dict == {"control_set": ["No control set 'urn:nope'."]}
    assert not Control.objects.filter(organization=org).exists()


# --- malformed control sets ---------------------------------------------------------------------

KNOWN_REFS = {"soc2": {"CC1.1", "CC6.1", "A1.2"}, "iso27001": {"A.5.1", "A.8.5"}}


def control_set(**second: Any) -> dict[str, Any]:
    """A valid two-control set; keyword arguments change the second control."""
    controls: list[dict[str, Any]] = [
        {
            "ref_id": "GOV-01",
            "name": "Policies are approved",
            "category": "governance",
            "frequency": "annual",
            "description": "Leadership approves the policies.",
            "mappings": {"soc2": ["CC1.1"], "iso27001": ["A.5.1"]},
        },
        {
            "ref_id": "IAM-02",
            "name": "MFA is enforced",
            "category": "access",
            "frequency": "continuous",
            "long_lead": True,
            "description": "Every sign-in to production uses a second factor.",
            "mappings": {"soc2": ["CC6.1"], "iso27001": ["A.8.5"]},
        },
    ]
    controls[1].update(second)
    return {
        "format": "attest.control-set/v1",
        "key": "urn:test:control-set:mini",
        "version": 1,
        "name": "Mini set",
        "controls": controls,
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_valid_control_set_file_is_parsed_with_its_mappings(tmp_path: Path) -> None:
    path = write(tmp_path, control_set())

    parsed = library_files.parse_control_set(path, KNOWN_REFS)

    assert parsed.key == "urn:test:control-set:mini"
    assert [t.ref_id for t in parsed.controls] == ["GOV-01", "IAM-02"]
    iam = parsed.controls[1]
    assert (iam.category, iam.frequency, iam.long_lead) == ("access", "continuous", True)
    assert iam.mappings == {"soc2": ["CC6.1"], "iso27001": ["A.8.5"]}
    assert parsed.source_key(iam) == "urn:test:control-set:mini#IAM-02"


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        (
            {"mappings": {"nist": ["AC-2"]}},
            "mappings name an unknown framework 'nist'",
        ),
        (
            {"mappings": {"soc2": ["CC6.1", "CC9.9"]}},
            "mappings.soc2 names unknown requirement(s): CC9.9",
        ),
        ({"category": "security"}, "category 'security' is not one of access, asset"),
        ({"frequency": "hourly"}, "frequency 'hourly' is not one of annual, continuous"),
        ({"mappings": {}}, "a control must map to at least one requirement"),
        ({"ref_id": "GOV-01"}, "ref_id 'GOV-01' appears twice"),
        ({"long_lead": "sometimes"}, "'long_lead' must be true or false"),
    ],
    ids=[
        "unknown framework",
        "unknown requirement",
        "bad category",
        "bad frequency",
        "no mapping",
        "duplicate id",
        "non-boolean long_lead",
    ],
)
def test_a_malformed_control_set_is_refused_naming_the_file_and_entry(
    tmp_path: Path, second: dict[str, Any], problem: str
) -> None:
    path = write(tmp_path, control_set(**second))
    entry = f"controls[1] ({second.get('ref_id', 'IAM-02')})"

    with pytest.raises(LibraryFileError) as excinfo:
        library_files.parse_control_set(path, KNOWN_REFS)

    assert (excinfo.value.path, excinfo.value.entry) == (str(path), entry)
    assert problem in excinfo.value.problem
    assert str(excinfo.value).startswith(f"{path}: {entry}: ")


def test_a_control_set_with_the_wrong_format_marker_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {**control_set(), "format": "attest.catalog/v1"})

    with pytest.raises(LibraryFileError) as excinfo:
        library_files.parse_control_set(path, KNOWN_REFS)

    assert (excinfo.value.path, excinfo.value.entry) == (str(path), "header")
    assert "'format' must be 'attest.control-set/v1'" in excinfo.value.problem
