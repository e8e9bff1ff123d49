from __future__ import annotations

import enum
import posixpath
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from compliance import mfa, services, throttle
from compliance.forms import (
    AcceptInvitationForm,
    AuditedSetPasswordForm,
    LoginForm,
    MfaCodeForm,
    OutboxPasswordResetForm,
)
from compliance.models import Role, User
from compliance.views.mixins import apply_validation_error

MFA_PENDING = "attest_mfa_pending"
# The authenticator whose code this session typed (its id): what the admin site asks for.
MFA_CONFIRMED = "attest_mfa_confirmed"


def mark_second_factor(request: HttpRequest, user: User) -> None:
    """This session has just proved it holds ``user``'s authenticator (a code was right)."""
    request.session[MFA_CONFIRMED] = mfa.device_id(user)


def _start_code_step(request: HttpRequest, user: User, backend: str, next_url: str) -> None:
    request.session[MFA_PENDING] = {
        "user": user.pk,
        "backend": backend,
        "at": time.time(),
        "next": next_url,
    }


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "auth/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        if not form.two_factor:
            return super().form_valid(form)
        user = form.get_user()
        # The password was right; the session holds who is half-way, not a signed-in user.
        backend = getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0])
        _start_code_step(self.request, user, backend, self.get_success_url())
        return redirect("login_mfa")

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_mfa(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator app or a recovery code.
    Wrong codes count against the same limits as wrong passwords."""
    pending: dict[str, Any] = request.session.get(MFA_PENDING) or {}
    user = None
    if pending and time.time() - pending["at"] <= settings.MFA_PENDING_SECONDS:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(MFA_PENDING, None)
        if pending:
            messages.info(request, "That took too long. Sign in again.")
        return redirect("login")
    form = MfaCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            code = form.cleaned_data["code"]
            try:
                right = throttle.attempt(
                    request,
                    email=user.email,
                    what="two-factor code",
                    check=lambda: mfa.mfa_verify(user=user, code=code),
                )
            except throttle.Throttled as exc:
                throttled = LoginForm.error_messages["throttled"]
                form.add_error(None, throttled % {"minutes": exc.minutes})
                status = 429
            else:
                if right:
                    del request.session[MFA_PENDING]
                    login(request, user, backend=pending["backend"])
                    mark_second_factor(request, user)
                    return redirect(pending["next"])
                form.add_error("code", "That code is not right, or was used already.")
                status = 400
    return render(request, "auth/login_mfa.html", {"form": form}, status=status)


class LogoutView(auth_views.LogoutView):
    pass


class AdminAccess(enum.Enum):
    ANONYMOUS = "anonymous"
    NOT_STAFF = "not staff"
    NO_SECOND_FACTOR = "no second factor"  # staff who have not turned two-factor sign-in on
    CODE_NEEDED = "code needed"  # on, but this session has not typed a code of this device
    OK = "ok"


def admin_access(request: HttpRequest) -> AdminAccess:
    """Whether this request may use the admin site and, if not, what is missing."""
    user = request.user
    if not user.is_authenticated:
        return AdminAccess.ANONYMOUS
    if not (user.is_active and user.is_staff):
        return AdminAccess.NOT_STAFF
    device = mfa.device_id(user)
    if device is None:
        return AdminAccess.NO_SECOND_FACTOR
    if request.session.get(MFA_CONFIRMED) != device:
        return AdminAccess.CODE_NEEDED
    return AdminAccess.OK


@never_cache
def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """What ``/admin/login/`` is now: it takes no password, whatever the method, and sends the
    person to the next step towards the admin site."""
    index = reverse("admin:index")
    next_url = request.GET.get("next", "")
    path = urlsplit(next_url).path
    if not (
        url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and path.startswith(index)
        and (posixpath.normpath(path) + "/").startswith(index)  # no "/admin/../" out of it
    ):
        next_url = index
    access = admin_access(request)
    if access is AdminAccess.ANONYMOUS:
        return redirect_to_login(next_url)
    if access is AdminAccess.NOT_STAFF:
        return render(request, "auth/admin_refused.html", status=403)
    user: User = request.user  # type: ignore[assignment]
    if access is AdminAccess.NO_SECOND_FACTOR:
        messages.warning(
            request,
            "The admin site needs two-factor sign-in. Turn it on here, then open the admin again.",
        )
        return redirect("two_factor")
    if access is AdminAccess.CODE_NEEDED:
        backend = request.session.get(BACKEND_SESSION_KEY, settings.AUTHENTICATION_BACKENDS[0])
        _start_code_step(request, user, backend, next_url)
        messages.info(request, "Type a code from your authenticator app to open the admin site.")
        return redirect("login_mfa")
    return redirect(next_url)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "auth/password_reset.html"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "auth/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = AuditedSetPasswordForm
    template_name = "auth/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "auth/password_reset_complete.html"


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_find(token)
    if invitation is None:
        return render(request, "auth/invitation_invalid.html", status=404)
    user = request.user if request.user.is_authenticated else None
    account_exists = User.objects.filter(email__iexact=invitation.email).exists()
    form = (
        AcceptInvitationForm(request.POST or None) if user is None and not account_exists else None
    )
    context: dict[str, Any] = {
        "invitation": invitation,
        "role_label": Role(invitation.role).label,
        "form": form,
        "account_exists": account_exists,
        "wrong_user": user is not None and user.email.lower() != invitation.email.lower(),
    }
    status = 200
    if request.method == "POST":
        if context["wrong_user"]:
            status = 403
        elif user is not None or (form is not None and form.is_valid()):
            try:
                membership = services.invitation_accept(
                    token=token,
                    user=user,
                    full_name=form.cleaned_data["full_name"] if form else "",
                    password=form.cleaned_data["password1"] if form else "",
                )
            except ValidationError as exc:
                if form is None:
                    messages.error(request, " ".join(exc.messages))
                else:
                    apply_validation_error(form, exc)
                status = 400
            else:
                if user is None:
                    login(request, membership.user, backend=settings.AUTHENTICATION_BACKENDS[0])
                messages.success(request, f"Welcome to {membership.organization.name}.")
                return redirect("dashboard", org=membership.organization.slug)
        else:
            status = 400
    return render(request, "auth/invitation_accept.html", context, status=status)
