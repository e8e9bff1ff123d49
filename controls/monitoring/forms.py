"""Forms of the automated-test pages: a test (with its check's own parameter fields), an
exception, an integration. They parse input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import pretty_name

from compliance.fields import DateField
from controls.checks import Check
from controls.models import (
    Integration,
    IntegrationKind,
    ReadinessRule,
    ScheduleKind,
    Severity,
)
from controls.monitoring.services import INTEGRATION_CONFIG, INTEGRATION_SECRETS

PARAM_PREFIX = "param_"


class ControlTestForm(forms.Form):
    name = forms.CharField(max_length=200)
    integration = forms.ModelChoiceField(queryset=Integration.objects.none(), required=False)
    schedule_kind = forms.ChoiceField(
        label="Schedule",
        choices=[(ScheduleKind.INTERVAL, "Every N minutes"), (ScheduleKind.CRON, "Cron")],
    )
    interval_minutes = forms.IntegerField(
        label="Every (minutes)", required=False, min_value=1, initial=60 * 24,
        help_text="1440 = daily.",
    )  # fmt: skip
    cron = forms.CharField(
        label="Cron expression", required=False, max_length=100,
        help_text="Five fields, in the organization's time zone, e.g. 0 6 * * 1-5.",
    )  # fmt: skip
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)
    readiness_rule = forms.ChoiceField(
        label="Readiness", choices=ReadinessRule.choices, initial=ReadinessRule.STRICT
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(
        self, *args: Any, check: type[Check], integrations: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.check = check
        if check.integration:
            field = self.fields["integration"]
            field.queryset = integrations.filter(kind=check.integration)  # type: ignore[attr-defined]
            field.required = True
            field.empty_label = None  # type: ignore[attr-defined]
        else:
            del self.fields["integration"]
        if check.pushed:
            kind = self.fields["schedule_kind"]
            kind.choices = [(ScheduleKind.PUSH, "Pushed by an outside system")]  # type: ignore[attr-defined]
            kind.initial = ScheduleKind.PUSH
            del self.fields["interval_minutes"], self.fields["cron"]
        # The check's own parameters, prefixed so they never clash with the test's fields.
        for name, field in check.Parameters().fields.items():
            if field.label is None:  # labelled from the parameter's name, not the prefixed one
                field.label = pretty_name(name)
            self.fields[PARAM_PREFIX + name] = field

    @property
    def parameter_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith(PARAM_PREFIX)]

    @property
    def test_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if not name.startswith(PARAM_PREFIX)]

    def parameters(self) -> dict[str, Any]:
        """The raw parameter values (the service validates them with the check's own form)."""
        data = self.data
        result: dict[str, Any] = {}
        for name, field in self.fields.items():
            if not name.startswith(PARAM_PREFIX):
                continue
            key = name[len(PARAM_PREFIX) :]
            if isinstance(field, forms.BooleanField):
                result[key] = data.get(name) in ("on", "true", "1", "True")
            elif isinstance(field, forms.MultipleChoiceField):
                result[key] = data.getlist(name)  # type: ignore[attr-defined]
            elif data.get(name, "") != "":
                result[key] = data.get(name)
        return result

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "name": data["name"],
            "schedule_kind": data["schedule_kind"],
            "severity": data["severity"],
            "readiness_rule": data["readiness_rule"],
            "enabled": data["enabled"],
            "parameters": self.parameters(),
        }
        if "integration" in self.fields:
            arguments["integration"] = data.get("integration")
        if "interval_minutes" in self.fields:
            arguments["interval_minutes"] = data.get("interval_minutes")
            arguments["cron"] = data.get("cron") or ""
        return arguments

    def full_clean(self) -> None:
        # Parameter fields are validated by the service (so the API and the page say the same).
        super().full_clean()
        for name in [n for n in self.errors if n.startswith(PARAM_PREFIX)]:
            del self.errors[name]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Show the service's errors; ``parameters.<name>`` lands on the parameter's field."""
        for field, messages in errors.items():
            if field.startswith("parameters."):
                field = PARAM_PREFIX + field.removeprefix("parameters.")
            self.add_error(field if field in self.fields else None, messages)


class ExceptionForm(forms.Form):
    resource_id = forms.ChoiceField(label="Resource", choices=[])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    expires_on = DateField(
        label="Until",
        help_text="At most a year; the resource fails again after this day.",
    )  # fmt: skip

    def __init__(self, *args: Any, resources: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource_id"].choices = resources  # type: ignore[attr-defined]


CONFIG_LABELS = {
    "api_url": (
        "API address",
        "Leave empty for github.com; GitHub Enterprise: https://HOST/api/v3",
    ),
    "organization": ("GitHub organization", "Whose repositories the checks list by default."),
    "region": ("Region", "e.g. eu-west-1 (default us-east-1)."),
    "endpoint_url": ("Endpoint", "Only for an S3/IAM-compatible endpoint; leave empty for AWS."),
    "role_arn": ("Role to assume", "Optional: arn:aws:iam::ACCOUNT:role/NAME (read-only audit)."),
}
SECRET_LABELS = {
    "token": ("Token", "A fine-grained token with read access to administration and metadata."),
    "access_key_id": ("Access key ID", "Of an IAM user with the SecurityAudit policy."),
    "secret_access_key": ("Secret access key", ""),
}


class IntegrationForm(forms.Form):
    name = forms.CharField(max_length=100)

    def __init__(self, *args: Any, kind: str, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.editing = editing
        for key in INTEGRATION_CONFIG[kind]:
            label, help_text = CONFIG_LABELS[key]
            self.fields[f"config_{key}"] = forms.CharField(
                label=label, help_text=help_text, required=False, max_length=500
            )
        for key in INTEGRATION_SECRETS[kind]:
            label, help_text = SECRET_LABELS[key]
            if editing:
                help_text = "Leave empty to keep the saved one. " + help_text
            self.fields[f"secret_{key}"] = forms.CharField(
                label=label,
                help_text=help_text,
                required=not editing,
                max_length=500,
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            )

    def config(self) -> dict[str, str]:
        return {
            key: self.cleaned_data.get(f"config_{key}", "") for key in INTEGRATION_CONFIG[self.kind]
        }

    def credentials(self) -> dict[str, str] | None:
        """The credentials typed in, or None when editing and all were left empty (keep)."""
        values = {
            key: self.cleaned_data.get(f"secret_{key}", "")
            for key in INTEGRATION_SECRETS[self.kind]
        }
        if self.editing and not any(values.values()):
            return None
        return values

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            if field in ("credentials", "config"):
                self.add_error(None, messages)
            else:
                self.add_error(field if field in self.fields else None, messages)


KIND_CHOICES = IntegrationKind.choices
