"""The policies API: what it returns, the workflow through it, and clear JSON errors."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from policies.models import Acknowledgement, Policy, PolicyVersion, VersionStatus
from tests.conftest import World
from tests.policies.factories import (
    PersonFactory,
    PolicyWorld,
    approved_policy,
    first_version,
    make_policy,
)

BASE = "/api/organizations/acme/policies"


def test_the_list_shows_the_current_version_and_the_review_date(world: World) -> None:
    effective = timezone.localdate() - dt.timedelta(days=20)
    policy, _ = approved_policy(world, controls=(world.control,), effective=effective)
    make_policy(world, title="Backup Policy")

    response = world.api("viewer").get(f"{BASE}/?ordering=title")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["title"] for r in rows] == ["Access Control Policy", "Backup Policy"]
    access = rows[0]
    assert access["id"] == policy.pk
    assert access["current_version"] == 1
    assert access["effective_date"] == effective.isoformat()
    assert access["approved_by"] == "admin@acme.test"
    assert access["open_version"] is None
    assert access["controls"] == ["IAM-01"]
    assert access["review_due"] == effective.replace(year=effective.year + 1).isoformat()
    assert "body" not in access
    assert rows[1]["current_version"] is None and rows[1]["open_version"] == 1


def test_lists_never_show_another_organizations_policies(world: World) -> None:
    make_policy(world)

    response = world.api("outsider").get("/api/organizations/globex/policies/")

    assert response.json()["count"] == 0


def test_an_admin_creates_a_policy_with_a_first_draft(world: World) -> None:
    response = world.api("admin").post(
        f"{BASE}/",
        {
            "title": "Logging Policy",
            "category": "operations",
            "owner": world.users["owner"].pk,
            "controls": ["IAM-01"],
            "requirements": [world.req_a.key],
            "body": "# Logging\n\nKeep logs for a year.",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["open_version"] == 1 and body["review_months"] == 12
    policy = Policy.objects.get(pk=body["id"])
    assert first_version(policy).body.startswith("# Logging")
    assert list(policy.requirements.all()) == [world.req_a]


def test_bad_input_gets_field_errors_and_writes_nothing(world: World) -> None:
    make_policy(world, title="Taken")

    response = world.api("admin").post(
        f"{BASE}/",
        {
            "title": "taken",
            "category": "nonsense",
            "review_months": 0,
            "controls": ["NOPE-1"],
            "colour": "red",
        },
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()
    assert errors["colour"] == ["Unknown field."]
    assert Policy.objects.count() == 1

    response = world.api("admin").post(
        f"{BASE}/", {"title": "taken", "category": "data"}, format="json"
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["title"][0]


def test_the_text_cannot_change_through_the_policy_endpoint(world: World) -> None:
    policy = make_policy(world)

    response = world.api("admin").patch(f"{BASE}/{policy.pk}/", {"body": "x"}, format="json")

    assert response.status_code == 400
    assert "new version" in response.json()["body"][0]
    assert first_version(policy).body.startswith("# Sample policy")


def test_the_workflow_through_the_api(world: World) -> None:
    owner = world.api("owner")
    admin = world.api("admin")
    policy, _ = approved_policy(
        world, owner=world.users["owner"], effective=timezone.localdate() - dt.timedelta(days=40)
    )
    versions = f"{BASE}/{policy.pk}/versions"

    created = owner.post(f"{versions}/", {"change_summary": "Yearly"}, format="json")
    assert created.status_code == 201
    assert (created.json()["number"], created.json()["status"]) == (2, "draft")

    edited = owner.patch(f"{versions}/2/", {"body": "# New text"}, format="json")
    assert edited.json()["body"] == "# New text"

    assert owner.post(f"{versions}/2/submit/", {}, format="json").json()["status"] == "in_review"
    assert owner.post(f"{versions}/2/approve/", {}, format="json").status_code == 403

    approved = admin.post(f"{versions}/2/approve/", {"reason": "Fine"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == "admin@acme.test"

    listing = admin.get(f"{versions}/").json()["results"]
    assert [(v["number"], v["status"]) for v in listing] == [(2, "approved"), (1, "retired")]


def test_an_approved_version_refuses_edits_through_the_api(world: World) -> None:
    policy, version = approved_policy(world)

    response = world.api("admin").patch(
        f"{BASE}/{policy.pk}/versions/1/",
        {"body": "# Rewritten", "change_summary": "sneaky"},
        format="json",
    )

    assert response.status_code == 400
    assert "cannot be changed" in response.json()["body"][0]
    version.refresh_from_db()
    assert version.body.startswith("# Sample policy") and version.change_summary == ""


def test_read_only_and_unknown_version_fields_are_rejected(world: World) -> None:
    policy = make_policy(world)

    response = world.api("admin").patch(
        f"{BASE}/{policy.pk}/versions/1/", {"status": "approved"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["status"] == ["This field is read-only."]
    assert first_version(policy).status == VersionStatus.DRAFT


def test_an_unknown_version_or_policy_answers_404(world: World) -> None:
    policy = make_policy(world)
    client = world.api("admin")

    assert client.get(f"{BASE}/{policy.pk}/versions/9/").status_code == 404
    assert client.get(f"{BASE}/999999/versions/").status_code == 404


def test_the_signed_in_person_acknowledges_once(pw: PolicyWorld) -> None:
    policy, _ = approved_policy(pw.world)
    client = pw.world.api("member")
    url = f"{BASE}/{policy.pk}/acknowledge/"
    assert client.post(f"{BASE}/{policy.pk}/send/", {}, format="json").status_code == 403
    pw.world.api("admin").post(f"{BASE}/{policy.pk}/send/", {}, format="json")

    first = client.post(url)
    second = client.post(url)

    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["via"] == "app"
    assert Acknowledgement.objects.count() == 1

    listing = pw.world.api("viewer").get(f"{BASE}/{policy.pk}/acknowledgements/").json()
    assert [(a["person_name"], a["version"], a["round"]) for a in listing["results"]] == [
        ("Mia Member", 1, 1)
    ]


def test_acknowledging_a_policy_without_an_approved_version_is_a_clear_400(pw: PolicyWorld) -> None:
    policy = make_policy(pw.world)

    response = pw.world.api("member").post(f"{BASE}/{policy.pk}/acknowledge/")

    assert response.status_code == 400
    assert "no approved version" in response.json()["non_field_errors"][0]


def test_sending_reports_who_was_asked(pw: PolicyWorld) -> None:
    policy, _ = approved_policy(pw.world)
    client = pw.world.api("admin")

    first = client.post(f"{BASE}/{policy.pk}/send/", {"department": "Sales"}, format="json")
    bad = client.post(f"{BASE}/{policy.pk}/send/", {"employment_type": "intern"}, format="json")

    assert first.json() == {"sent": 1, "up_to_date": 0, "already_asked": 0}
    assert bad.status_code == 400 and "employment_type" in bad.json()
    assert PolicyVersion.objects.get(policy=policy).distribution.department == "Sales"


def test_sending_a_policy_without_an_approved_version_is_refused(world: World) -> None:
    PersonFactory(organization=world.org)
    policy = make_policy(world)

    response = world.api("admin").post(f"{BASE}/{policy.pk}/send/", {}, format="json")

    assert response.status_code == 400
    assert "Approve a version" in response.json()["non_field_errors"][0]
