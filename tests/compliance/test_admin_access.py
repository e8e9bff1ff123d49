"""The Django admin site opens only through Attest's own sign-in (password, throttle, second
factor), and only for staff whose session has typed a code of their authenticator."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from compliance import mfa
from compliance.admin_site import AttestAdminSite
from compliance.forms import LoginForm
from compliance.models import User
from compliance.views.auth import LoginView
from tests.conftest import World
from tests.factories import PASSWORD, UserFactory

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ADMIN_PAGE = "/admin/compliance/user/"


@pytest.fixture(autouse=True)
def _clear_throttle() -> None:
    cache.clear()


def code_now(secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(timezone.now())


def signed_in(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


@pytest.fixture
def operator(world: World) -> User:
    """An operator of the installation (staff, superuser), without two-factor sign-in."""
    return UserFactory(email="ops@attest.test", is_staff=True, is_superuser=True)


@pytest.fixture
def enrolled_operator(operator: User) -> User:
    """The operator with two-factor sign-in on since two minutes ago (that code is used up)."""
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=operator, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)
    return operator


def test_posting_a_password_to_the_admin_sign_in_never_signs_anyone_in(
    enrolled_operator: User, world: World
) -> None:
    anonymous = Client()
    response = anonymous.post(
        "/admin/login/?next=/admin/",
        {"username": enrolled_operator.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"
    assert signed_in(anonymous) is None
    assert anonymous.get("/admin/").status_code == 302


@pytest.mark.parametrize("persona", ["outsider", "auditor", "viewer", "admin"])
def test_a_signed_in_non_operator_gets_no_working_password_form_at_the_admin_sign_in(
    enrolled_operator: User, world: World, persona: str
) -> None:
    # An organization's admin is not an operator of the installation either.
    client = world.client(persona)
    me = world.users[persona].pk

    page = client.get("/admin/login/")
    assert page.status_code == 403
    body = page.content.decode()
    assert 'type="password"' not in body
    assert "not an operator account" in body
    assert world.users[persona].email in body

    posted = client.post(
        "/admin/login/", {"username": enrolled_operator.email, "password": PASSWORD}
    )
    assert posted.status_code == 403
    assert signed_in(client) == me  # still themselves
    assert client.get(ADMIN_PAGE).status_code == 302


@pytest.mark.parametrize(
    "path",
    ["/admin/login/", "/admin/login/?next=/admin/", "/admin/compliance/user/"],
)
def test_thirty_wrong_passwords_through_any_admin_path_are_throttled(
    operator: User, path: str
) -> None:
    """An admin path either takes no password at all or leads to the throttled sign-in."""
    client = Client()
    statuses = []
    for _ in range(30):
        # The admin path itself: no password read, no one signed in, sent to Attest's sign-in.
        response = client.post(path, {"username": operator.email, "password": "wrong"})
        assert response.status_code == 302
        target = response["Location"]
        while not target.startswith(reverse("login")):  # /admin/… → /admin/login/ → /login/
            target = client.get(target)["Location"]
        # Where it leads: the real sign-in form, with the next step kept.
        assert "next=/admin/" in target
        statuses.append(
            client.post(target, {"username": operator.email, "password": "wrong"}).status_code
        )
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    assert statuses[:limit] == [200] * limit
    assert set(statuses[limit:]) == {429}
    right = client.post(target, {"username": operator.email, "password": PASSWORD})
    assert right.status_code == 429
    assert signed_in(client) is None


def test_a_signed_in_outsider_guessing_at_the_admin_sign_in_never_becomes_the_operator(
    operator: User, world: World
) -> None:
    client = world.client("outsider")
    for _ in range(30):
        wrong = client.post("/admin/login/", {"username": operator.email, "password": "wrong"})
        assert wrong.status_code == 403
    right = client.post("/admin/login/", {"username": operator.email, "password": PASSWORD})
    assert right.status_code == 403
    assert signed_in(client) == world.users["outsider"].pk
    assert client.get(ADMIN_PAGE).status_code == 302


def test_the_admin_password_change_form_is_the_accounts_throttled_one(
    enrolled_operator: User,
) -> None:
    client = Client()
    client.post(reverse("login"), {"username": enrolled_operator.email, "password": PASSWORD})
    client.post(reverse("login_mfa"), {"code": code_now()})
    assert client.get("/admin/").status_code == 200
    for path in ("/admin/password_change/", "/admin/password_change/done/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == reverse("password_change")
    wrong = {"old_password": "wrong", "new_password1": "x" * 20, "new_password2": "x" * 20}
    response = client.post("/admin/password_change/", wrong)
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    assert User.objects.get(pk=enrolled_operator.pk).check_password(PASSWORD)


def test_staff_without_two_factor_are_sent_to_turn_it_on_before_the_admin_opens(
    operator: User,
) -> None:
    client = Client()
    # Attest itself opens with the password alone (nobody requires two factors of Acme)…
    response = client.post(
        reverse("login") + "?next=/admin/",
        {"username": operator.email, "password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(client) == operator.pk
    # …the admin does not: every page of it leads to the two-factor page, which says why.
    for path in ("/admin/", ADMIN_PAGE, "/admin/login/"):
        page = client.get(path, follow=True)
        assert page.redirect_chain[-1][0] == reverse("two_factor"), path
        assert "The admin site needs two-factor sign-in" in page.content.decode()

    # Turning it on there (scan, type the code) opens the admin to this session.
    setup = client.get(reverse("two_factor")).content.decode()
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', setup)
    assert secret is not None
    done = client.post(reverse("two_factor"), {"code": code_now(secret.group(1).replace(" ", ""))})
    assert done.status_code == 200 and "Open the admin site" in done.content.decode()
    assert client.get(ADMIN_PAGE).status_code == 200


def test_staff_with_two_factor_get_into_the_admin_only_after_the_code(
    enrolled_operator: User,
) -> None:
    client = Client()
    start = client.get(ADMIN_PAGE, follow=True)
    assert start.redirect_chain[-1][0] == reverse("login") + f"?next={ADMIN_PAGE}"
    password = client.post(
        reverse("login") + f"?next={ADMIN_PAGE}",
        {"username": enrolled_operator.email, "password": PASSWORD, "next": ADMIN_PAGE},
    )
    assert password["Location"] == reverse("login_mfa")
    assert signed_in(client) is None
    assert client.get(ADMIN_PAGE).status_code == 302

    assert client.post(reverse("login_mfa"), {"code": "000000"}).status_code == 400
    assert client.get(ADMIN_PAGE).status_code == 302
    done = client.post(reverse("login_mfa"), {"code": code_now()})
    assert done.status_code == 302 and done["Location"] == ADMIN_PAGE
    assert client.get(ADMIN_PAGE).status_code == 200
    # Already in: the admin's sign-in address leads straight on.
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/admin/"


def test_a_session_without_a_code_is_asked_for_one_before_the_admin_opens(
    enrolled_operator: User,
) -> None:
    """A session signed in before two-factor sign-in was on, or by other means, has typed no
    code: the admin asks for one first, and that step is throttled like signing in."""
    client = Client()
    client.force_login(enrolled_operator)
    step = client.get(ADMIN_PAGE, follow=True)
    assert step.redirect_chain[-1][0] == reverse("login_mfa")
    assert "to open the admin site" in step.content.decode()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        assert client.post(reverse("login_mfa"), {"code": "000000"}).status_code == 400
    assert client.post(reverse("login_mfa"), {"code": code_now()}).status_code == 429
    assert client.get(ADMIN_PAGE).status_code == 302

    cache.clear()  # the window passes
    done = client.post(reverse("login_mfa"), {"code": code_now()})
    assert done.status_code == 302 and done["Location"] == ADMIN_PAGE
    assert signed_in(client) == enrolled_operator.pk
    assert client.get(ADMIN_PAGE).status_code == 200


def test_a_new_authenticator_needs_its_own_code_before_the_admin_opens_again(
    enrolled_operator: User,
) -> None:
    client = Client()
    client.post(reverse("login"), {"username": enrolled_operator.email, "password": PASSWORD})
    client.post(reverse("login_mfa"), {"code": code_now()})
    assert client.get(ADMIN_PAGE).status_code == 200
    # An operator resets the device (lost phone) and it is turned on again elsewhere.
    mfa.mfa_reset(actor=enrolled_operator, user=enrolled_operator)
    other = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(
        user=enrolled_operator, secret=other, code=pyotp.TOTP(other).at(earlier), now=earlier
    )
    response = client.get(ADMIN_PAGE, follow=True)
    assert response.redirect_chain[-1][0] == reverse("login_mfa")
    assert client.post(reverse("login_mfa"), {"code": code_now(other)}).status_code == 302
    assert client.get(ADMIN_PAGE).status_code == 200


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def test_the_only_password_sign_in_is_attests_own() -> None:
    """The kind: a sign-in form that skips the throttle or the code step (the admin's, DRF's
    browsable-API login, a new view). Every route that is a Django sign-in view is Attest's."""
    sign_ins = [
        (route, callback)
        for route, callback in walk(get_resolver().url_patterns)
        if isinstance(getattr(callback, "view_class", None), type)
        and issubclass(callback.view_class, auth_views.LoginView)
    ]
    assert [(route, cb.view_class) for route, cb in sign_ins] == [("login/", LoginView)]
    assert issubclass(LoginView.form_class, LoginForm)
    assert resolve("/admin/login/").func.__func__ is AttestAdminSite.login


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/admin/", "//evil.example/admin/", "/o/acme/", "/admin/../login/x"],
)
def test_the_admin_sign_in_leads_only_into_the_admin(
    enrolled_operator: User, next_url: str
) -> None:
    anonymous = Client().get("/admin/login/", {"next": next_url})
    assert anonymous["Location"] == reverse("login") + "?next=/admin/"

    client = Client()
    client.post(reverse("login"), {"username": enrolled_operator.email, "password": PASSWORD})
    client.post(reverse("login_mfa"), {"code": code_now()})
    assert client.get("/admin/login/", {"next": next_url})["Location"] == "/admin/"
