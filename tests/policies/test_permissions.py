"""Every policies page and API endpoint against every persona.

Program readers (admin, member, viewer) see policies; auditors get 403; strangers 404. Admins
create, send back, approve, retire, send, import and export; the member who owns a policy edits its
drafts and submits them. Denied writes change nothing: no audit event, the target row as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEvent
from policies import links, services
from policies.models import (
    Acknowledgement,
    AcknowledgementRequest,
    Distribution,
    Policy,
    PolicyVersion,
)
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, LOGIN, READ_PROGRAM, Case
from tests.policies.factories import PersonFactory, approve, first_version, make_policy


@dataclass
class Policies:
    approved: Policy  # owned by "owner": v1 approved and sent, no open version
    draft: Policy  # owned by "owner": v1 draft
    review: Policy  # owned by "owner": v1 in review
    foreign: Policy  # globex's, v1 approved


def setup_policies(world: World) -> Policies:
    owner = world.users["owner"]
    approved = make_policy(world, title="Approved Policy", owner=owner)
    approve(world, first_version(approved), effective=timezone.localdate() - dt.timedelta(days=30))
    draft = make_policy(world, title="Draft Policy", owner=owner)
    review = make_policy(world, title="Review Policy", owner=owner)
    services.policy_version_submit(actor=world.users["admin"], version=first_version(review))
    foreign = services.policy_create(
        actor=world.users["outsider"],
        organization=world.other_org,
        title="Globex",
        category="data",
        body="# Globex secret policy",
    )
    approve_foreign = first_version(foreign)
    services.policy_version_submit(actor=world.users["outsider"], version=approve_foreign)
    services.policy_version_approve(actor=world.users["outsider"], version=approve_foreign)
    # The member and the admin are on the roster (they can acknowledge); the others are not.
    PersonFactory(organization=world.org, email="member@acme.test", user=world.users["member"])
    PersonFactory(organization=world.org, email="admin@acme.test")
    services.policy_send_for_acknowledgement(
        actor=world.users["admin"], version=first_version(approved), notify=False
    )
    return Policies(approved=approved, draft=draft, review=review, foreign=foreign)


def P(world: World) -> Policies:
    return world.policies  # type: ignore[attr-defined, no-any-return]


def u(name: str, *args: object) -> str:
    return reverse(name, args=args)


def version_state(policy: Policy) -> Any:
    return list(
        PolicyVersion.objects.filter(policy=policy)
        .order_by("number")
        .values_list("number", "status", "body", "change_summary")
    )


def policy_state(policy: Policy) -> Any:
    row = Policy.objects.get(pk=policy.pk)
    return (row.title, row.review_months, row.owner_id, row.last_reviewed_on, version_state(row))


def ack_state(world: World) -> Any:
    return sorted(Acknowledgement.objects.values_list("person_id", "version_id", "round"))


def admin_write(success: int) -> dict[str, Any]:
    return {**ADMIN_ONLY_READ, "admin": success}


def policy_owners(success: int) -> dict[str, Any]:
    """Who may work on the text of a policy owned by "owner": its owner and admins."""
    return {**ADMIN_ONLY_READ, "owner": success, "admin": success}


def roster(success: int) -> dict[str, Any]:
    """Who can acknowledge in the app: readers who are on the people roster (member, admin)."""
    return {**ADMIN_ONLY_READ, "member": success, "admin": success}


ORG_FOREIGN = {**HIDDEN_FROM_ALL, "auditor": 403}


PAGE_CASES: list[Case] = [
    Case("policy list", "get", lambda w: u("policy_list", "acme"), READ_PROGRAM),
    Case(
        "policy detail",
        "get",
        lambda w: u("policy_detail", "acme", P(w).approved.pk),
        READ_PROGRAM,
    ),
    Case(
        "another organization's policy through our URL",
        "get",
        lambda w: u("policy_detail", "acme", P(w).foreign.pk),
        ORG_FOREIGN,
    ),
    Case(
        "another organization's policy through its URL",
        "get",
        lambda w: u("policy_detail", "globex", P(w).foreign.pk),
        {**HIDDEN_FROM_ALL, "outsider": 200},
    ),
    Case("library", "get", lambda w: u("policy_library", "acme"), ADMIN_ONLY_READ),
    Case(
        "library import",
        "post",
        lambda w: u("policy_library", "acme"),
        admin_write(302),
        data=lambda w: {"keys": ["backup"]},
        state=lambda w: sorted(Policy.objects.values_list("title", flat=True)),
    ),
    Case("create form", "get", lambda w: u("policy_create", "acme"), admin_write(200)),
    Case(
        "create",
        "post",
        lambda w: u("policy_create", "acme"),
        admin_write(302),
        data=lambda w: {"title": "New Policy", "category": "data", "review_months": 12},
        state=lambda w: sorted(Policy.objects.values_list("title", flat=True)),
    ),
    Case(
        "edit form",
        "get",
        lambda w: u("policy_edit", "acme", P(w).approved.pk),
        admin_write(200),
    ),
    Case(
        "edit",
        "post",
        lambda w: u("policy_edit", "acme", P(w).approved.pk),
        admin_write(302),
        data=lambda w: {"title": "Renamed", "category": "access", "review_months": 6},
        state=lambda w: policy_state(P(w).approved),
    ),
    Case(
        "edit of another organization's policy",
        "post",
        lambda w: u("policy_edit", "acme", P(w).foreign.pk),
        {**ORG_FOREIGN, "viewer": 403, "member": 403, "granted": 403, "owner": 403},
        data=lambda w: {"title": "Renamed", "category": "access", "review_months": 6},
        state=lambda w: policy_state(P(w).foreign),
    ),
    Case(
        "mark reviewed",
        "post",
        lambda w: u("policy_review", "acme", P(w).approved.pk),
        admin_write(302),
        state=lambda w: policy_state(P(w).approved),
    ),
    Case(
        "send for acknowledgement",
        "post",
        lambda w: u("policy_send", "acme", P(w).approved.pk),
        admin_write(302),
        data=lambda w: {"employment_type": "contractor", "department": ""},
        state=lambda w: (
            AcknowledgementRequest.objects.count(),
            list(Distribution.objects.values_list("employment_type", flat=True)),
        ),
    ),
    Case(
        "acknowledge in the app",
        "post",
        lambda w: u("policy_acknowledge", "acme", P(w).approved.pk),
        roster(302),
        state=ack_state,
    ),
    Case(
        "new version",
        "post",
        lambda w: u("policy_version_create", "acme", P(w).approved.pk),
        policy_owners(302),
        state=lambda w: version_state(P(w).approved),
    ),
    Case(
        "version detail",
        "get",
        lambda w: u("policy_version_detail", "acme", P(w).approved.pk, 1),
        READ_PROGRAM,
    ),
    Case(
        "version of another organization's policy",
        "get",
        lambda w: u("policy_version_detail", "acme", P(w).foreign.pk, 1),
        ORG_FOREIGN,
    ),
    Case(
        "draft edit form",
        "get",
        lambda w: u("policy_version_edit", "acme", P(w).draft.pk, 1),
        policy_owners(200),
    ),
    Case(
        "draft edit",
        "post",
        lambda w: u("policy_version_edit", "acme", P(w).draft.pk, 1),
        policy_owners(302),
        data=lambda w: {"body": "# Rewritten\n", "change_summary": "Shorter"},
        state=lambda w: version_state(P(w).draft),
    ),
    Case(
        # The service refuses: the form comes back with the error (400), nothing is written.
        "approved version edit through the form",
        "post",
        lambda w: u("policy_version_edit", "acme", P(w).approved.pk, 1),
        policy_owners(400),
        data=lambda w: {"body": "# Rewritten\n", "change_summary": "Sneaky"},
        state=lambda w: version_state(P(w).approved),
    ),
    Case(
        "approved version edit form",
        "get",
        lambda w: u("policy_version_edit", "acme", P(w).approved.pk, 1),
        policy_owners(302),  # back to the version, with a message
    ),
    Case(
        "draft preview",
        "post",
        lambda w: u("policy_version_preview", "acme", P(w).draft.pk, 1),
        policy_owners(200),
        data=lambda w: {"body": "# Hello"},
    ),
    Case(
        "submit",
        "post",
        lambda w: u("policy_version_submit", "acme", P(w).draft.pk, 1),
        policy_owners(302),
        state=lambda w: version_state(P(w).draft),
    ),
    Case(
        "back to draft",
        "post",
        lambda w: u("policy_version_return", "acme", P(w).review.pk, 1),
        admin_write(302),  # a review decision: the owner does not review their own text
        data=lambda w: {"reason": "Needs a scope section"},
        state=lambda w: version_state(P(w).review),
    ),
    Case(
        "approve",
        "post",
        lambda w: u("policy_version_approve", "acme", P(w).review.pk, 1),
        admin_write(302),
        data=lambda w: {"effective_date": timezone.localdate().isoformat()},
        state=lambda w: version_state(P(w).review),
    ),
    Case(
        "retire",
        "post",
        lambda w: u("policy_version_retire", "acme", P(w).approved.pk, 1),
        admin_write(302),
        data=lambda w: {"reason": "Withdrawn"},
        state=lambda w: version_state(P(w).approved),
    ),
    Case(
        "PDF export",
        "get",
        lambda w: u("policy_version_pdf", "acme", P(w).approved.pk, 1),
        admin_write(200),
    ),
    Case(
        "PDF export of another organization's version",
        "get",
        lambda w: u("policy_version_pdf", "acme", P(w).foreign.pk, 1),
        {**ORG_FOREIGN, "viewer": 403, "member": 403, "granted": 403, "owner": 403},
    ),
]


def ack_link(world: World) -> str:
    person = PersonFactory(organization=world.org, full_name="Link Person")
    version = first_version(P(world).approved)
    return u("policy_ack_link", links.make_token(version_id=version.pk, person_id=person.pk))


PAGE_PARAMS = [param for case in PAGE_CASES for param in case.params()]


@pytest.mark.parametrize(
    ("case", "persona"), PAGE_PARAMS, ids=[f"{c.name}-{p}" for c, p in PAGE_PARAMS]
)
def test_page_permissions(world: World, case: Case, persona: str) -> None:
    world.policies = setup_policies(world)  # type: ignore[attr-defined]
    client = world.client(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(case.url(world), data=case.data(world))

    expected = case.expected[persona]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]
    denied = response.status_code >= 400 or expected == LOGIN
    if denied or (case.method == "get"):
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    elif case.method == "post" and response.status_code == 302 and case.name != "draft preview":
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_public_acknowledgement_page_is_the_same_for_everyone(
    world: World, persona: str
) -> None:
    """The emailed link needs no login: whoever holds it sees the page and can acknowledge."""
    world.policies = setup_policies(world)  # type: ignore[attr-defined]
    url = ack_link(world)
    client = world.client(persona)

    assert client.get(url).status_code == 200
    response = client.post(url, {"confirm": "yes"})

    assert response.status_code == 302
    assert Acknowledgement.objects.filter(person__full_name="Link Person").count() == 1


# --- the API ------------------------------------------------------------------------------------

API = "/api/organizations"
READ_API: dict[str, Any] = {**READ_PROGRAM, "anonymous": 401}
ADMIN_READ_API: dict[str, Any] = {**ADMIN_ONLY_READ, "anonymous": 401}
FOREIGN_API: dict[str, Any] = dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "auditor": 403}


def api_admin(success: int) -> dict[str, Any]:
    return {**ADMIN_READ_API, "admin": success}


def api_owners(success: int) -> dict[str, Any]:
    return {**ADMIN_READ_API, "owner": success, "admin": success}


def api_roster(success: int) -> dict[str, Any]:
    return {**ADMIN_READ_API, "member": success, "admin": success}


def pol(w: World, name: str = "approved") -> str:
    return f"{API}/acme/policies/{getattr(P(w), name).pk}"


@dataclass
class ApiCase(Case):
    setup: Callable[[World], None] = field(default=lambda w: None)

    @property
    def writes(self) -> bool:
        return self.method in {"post", "patch"}


API_CASES: list[ApiCase] = [
    ApiCase("policy list", "get", lambda w: f"{API}/acme/policies/", READ_API),
    ApiCase("policy detail", "get", lambda w: f"{pol(w)}/", READ_API),
    ApiCase("another organization's policy", "get", lambda w: f"{pol(w, 'foreign')}/", FOREIGN_API),
    ApiCase(
        "policy create",
        "post",
        lambda w: f"{API}/acme/policies/",
        api_admin(201),
        data=lambda w: {"title": "API Policy", "category": "data", "body": "# API"},
        state=lambda w: sorted(Policy.objects.values_list("title", flat=True)),
    ),
    ApiCase(
        "policy update",
        "patch",
        lambda w: f"{pol(w)}/",
        api_admin(200),
        data=lambda w: {"review_months": 6},
        state=lambda w: policy_state(P(w).approved),
    ),
    ApiCase(
        "update of another organization's policy",
        "patch",
        lambda w: f"{pol(w, 'foreign')}/",
        {**FOREIGN_API, "viewer": 403, "member": 403, "granted": 403, "owner": 403},
        data=lambda w: {"review_months": 6},
        state=lambda w: policy_state(P(w).foreign),
    ),
    ApiCase("acknowledgements list", "get", lambda w: f"{pol(w)}/acknowledgements/", READ_API),
    ApiCase(
        "acknowledge",
        "post",
        lambda w: f"{pol(w)}/acknowledge/",
        api_roster(201),
        state=ack_state,
    ),
    ApiCase(
        "send",
        "post",
        lambda w: f"{pol(w)}/send/",
        api_admin(200),
        data=lambda w: {"department": "Engineering"},
        state=lambda w: list(
            PolicyVersion.objects.filter(policy=P(w).approved).values_list(
                "distribution__department"
            )
        ),
    ),
    ApiCase(
        "mark reviewed",
        "post",
        lambda w: f"{pol(w)}/review/",
        api_admin(200),
        state=lambda w: policy_state(P(w).approved),
    ),
    ApiCase("version list", "get", lambda w: f"{pol(w)}/versions/", READ_API),
    ApiCase("version detail", "get", lambda w: f"{pol(w)}/versions/1/", READ_API),
    ApiCase(
        "versions of another organization's policy",
        "get",
        lambda w: f"{pol(w, 'foreign')}/versions/",
        FOREIGN_API,
    ),
    ApiCase(
        "new draft version",
        "post",
        lambda w: f"{pol(w)}/versions/",
        api_owners(201),
        data=lambda w: {"change_summary": "Yearly update"},
        state=lambda w: version_state(P(w).approved),
    ),
    ApiCase(
        "draft update",
        "patch",
        lambda w: f"{pol(w, 'draft')}/versions/1/",
        api_owners(200),
        data=lambda w: {"body": "# Rewritten"},
        state=lambda w: version_state(P(w).draft),
    ),
    ApiCase(
        "approved version update",
        "patch",
        lambda w: f"{pol(w)}/versions/1/",
        api_owners(400),  # immutable: refused by the service, nothing written
        data=lambda w: {"body": "# Rewritten"},
        state=lambda w: version_state(P(w).approved),
    ),
    ApiCase(
        "submit",
        "post",
        lambda w: f"{pol(w, 'draft')}/versions/1/submit/",
        api_owners(200),
        state=lambda w: version_state(P(w).draft),
    ),
    ApiCase(
        "back to draft",
        "post",
        lambda w: f"{pol(w, 'review')}/versions/1/return/",
        api_admin(200),  # a review decision: the owner does not review their own text
        data=lambda w: {"reason": "Add a scope"},
        state=lambda w: version_state(P(w).review),
    ),
    ApiCase(
        "approve",
        "post",
        lambda w: f"{pol(w, 'review')}/versions/1/approve/",
        api_admin(200),
        state=lambda w: version_state(P(w).review),
    ),
    ApiCase(
        "retire",
        "post",
        lambda w: f"{pol(w)}/versions/1/retire/",
        api_admin(200),
        data=lambda w: {"reason": "Withdrawn"},
        state=lambda w: version_state(P(w).approved),
    ),
    ApiCase(
        "approve a version of another organization's policy",
        "post",
        lambda w: f"{pol(w, 'foreign')}/versions/1/approve/",
        api_admin(404),
        state=lambda w: version_state(P(w).foreign),
    ),
]

API_PARAMS = [param for case in API_CASES for param in case.params()]


@pytest.mark.parametrize(
    ("case", "persona"), API_PARAMS, ids=[f"{c.name}-{p}" for c, p in API_PARAMS]
)
def test_api_permissions(world: World, case: ApiCase, persona: str) -> None:
    world.policies = setup_policies(world)  # type: ignore[attr-defined]
    case.setup(world)
    client = world.api(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(case.url(world), data=case.data(world), format="json")

    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:500]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and body, "an error without a JSON body"
        if response.status_code != 400:
            assert "detail" in body
    if not case.writes:
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    else:
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


def test_every_policies_url_is_in_the_matrix() -> None:
    """A new page or endpoint must join the matrix."""
    from django.urls import get_resolver

    named = {
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.startswith("policy_")
    }
    covered = {
        "policy_list", "policy_detail", "policy_library", "policy_create", "policy_edit",
        "policy_review", "policy_send", "policy_acknowledge", "policy_version_create",
        "policy_version_detail", "policy_version_edit", "policy_version_preview",
        "policy_version_submit", "policy_version_return", "policy_version_approve",
        "policy_version_retire", "policy_version_pdf", "policy_ack_link",
    }  # fmt: skip
    assert named == covered
    api = {
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.startswith(("policy-", "policy-version-"))
    }
    assert api == {
        "policy-list", "policy-detail", "policy-acknowledgements", "policy-acknowledge",
        "policy-send", "policy-review", "policy-version-list", "policy-version-detail",
        "policy-version-submit", "policy-version-return", "policy-version-approve",
        "policy-version-retire",
    }  # fmt: skip
