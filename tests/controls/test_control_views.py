"""The control, framework and requirement pages: filters, sorting, export, forms."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from compliance.models import AuditEvent
from controls.models import Control, ControlStatus, ControlStatusChange
from tests.conftest import World
from tests.factories import ControlFactory, map_control

LIST = reverse("control_list", args=["acme"])


def refs(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<td class="id"><a href="[^"]+">([^<]+)</a>', response.content.decode())


@pytest.fixture
def controls(world: World) -> World:
    owner = world.users["owner"]
    old = "2001-01-01"
    ControlFactory(
        organization=world.org, ref_id="OPS-01", name="Backups run nightly", owner=owner,
        status="implemented", category="operations", target_date=old,
    )  # fmt: skip
    ControlFactory(
        organization=world.org, ref_id="OPS-02", name="Capacity reviewed",
        status="in_progress", category="operations", target_date=old,
    )  # fmt: skip
    ControlFactory(
        organization=world.org, ref_id="ARC-01", name="Old control", archived_at="2020-01-01T00:00Z"
    )
    return world


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["CHG-01", "IAM-01", "OPS-01", "OPS-02"]),
        ("?status=implemented", ["OPS-01"]),
        ("?status=implemented&status=in_progress", ["OPS-01", "OPS-02"]),
        ("?owner=none", ["CHG-01", "OPS-02"]),
        ("?category=operations", ["OPS-01", "OPS-02"]),
        ("?q=backup", ["OPS-01"]),
        ("?framework=tsc", ["CHG-01", "IAM-01"]),
        ("?overdue=true", ["OPS-02"]),
        ("?archived=1", ["ARC-01"]),
        ("?sort=-ref_id", ["OPS-02", "OPS-01", "IAM-01", "CHG-01"]),
        ("?sort=name", ["OPS-01", "OPS-02", "CHG-01", "IAM-01"]),
        ("?sort=password", ["CHG-01", "IAM-01", "OPS-01", "OPS-02"]),  # not sortable: default
    ],
)
def test_the_control_list_filters_and_sorts(
    controls: World, query: str, expected: list[str]
) -> None:
    response = controls.client("viewer").get(LIST + query)
    assert response.status_code == 200
    assert refs(response) == expected


def test_owner_me_lists_what_the_user_owns(controls: World) -> None:
    response = controls.client("owner").get(LIST + "?owner=me")
    assert refs(response) == ["IAM-01", "OPS-01"]


def test_an_invalid_filter_value_shows_an_error_and_no_rows(controls: World) -> None:
    response = controls.client("viewer").get(LIST + "?status=done")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert refs(response) == []


def test_htmx_requests_get_only_the_table(controls: World) -> None:
    response = controls.client("viewer").get(LIST + "?status=implemented", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert refs(response) == ["OPS-01"]


def test_the_list_paginates(world: World) -> None:
    for i in range(60):
        ControlFactory(organization=world.org, ref_id=f"ZZ-{i:02d}")
    client = world.client("viewer")
    first = refs(client.get(LIST))
    second = refs(client.get(LIST + "?page=2"))
    assert len(first) == 50
    assert len(second) == 12
    assert not set(first) & set(second)


def test_the_edit_button_shows_only_on_controls_the_user_may_change(controls: World) -> None:
    body = controls.client("owner").get(LIST).content.decode()
    assert reverse("control_edit", args=["acme", controls.control.pk]) in body
    assert reverse("control_edit", args=["acme", controls.unowned_control.pk]) not in body


def test_the_csv_export_follows_the_filters_and_stays_in_the_organization(controls: World) -> None:
    ControlFactory(organization=controls.org, ref_id="FORM-1", name='=HYPERLINK("http://evil")')
    response = controls.client("viewer").get(
        reverse("control_export", args=["acme"]) + "?owner=none"
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acme-controls.csv"'
    content = b"".join(response.streaming_content).decode()
    assert "Globex secret control" not in content  # another organization's IAM-01
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:4] == ["ID", "Name", "Category", "Status"]
    by_ref = {row[0]: row for row in rows[1:]}
    assert set(by_ref) == {"CHG-01", "OPS-02", "FORM-1"}
    assert by_ref["CHG-01"][-1] == "TSC:SEC1.2"
    assert by_ref["FORM-1"][1].startswith("'=")  # a spreadsheet shows it, never runs it


def test_creating_from_a_gap_preselects_its_requirement(world: World) -> None:
    response = world.client("admin").get(
        reverse("control_create", args=["acme"]) + f"?requirement={world.req_gap.pk}"
    )
    body = response.content.decode()
    assert re.search(rf'value="{world.req_gap.pk}" checked', body)
    assert not re.search(rf'value="{world.req_a.pk}" checked', body)


def test_the_form_offers_only_this_organizations_owners_and_adopted_requirements(
    world: World,
) -> None:
    body = world.client("admin").get(reverse("control_create", args=["acme"])).content.decode()
    assert "owner@acme.test" in body
    assert "outsider@globex.test" not in body
    assert "viewer@acme.test" not in body  # viewers cannot own controls
    assert "AV1.1" in body  # adopted framework (any category)


def test_not_applicable_without_a_justification_is_a_form_error(world: World) -> None:
    events = AuditEvent.objects.count()
    response = world.client("admin").post(
        reverse("control_edit", args=["acme", world.control.pk]),
        {
            "ref_id": "IAM-01",
            "name": "MFA",
            "category": "access",
            "status": "not_applicable",
            "frequency": "annual",
            "requirements": [world.req_a.pk],
        },
    )
    assert response.status_code == 400
    assert "Explain why this control does not apply." in response.content.decode()
    assert Control.objects.get(pk=world.control.pk).status == ControlStatus.NOT_STARTED
    assert AuditEvent.objects.count() == events


def test_a_duplicate_id_and_a_foreign_owner_are_form_errors(world: World) -> None:
    response = world.client("admin").post(
        reverse("control_create", args=["acme"]),
        {
            "ref_id": "iam-01",
            "name": "Dup",
            "category": "access",
            "status": "not_started",
            "frequency": "annual",
            "owner": world.users["outsider"].pk,
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Select a valid choice" in body  # the outsider is not offered, and not accepted
    assert Control.objects.filter(organization=world.org).count() == 2


def test_a_status_change_from_the_form_is_kept_with_its_reason(world: World) -> None:
    response = world.client("owner").post(
        reverse("control_edit", args=["acme", world.control.pk]),
        {
            "ref_id": "IAM-01",
            "name": "MFA everywhere",
            "category": "access",
            "status": "implemented",
            "frequency": "quarterly",
            "owner": world.users["owner"].pk,
            "requirements": [world.req_a.pk],
            "reason": "Enforced in the IdP",
        },
    )
    assert response.status_code == 302
    change = ControlStatusChange.objects.filter(control=world.control).latest("created_at")
    assert (change.from_status, change.to_status, change.reason) == (
        "not_started",
        "implemented",
        "Enforced in the IdP",
    )
    assert change.actor == world.users["owner"]
    detail = world.client("viewer").get(reverse("control_detail", args=["acme", world.control.pk]))
    assert "Enforced in the IdP" in detail.content.decode()


def test_archiving_hides_a_control_and_restoring_brings_it_back(world: World) -> None:
    admin = world.client("admin")
    admin.post(reverse("control_archive", args=["acme", world.control.pk]), {"reason": "Replaced"})
    assert "IAM-01" not in refs(admin.get(LIST))
    assert (
        world.client("owner")
        .get(reverse("control_edit", args=["acme", world.control.pk]))
        .status_code
        == 403
    )
    admin.post(reverse("control_restore", args=["acme", world.control.pk]))
    assert "IAM-01" in refs(admin.get(LIST))


def test_an_admin_grants_and_revokes_edit_access(world: World) -> None:
    member = world.users["member"]
    admin = world.client("admin")
    edit = reverse("control_edit", args=["acme", world.control.pk])
    assert world.client("member").get(edit).status_code == 403
    admin.post(reverse("control_access", args=["acme", world.control.pk]), {"user": member.pk})
    assert world.client("member").get(edit).status_code == 200
    admin.post(
        reverse("control_access", args=["acme", world.control.pk]),
        {"action": "revoke", "user": member.pk},
    )
    assert world.client("member").get(edit).status_code == 403


def test_requirement_states_filter_the_framework_page(world: World) -> None:
    map_control(world.unowned_control)  # no-op: keeps req_b mapped to a not-started control
    client = world.client("viewer")
    page = reverse("framework_detail", args=["acme", "tsc"])
    gaps = client.get(page + "?state=gap").content.decode()
    assert "SEC1.3" in gaps and "SEC1.1" not in gaps
    not_ready = client.get(page + "?state=not_ready").content.decode()
    assert "SEC1.1" in not_ready and "SEC1.2" in not_ready and "SEC1.3" not in not_ready
    everything = client.get(page).content.decode()
    assert "Out of scope" in everything  # AV1.1 is listed, not counted


def test_a_gap_page_offers_to_create_a_control_only_to_admins(world: World) -> None:
    url = reverse("requirement_detail", args=["acme", world.req_gap.pk])
    admin_page = world.client("admin").get(url).content.decode()
    assert "no control covers this requirement yet" in admin_page
    assert f"?requirement={world.req_gap.pk}" in admin_page
    assert (
        f"?requirement={world.req_gap.pk}" not in world.client("viewer").get(url).content.decode()
    )


def test_every_number_on_the_dashboard_opens_a_page(world: World) -> None:
    client = world.client("admin")
    body = client.get(reverse("dashboard", args=["acme"])).content.decode()
    links = set(re.findall(r'href="(/o/acme/[^"]*)"', body))
    assert len(links) > 10
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_the_dashboard_counts_match_the_lists_they_open(controls: World) -> None:
    client = controls.client("admin")
    body = client.get(reverse("dashboard", args=["acme"])).content.decode()
    stat = r'{}"><div class="stat-label">{}</div><div class="stat-value"[^>]*>(\d+)'
    implemented = re.search(stat.format("status=implemented", "Implemented"), body)
    assert implemented is not None
    assert int(implemented.group(1)) == len(refs(client.get(LIST + "?status=implemented")))
    overdue = re.search(stat.format("overdue=true", "Past target date"), body)
    assert overdue is not None
    assert int(overdue.group(1)) == len(refs(client.get(LIST + "?overdue=true")))


def test_an_adopted_framework_offers_the_policy_library_to_those_who_manage_policies(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controls import views

    monkeypatch.setattr(views, "_control_sets_for", lambda framework: ["a starter set"])
    url = reverse("framework_detail", args=["acme", "tsc"])
    library = reverse("policy_library", args=["acme"])

    assert f'href="{library}"' in world.client("admin").get(url).content.decode()
    for persona in ("member", "viewer"):
        page = world.client(persona).get(url).content.decode()
        assert "Starter controls" in page and f'href="{library}"' not in page


def test_the_control_page_shows_each_items_latest_revision_and_its_review(world: World) -> None:
    import datetime as dt

    from evidence import services as evidence_services
    from evidence.models import EvidenceKind, ReviewStatus

    admin = world.users["admin"]
    item = evidence_services.evidence_create(
        actor=admin, organization=world.org, title="Access review Q3", kind=EvidenceKind.NOTE,
        effective_date=dt.date(2026, 10, 1), covers_from=None, covers_until=None,
        controls=[world.control], occurrence=None, upload=None, url="", note="Reviewed.",
    )  # fmt: skip
    first = item.revisions.get()
    evidence_services.revision_review(actor=admin, revision=first, decision=ReviewStatus.ACCEPTED)
    evidence_services.evidence_add_revision(actor=admin, item=item, note="Reviewed again.")

    page = world.client("admin").get(reverse("control_detail", args=["acme", world.control.pk]))

    [row] = [e for e in page.context["evidence"].rows if e.pk == item.pk]
    assert (row.latest_number, row.latest_review) == (2, ReviewStatus.PENDING)
    assert "· r2" in page.content.decode()
