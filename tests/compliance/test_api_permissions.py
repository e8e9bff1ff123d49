"""Every API endpoint against every persona: hidden → 404, visible but not allowed → 403.

The API follows the rules of the pages (tests/compliance/test_view_permissions.py), except that an
anonymous request answers 401 with a ``WWW-Authenticate`` challenge instead of a redirect.
Denied writes change nothing (no audit event, target row unchanged); allowed writes change the
row and append an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from compliance.models import AuditEvent, Invitation, Membership, Role
from compliance.tokens import new_secret, secret_hash
from controls.models import AdoptedFramework, Control, ControlRequirement
from tests import matrix
from tests.conftest import PERSONAS, World
from tests.factories import (
    CategoryFactory,
    ControlFactory,
    FrameworkFactory,
    MembershipFactory,
    RequirementFactory,
    UserFactory,
    map_control,
)
from tests.matrix import Case

API = "/api"
ACME = f"{API}/organizations/acme"
GLOBEX = f"{API}/organizations/globex"

# The program is readable by viewers, members and admins; an auditor is a member of acme but sees
# none of the program (403); an expired auditor and a stranger are not members at all (404).
# The UI's shapes, with the API's answer to anonymous requests.
READ_PROGRAM: dict[str, Any] = {**matrix.READ_PROGRAM, "anonymous": 401}
# Global catalogs: any signed-in user.
CATALOG: dict[str, Any] = dict.fromkeys(PERSONAS, 200) | {"anonymous": 401}
# Everything an active member of acme may see, auditors included.
ANY_MEMBER: dict[str, Any] = {**READ_PROGRAM, "auditor": 200}
ADMIN_ONLY_READ: dict[str, Any] = {
    **READ_PROGRAM,
    "viewer": 403,
    "member": 403,
    "granted": 403,
    "owner": 403,
}


def admin_only_write(success: int) -> dict[str, Any]:
    return {**ADMIN_ONLY_READ, "admin": success}


def control_writers(success: int) -> dict[str, Any]:
    """Who may change world.control: its owner, the member granted it, and admins."""
    return {**ADMIN_ONLY_READ, "granted": success, "owner": success, "admin": success}


@dataclass
class ApiCase(Case):
    """A matrix case for the API: a JSON body and, optionally, rows the request needs."""

    # Builds what the request acts on (returns nothing); runs before ``state`` is taken.
    setup: Callable[[World], None] = field(default=lambda w: None)

    @property
    def writes(self) -> bool:
        return self.method in {"post", "patch", "put", "delete"}


# --- what the cases act on ----------------------------------------------------------------------


def membership_of(world: World, persona: str) -> Membership:
    return Membership.objects.get(user=world.users[persona], organization=world.org)


def membership_state(world: World) -> Any:
    rows = Membership.objects.filter(user=world.users["viewer"], organization=world.org)
    return list(rows.values_list("role", "expires_at"))


def make_invitation(world: World) -> None:
    Invitation.objects.create(
        organization=world.org,
        email="pending@acme.test",
        role=Role.MEMBER,
        token_hash=secret_hash(new_secret()),
        invited_by=world.users["admin"],
        expires_at=timezone.now() + dt.timedelta(days=7),
    )


def pending_invitation(world: World) -> Invitation:
    return Invitation.objects.get(organization=world.org, email="pending@acme.test")


def invitation_state(world: World) -> Any:
    return list(
        Invitation.objects.filter(organization=world.org)
        .order_by("pk")
        .values_list("email", "revoked_at")
    )


def make_second_framework(world: World) -> None:
    framework = FrameworkFactory(slug="iso", short_name="ISO", name="Information Security")
    annex = CategoryFactory(framework=framework, code="A5", mandatory=True)
    RequirementFactory(category=annex, ref_id="A.5.1")


def adoption_state(world: World) -> Any:
    return sorted(
        (a.framework.slug, tuple(sorted(a.scope.values_list("code", flat=True))))
        for a in AdoptedFramework.objects.filter(organization=world.org)
    )


def control_state(pk: int) -> tuple:
    control = Control.objects.get(pk=pk)
    return (
        control.ref_id,
        control.name,
        control.status,
        control.archived_at,
        sorted(control.mappings.values_list("requirement_id", flat=True)),
    )


def archive_control(world: World) -> None:
    Control.objects.filter(pk=world.control.pk).update(archived_at=timezone.now())


def mapping(control: Control) -> ControlRequirement:
    return ControlRequirement.objects.filter(control=control).order_by("pk").first()  # type: ignore[return-value]


CONTROL_PATCH = {"name": "MFA everywhere (edited)", "status": "in_progress"}

CASES: list[ApiCase] = [
    # --- organizations --------------------------------------------------------------------------
    ApiCase("organization list", "get", lambda w: f"{API}/organizations/", CATALOG),
    ApiCase("organization detail", "get", lambda w: f"{API}/organizations/acme/", ANY_MEMBER),
    ApiCase(
        "another organization's detail",
        "get",
        lambda w: f"{API}/organizations/globex/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "outsider": 200},
    ),
    ApiCase(
        "unknown organization's memberships",
        "get",
        lambda w: f"{API}/organizations/nope/memberships/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401},
    ),
    # --- memberships ----------------------------------------------------------------------------
    ApiCase("membership list", "get", lambda w: f"{ACME}/memberships/", ANY_MEMBER),
    ApiCase(
        "membership detail",
        "get",
        lambda w: f"{ACME}/memberships/{membership_of(w, 'viewer').pk}/",
        # An auditor sees only their own membership row: another one is hidden.
        {**READ_PROGRAM, "auditor": 404},
    ),
    ApiCase(
        "the auditor's own membership detail",
        "get",
        lambda w: f"{ACME}/memberships/{membership_of(w, 'auditor').pk}/",
        ANY_MEMBER,
    ),
    ApiCase(
        "membership role change",
        "patch",
        lambda w: f"{ACME}/memberships/{membership_of(w, 'viewer').pk}/",
        admin_only_write(200),
        data=lambda w: {"role": "member"},
        state=membership_state,
    ),
    ApiCase(
        "membership removal",
        "delete",
        lambda w: f"{ACME}/memberships/{membership_of(w, 'viewer').pk}/",
        admin_only_write(204),
        state=membership_state,
    ),
    # --- invitations ----------------------------------------------------------------------------
    ApiCase(
        "invitation list",
        "get",
        lambda w: f"{ACME}/invitations/",
        admin_only_write(200),
        setup=make_invitation,
    ),
    ApiCase(
        "invitation create",
        "post",
        lambda w: f"{ACME}/invitations/",
        admin_only_write(201),
        data=lambda w: {"email": "new@acme.test", "role": "member"},
        state=invitation_state,
    ),
    ApiCase(
        "invitation revoke",
        "delete",
        lambda w: f"{ACME}/invitations/{pending_invitation(w).pk}/",
        admin_only_write(204),
        setup=make_invitation,
        state=invitation_state,
    ),
    # --- catalogs -------------------------------------------------------------------------------
    ApiCase("framework list", "get", lambda w: f"{API}/frameworks/", CATALOG),
    ApiCase("framework detail", "get", lambda w: f"{API}/frameworks/tsc/", CATALOG),
    ApiCase("requirement list", "get", lambda w: f"{API}/requirements/", CATALOG),
    ApiCase("requirement detail", "get", lambda w: f"{API}/requirements/{w.req_a.pk}/", CATALOG),
    # --- adopted frameworks ---------------------------------------------------------------------
    ApiCase("adopted framework list", "get", lambda w: f"{ACME}/adopted-frameworks/", READ_PROGRAM),
    ApiCase(
        "adopted framework detail",
        "get",
        lambda w: f"{ACME}/adopted-frameworks/{w.adoption.pk}/",
        READ_PROGRAM,
    ),
    ApiCase(
        "framework adoption",
        "post",
        lambda w: f"{ACME}/adopted-frameworks/",
        admin_only_write(201),
        data=lambda w: {"framework": "iso", "scope": ["A5"]},
        setup=make_second_framework,
        state=adoption_state,
    ),
    ApiCase(
        "adopted framework scope change",
        "patch",
        lambda w: f"{ACME}/adopted-frameworks/{w.adoption.pk}/",
        admin_only_write(200),
        data=lambda w: {"scope": ["SEC", "AV"]},
        state=adoption_state,
    ),
    # --- controls -------------------------------------------------------------------------------
    ApiCase("control list", "get", lambda w: f"{ACME}/controls/", READ_PROGRAM),
    ApiCase("control detail", "get", lambda w: f"{ACME}/controls/{w.control.pk}/", READ_PROGRAM),
    ApiCase(
        "control create",
        "post",
        lambda w: f"{ACME}/controls/",
        admin_only_write(201),
        data=lambda w: {
            "ref_id": "NEW-01",
            "name": "Laptops are encrypted",
            "category": "crypto",
            "frequency": "annual",
            "requirements": [w.req_gap.key],
        },
        state=lambda w: sorted(Control.objects.values_list("ref_id", "organization_id")),
    ),
    ApiCase(
        "control edit",
        "patch",
        lambda w: f"{ACME}/controls/{w.control.pk}/",
        control_writers(200),
        data=lambda w: CONTROL_PATCH,
        state=lambda w: control_state(w.control.pk),
    ),
    ApiCase(
        "edit of a control the member does not own",
        "patch",
        lambda w: f"{ACME}/controls/{w.unowned_control.pk}/",
        admin_only_write(200),
        data=lambda w: CONTROL_PATCH,
        state=lambda w: control_state(w.unowned_control.pk),
    ),
    ApiCase(
        "control archive",
        "post",
        lambda w: f"{ACME}/controls/{w.control.pk}/archive/",
        admin_only_write(200),
        state=lambda w: control_state(w.control.pk),
    ),
    ApiCase(
        "control restore",
        "post",
        lambda w: f"{ACME}/controls/{w.control.pk}/restore/",
        admin_only_write(200),
        setup=archive_control,
        state=lambda w: control_state(w.control.pk),
    ),
    # Another organization's control through our URL: hidden from everyone. The auditor is
    # refused the whole control endpoint before any lookup (403 for every id, so nothing leaks).
    ApiCase(
        "another organization's control through our URL",
        "get",
        lambda w: f"{ACME}/controls/{w.foreign_control.pk}/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "auditor": 403},
    ),
    ApiCase(
        "edit of another organization's control through our URL",
        "patch",
        lambda w: f"{ACME}/controls/{w.foreign_control.pk}/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "auditor": 403},
        data=lambda w: CONTROL_PATCH,
        state=lambda w: control_state(w.foreign_control.pk),
    ),
    ApiCase(
        "archive of another organization's control through our URL",
        "post",
        lambda w: f"{ACME}/controls/{w.foreign_control.pk}/archive/",
        # Archiving is an admin capability, refused by role before any lookup.
        admin_only_write(404),
        state=lambda w: control_state(w.foreign_control.pk),
    ),
    ApiCase(
        "another organization's control through its URL",
        "get",
        lambda w: f"{GLOBEX}/controls/{w.foreign_control.pk}/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "outsider": 200},
    ),
    # --- mappings -------------------------------------------------------------------------------
    ApiCase("mapping list", "get", lambda w: f"{ACME}/mappings/", READ_PROGRAM),
    ApiCase(
        "mapping detail", "get", lambda w: f"{ACME}/mappings/{mapping(w.control).pk}/", READ_PROGRAM
    ),
    ApiCase(
        "mapping create",
        "post",
        lambda w: f"{ACME}/mappings/",
        control_writers(201),
        data=lambda w: {"control": w.control.pk, "requirement": w.req_b.key},
        state=lambda w: control_state(w.control.pk),
    ),
    ApiCase(
        "mapping create on a control the member does not own",
        "post",
        lambda w: f"{ACME}/mappings/",
        admin_only_write(201),
        data=lambda w: {"control": w.unowned_control.pk, "requirement": w.req_a.key},
        state=lambda w: control_state(w.unowned_control.pk),
    ),
    ApiCase(
        "mapping delete",
        "delete",
        lambda w: f"{ACME}/mappings/{mapping(w.control).pk}/",
        control_writers(204),
        state=lambda w: control_state(w.control.pk),
    ),
    ApiCase(
        "mapping delete on a control the member does not own",
        "delete",
        lambda w: f"{ACME}/mappings/{mapping(w.unowned_control).pk}/",
        admin_only_write(204),
        state=lambda w: control_state(w.unowned_control.pk),
    ),
    ApiCase(
        "another organization's mapping through our URL",
        "delete",
        lambda w: f"{ACME}/mappings/{mapping(w.foreign_control).pk}/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "auditor": 403},
        state=lambda w: control_state(w.foreign_control.pk),
    ),
    # --- readiness ------------------------------------------------------------------------------
    ApiCase("readiness", "get", lambda w: f"{ACME}/readiness/", READ_PROGRAM),
    ApiCase("readiness snapshots", "get", lambda w: f"{ACME}/readiness/snapshots/", READ_PROGRAM),
    ApiCase(
        "another organization's snapshots",
        "get",
        lambda w: f"{GLOBEX}/readiness/snapshots/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "outsider": 200},
    ),
]

PARAMS = [param for case in CASES for param in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_api_permissions(world: World, case: ApiCase, persona: str) -> None:
    case.setup(world)
    client = world.api(persona)
    url = case.url(world)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(url, data=case.data(world), format="json")

    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:500]
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer"), "no authentication challenge"
    if response.status_code >= 400:
        assert "detail" in response.json(), "an error without a JSON detail"
    if not case.writes:
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    else:
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


# --- lists never cross organizations ------------------------------------------------------------


@pytest.fixture
def globex_rows(world: World) -> dict[str, Any]:
    """Rows of the other organization that an acme list could wrongly include."""
    stranger = UserFactory(email="stranger@globex.test")
    membership = MembershipFactory(user=stranger, organization=world.other_org, role=Role.MEMBER)
    invitation = Invitation.objects.create(
        organization=world.other_org,
        email="pending@globex.test",
        role=Role.MEMBER,
        token_hash=secret_hash(new_secret()),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    second = ControlFactory(organization=world.other_org, ref_id="CHG-01", owner=stranger)
    map_control(second, world.req_b)
    return {
        "membership_ids": set(
            Membership.objects.filter(organization=world.other_org).values_list("pk", flat=True)
        )
        | {membership.pk},
        "invitation_ids": {invitation.pk},
        "control_ids": {world.foreign_control.pk, second.pk},
        "mapping_ids": set(
            ControlRequirement.objects.filter(control__organization=world.other_org).values_list(
                "pk", flat=True
            )
        ),
        "adoption_ids": set(
            AdoptedFramework.objects.filter(organization=world.other_org).values_list(
                "pk", flat=True
            )
        ),
    }


def listed_ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {row["id"] for row in response.json()["results"]}


def test_admin_lists_contain_exactly_the_rows_of_their_organization(
    world: World, globex_rows: dict[str, Any]
) -> None:
    client = world.api("admin")
    make_invitation(world)
    org = world.org

    controls = listed_ids(client.get(f"{ACME}/controls/"))
    assert controls == set(Control.objects.filter(organization=org).values_list("pk", flat=True))
    assert not controls & globex_rows["control_ids"]

    mappings = listed_ids(client.get(f"{ACME}/mappings/"))
    assert mappings == set(
        ControlRequirement.objects.filter(control__organization=org).values_list("pk", flat=True)
    )
    assert not mappings & globex_rows["mapping_ids"]

    memberships = listed_ids(client.get(f"{ACME}/memberships/"))
    assert memberships == set(
        Membership.objects.filter(organization=org).values_list("pk", flat=True)
    )
    assert not memberships & globex_rows["membership_ids"]

    invitations = listed_ids(client.get(f"{ACME}/invitations/"))
    assert invitations == {pending_invitation(world).pk}
    assert not invitations & globex_rows["invitation_ids"]

    adoptions = listed_ids(client.get(f"{ACME}/adopted-frameworks/"))
    assert adoptions == {world.adoption.pk}
    assert not adoptions & globex_rows["adoption_ids"]


def test_filtering_a_list_by_another_organizations_control_finds_nothing(
    world: World, globex_rows: dict[str, Any]
) -> None:
    response = world.api("admin").get(f"{ACME}/mappings/", {"control": world.foreign_control.pk})
    assert listed_ids(response) == set()


def test_outsider_lists_only_their_own_organizations(world: World) -> None:
    response = world.api("outsider").get(f"{API}/organizations/")
    assert listed_ids(response) == {world.other_org.pk}
    assert response.json()["results"][0]["role"] == "admin"


def test_member_of_two_organizations_sees_each_with_its_role(world: World) -> None:
    MembershipFactory(user=world.users["viewer"], organization=world.other_org, role=Role.ADMIN)
    response = world.api("viewer").get(f"{API}/organizations/")
    roles = {row["slug"]: row["role"] for row in response.json()["results"]}
    assert roles == {"acme": "viewer", "globex": "admin"}


def test_expired_auditor_lists_no_organization(world: World) -> None:
    response = world.api("expired_auditor").get(f"{API}/organizations/")
    assert listed_ids(response) == set()


def test_auditor_lists_only_their_own_membership(world: World) -> None:
    response = world.api("auditor").get(f"{ACME}/memberships/")
    assert listed_ids(response) == {membership_of(world, "auditor").pk}


@pytest.mark.parametrize("persona", ["viewer", "member", "owner", "admin"])
def test_program_readers_list_every_membership_of_the_organization(
    world: World, persona: str
) -> None:
    response = world.api(persona).get(f"{ACME}/memberships/")
    expected = set(Membership.objects.filter(organization=world.org).values_list("pk", flat=True))
    assert listed_ids(response) == expected


def test_outsider_sees_their_own_controls_not_acmes(world: World) -> None:
    response = world.api("outsider").get(f"{GLOBEX}/controls/")
    assert listed_ids(response) == {world.foreign_control.pk}


def test_archived_controls_are_listed_only_on_request(world: World) -> None:
    archive_control(world)
    client = world.api("viewer")
    assert world.control.pk not in listed_ids(client.get(f"{ACME}/controls/"))
    assert world.control.pk in listed_ids(client.get(f"{ACME}/controls/", {"archived": "true"}))


def test_member_can_edit_a_control_they_back_up(world: World) -> None:
    Control.objects.filter(pk=world.unowned_control.pk).update(backup_owner=world.users["member"])
    before = AuditEvent.objects.count()
    response = world.api("member").patch(
        f"{ACME}/controls/{world.unowned_control.pk}/", {"name": "Backed up"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Control.objects.get(pk=world.unowned_control.pk).name == "Backed up"
    assert AuditEvent.objects.count() == before + 1


def test_allowed_control_edit_is_recorded_with_the_actor(world: World) -> None:
    response = world.api("granted").patch(
        f"{ACME}/controls/{world.control.pk}/", CONTROL_PATCH, format="json"
    )
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.filter(action="control.update").latest("id")
    assert event.actor == world.users["granted"]
    assert event.object_id == str(world.control.pk)
    assert event.after["name"] == CONTROL_PATCH["name"]
    assert response.json()["name"] == CONTROL_PATCH["name"]


def test_readiness_covers_only_the_frameworks_the_organization_adopted(world: World) -> None:
    other = FrameworkFactory(slug="other", short_name="OTH")
    RequirementFactory(category=CategoryFactory(framework=other), ref_id="O.1")
    response = world.api("viewer").get(f"{ACME}/readiness/")
    assert response.status_code == 200
    [tsc] = response.json()
    assert tsc["framework"] == "tsc"
    # The three in-scope requirements; the optional category is out of scope.
    assert tsc["total"] == 3
    assert [c["code"] for c in tsc["categories"]] == ["SEC"]
