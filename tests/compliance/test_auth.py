"""Signing in and out, throttling, password reset and invitations."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from compliance import emails, services, throttle
from compliance.models import AuditEvent, Invitation, Membership, OutboundEmail, Role, User
from tests.conftest import World
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _clear_throttle() -> None:
    cache.clear()


def deliver_outbox() -> list[OutboundEmail]:
    """Send what the services queued, as the worker would."""
    pending = list(OutboundEmail.objects.filter(sent_at__isnull=True))
    for email in pending:
        emails.email_deliver(email.pk)
    return pending


def link_in(body: str) -> str:
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0).split(settings.SITE_URL, 1)[1]


def test_passwords_are_hashed_with_argon2(db: None) -> None:
    user = User.objects.create_user("argon@example.test", "a long enough password")
    assert user.password.startswith("argon2$")
    assert user.check_password("a long enough password")


def test_a_user_signs_in_with_email_and_password_and_signs_out(world: World) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "admin@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("dashboard", args=["acme"])).status_code == 200
    client.post(reverse("logout"))
    response = client.get(reverse("dashboard", args=["acme"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_wrong_password_shows_a_form_error(world: World) -> None:
    response = Client().post(reverse("login"), {"username": "admin@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()


def test_repeated_failed_sign_ins_are_throttled_even_with_the_right_password(world: World) -> None:
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        response = client.post(reverse("login"), {"username": "admin@acme.test", "password": "bad"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "admin@acme.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_throttling_one_account_does_not_lock_out_another(world: World) -> None:
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        client.post(reverse("login"), {"username": "admin@acme.test", "password": "bad"})
    response = client.post(reverse("login"), {"username": "viewer@acme.test", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "peer", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.2", "10.0.0.2"),  # no proxy: the header is anyone's to write
        (1, "198.51.100.7", "10.0.0.2", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "10.0.0.2", "198.51.100.7"),  # the client's own entry left
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.9", "10.0.0.2", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.2", "10.0.0.2"),  # shorter than the proxies: not trusted
        (1, "not-an-address", "10.0.0.2", "10.0.0.2"),
        (1, "", "10.0.0.2", "10.0.0.2"),
        (1, "2001:db8::1", "10.0.0.2", "2001:db8::1"),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies(
    settings: Any, proxies: int, forwarded_for: str, peer: str, expected: str
) -> None:
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded_for, REMOTE_ADDR=peer)
    assert throttle.client_ip(request) == expected


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(
    world: World, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = 1
    through_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    client = Client()
    # One address fails on many accounts until its own limit (four times an account's).
    for number in range(settings.LOGIN_THROTTLE_ATTEMPTS * throttle.IP_FACTOR):
        client.post(
            reverse("login"),
            {"username": f"nobody{number}@acme.test", "password": "bad"},
            HTTP_X_FORWARDED_FOR="198.51.100.7",
            **through_proxy,
        )
    blocked = client.post(
        reverse("login"),
        {"username": "viewer@acme.test", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **through_proxy,
    )
    assert blocked.status_code == 429
    # Someone else behind the same proxy signs in.
    other = Client().post(
        reverse("login"),
        {"username": "viewer@acme.test", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.20",
        **through_proxy,
    )
    assert other.status_code == 302


def test_a_successful_sign_in_resets_the_account_counter(world: World) -> None:
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        client.post(reverse("login"), {"username": "admin@acme.test", "password": "bad"})
    assert (
        client.post(
            reverse("login"), {"username": "admin@acme.test", "password": PASSWORD}
        ).status_code
        == 302
    )
    client.post(reverse("logout"))
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        client.post(reverse("login"), {"username": "admin@acme.test", "password": "bad"})
    assert (
        client.post(
            reverse("login"), {"username": "admin@acme.test", "password": PASSWORD}
        ).status_code
        == 302
    )


NEW_PASSWORD = "a brand new passphrase 42"


def test_a_user_changes_their_password_and_other_sessions_are_signed_out(world: World) -> None:
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.force_login(world.users["member"])
    page = here.get(reverse("password_change"))
    assert page.status_code == 200
    assert "Change password" in page.content.decode()

    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "Your password was changed" in here.get(reverse("password_change")).content.decode()
    # This session stays; the other one is signed out; only the new password signs in.
    assert here.get(reverse("dashboard", args=["acme"])).status_code == 200
    assert elsewhere.get(reverse("dashboard", args=["acme"])).status_code == 302
    user = User.objects.get(pk=world.users["member"].pk)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="user.password_set")
    assert event.after == {"via": "changed by the user"}
    assert NEW_PASSWORD not in str(event.after) + str(event.before)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
         "old_password"),
        ({"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "other"},
         "new_password2"),
        ({"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
         "new_password2"),
        ({"old_password": PASSWORD, "new_password1": "", "new_password2": ""}, "new_password1"),
    ],
)  # fmt: skip
def test_a_bad_password_change_is_refused_and_changes_nothing(
    world: World, data: dict[str, str], field: str
) -> None:
    client = Client()
    client.force_login(world.users["member"])
    before = AuditEvent.objects.count()
    response = client.post(reverse("password_change"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.get(pk=world.users["member"].pk).check_password(PASSWORD)
    assert AuditEvent.objects.count() == before


def test_changing_a_password_needs_a_signed_in_user(world: World) -> None:
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = Client().post(reverse("password_change"), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.filter(action="user.password_set").exists()


def test_password_reset_sends_a_link_that_sets_a_new_password(world: World) -> None:
    client = Client()
    response = client.post(reverse("password_reset"), {"email": "member@acme.test"})
    assert response.status_code == 302
    [queued] = deliver_outbox()
    assert queued.template == "password_reset"
    [message] = mail.outbox
    assert message.to == ["member@acme.test"]
    assert message.alternatives, "the email has an HTML part"
    link = link_in(message.body)

    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="member@acme.test")
    assert user.check_password("a brand new passphrase")
    assert AuditEvent.objects.filter(action="user.password_set", object_id=str(user.pk)).exists()
    # The body holding the one-time link is gone once delivered.
    queued.refresh_from_db()
    assert queued.sent_at is not None
    assert queued.text_body == "" and queued.html_body == ""


def test_password_reset_for_an_unknown_address_reveals_nothing(world: World) -> None:
    response = Client().post(reverse("password_reset"), {"email": "nobody@acme.test"})
    assert response.status_code == 302
    assert OutboundEmail.objects.count() == 0


def test_a_weak_new_password_is_refused(world: World) -> None:
    client = Client()
    client.post(reverse("password_reset"), {"email": "member@acme.test"})
    deliver_outbox()
    response = client.get(link_in(mail.outbox[0].body), follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200
    assert User.objects.get(email="member@acme.test").check_password(PASSWORD)


# --- invitations --------------------------------------------------------------------------------


def invite(world: World, email: str = "newcomer@example.test", role: str = Role.MEMBER, **kw):  # type: ignore[no-untyped-def]
    client = world.client("admin")
    response = client.post(
        reverse("member_list", args=["acme"]), {"email": email, "role": role, **kw}
    )
    deliver_outbox()
    return response


def test_an_admin_invites_by_email_and_the_invitee_sets_a_password(world: World) -> None:
    response = invite(world)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["newcomer@example.test"]
    assert "Acme" in message.subject
    link = link_in(message.body)

    anonymous = Client()
    page = anonymous.get(link)
    assert page.status_code == 200
    assert "newcomer@example.test" in page.content.decode()
    response = anonymous.post(
        link,
        {
            "full_name": "New Comer",
            "password1": "a strong passphrase",
            "password2": "a strong passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="newcomer@example.test")
    assert user.check_password("a strong passphrase")
    assert Membership.objects.get(user=user, organization=world.org).role == Role.MEMBER
    # Signed in, and the link cannot be used twice.
    assert anonymous.get(reverse("dashboard", args=["acme"])).status_code == 200
    assert Client().get(link).status_code == 404


def test_the_invitation_token_is_stored_only_as_a_hash(world: World) -> None:
    invite(world)
    token = link_in(mail.outbox[0].body).rstrip("/").split("/")[-1]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    import hashlib

    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"email": "not-an-email", "role": "member"}, "Enter a valid email address"),
        ({"email": "x@example.test", "role": "owner"}, "Select a valid choice"),
        ({"email": "viewer@acme.test", "role": "member"}, "already a member"),
        ({"email": "aud@example.test", "role": "auditor"}, "Auditor access needs an expiry date"),
        (
            {"email": "late@example.test", "role": "member", "access_expires_on": "2001-01-01"},
            "in the past",
        ),
    ],
)
def test_a_bad_invitation_is_refused_with_a_message(
    world: World, data: dict, field_error: str
) -> None:
    events = AuditEvent.objects.count()
    response = world.client("admin").post(reverse("member_list", args=["acme"]), data)
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert Invitation.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_an_expired_invitation_cannot_be_used(world: World) -> None:
    invite(world)
    link = link_in(mail.outbox[0].body)
    Invitation.objects.update(expires_at="2001-01-01T00:00:00Z")
    response = Client().post(
        link,
        {"full_name": "X", "password1": "a strong passphrase", "password2": "a strong passphrase"},
    )
    assert response.status_code == 404
    assert not User.objects.filter(email="newcomer@example.test").exists()


def test_a_tampered_invitation_link_is_refused(world: World) -> None:
    invite(world)
    link = link_in(mail.outbox[0].body)
    response = Client().get(link[:-3] + "xyz/")
    assert response.status_code == 404


def test_a_revoked_invitation_cannot_be_used(world: World) -> None:
    invite(world)
    link = link_in(mail.outbox[0].body)
    invitation = Invitation.objects.get()
    response = world.client("admin").post(
        reverse("invitation_revoke", args=["acme", invitation.pk])
    )
    assert response.status_code == 302
    assert Client().get(link).status_code == 404


def test_inviting_again_replaces_the_pending_invitation(world: World) -> None:
    invite(world)
    first_link = link_in(mail.outbox[0].body)
    invite(world)
    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
    assert Client().get(first_link).status_code == 404


def test_an_existing_account_signs_in_then_accepts(world: World) -> None:
    existing = UserFactory(email="known@example.test")
    invite(world, email="known@example.test", role=Role.VIEWER)
    link = link_in(mail.outbox[0].body)
    page = Client().get(link)
    assert "Sign in to accept" in page.content.decode()
    client = Client()
    client.force_login(existing)
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user=existing, organization=world.org).role == Role.VIEWER


def test_an_invitation_cannot_be_accepted_by_someone_else(world: World) -> None:
    invite(world, email="intended@example.test")
    link = link_in(mail.outbox[0].body)
    response = world.client("outsider").post(link)
    assert response.status_code == 403
    assert not Membership.objects.filter(
        user=world.users["outsider"], organization=world.org
    ).exists()


def test_an_invited_auditor_gets_access_that_expires(world: World) -> None:
    invite(world, email="cpa@example.test", role=Role.AUDITOR, access_expires_on="2099-12-31")
    link = link_in(mail.outbox[0].body)
    client = Client()
    client.post(
        link,
        {
            "full_name": "C P A",
            "password1": "a strong passphrase",
            "password2": "a strong passphrase",
        },
    )
    membership = Membership.objects.get(user__email="cpa@example.test")
    assert membership.role == Role.AUDITOR
    assert membership.expires_at is not None and membership.expires_at.year == 2099


def test_invitation_accept_with_mismatched_passwords_creates_nothing(world: World) -> None:
    invite(world)
    link = link_in(mail.outbox[0].body)
    response = Client().post(
        link, {"full_name": "N", "password1": "a strong passphrase", "password2": "different"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="newcomer@example.test").exists()


def test_services_refuse_to_accept_an_unknown_token(db: None) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.invitation_accept(
            token="nope", user=None, full_name="X", password="a strong passphrase"
        )
