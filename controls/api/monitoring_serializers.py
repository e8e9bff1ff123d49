"""Serializers of automated control tests: integrations, tests, runs, findings, exceptions, the
check registry and pushed results. Writes are validated here for types and shapes; the services
(controls.monitoring.services) validate the rest and do the writing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.api.base import StrictFieldsMixin
from compliance.permissions import restrict
from controls.checks import Check, clean_parameters, get_check
from controls.models import (
    Control,
    ControlTest,
    Finding,
    Integration,
    IntegrationKind,
    ReadinessRule,
    ResultStatus,
    ScheduleKind,
    Severity,
    TestException,
    TestResult,
    TestRun,
)
from controls.monitoring import schedule
from controls.monitoring.services import MAX_RESOURCES


class StrictCharField(serializers.CharField):
    """Text only: a number or a boolean where text is expected is a type error, not coerced."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class JsonObjectField(serializers.DictField):
    """A JSON object (any values); anything else is refused."""


def flatten_errors(errors: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as flat paths: ``{"results": {3: {"status": [..]}}}`` becomes
    ``{"results[3].status": [..]}``, so a client can point at the offending value."""
    if isinstance(errors, Mapping):
        flat: dict[str, list[str]] = {}
        for name, value in errors.items():
            if isinstance(name, int):
                child = f"{path}[{name}]"
            elif name == "non_field_errors" and path:
                child = path
            else:
                child = f"{path}.{name}" if path else str(name)
            for key, messages in flatten_errors(value, child).items():
                flat.setdefault(key, []).extend(messages)
        return flat
    if isinstance(errors, list) and any(isinstance(e, Mapping | list) for e in errors):
        flat = {}
        for index, value in enumerate(errors):
            if value:
                flat.update(flatten_errors(value, f"{path}[{index}]"))
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {path or "non_field_errors": [str(m) for m in messages]}


# --- integrations -------------------------------------------------------------------------------


class IntegrationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Credentials are write-only: sent whole on create (and to replace them), never returned.
    ``secret_hint`` (the last characters) tells which credentials are stored."""

    kind = serializers.ChoiceField(choices=IntegrationKind.choices)
    name = StrictCharField(max_length=100)
    config = JsonObjectField(
        required=False, help_text="Settings that are not secret (an API address, a region)."
    )
    credentials = JsonObjectField(
        write_only=True,
        help_text="GitHub: {token}. AWS: {access_key_id, secret_access_key}. Never returned.",
    )

    class Meta:
        model = Integration
        fields = [
            "id", "kind", "name", "config", "credentials", "secret_hint", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "secret_hint", "created_at", "updated_at"]
        validators: list[Any] = []  # the service reports a duplicate name on "name"


class IntegrationUpdateSerializer(IntegrationSerializer):
    kind = serializers.ChoiceField(choices=IntegrationKind.choices, read_only=True)
    credentials = JsonObjectField(
        write_only=True, required=False, help_text="Replaces the stored credentials, whole."
    )


# --- control tests ------------------------------------------------------------------------------


class RunSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = TestRun
        fields = [
            "id", "status", "trigger", "queued_at", "started_at", "finished_at", "passed_count",
            "failed_count", "error",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class ChangeableControlField(serializers.PrimaryKeyRelatedField):
    """An active control of the URL's organization that the requester can see."""

    def get_queryset(self) -> Any:
        return self.context.get("visible_controls", Control.objects.none())


@extend_schema_field(OpenApiTypes.INT)
class IntegrationField(serializers.PrimaryKeyRelatedField):
    """An integration of the URL's organization that the requester may see (admins: members
    cannot list integrations, so they cannot attach one by guessing its id either)."""

    def get_queryset(self) -> Any:
        organization = self.context.get("organization")
        request = self.context.get("request")
        if organization is None or request is None:
            return Integration.objects.none()
        return restrict(
            Integration.objects.filter(organization=organization),
            request.user,
            organization=organization,
        )


def _clean_parameters(check: type[Check], value: dict[str, Any]) -> dict[str, Any]:
    try:
        return clean_parameters(check, value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(
            {f"parameters.{name}": messages for name, messages in exc.message_dict.items()}
        ) from None


class ControlTestSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    control = ChangeableControlField()
    control_ref_id = serializers.CharField(source="control.ref_id", read_only=True)
    name = StrictCharField(max_length=200)
    check_key = StrictCharField(max_length=100, help_text="A key from /api/checks/.")
    check_title = serializers.SerializerMethodField()
    parameters = JsonObjectField(
        required=False, help_text="The check's parameters (see /api/checks/)."
    )
    integration = IntegrationField(required=False, allow_null=True)
    schedule_kind = serializers.ChoiceField(choices=ScheduleKind.choices, required=False)
    interval_minutes = serializers.IntegerField(required=False, allow_null=True)
    cron = StrictCharField(required=False, allow_blank=True, max_length=100)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    readiness_rule = serializers.ChoiceField(choices=ReadinessRule.choices, required=False)
    enabled = serializers.BooleanField(required=False)
    schedule = serializers.SerializerMethodField()
    last_run = RunSummarySerializer(read_only=True, allow_null=True)
    open_findings = serializers.SerializerMethodField()

    class Meta:
        model = ControlTest
        fields = [
            "id", "control", "control_ref_id", "name", "check_key", "check_title", "parameters",
            "integration", "schedule_kind", "interval_minutes", "cron", "schedule", "severity",
            "readiness_rule", "enabled", "next_run_at", "push_token_hint", "last_run",
            "open_findings", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "next_run_at", "push_token_hint", "created_at", "updated_at"]
        validators: list[Any] = []  # the service reports a duplicate name on "name"

    def get_check_title(self, test: ControlTest) -> str:
        check = get_check(test.check_key)
        return check.title if check else test.check_key

    def get_schedule(self, test: ControlTest) -> str:
        return schedule.describe(
            kind=test.schedule_kind, interval_minutes=test.interval_minutes, cron=test.cron
        )

    def get_open_findings(self, test: ControlTest) -> int:
        annotated = getattr(test, "open_findings", None)
        if annotated is not None:
            return int(annotated)
        return test.findings.filter(resolved_at__isnull=True).count()

    def validate_check_key(self, value: str) -> str:
        if get_check(value) is None:
            raise serializers.ValidationError(f"Unknown check {value!r}; see /api/checks/.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check = get_check(attrs["check_key"])
        assert check is not None  # validate_check_key ran
        attrs["parameters"] = _clean_parameters(check, attrs.get("parameters", {}))
        if check.pushed:
            attrs.setdefault("schedule_kind", ScheduleKind.PUSH)
        return attrs


class ControlTestUpdateSerializer(ControlTestSerializer):
    """Partial update: the control and the check of a test do not change."""

    control = ChangeableControlField(read_only=True)
    check_key = StrictCharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        test: ControlTest = self.instance  # type: ignore[assignment]
        check = get_check(test.check_key)
        if check is not None and "parameters" in attrs:
            attrs["parameters"] = _clean_parameters(check, attrs["parameters"])
        return attrs


class RunQueuedSerializer(RunSummarySerializer):
    queued_for_later = serializers.BooleanField(
        read_only=True,
        help_text="True when the task queue is unavailable: the run starts once it is back.",
    )
    detail = serializers.CharField(read_only=True)

    class Meta(RunSummarySerializer.Meta):
        fields = [*RunSummarySerializer.Meta.fields, "queued_for_later", "detail"]
        read_only_fields = fields


class PushTokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")
    hint = serializers.CharField(read_only=True)


class FindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = [
            "id", "resource_id", "resource_name", "message", "remediation", "severity",
            "opened_at", "due_date", "resolved_at", "first_run", "last_run",
        ]  # fmt: skip
        read_only_fields = fields


class ExceptionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    resource_id = StrictCharField(max_length=500)
    reason = StrictCharField(max_length=2000)
    expires_on = serializers.DateField()
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )
    revoked_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )

    class Meta:
        model = TestException
        fields = [
            "id", "resource_id", "reason", "expires_on", "created_by", "created_at",
            "revoked_at", "revoked_by",
        ]  # fmt: skip
        read_only_fields = ["id", "created_by", "created_at", "revoked_at", "revoked_by"]


# --- runs ---------------------------------------------------------------------------------------


class TestRunSerializer(serializers.ModelSerializer):
    __test__ = False  # not a pytest class

    control = serializers.IntegerField(source="control_test.control_id", read_only=True)
    control_ref_id = serializers.CharField(source="control_test.control.ref_id", read_only=True)
    control_test_name = serializers.CharField(source="control_test.name", read_only=True)
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True, help_text="Null for scheduled runs."
    )
    duration = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = TestRun
        fields = [
            "id", "control_test", "control_test_name", "control", "control_ref_id", "trigger",
            "slot", "status", "requested_by", "queued_at", "enqueued_at", "started_at",
            "finished_at", "duration", "attempts", "passed_count", "failed_count", "error",
            "evidence_revision", "results_summarised_at",
        ]  # fmt: skip
        read_only_fields = fields


class TestResultSerializer(serializers.ModelSerializer):
    __test__ = False

    class Meta:
        model = TestResult
        fields = ["resource_id", "resource_name", "status", "message", "remediation", "raw"]
        read_only_fields = fields


class TestRunDetailSerializer(TestRunSerializer):
    results = TestResultSerializer(many=True, read_only=True)

    class Meta(TestRunSerializer.Meta):
        fields = [*TestRunSerializer.Meta.fields, "worker", "log", "results"]
        read_only_fields = fields


# --- the check registry -------------------------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label


class CheckParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.ChoiceField(
        choices=["string", "integer", "number", "boolean", "date", "choice", "multiple_choice"]
    )
    required = serializers.BooleanField()  # type: ignore[assignment]
    help = serializers.CharField()
    choices = ChoiceSerializer(many=True, allow_null=True)


class CheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    integration = serializers.ChoiceField(choices=IntegrationKind.choices, allow_null=True)
    pushed = serializers.BooleanField(help_text='Results are pushed: use schedule_kind "push".')
    parameters = CheckParameterSerializer(many=True)


def _parameter_type(field: forms.Field) -> str:
    # Subclasses before their bases (a MultipleChoiceField is a ChoiceField).
    for kind, type_name in (
        (forms.MultipleChoiceField, "multiple_choice"),
        (forms.ChoiceField, "choice"),
        (forms.BooleanField, "boolean"),
        (forms.IntegerField, "integer"),
        (forms.DecimalField, "number"),
        (forms.FloatField, "number"),
        (forms.DateField, "date"),
    ):
        if isinstance(field, kind):
            return type_name
    return "string"


def describe_check(check: type[Check]) -> dict[str, Any]:
    """What a client needs to build the check's form, from the check's own Django form."""
    form = check.Parameters()
    parameters = []
    for name, field in form.fields.items():
        choices = getattr(field, "choices", None)
        parameters.append(
            {
                "name": name,
                "label": str(field.label or name.replace("_", " ").capitalize()),
                "type": _parameter_type(field),
                "required": field.required,
                "help": str(field.help_text or ""),
                "choices": (
                    [{"value": str(v), "label": str(label)} for v, label in choices]
                    if choices is not None
                    else None
                ),
            }
        )
    return {
        "key": check.key,
        "title": check.title,
        "description": check.description,
        "integration": check.integration,
        "pushed": check.pushed,
        "parameters": parameters,
    }


# --- pushed results -----------------------------------------------------------------------------


class PushedResultSerializer(StrictFieldsMixin, serializers.Serializer):
    id = StrictCharField(max_length=500, help_text="The resource's stable id.")
    name = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=ResultStatus.choices)
    message = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")
    remediation = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")
    raw = JsonObjectField(required=False, default=dict)


class PushSerializer(StrictFieldsMixin, serializers.Serializer):
    results = serializers.ListField(
        child=PushedResultSerializer(), max_length=MAX_RESOURCES, allow_empty=True
    )
    log = StrictCharField(max_length=100_000, required=False, allow_blank=True, default="")
    error = StrictCharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Set when the outside check could not reach a verdict: the run is an error.",
    )

    def validate_results(self, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: dict[str, int] = {}
        errors: dict[int, dict[str, list[str]]] = {}
        for index, result in enumerate(results):
            if result["id"] in seen:
                errors[index] = {
                    "id": [f"{result['id']!r} is reported twice (first at {seen[result['id']]})."]
                }
            seen.setdefault(result["id"], index)
        if errors:
            raise serializers.ValidationError(cast(Any, errors))  # by index, like ListField
        return results
