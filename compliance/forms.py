from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.http import HttpRequest

from compliance import mfa, services, throttle
from compliance.emails import email_queue
from compliance.fields import DateField
from compliance.models import Role, User
from compliance.models.organizations import WEEKDAYS

TIME_ZONES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
        "throttled": "Too many failed sign-in attempts. Wait %(minutes)s minutes and try again.",
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.throttled = False
        self.two_factor = False

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").lower()
        refused: list[forms.ValidationError] = []

        def password_matches() -> bool:
            try:
                super(LoginForm, self).clean()
            except forms.ValidationError as exc:
                refused.append(exc)
                return False
            return True

        try:
            # The view sends a user with two-factor sign-in to the code step. Their count is
            # cleared only once the code is right: typing the password again buys no more guesses.
            throttle.attempt(
                self.request,
                email=email,
                what="sign-in",
                check=password_matches,
                clear_on_success=False,
            )
        except throttle.Throttled as exc:
            self.throttled = True
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": exc.minutes},
            ) from None
        if refused:
            raise refused[0]
        user = self.get_user()
        if user is not None:
            self.two_factor = mfa.is_enabled(user)
            if not self.two_factor:
                throttle.record_success(email=email)
        return self.cleaned_data


class CurrentPasswordMixin:
    """For forms of a signed-in user that ask for their current password again: it is checked
    under the sign-in throttle (``throttle.confirm_password``), and ``throttled`` says whether
    the form was refused for that (the view answers 429)."""

    throttled_message = "Too many wrong passwords. Wait %(minutes)s minutes and try again."
    wrong_message = "That is not your current password."
    request: HttpRequest | None
    user: User
    throttled = False

    def confirm_current_password(self, password: str) -> str:
        try:
            right = throttle.confirm_password(self.request, user=self.user, password=password)
        except throttle.Throttled as exc:
            self.throttled = True
            raise forms.ValidationError(
                self.throttled_message, code="throttled", params={"minutes": exc.minutes}
            ) from None
        if not right:
            raise forms.ValidationError(self.wrong_message, code="password_incorrect")
        return password


class MfaCodeForm(forms.Form):
    code = forms.CharField(
        label="Authentication code",
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "numeric"}
        ),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )


class MfaEnableForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=20,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class MfaDisableForm(CurrentPasswordMixin, forms.Form):
    """Turning two-factor sign-in off, or new recovery codes: the password again first."""

    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(
        self, *args: Any, request: HttpRequest | None = None, user: User, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean_password(self) -> str:
        return self.confirm_current_password(self.cleaned_data["password"])


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending through the outbox (after commit, by a worker)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        email_queue(template="password_reset", to=[to_email], context=context)


class AuditedSetPasswordForm(SetPasswordForm):
    def save(self, commit: bool = True) -> Any:
        services.user_set_password(
            user=self.user, password=self.cleaned_data["new_password1"], reason="reset link"
        )
        return self.user


class AuditedPasswordChangeForm(CurrentPasswordMixin, PasswordChangeForm):
    """The signed-in user's own change: the current password first, then the new one twice."""

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["old_password"].label = "Current password"
        self.fields["new_password2"].label = "Repeat the new password"
        self.fields["new_password2"].help_text = ""

    def clean_old_password(self) -> str:
        return self.confirm_current_password(self.cleaned_data["old_password"])

    def save(self, commit: bool = True) -> Any:
        services.user_set_password(
            user=self.user,
            password=self.cleaned_data["new_password1"],
            reason="changed by the user",
        )
        return self.user


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(max_length=150, label="Your name")
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Repeat the password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.CharField(
        max_length=50,
        required=False,
        help_text="Used in addresses; lowercase letters, digits and hyphens. Left empty, it is "
        "made from the name.",
    )
    time_zone = forms.ChoiceField(choices=TIME_ZONES, initial="UTC")


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    time_zone = forms.ChoiceField(
        choices=TIME_ZONES,
        help_text="Dates, deadlines and schedules of automated tests read in this time zone.",
    )
    require_two_factor = forms.BooleanField(
        required=False,
        label="Require two-factor sign-in",
        help_text="Everyone must sign in with an authenticator code to open this organization or "
        "use its API; those without it are sent to turn it on.",
    )
    snapshot_weekday = forms.TypedChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        label="Weekly snapshot day",
        help_text="The day the readiness figures of the week just ended are frozen.",
    )
    snapshot_hour = forms.TypedChoiceField(
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        coerce=int,
        label="Weekly snapshot hour",
        help_text="In the organization's time zone; the snapshot is taken within the hour.",
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    access_expires_on = DateField(
        required=False,
        label="Access ends on",
        help_text="Required for auditors; optional for others (e.g. contractors).",
    )


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    expires_on = DateField(required=False, label="Access ends on")


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses the token, e.g. “GitHub Actions evidence push”."
    )
    expires_on = DateField(
        required=False,
        label="Expires on",
        help_text="Leave empty for a token that lasts until revoked.",
    )


def user_choice_label(user: User) -> str:
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email
