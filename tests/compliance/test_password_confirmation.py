"""Every form that asks a signed-in user for their current password again goes through the
sign-in throttle: the same count, the same limit, the same log."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compliance import mfa
from compliance.forms import CurrentPasswordMixin
from compliance.models import RecoveryCode, User
from tests.conftest import World
from tests.factories import PASSWORD

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture(autouse=True)
def _throttle(settings: Any) -> None:
    cache.clear()
    settings.LOGIN_THROTTLE_ATTEMPTS = 3  # each wrong password costs an Argon2 hash


@dataclass
class PasswordForm:
    """A page that asks for the current password: where, what it sends, what proves it acted."""

    url: str
    data: Callable[[str], dict[str, str]]
    acted: Callable[[User], bool]


def _codes(user: User) -> set[str]:
    return set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))


FORMS = {
    "change password": PasswordForm(
        url="password_change",
        data=lambda pw: {
            "old_password": pw,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        acted=lambda user: User.objects.get(pk=user.pk).check_password(NEW_PASSWORD),
    ),
    "turn off two-factor": PasswordForm(
        url="two_factor",
        data=lambda pw: {"password": pw, "action": "disable"},
        acted=lambda user: not mfa.is_enabled(user),
    ),
    "new recovery codes": PasswordForm(
        url="two_factor",
        data=lambda pw: {"password": pw, "action": "recovery_codes"},
        acted=lambda user: _codes(user) != user.codes_before,  # type: ignore[attr-defined]
    ),
}


@pytest.fixture
def member(world: World) -> User:
    """The member, with two-factor sign-in on (the two-factor forms need it)."""
    user = world.users["member"]
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=user, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)
    user.codes_before = _codes(user)  # type: ignore[attr-defined]
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", FORMS)
def test_wrong_current_passwords_lock_the_form_and_the_right_one_is_then_refused(
    member: User, name: str
) -> None:
    form = FORMS[name]
    client = client_for(member)
    for attempt in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        wrong = client.post(reverse(form.url), form.data(f"wrong {attempt}"))
        assert wrong.status_code == 400, attempt
        assert "That is not your current password." in wrong.content.decode()

    locked = client.post(reverse(form.url), form.data(PASSWORD))

    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert not form.acted(member)
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)

    cache.clear()  # the window passes
    done = client.post(reverse(form.url), form.data(PASSWORD))
    assert done.status_code in (200, 302)
    assert form.acted(member)


@pytest.mark.parametrize("name", FORMS)
def test_wrong_current_passwords_count_against_signing_in(member: User, name: str) -> None:
    """One allowance for every place the password is typed: guessing on an open session's
    forms does not buy guesses at the sign-in, nor the other way round."""
    form = FORMS[name]
    client = client_for(member)
    for attempt in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        client.post(reverse(form.url), form.data(f"wrong {attempt}"))
    sign_in = Client().post(reverse("login"), {"username": member.email, "password": PASSWORD})
    assert sign_in.status_code == 429

    cache.clear()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        Client().post(reverse("login"), {"username": member.email, "password": "bad"})
    assert client.post(reverse(form.url), form.data(PASSWORD)).status_code == 429
    assert not form.acted(member)


def test_a_right_current_password_clears_the_accounts_count(member: User) -> None:
    client = client_for(member)
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        client.post(reverse("password_change"), FORMS["change password"].data("wrong"))
    changed = client.post(reverse("password_change"), FORMS["change password"].data(PASSWORD))
    assert changed.status_code == 302
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        client.post(reverse("two_factor"), FORMS["new recovery codes"].data("wrong"))
    # The password is the new one now; four wrong ones since it was typed right leave one.
    response = client.post(reverse("two_factor"), FORMS["new recovery codes"].data(NEW_PASSWORD))
    assert response.status_code == 200 and "New recovery codes" in response.content.decode()


def throttle_log(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "compliance.throttle"
    ]


@pytest.mark.parametrize("name", FORMS)
def test_a_wrong_current_password_is_logged_like_a_wrong_sign_in(
    member: User, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    form = FORMS[name]
    client = client_for(member)
    caplog.set_level(logging.INFO, logger="compliance.throttle")
    for attempt in range(settings.LOGIN_THROTTLE_ATTEMPTS + 1):
        client.post(reverse(form.url), form.data(f"wrong {attempt}"))
    confirmations = throttle_log(caplog)
    caplog.clear()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS + 1):
        Client().post(reverse("login"), {"username": "viewer@acme.test", "password": "bad"})
    sign_ins = throttle_log(caplog)

    expected_levels = ["INFO"] * settings.LOGIN_THROTTLE_ATTEMPTS + ["WARNING"]
    assert [level for level, _ in confirmations] == expected_levels
    assert [level for level, _ in sign_ins] == expected_levels
    assert confirmations[0][1] == (
        "password confirmation failed: account 'member@acme.test', address 127.0.0.1"
    )
    assert sign_ins[0][1] == "sign-in failed: account 'viewer@acme.test', address 127.0.0.1"
    assert confirmations[-1][1].startswith("password confirmation refused, too many failures")
    assert sign_ins[-1][1].startswith("sign-in refused, too many failures")


APPS = ["compliance", "controls", "evidence", "policies", "people", "vendors"]


def test_no_code_checks_a_password_outside_the_throttle() -> None:
    """The kind: a new form or endpoint asking for the password with its own, unthrottled
    check. Passwords are checked in one place; forms asking for the current one use the mixin."""
    root = Path(settings.BASE_DIR)
    callers = sorted(
        str(path.relative_to(root))
        for app in APPS
        for path in (root / app).rglob("*.py")
        if "check_password(" in path.read_text(encoding="utf-8")
    )
    assert callers == ["compliance/throttle.py"]

    pending, found = list(PasswordChangeForm.__subclasses__()), []
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        if form.__module__.split(".")[0] in APPS:
            found.append(form)
    assert found, "the account's password change form subclasses Django's"
    assert all(issubclass(form, CurrentPasswordMixin) for form in found), found
