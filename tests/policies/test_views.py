"""The policy pages: the list (counts that link to their lists, filters, sorting), the library,
the policy page with who has and has not acknowledged, the version pages and their forms, and
query-count guards."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEvent
from policies import services
from policies.models import Acknowledgement, Policy, PolicyVersion, VersionStatus
from tests.conftest import World
from tests.factories import UserFactory
from tests.policies.factories import (
    PersonFactory,
    PolicyWorld,
    approved_policy,
    days_ago,
    first_version,
    make_policy,
)

LIST = reverse("policy_list", args=["acme"])


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(
        r'<a href="/o/acme/policies/\d+/"><strong>([^<]+)</strong>', response.content.decode()
    )


# --- the list -----------------------------------------------------------------------------------


def test_an_empty_list_offers_the_library_to_admins_only(world: World) -> None:
    admin_page = world.client("admin").get(LIST)
    viewer_page = world.client("viewer").get(LIST)

    library = reverse("policy_library", args=["acme"])
    assert "Start from Attest's policy library" in text(admin_page)
    assert f'href="{library}"' in admin_page.content.decode()
    assert library not in viewer_page.content.decode()
    assert "No policies yet" in text(viewer_page)


def build_list(world: World) -> None:
    today = timezone.localdate()
    approved_policy(world, title="Approved Fresh", effective=today - dt.timedelta(days=10))
    approved_policy(world, title="Approved Overdue", effective=today - dt.timedelta(days=400))
    approved_policy(world, title="Approved Soon", effective=today - dt.timedelta(days=350))
    policy = make_policy(world, title="In Review", owner=world.users["owner"])
    services.policy_version_submit(actor=world.users["admin"], version=first_version(policy))
    make_policy(world, title="Just A Draft")


def test_every_count_on_the_list_links_to_the_policies_behind_it(world: World) -> None:
    build_list(world)
    client = world.client("viewer")
    page = client.get(LIST)

    expected = {
        "?status=approved": ["Approved Fresh", "Approved Overdue", "Approved Soon"],
        "?status=in_review": ["In Review"],
        "?review=overdue": ["Approved Overdue"],
    }
    for query, wanted in expected.items():
        assert f'href="{query}"' in page.content.decode()
        assert titles(client.get(LIST + query)) == wanted
    assert titles(client.get(LIST + "?status=draft")) == ["Just A Draft"]
    assert titles(client.get(LIST + "?status=none")) == ["In Review", "Just A Draft"]
    assert titles(client.get(LIST + "?review=due_soon")) == ["Approved Soon"]
    stats = re.findall(r'<a class="stat-value" href="([^"]+)">(\d+)</a>', page.content.decode())
    assert stats[:3] == [
        ("?status=approved", "3"),
        ("?status=in_review", "1"),
        ("?review=overdue", "1"),
    ]
    for query in ("?status=none", "?status=draft", "?review=due_soon"):
        assert f'href="{query}"' in page.content.decode()


def test_the_list_filters_and_sorts(world: World) -> None:
    build_list(world)
    client = world.client("admin")

    assert titles(client.get(LIST + "?q=overdue")) == ["Approved Overdue"]
    assert titles(client.get(LIST + f"?owner={world.users['owner'].pk}")) == ["In Review"]
    assert titles(client.get(LIST + "?sort=-review"))[:3] == [
        "Approved Fresh",
        "Approved Soon",
        "Approved Overdue",
    ]
    assert titles(client.get(LIST + "?sort=review"))[-2:] == ["In Review", "Just A Draft"]
    assert titles(client.get(LIST + "?sort=-title"))[0] == "Just A Draft"
    assert titles(client.get(LIST + "?sort=bogus"))[0] == "Approved Fresh"  # by title
    assert titles(client.get(LIST + "?status=bogus&review=bogus&category=bogus")) != []


def test_the_acknowledged_column_links_to_the_outstanding_people(pw: PolicyWorld) -> None:
    policy, version = approved_policy(pw.world)
    services.policy_send_for_acknowledgement(actor=pw.world.users["admin"], version=version)
    services.policy_acknowledge(version=version, person=pw.people["eng"], via="app")

    page = pw.world.client("viewer").get(LIST)

    link = reverse("policy_detail", args=["acme", policy.pk]) + "?ack=outstanding#acknowledgements"
    assert f'href="{link}"' in page.content.decode()
    assert "1 / 5" in text(page)


# --- the library --------------------------------------------------------------------------------


def test_the_library_page_imports_the_chosen_policies(world: World) -> None:
    client = world.client("admin")
    url = reverse("policy_library", args=["acme"])

    page = client.get(url)
    assert "Information Security Policy" in text(page)
    assert text(page).count('name="keys"') >= 12

    response = client.post(url, {"keys": ["backup", "encryption"]})
    assert response.status_code == 302
    assert response["Location"] == LIST + "?owner=none"
    assert sorted(Policy.objects.values_list("library_key", flat=True)) == ["backup", "encryption"]

    again = client.get(url)
    assert text(again).count("Imported</a>") == 2
    assert text(again).count('name="keys"') == len(re.findall("New</span>", again.content.decode()))


def test_importing_nothing_or_an_unknown_key_is_a_clear_error(world: World) -> None:
    client = world.client("admin")
    url = reverse("policy_library", args=["acme"])

    for data in ({}, {"keys": ["made-up"]}):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "Choose at least one policy" in text(response)
    assert not Policy.objects.exists()


# --- create and edit ----------------------------------------------------------------------------


def test_creating_a_policy_through_the_form(world: World) -> None:
    response = world.client("admin").post(
        reverse("policy_create", args=["acme"]),
        {
            "title": "Clean Desk Policy",
            "category": "people",
            "review_months": 12,
            "owner": world.users["owner"].pk,
            "controls": [world.control.pk],
            "requirements": [world.req_a.pk],
            "body": "# Clean desk\n\nLock it away.",
        },
    )

    policy = Policy.objects.get(title="Clean Desk Policy")
    assert response["Location"] == reverse("policy_detail", args=["acme", policy.pk])
    assert first_version(policy).body == "# Clean desk\n\nLock it away."
    assert list(policy.controls.all()) == [world.control]


def test_the_create_form_shows_errors_and_writes_nothing(world: World) -> None:
    make_policy(world, title="Taken")
    events = AuditEvent.objects.count()

    response = world.client("admin").post(
        reverse("policy_create", args=["acme"]),
        {
            "title": "TAKEN",
            "category": "people",
            "review_months": 99,
            "owner": world.users["viewer"].pk,
        },
    )

    assert response.status_code == 400
    page = text(response)
    assert "Select a valid choice" in page  # a viewer cannot own a policy
    assert "less than or equal to 36" in page
    assert AuditEvent.objects.count() == events


def test_the_create_form_lists_only_this_organizations_controls(world: World) -> None:
    page = world.client("admin").get(reverse("policy_create", args=["acme"]))

    assert "MFA everywhere" in text(page)
    assert "Globex secret control" not in text(page)


def test_editing_a_policy_changes_its_details(world: World) -> None:
    policy = make_policy(world)

    response = world.client("admin").post(
        reverse("policy_edit", args=["acme", policy.pk]),
        {"title": "Access Policy", "category": "access", "review_months": 6},
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.title, policy.review_months) == ("Access Policy", 6)


# --- the policy page ----------------------------------------------------------------------------


def test_the_policy_page_shows_who_has_and_has_not_acknowledged(pw: PolicyWorld) -> None:
    policy, version = approved_policy(pw.world)
    services.policy_send_for_acknowledgement(
        actor=pw.world.users["admin"], version=version, now=days_ago(2)
    )
    services.policy_acknowledge(
        version=version, person=pw.people["eng"], via="link", now=days_ago(1)
    )
    services.policy_acknowledge(version=version, person=pw.people["sales"], via="app")
    url = reverse("policy_detail", args=["acme", policy.pk])
    client = pw.world.client("viewer")

    page = client.get(url)
    body = text(page)
    for value, query in (("5", "?ack=all"), ("2", "?ack=done"), ("3", "?ack=outstanding")):
        assert f'href="{query}#acknowledgements"' in body
        assert re.search(
            rf'href="{re.escape(query)}#acknowledgements">.*?<div class="stat-value">{value}</div>',
            body,
        )
    people = re.findall(r"<td>([A-Z][a-z]+ [A-Z][a-z]+)<div", body)
    assert people == ["Carl Contractor", "Eli Engineer", "Mia Member", "Olga Owner", "Sara Sales"]
    assert "Lea Left" not in body and "Finn Future" not in body

    done = re.findall(r"<td>([A-Z][a-z]+ [A-Z][a-z]+)<div", text(client.get(url + "?ack=done")))
    assert done == ["Eli Engineer", "Sara Sales"]
    outstanding = text(client.get(url + "?ack=outstanding"))
    assert re.findall(r"<td>([A-Z][a-z]+ [A-Z][a-z]+)<div", outstanding) == [
        "Carl Contractor",
        "Mia Member",
        "Olga Owner",
    ]
    by_date = re.findall(
        r"<td>([A-Z][a-z]+ [A-Z][a-z]+)<div", text(client.get(url + "?sort=-acknowledged"))
    )
    assert by_date[:2] == ["Sara Sales", "Eli Engineer"]
    by_department = re.findall(
        r"<td>([A-Z][a-z]+ [A-Z][a-z]+)<div", text(client.get(url + "?sort=-department"))
    )
    assert by_department[0] == "Sara Sales"
    assert "· link" in body and "· in Attest" in body


def test_the_policy_page_asks_the_signed_in_person_to_acknowledge(pw: PolicyWorld) -> None:
    policy, version = approved_policy(pw.world)
    services.policy_send_for_acknowledgement(actor=pw.world.users["admin"], version=version)
    url = reverse("policy_detail", args=["acme", policy.pk])
    client = pw.world.client("member")

    assert "Please read and acknowledge this policy." in text(client.get(url))
    client.post(reverse("policy_acknowledge", args=["acme", policy.pk]))
    assert "You acknowledged version 1" in text(client.get(url))
    assert "Please read and acknowledge" not in text(pw.world.client("viewer").get(url))


def test_the_policy_page_offers_actions_by_role(world: World) -> None:
    policy, _ = approved_policy(world, owner=world.users["owner"])
    url = reverse("policy_detail", args=["acme", policy.pk])

    admin = text(world.client("admin").get(url))
    owner = text(world.client("owner").get(url))
    viewer = text(world.client("viewer").get(url))

    assert "Export PDF" in admin and "Send for acknowledgement" in admin and "New version" in admin
    assert "New version" in owner and "Export PDF" not in owner and "Send for" not in owner
    assert "New version" not in viewer and "Edit details" not in viewer


def test_a_page_of_another_organization_is_not_found(world: World) -> None:
    policy = services.policy_create(
        actor=world.users["outsider"], organization=world.other_org, title="Secret", category="data"
    )

    assert (
        world.client("admin").get(reverse("policy_detail", args=["acme", policy.pk])).status_code
        == 404
    )


# --- versions -----------------------------------------------------------------------------------


def test_starting_a_new_version_opens_its_editor_with_the_copied_text(world: World) -> None:
    policy, _ = approved_policy(world, owner=world.users["owner"])
    client = world.client("owner")

    response = client.post(reverse("policy_version_create", args=["acme", policy.pk]))

    assert response["Location"] == reverse("policy_version_edit", args=["acme", policy.pk, 2])
    editor = client.get(response["Location"])
    assert editor.status_code == 200
    assert "# Sample policy" in editor.content.decode()  # the textarea holds the copied text
    assert "No changes in the text since version 1" in text(editor)


def test_saving_a_draft_shows_the_diff_against_the_previous_version(world: World) -> None:
    admin = world.users["admin"]
    policy, _ = approved_policy(world, effective=timezone.localdate() - dt.timedelta(days=3))
    services.policy_version_create(actor=admin, policy=policy)
    client = world.client("admin")
    edit = reverse("policy_version_edit", args=["acme", policy.pk, 2])

    response = client.post(
        edit,
        {
            "body": "# Sample policy\n\n## Purpose\n\nKeep everything safe.\n",
            "change_summary": "Wider",
        },
    )

    assert response["Location"] == edit
    page = text(client.get(edit))
    assert '<tr class="removed">' in page and '<tr class="added">' in page
    assert "Keep everything safe." in page
    detail = text(client.get(reverse("policy_version_detail", args=["acme", policy.pk, 2])))
    assert "Changes since version 1" in detail and "Wider" in detail


def test_the_preview_renders_sanitised_markdown(world: World) -> None:
    policy = make_policy(world)

    response = world.client("admin").post(
        reverse("policy_version_preview", args=["acme", policy.pk, 1]),
        {"body": "## Hi\n\n<script>alert(1)</script><img src=x onerror=alert(1)>"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "<h2>Hi</h2>" in response.content.decode()
    assert "script" not in response.content.decode() and "onerror" not in response.content.decode()
    assert first_version(policy).body.startswith("# Sample policy")  # preview saves nothing


def test_an_approved_version_cannot_be_edited_through_the_form(world: World) -> None:
    policy, version = approved_policy(world)
    url = reverse("policy_version_edit", args=["acme", policy.pk, 1])
    client = world.client("admin")
    events = AuditEvent.objects.count()

    opened = client.get(url)
    posted = client.post(url, {"body": "# Rewritten", "change_summary": "sneaky"})

    assert opened.status_code == 302
    assert opened["Location"] == reverse("policy_version_detail", args=["acme", policy.pk, 1])
    assert posted.status_code == 400
    assert "cannot be changed. Start a new version" in text(posted)
    version.refresh_from_db()
    assert version.body.startswith("# Sample policy") and version.change_summary == ""
    assert AuditEvent.objects.count() == events


def test_approving_through_the_page_sets_the_effective_date(world: World) -> None:
    policy = make_policy(world)
    services.policy_version_submit(actor=world.users["admin"], version=first_version(policy))
    effective = timezone.localdate() - dt.timedelta(days=2)

    response = world.client("admin").post(
        reverse("policy_version_approve", args=["acme", policy.pk, 1]),
        {"effective_date": effective.isoformat(), "reason": "Board approved"},
        follow=True,
    )

    version = first_version(policy)
    assert (version.status, version.effective_date) == (VersionStatus.APPROVED, effective)
    assert "Version 1 approved" in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"effective_date": "soon"}, "Enter the effective date as YYYY-MM-DD."),
        ({"effective_date": "2999-01-01"}, "cannot be in the future"),
    ],
)
def test_a_bad_approval_is_explained_and_changes_nothing(
    world: World, data: dict, message: str
) -> None:
    policy = make_policy(world)
    services.policy_version_submit(actor=world.users["admin"], version=first_version(policy))

    response = world.client("admin").post(
        reverse("policy_version_approve", args=["acme", policy.pk, 1]), data, follow=True
    )

    assert message in text(response)
    assert first_version(policy).status == VersionStatus.IN_REVIEW


def test_retiring_without_a_reason_is_refused(world: World) -> None:
    policy, _ = approved_policy(world)

    response = world.client("admin").post(
        reverse("policy_version_retire", args=["acme", policy.pk, 1]), {"reason": ""}, follow=True
    )

    assert "Say why the policy is withdrawn." in text(response)
    assert first_version(policy).status == VersionStatus.APPROVED


# --- query counts -------------------------------------------------------------------------------


def queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
    return len(captured.captured_queries)


def add_policies(pw: PolicyWorld, count: int, start: int) -> Policy:
    admin = pw.world.users["admin"]
    policy = None
    for index in range(start, start + count):
        owner = UserFactory()
        from tests.factories import MembershipFactory

        MembershipFactory(user=owner, organization=pw.org)
        policy, version = approved_policy(
            pw.world, title=f"Policy {index:03d}", owner=owner, controls=(pw.world.control,)
        )
        services.policy_send_for_acknowledgement(actor=admin, version=version)
        v2 = services.policy_version_create(actor=admin, policy=policy)
        services.policy_version_submit(actor=admin, version=v2)
        for person in list(pw.people.values())[:3]:
            try:
                services.policy_acknowledge(version=version, person=person, via="app")
            except Exception:  # noqa: S112 - people out of scope are skipped
                continue
    for index in range(count):
        PersonFactory(organization=pw.org, full_name=f"Extra {start + index:03d}")
    assert policy is not None
    return policy


def test_the_policy_list_costs_the_same_queries_with_many_rows(pw: PolicyWorld) -> None:
    client = pw.world.client("admin")
    add_policies(pw, 2, 0)
    client.get(LIST)  # the first page remembers the organization in the session
    few = queries(client, LIST)
    add_policies(pw, 12, 10)
    many = queries(client, LIST)

    assert many == few, f"{few} queries with few policies, {many} with many"
    assert few <= 20


def test_the_policy_page_costs_the_same_queries_with_many_people_and_versions(
    pw: PolicyWorld,
) -> None:
    client = pw.world.client("member")
    policy = add_policies(pw, 1, 0)
    url = reverse("policy_detail", args=["acme", policy.pk])
    client.get(url)  # the first page remembers the organization in the session
    few = queries(client, url)
    admin = pw.world.users["admin"]
    version = PolicyVersion.objects.get(policy=policy, status="in_review")
    services.policy_version_approve(actor=admin, version=version)
    services.policy_send_for_acknowledgement(actor=admin, version=version)
    for index in range(15):
        person = PersonFactory(organization=pw.org, full_name=f"More {index:03d}")
        services.policy_acknowledge(version=version, person=person, via="app")
    many = queries(client, url)

    assert many == few, f"{few} queries before, {many} after"
    assert few <= 30
    assert Acknowledgement.objects.filter(version=version).count() == 15
