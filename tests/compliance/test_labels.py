"""Words for people instead of stored keys, as the audit trail shows its changes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from compliance.templatetags.labels import audit_changes, humanize_key
from controls import services as controls
from tests.conftest import World


@pytest.mark.parametrize(
    ("key", "label"),
    [("background_check", "Background check"), ("control_set.import", "Control set: import"),
     ("status", "Status")],
)  # fmt: skip
def test_keys_read_as_words(key: str, label: str) -> None:
    assert humanize_key(key) == label


def test_the_audit_trail_shows_field_and_choice_labels_not_stored_keys() -> None:
    event = SimpleNamespace(
        object_type="controls.control",
        before={"status": "in_progress", "target_date": None},
        after={
            "status": "implemented",
            "target_date": "2027-04-02",
            "kind": "mfa",
            "requirement": "agreement",
            "check_key": "attest.vendor_reviews",
        },
    )

    rows = {row["label"]: (row["before"], row["after"]) for row in audit_changes(event)}

    assert rows == {
        "Status": ("In progress", "Implemented"),
        "Target date": ("—", "2 Apr 2027"),
        "Kind": (None, "MFA enabled"),  # a personnel record's kind, on the person's event
        "Requirement": (None, "Employment agreement / NDA"),  # a value with one meaning
        "Check key": (None, "Attest: vendor reviews"),
    }


def test_the_audit_trail_page_shows_labels_of_stored_values(world: World) -> None:
    controls.control_update(
        actor=world.users["admin"],
        control=world.control,
        changes={"status": "in_progress"},
        reason="Work started",
    )

    page = world.client("admin").get(reverse("audit_trail", args=["acme"])).content.decode()
    changes = page[page.index("<tbody>") :]

    assert "<ins>In progress</ins>" in changes
    assert "in_progress" not in changes
    assert ">Control: update</span>" in changes
