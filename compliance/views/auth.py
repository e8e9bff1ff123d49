from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
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


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "auth/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        if not form.two_factor:
            return super().form_valid(form)
        user = form.get_user()
        # The password was right; the session holds who is half-way, not a signed-in user.
        self.request.session[MFA_PENDING] = {
            "user": user.pk,
            "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
            "at": time.time(),
            "next": self.get_success_url(),
        }
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
        ip = throttle.client_ip(request)
        if throttle.is_blocked(email=user.email, ip=ip):
            throttled = LoginForm.error_messages["throttled"]
            form.add_error(None, throttled % {"minutes": throttle.window_minutes()})
            status = 429
        elif not form.is_valid():
            status = 400
        elif mfa.mfa_verify(user=user, code=form.cleaned_data["code"]):
            del request.session[MFA_PENDING]
            login(request, user, backend=pending["backend"])
            throttle.record_success(email=user.email)
            return redirect(pending["next"])
        else:
            throttle.record_failure(email=user.email, ip=ip)
            form.add_error("code", "That code is not right, or was used already.")
            status = 400
    return render(request, "auth/login_mfa.html", {"form": form}, status=status)


class LogoutView(auth_views.LogoutView):
    pass


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
