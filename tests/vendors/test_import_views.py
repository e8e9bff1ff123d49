"""The vendor import page and its API endpoint: every persona, every bad input, both modes.

Only vendor managers (admins, Capability.MANAGE_VENDORS) import; members, viewers and auditors
get 403, strangers 404. A denied or refused import writes nothing (no vendor, no audit event).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from compliance.models import AuditEvent
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, Case, admin_only_write, check_page_case
from vendors.models import Vendor

API = "/api/organizations/acme/vendors/import/"
GOOD = b"name,risk_tier,owner_email\nStripe,High,owner@acme.test\nSlack,low,\n"
BAD_OWNER = (
    b"name,risk_tier,owner_email\nStripe,High,owner@acme.test\nSlack,low,\nNope,low,x@y.test\n"
)


def upload(content: bytes = GOOD, name: str = "vendors.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "text/csv")


def page(org: str = "acme") -> str:
    return reverse("vendor_import", args=[org])


def inventory(world: World) -> list[str]:
    return sorted(Vendor.objects.filter(organization=world.org).values_list("name", flat=True))


def count(world: World) -> int:
    return Vendor.objects.filter(organization=world.org).count()


# --- permission matrix --------------------------------------------------------------------------

PAGE_CASES = [
    Case("import page", "get", lambda w: page(), admin_only_write(200)),
    Case(
        "import a file",
        "post",
        lambda w: page(),
        admin_only_write(302),
        data=lambda w: {"file": upload(), "mode": "all_or_nothing"},
        state=count,
    ),
    Case(
        "import template",
        "get",
        lambda w: reverse("vendor_import_template", args=["acme"]),
        admin_only_write(200),
    ),
]
PAGE_PARAMS = [param for case in PAGE_CASES for param in case.params()]


@pytest.mark.parametrize(
    ("case", "persona"), PAGE_PARAMS, ids=[f"{c.name}-{p}" for c, p in PAGE_PARAMS]
)
def test_page_permissions(world: World, case: Case, persona: str) -> None:
    check_page_case(world, case, persona)


API_EXPECTED = {**ADMIN_ONLY_READ, "anonymous": 401, "admin": 201}


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_permissions(world: World, persona: str) -> None:
    events = AuditEvent.objects.count()
    response = world.api(persona).post(
        API, {"file": upload(), "mode": "valid_only"}, format="multipart"
    )
    assert response.status_code == API_EXPECTED[persona], response.content[:500]
    if response.status_code >= 400:
        assert "detail" in response.json()
        assert inventory(world) == []
        assert AuditEvent.objects.count() == events
    else:
        assert inventory(world) == ["Slack", "Stripe"]


def test_an_admin_of_another_organization_cannot_import_into_acme(world: World) -> None:
    response = world.client("outsider").post(page(), {"file": upload(), "mode": "valid_only"})
    assert response.status_code == 404
    response = world.client("outsider").post(
        page("globex"), {"file": upload(), "mode": "valid_only"}
    )
    assert response.status_code == 200  # imported, with the row of acme's owner skipped
    assert inventory(world) == []
    # Stripe's owner is acme's: not a member of globex, so only Slack was imported there.
    assert list(Vendor.objects.filter(organization=world.other_org).values_list("name", flat=True)) == ["Slack"]  # fmt: skip  # noqa: E501


def test_only_vendor_managers_are_offered_the_import_link(world: World) -> None:
    link = page().encode()
    for persona in ["viewer", "member", "owner", "granted", "admin"]:
        response = world.client(persona).get(reverse("vendor_list", args=["acme"]))
        assert response.status_code == 200
        assert (link in response.content) == (persona == "admin"), persona


# --- the page -----------------------------------------------------------------------------------


def test_the_page_describes_the_columns_in_words(world: World) -> None:
    response = world.client("admin").get(page())
    text = response.content.decode()
    assert "Cloud infrastructure" in text and "Production access" in text
    assert reverse("vendor_import_template", args=["acme"]) in text
    assert 'value="all_or_nothing"' in text and 'value="valid_only"' in text


def test_a_clean_import_goes_back_to_the_inventory(world: World) -> None:
    response = world.client("admin").post(page(), {"file": upload(), "mode": "all_or_nothing"})
    assert response.status_code == 302
    assert response["Location"] == reverse("vendor_list", args=["acme"])
    assert inventory(world) == ["Slack", "Stripe"]


def test_all_or_nothing_lists_each_bad_line_and_imports_nothing(world: World) -> None:
    response = world.client("admin").post(
        page(), {"file": upload(BAD_OWNER), "mode": "all_or_nothing"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was imported" in text
    assert "no admin or member of Acme has the email x@y.test." in text
    assert '<td class="id">4</td><td class="sub"><code>owner_email</code></td>' in text
    assert "or choose to import only the valid rows" in text
    assert inventory(world) == []


def test_valid_only_imports_the_good_rows_and_lists_the_skipped(world: World) -> None:
    response = world.client("admin").post(page(), {"file": upload(BAD_OWNER), "mode": "valid_only"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Imported 2 vendors, 1 row skipped" in text
    assert "x@y.test" in text
    assert inventory(world) == ["Slack", "Stripe"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The submitted file is empty."),
        ("name\nCaf\xe9\n".encode("latin-1"), "The file is not UTF-8 text"),
        (b"website\nhttps://a.test\n", "The header lacks the column(s): name."),
        (b'name,website\nEvil,"=HYPERLINK(""http://evil"",""x"")"\n', "B2 holds a formula"),
        (b"name\nA\nB\na\n", "name a is also on line 2."),
        (b"name\n", "The file has no vendors below its header line."),
    ],
    ids=["empty", "latin-1", "missing-column", "formula", "duplicate", "header-only"],
)
def test_a_bad_file_is_a_clear_error_and_writes_nothing(
    world: World, content: bytes, expected: str
) -> None:
    events = AuditEvent.objects.count()
    response = world.client("admin").post(
        page(), {"file": upload(content), "mode": "all_or_nothing"}
    )
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert inventory(world) == []
    assert AuditEvent.objects.count() == events


def test_an_import_without_a_file_or_mode_is_a_form_error(world: World) -> None:
    response = world.client("admin").post(page(), {"mode": "sometimes"})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"file", "mode"}
    assert inventory(world) == []


def test_the_template_is_a_csv_attachment(world: World) -> None:
    response = world.client("admin").get(reverse("vendor_import_template", args=["acme"]))
    assert response["Content-Type"] == "text/csv"
    assert 'filename="vendors-template.csv"' in response["Content-Disposition"]
    assert response.content.decode().splitlines()[0].startswith("name,category,risk_tier")


# --- the API ------------------------------------------------------------------------------------


def post(world: World, data: dict[str, Any]) -> Any:
    return world.api("admin").post(API, data, format="multipart")


def test_the_api_imports_and_says_what_it_did(world: World) -> None:
    response = post(world, {"file": upload()})
    assert response.status_code == 201
    assert response.json() == {
        "mode": "all_or_nothing",
        "rows": 2,
        "created": 2,
        "skipped_lines": [],
        "errors": [],
        "warnings": [],
    }


def test_the_api_refuses_a_bad_row_naming_line_and_column(world: World) -> None:
    response = post(world, {"file": upload(BAD_OWNER)})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Nothing was imported: 1 problem(s) on 1 line(s)."
    assert body["errors"] == [
        {
            "line": 4,
            "column": "owner_email",
            "reason": "no admin or member of Acme has the email x@y.test.",
        }
    ]
    assert inventory(world) == []


def test_the_api_valid_only_imports_the_good_rows(world: World) -> None:
    response = post(world, {"file": upload(BAD_OWNER), "mode": "valid_only"})
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["skipped_lines"]) == (2, [4])


def test_the_api_refuses_a_formula_naming_the_cell(world: World) -> None:
    content = b'name,description\nEvil,"=HYPERLINK(""http://evil"",""x"")"\n'
    response = post(world, {"file": upload(content), "mode": "valid_only"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["line"], error["column"]) == (2, "description")
    assert error["reason"].startswith("B2 holds a formula")
    assert inventory(world) == []


def test_the_api_refuses_a_file_that_is_not_utf8(world: World) -> None:
    response = post(world, {"file": upload("name\nCaf\xe9\n".encode("latin-1"))})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["line"] == 0 and "not UTF-8" in error["reason"]


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "file"), ({"file": "text"}, "file"), ({"mode": "sometimes"}, "mode")],
    ids=["no-file", "not-a-file", "bad-mode"],
)
def test_the_api_names_a_bad_request_field(world: World, data: dict[str, Any], field: str) -> None:
    if field == "mode":
        data = {**data, "file": upload()}
    response = post(world, data)
    assert response.status_code == 400
    assert field in response.json()
    assert inventory(world) == []


def test_the_api_refuses_an_empty_upload(world: World) -> None:
    response = post(world, {"file": upload(b"")})
    assert response.status_code == 400
    assert "file" in response.json()
