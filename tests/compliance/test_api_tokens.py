"""Personal API tokens: ``Authorization: Bearer att_…``, stored as SHA-256 only.

A token authenticates as its user, with exactly the user's rights; revoked, expired, unknown and
malformed tokens, and tokens of deactivated users, answer 401. Authenticating costs a handful of
indexed queries and never runs a password hasher.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from django.contrib.auth import hashers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from compliance import services
from compliance.models import ApiToken, AuditEvent, Membership, Role, User
from tests.compliance.test_api_permissions import CASES, ApiCase
from tests.conftest import PERSONAS, World
from tests.factories import MembershipFactory, OrganizationFactory

ORGS = "/api/organizations/"
ACME = "/api/organizations/acme"


def token_client(secret: str, keyword: str = "Bearer", **kwargs: Any) -> APIClient:
    client = APIClient(**kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def header_client(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def new_token(world: World, persona: str, **kwargs: Any) -> tuple[ApiToken, str]:
    return services.api_token_create(actor=world.users[persona], name=f"{persona} CI", **kwargs)


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.content[:500]
    assert response["WWW-Authenticate"] == 'Bearer realm="attest"'
    assert "detail" in response.json()


def org_slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["slug"] for row in response.json()["results"]]


# --- authenticating -----------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer", "TOKEN"])
def test_token_authenticates_as_its_user(world: World, keyword: str) -> None:
    _, secret = new_token(world, "viewer")
    response = token_client(secret, keyword).get(ORGS)
    assert org_slugs(response) == ["acme"]
    assert response.json()["results"][0]["role"] == "viewer"


def test_token_secret_has_the_documented_shape(world: World) -> None:
    token, secret = new_token(world, "viewer")
    assert secret.startswith("att_")
    assert len(secret) >= 40
    assert token.prefix == secret[:10]


def test_only_the_sha256_of_the_secret_is_stored(world: World) -> None:
    token, secret = new_token(world, "viewer")

    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    # No column of the row holds the secret (the prefix is its first ten characters only).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table} WHERE id = %s", [token.pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    assert all(secret not in str(value) for value in row)
    assert any(value == token.token_hash for value in row)
    # Nor does the audit trail.
    event = AuditEvent.objects.get(action="api_token.create", object_id=str(token.pk))
    assert secret not in json.dumps([event.before, event.after, event.object_repr])
    assert event.actor == world.users["viewer"]


def test_revoked_token_is_refused(world: World) -> None:
    token, secret = new_token(world, "viewer")
    client = token_client(secret)
    assert client.get(ORGS).status_code == 200
    services.api_token_revoke(actor=world.users["viewer"], token=token)
    assert_unauthorized(client.get(ORGS))


def test_expired_token_is_refused(world: World) -> None:
    token, secret = new_token(world, "viewer", expires_at=timezone.now() + dt.timedelta(days=1))
    client = token_client(secret)
    assert client.get(ORGS).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_unauthorized(client.get(ORGS))


@pytest.mark.parametrize(
    "secret",
    ["att_" + "A" * 43, "not-a-token", "att_"],
    ids=["unknown", "garbage", "bare prefix"],
)
def test_unknown_token_is_refused(world: World, secret: str) -> None:
    new_token(world, "viewer")
    assert_unauthorized(token_client(secret).get(ORGS))


def test_token_hash_is_not_accepted_as_a_token(world: World) -> None:
    token, _ = new_token(world, "viewer")
    assert_unauthorized(token_client(token.token_hash).get(ORGS))


def test_token_of_a_deactivated_user_is_refused(world: World) -> None:
    _, secret = new_token(world, "viewer")
    User.objects.filter(pk=world.users["viewer"].pk).update(is_active=False)
    assert_unauthorized(token_client(secret).get(ORGS))


MALFORMED_HEADERS = {
    "no token": "Bearer",
    "blank token": "Bearer ",
    "Token without token": "Token",
    "two tokens": "Bearer att_abc att_def",
    "non-ascii": "Bearer att_\u00e9t\u00e9",
    "basic auth": "Basic Zm9vOmJhcg==",
}


@pytest.mark.parametrize("header", list(MALFORMED_HEADERS.values()), ids=list(MALFORMED_HEADERS))
def test_malformed_authorization_header_is_refused(world: World, header: str) -> None:
    new_token(world, "viewer")
    assert_unauthorized(header_client(header).get(ORGS))


def test_bad_token_is_refused_even_with_a_signed_in_session(world: World) -> None:
    client = header_client("Bearer att_nope")
    client.force_login(world.users["admin"])
    assert_unauthorized(client.get(f"{ACME}/controls/"))


def test_anonymous_request_is_challenged_for_a_bearer_token(world: World) -> None:
    assert_unauthorized(APIClient().get(f"{ACME}/controls/"))


# --- last use -----------------------------------------------------------------------------------


def token_updates(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and ApiToken._meta.db_table in q["sql"]
    ]


def test_last_used_at_is_written_at_most_once_a_minute(world: World) -> None:
    token, secret = new_token(world, "viewer")
    client = token_client(secret)
    assert token.last_used_at is None

    before = timezone.now()
    assert client.get(ORGS).status_code == 200
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    assert first >= before

    with CaptureQueriesContext(connection) as queries:
        assert client.get(ORGS).status_code == 200
    assert token_updates(queries) == []
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    # 30 seconds ago: still within the minute, left alone.
    recent = timezone.now() - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    assert client.get(ORGS).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recent

    # Over a minute ago: written again.
    stale = timezone.now() - dt.timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ORGS).status_code == 200
    assert len(token_updates(queries)) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at > stale + dt.timedelta(seconds=60)


def test_a_refused_token_is_not_marked_as_used(world: World) -> None:
    token, secret = new_token(world, "viewer")
    services.api_token_revoke(actor=world.users["viewer"], token=token)
    assert_unauthorized(token_client(secret).get(ORGS))
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None


# --- cost ---------------------------------------------------------------------------------------


@pytest.fixture
def no_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything verifies a password while it runs."""

    def forbidden(*args: Any, **kwargs: Any) -> bool:
        pytest.fail("a password hasher ran while authenticating an API token")

    for hasher in hashers.get_hashers():
        monkeypatch.setattr(type(hasher), "verify", forbidden)
    monkeypatch.setattr(hashers, "check_password", forbidden)
    monkeypatch.setattr("django.contrib.auth.base_user.check_password", forbidden)


def test_the_password_spy_catches_a_password_check(world: World, no_password_hashing: None) -> None:
    """The guard below is live: checking a password under it fails the test."""
    with pytest.raises(pytest.fail.Exception, match="password hasher ran"):
        world.users["viewer"].check_password("correct horse battery staple")


def test_token_authentication_runs_no_password_hasher(
    world: World, no_password_hashing: None
) -> None:
    _, secret = new_token(world, "viewer")
    client = token_client(secret)
    for _ in range(2):
        assert org_slugs(client.get(ORGS)) == ["acme"]
    assert client.get(f"{ACME}/controls/").status_code == 200


def test_token_authentication_costs_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    _, secret = new_token(world, "viewer")
    client = token_client(secret)
    # Token (1) + last_used_at (1) + memberships (1) + count and page of organizations (2).
    with django_assert_max_num_queries(5):
        assert org_slugs(client.get(ORGS)) == ["acme"]
    # More organizations cost no more queries.
    for n in range(5):
        organization = OrganizationFactory(name=f"Zeta {n}", slug=f"zeta-{n}")
        MembershipFactory(user=world.users["viewer"], organization=organization, role=Role.VIEWER)
    with django_assert_max_num_queries(4):  # last_used_at is fresh now
        assert len(org_slugs(client.get(ORGS))) == 6


# --- a token has exactly its user's rights ------------------------------------------------------

TOKEN_CASES = [
    case
    for case in CASES
    if case.name
    in {
        "organization detail",
        "membership list",
        "membership detail",
        "membership role change",
        "control list",
        "control detail",
        "control edit",
        "edit of a control the member does not own",
        "another organization's control through our URL",
        "mapping create",
        "readiness",
    }
]
TOKEN_PARAMS = [
    (case, persona) for case in TOKEN_CASES for persona in PERSONAS if persona != "anonymous"
]


def test_token_cases_are_all_found() -> None:
    assert len(TOKEN_CASES) == 11


@pytest.mark.parametrize(
    ("case", "persona"), TOKEN_PARAMS, ids=[f"{c.name}-{p}" for c, p in TOKEN_PARAMS]
)
def test_token_sees_what_its_user_sees(world: World, case: ApiCase, persona: str) -> None:
    case.setup(world)
    _, secret = new_token(world, persona)
    url = case.url(world)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(token_client(secret), case.method)(url, data=case.data(world), format="json")

    assert response.status_code == case.expected[persona], response.content[:500]
    if case.writes and response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events
        assert case.state(world) == before_state
    elif case.writes:
        event = AuditEvent.objects.latest("id")
        assert event.actor == world.users[persona], "a token write is recorded as its user's"


def test_token_writes_need_no_csrf_token(world: World) -> None:
    _, secret = new_token(world, "owner")
    client = token_client(secret, enforce_csrf_checks=True)
    url = f"{ACME}/controls/{world.control.pk}/"
    response = client.patch(url, {"name": "Edited by CI"}, format="json")
    assert response.status_code == 200, response.content
    # The same write through a browser session without the CSRF token is refused.
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(world.users["owner"])
    refused = session.patch(url, {"name": "Edited by a forged form"}, format="json")
    assert refused.status_code == 403
    assert world.control.__class__.objects.get(pk=world.control.pk).name == "Edited by CI"


def test_token_loses_access_when_the_membership_expires(world: World) -> None:
    _, secret = new_token(world, "viewer")
    client = token_client(secret)
    assert client.get(f"{ACME}/controls/").status_code == 200
    Membership.objects.filter(user=world.users["viewer"], organization=world.org).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(f"{ACME}/controls/").status_code == 404
    assert org_slugs(client.get(ORGS)) == []


# --- the account page ---------------------------------------------------------------------------

TOKENS_PAGE = "/account/tokens/"


def test_token_page_needs_a_signed_in_user(world: World) -> None:
    response = world.client("anonymous").get(TOKENS_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = world.client("anonymous").post(TOKENS_PAGE, {"name": "sneaky"})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_token_page_shows_the_secret_once(world: World) -> None:
    client = world.client("viewer")
    response = client.post(TOKENS_PAGE, {"name": "GitHub Actions"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=world.users["viewer"])
    secret = response.context["secret"]
    assert secret.startswith("att_")
    assert secret in response.content.decode()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert org_slugs(token_client(secret).get(ORGS)) == ["acme"]

    again = client.get(TOKENS_PAGE).content.decode()
    assert secret not in again
    assert token.prefix in again
    assert "GitHub Actions" in again


def test_token_page_lists_only_the_users_own_tokens(world: World) -> None:
    services.api_token_create(actor=world.users["admin"], name="Admin's deploy key")
    page = world.client("viewer").get(TOKENS_PAGE).content.decode()
    assert "deploy key" not in page
    assert "No token yet." in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "CI", "expires_on": "soon"}, "expires_on"),
    ],
    ids=["blank name", "over-long name", "bad expiry"],
)
def test_token_page_rejects_bad_input(world: World, data: dict[str, str], field: str) -> None:
    response = world.client("viewer").post(TOKENS_PAGE, data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert response.context["secret"] is None
    assert not ApiToken.objects.exists()


def test_token_page_rejects_an_expiry_in_the_past(world: World) -> None:
    yesterday = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    response = world.client("viewer").post(TOKENS_PAGE, {"name": "CI", "expires_on": yesterday})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoking_your_own_token_from_the_page(world: World) -> None:
    token, secret = new_token(world, "viewer")
    response = world.client("viewer").post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(token.pk)).exists()
    assert_unauthorized(token_client(secret).get(ORGS))


def test_revoking_someone_elses_token_is_a_404(world: World) -> None:
    token, secret = new_token(world, "admin")
    before = AuditEvent.objects.count()
    response = world.client("viewer").post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert AuditEvent.objects.count() == before
    assert org_slugs(token_client(secret).get(ORGS)) == ["acme"]


def test_revoking_a_token_id_that_does_not_exist_is_a_404(world: World) -> None:
    response = world.client("viewer").post(reverse("api_token_revoke", args=[987654]))
    assert response.status_code == 404


def test_revoke_needs_a_post(world: World) -> None:
    token, _ = new_token(world, "viewer")
    response = world.client("viewer").get(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_the_service_refuses_to_revoke_someone_elses_token(world: World) -> None:
    token, _ = new_token(world, "admin")
    with pytest.raises(PermissionError):
        services.api_token_revoke(actor=world.users["viewer"], token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
