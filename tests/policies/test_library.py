"""The starter policy library: its files are valid, original-length policies mapped to real
starter controls, malformed files fail with the file, the field and the problem, and importing
is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.models import AuditEvent
from controls.library_files import LibraryFileError
from policies import library_files, services
from policies.library_files import KnownRefs, parse_library, parse_policy_file
from policies.models import Policy, PolicyVersion, VersionStatus
from policies.rendering import word_count
from tests.conftest import World
from tests.factories import CategoryFactory, ControlFactory, FrameworkFactory, RequirementFactory

KNOWN = KnownRefs(controls=frozenset({"IAM-01", "IAM-02"}), soc2=frozenset({"CC6.1", "CC6.2"}))
GOOD = """---
key: access
title: Access Policy
category: access
review_months: 12
summary: Who gets in.
controls: [IAM-01]
soc2: [CC6.1]
---
# Access Policy

{{ organization }} grants access by role.
"""


def write(tmp_path: Path, text: str, name: str = "policy.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped library ------------------------------------------------------------------------


def test_the_library_has_at_least_twelve_valid_policies() -> None:
    templates = parse_library()

    assert len(templates) >= 12
    keys = {t.key for t in templates}
    for expected in [
        "information-security", "acceptable-use", "access-control", "change-management",
        "incident-response", "business-continuity", "vendor-management",
        "data-classification-retention", "risk-management", "secure-development", "backup",
        "encryption",
    ]:  # fmt: skip
        assert expected in keys


@pytest.mark.parametrize("template", parse_library(), ids=lambda t: t.key)
def test_each_library_policy_is_400_to_900_words_and_mapped(template) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= word_count(template.body) <= 900, word_count(template.body)
    assert template.controls, "a library policy must support at least one starter control"
    assert template.soc2, "a library policy must name the SOC 2 criteria it supports"
    assert template.body.lstrip().startswith(f"# {template.title}")
    assert "{{ organization }}" in template.body


def test_library_control_refs_exist_in_the_starter_control_set() -> None:
    known = library_files.known_refs()

    assert {"IAM-01", "HR-02", "BCP-02"} <= known.controls
    assert {"CC6.1", "A1.2", "C1.1"} <= known.soc2


# --- validation ---------------------------------------------------------------------------------


def test_a_good_file_parses(tmp_path: Path) -> None:
    template = parse_policy_file(write(tmp_path, GOOD), KNOWN)

    assert (template.key, template.title, template.review_months) == ("access", "Access Policy", 12)
    assert template.controls == ["IAM-01"]
    assert template.body_for("Acme") == "# Access Policy\n\nAcme grants access by role.\n"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("key: access\n# no front matter", "front matter", "must start with a '---' line"),
        ("---\nkey: access\n# never closed\n", "front matter", "no closing '---' line"),
        ("---\nkey: [unclosed\n---\nBody\n", "front matter line", "is not valid YAML"),
        ("---\n- a list\n---\nBody\n", "front matter", "expected a mapping"),
        (
            GOOD.replace("summary:", "colour: red\nsummary:"),
            "front matter",
            "unknown field(s): colour",
        ),
        (GOOD.replace("key: access", "key: Access Policy"), "key", "lowercase letters"),
        (GOOD.replace("title: Access Policy\n", ""), "title", "is required"),
        (GOOD.replace("category: access", "category: vibes"), "category", "'vibes' is not one of"),
        (
            GOOD.replace("review_months: 12", "review_months: 48"),
            "review_months",
            "between 1 and 36",
        ),
        (
            GOOD.replace("review_months: 12", "review_months: yearly"),
            "review_months",
            "whole number",
        ),
        (
            GOOD.replace("[IAM-01]", "[IAM-01, XYZ-99]"),
            "controls",
            "unknown starter control(s): XYZ-99",
        ),
        (GOOD.replace("[CC6.1]", "[CC9.9]"), "soc2", "unknown SOC 2 criteria: CC9.9"),
        (GOOD.replace("[IAM-01]", "IAM-01"), "controls", "must be a list"),
        (GOOD.split("---\n# Access")[0] + "---\n\n", "body", "is empty"),
        (GOOD.replace("{{ organization }}", "{{ company }}"), "body", "unknown placeholder"),
    ],
)
def test_malformed_files_name_the_file_the_field_and_the_problem(
    tmp_path: Path, text: str, field: str, problem: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(LibraryFileError) as excinfo:
        parse_policy_file(path, KNOWN)

    error = excinfo.value
    assert error.path == str(path)
    assert error.entry.startswith(field), error
    assert problem in error.problem, error
    assert str(path) in str(error)


def test_two_files_with_the_same_key_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.md")
    write(tmp_path, GOOD.replace("title: Access Policy", "title: Other"), "b.md")

    with pytest.raises(LibraryFileError) as excinfo:
        parse_library(tmp_path, KNOWN)

    assert excinfo.value.entry == "key"
    assert "also used by" in excinfo.value.problem


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes(GOOD.replace("Who gets in.", "Qui entre ?").encode("utf-16"))

    with pytest.raises(LibraryFileError) as excinfo:
        parse_policy_file(path, KNOWN)

    assert "not UTF-8" in excinfo.value.problem


# --- import -------------------------------------------------------------------------------------


def starter_controls(world: World) -> None:
    """Two of acme's controls imported from the starter set, and SOC 2 adopted."""
    prefix = library_files.STARTER_CONTROL_SET
    ControlFactory(organization=world.org, ref_id="IAM-02", source_key=f"{prefix}#IAM-02")
    ControlFactory(organization=world.org, ref_id="HR-02", source_key=f"{prefix}#HR-02")
    soc2 = FrameworkFactory(slug="soc2", short_name="SOC 2")
    category = CategoryFactory(framework=soc2, code="CC")
    RequirementFactory(category=category, ref_id="CC6.1")
    RequirementFactory(category=category, ref_id="CC1.4")
    from controls.models import AdoptedFramework

    AdoptedFramework.objects.create(organization=world.org, framework=soc2).scope.set([category])


def test_importing_the_library_creates_draft_policies_mapped_to_the_organizations_controls(
    world: World,
) -> None:
    starter_controls(world)

    result = services.library_import(actor=world.users["admin"], organization=world.org)

    assert len(result.created) == len(parse_library())
    policies = Policy.objects.filter(organization=world.org)
    assert policies.count() == len(result.created)
    access = policies.get(library_key="access-control")
    assert [c.ref_id for c in access.controls.all()] == ["IAM-02"]
    assert [r.ref_id for r in access.requirements.all()] == ["CC6.1"]
    version = PolicyVersion.objects.get(policy=access)
    assert (version.number, version.status) == (1, VersionStatus.DRAFT)
    assert "Acme" in version.body and "{{ organization }}" not in version.body
    handbook = policies.get(library_key="acceptable-use")
    assert [c.ref_id for c in handbook.controls.all()] == ["HR-02"]
    assert AuditEvent.objects.filter(action="policy.library_import").count() == 1


def test_importing_twice_changes_nothing_and_keeps_edits(world: World) -> None:
    admin = world.users["admin"]
    services.library_import(actor=admin, organization=world.org, keys=["backup"])
    policy = Policy.objects.get(organization=world.org, library_key="backup")
    services.policy_update(actor=admin, policy=policy, changes={"title": "Our Backups"})
    versions = PolicyVersion.objects.count()
    events = AuditEvent.objects.count()

    result = services.library_import(actor=admin, organization=world.org, keys=["backup"])

    assert result.created == []
    assert result.skipped == ["Backup Policy (already imported)"]
    assert Policy.objects.get(pk=policy.pk).title == "Our Backups"
    assert PolicyVersion.objects.count() == versions
    assert AuditEvent.objects.count() == events


def test_a_policy_with_the_same_title_is_not_duplicated(world: World) -> None:
    services.policy_create(
        actor=world.users["admin"], organization=world.org, title="backup policy", category="data"
    )

    result = services.library_import(
        actor=world.users["admin"], organization=world.org, keys=["backup"]
    )

    assert result.created == []
    assert "a policy with this title exists" in result.skipped[0]


def test_importing_an_unknown_key_is_refused_and_writes_nothing(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        services.library_import(
            actor=world.users["admin"], organization=world.org, keys=["backup", "nope"]
        )

    assert "nope" in excinfo.value.message_dict["keys"][0]
    assert not Policy.objects.exists()
