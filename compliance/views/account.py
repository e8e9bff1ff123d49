from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from compliance import mfa, services
from compliance.forms import (
    ApiTokenForm,
    AuditedPasswordChangeForm,
    MfaDisableForm,
    MfaEnableForm,
)
from compliance.models import ApiToken, User
from compliance.views import auth
from compliance.views.mixins import apply_validation_error


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ApiTokenForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "secret": None}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            expires_on = form.cleaned_data["expires_on"]
            expires_at = (
                dt.datetime.combine(expires_on, dt.time(23, 59, 59), tzinfo=dt.UTC)
                if expires_on
                else None
            )
            try:
                token, secret = services.api_token_create(
                    actor=user, name=form.cleaned_data["name"], expires_at=expires_at
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
                status = 400
            else:
                context.update(secret=secret, new_token=token, form=ApiTokenForm())
        else:
            status = 400
    context["tokens"] = ApiToken.objects.filter(user=user)
    context["now"] = timezone.now()
    return render(request, "account/api_tokens.html", context, status=status)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's token is not found, whatever its id.
    user = cast(User, request.user)
    token = ApiToken.objects.filter(pk=pk, user=user).first()
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(actor=user, token=token)
    messages.success(request, f"Token “{token.name}” was revoked.")
    return redirect("api_tokens")


class PasswordChangeView(auth_views.PasswordChangeView):
    """The signed-in user changes their own password. This session stays signed in; every
    other session of the account is signed out (Django checks the password hash per session)."""

    form_class = AuditedPasswordChangeForm
    template_name = "account/password_change.html"
    success_url = reverse_lazy("password_change")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request, "Your password was changed. Your other sessions were signed out."
        )
        return response

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 429 if getattr(form, "throttled", False) else 400
        return response


MFA_SETUP = "attest_mfa_setup_secret"


@login_required
@sensitive_post_parameters("code", "password")
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in on (scan, then type a code) or off (with the password)."""
    user = cast(User, request.user)
    enabled = mfa.is_enabled(user)
    context: dict[str, Any] = {"enabled": enabled}
    status = 200
    if enabled:
        form: Any = MfaDisableForm(request.POST or None, request=request, user=user)
        if request.method == "POST":
            renew = request.POST.get("action") == "recovery_codes"
            if form.is_valid():  # the password, checked under the sign-in throttle
                try:
                    if renew:
                        codes = mfa.mfa_new_recovery_codes(user=user)
                    else:
                        mfa.mfa_disable(user=user)
                except ValidationError as exc:
                    apply_validation_error(form, exc)
                else:
                    if not renew:
                        messages.success(request, "Two-factor sign-in is off.")
                        return redirect("two_factor")
                    context.update(
                        form=MfaDisableForm(user=user), recovery_codes=codes,
                        codes_left=len(codes), renewed=True,
                    )  # fmt: skip
                    return render(request, "account/two_factor.html", context)
            status = 429 if form.throttled else 400
        context.update(form=form, codes_left=mfa.recovery_codes_left(user))
        return render(request, "account/two_factor.html", context, status=status)

    secret = request.session.get(MFA_SETUP) or mfa.new_secret()
    request.session[MFA_SETUP] = secret
    form = MfaEnableForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                codes = mfa.mfa_enable(user=user, secret=secret, code=form.cleaned_data["code"])
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                del request.session[MFA_SETUP]
                # Typing the code proved this session holds the new authenticator.
                auth.mark_second_factor(request, user)
                context.update(enabled=True, recovery_codes=codes, codes_left=len(codes))
                context["form"] = MfaDisableForm(user=user)
                return render(request, "account/two_factor.html", context)
        status = 400
    uri = mfa.provisioning_uri(user, secret)
    context.update(
        form=form,
        qr=mfa.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )
    return render(request, "account/two_factor.html", context, status=status)
