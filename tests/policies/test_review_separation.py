"""Separation of duties on policy review (docs/permissions.md): the owner of a policy writes and
submits its text; sending it back to draft and approving it are review decisions, made by admins.
"""

from __future__ import annotations

from django.urls import reverse

from policies import services
from policies.models import PolicyVersion, VersionStatus
from tests.conftest import World
from tests.policies.factories import first_version, make_policy


def in_review(world: World) -> PolicyVersion:
    policy = make_policy(world, title="Owned Policy", owner=world.users["owner"])
    version = first_version(policy)
    services.policy_version_submit(actor=world.users["owner"], version=version)
    return version


def test_the_owner_sees_no_back_to_draft_button_on_their_version_in_review(world: World) -> None:
    version = in_review(world)
    page = reverse("policy_version_detail", args=["acme", version.policy_id, 1])
    action = reverse("policy_version_return", args=["acme", version.policy_id, 1])
    owner_page = world.client("owner").get(page).content.decode()
    assert action not in owner_page
    assert "Back to draft" not in owner_page
    admin_page = world.client("admin").get(page).content.decode()
    assert action in admin_page


def test_the_owner_cannot_send_their_own_version_back(world: World, audit_count) -> None:  # type: ignore[no-untyped-def]
    version = in_review(world)
    before = audit_count()
    action = reverse("policy_version_return", args=["acme", version.policy_id, 1])
    assert world.client("owner").post(action, {"reason": "Self-review"}).status_code == 403
    api = f"/api/organizations/acme/policies/{version.policy_id}/versions/1/return/"
    response = world.api("owner").post(api, {"reason": "Self-review"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"]
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW
    assert audit_count() == before


def test_an_admin_sends_it_back_with_the_reason(world: World) -> None:
    version = in_review(world)
    api = f"/api/organizations/acme/policies/{version.policy_id}/versions/1/return/"
    response = world.api("admin").post(api, {"reason": "Add a scope section"}, format="json")
    assert response.status_code == 200, response.content
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
