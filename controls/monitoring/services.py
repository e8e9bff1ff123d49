"""Writes of automated control tests: tests, integrations, runs and their outcome, findings,
exceptions, push tokens, and the dispatcher that enqueues what is due.

Every write goes through here, in one transaction with its audit event. Handing a run to the
broker happens after commit; when the broker is down the run stays queued and the dispatcher
hands it over again once it is back (nothing is lost, nothing runs twice for the same slot).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Concat
from django.urls import reverse
from django.utils import timezone

from compliance.audit import audit_record, changed, snapshot
from compliance.emails import email_queue
from compliance.models import Organization, User
from compliance.readiness import controls_changed
from compliance.text import with_article
from controls.checks import Check, Resource, clean_parameters, get_check
from controls.integrations import crypto
from controls.models import (
    Control,
    ControlTest,
    Finding,
    Integration,
    IntegrationKind,
    ResultStatus,
    RunStatus,
    ScheduleKind,
    Severity,
    TestException,
    TestResult,
    TestRun,
    Trigger,
)
from controls.monitoring import schedule

logger = logging.getLogger(__name__)

TEST_FIELDS = (
    "name", "check_key", "parameters", "schedule_kind", "interval_minutes", "cron", "severity",
    "readiness_rule", "enabled",
)  # fmt: skip
PUSH_TOKEN_PREFIX = "attt_"  # noqa: S105 - a prefix, not a secret
MAX_RESOURCES = 10_000


def _readiness_changed(test: ControlTest) -> None:
    """Readiness of the test's control, in the transaction of the change (a test's latest run,
    its exceptions and open findings decide whether it blocks the control)."""
    controls_changed(organization=test.organization, control_ids=[test.control_id])


def organization_today(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()


def remediation_due(severity: str, opened_on: dt.date) -> dt.date:
    return opened_on + dt.timedelta(days=settings.REMEDIATION_DAYS[severity])


# --- integrations -------------------------------------------------------------------------------

INTEGRATION_SECRETS: dict[str, tuple[str, ...]] = {
    IntegrationKind.GITHUB: ("token",),
    IntegrationKind.AWS: ("access_key_id", "secret_access_key"),
}
INTEGRATION_CONFIG: dict[str, tuple[str, ...]] = {
    IntegrationKind.GITHUB: ("api_url", "organization"),
    IntegrationKind.AWS: ("region", "endpoint_url", "role_arn"),
}


def _clean_integration(
    kind: str, name: str, config: dict[str, Any], credentials: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    if kind not in IntegrationKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(IntegrationKind.values)}."]
        raise ValidationError(errors)
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Name the integration."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    allowed = INTEGRATION_CONFIG[kind]
    cleaned: dict[str, Any] = {}
    for key, value in (config or {}).items():
        if key not in allowed:
            errors.setdefault("config", []).append(
                f"Unknown setting {key!r}; {kind} takes {', '.join(allowed)}."
            )
        elif not isinstance(value, str) or len(value) > 500:
            errors.setdefault("config", []).append(f"{key}: a text of at most 500 characters.")
        elif value.strip():
            cleaned[key] = value.strip()
    for key in ("api_url", "endpoint_url"):
        url = cleaned.get(key, "")
        if url and not url.startswith(("https://", "http://")):
            errors.setdefault("config", []).append(f"{key}: a full http(s) address.")
    if credentials is not None:
        needed = INTEGRATION_SECRETS[kind]
        for key in needed:
            value = credentials.get(key)
            if not isinstance(value, str) or not value.strip():
                errors.setdefault("credentials", []).append(f"{key} is required.")
        unknown = sorted(set(credentials) - set(needed))
        if unknown:
            errors.setdefault("credentials", []).append(
                f"Unknown credential {', '.join(unknown)}; {kind} takes {', '.join(needed)}."
            )
    if errors:
        raise ValidationError(errors)
    return name, cleaned


def integration_create(
    *,
    actor: User,
    organization: Organization,
    kind: str,
    name: str,
    config: dict[str, Any],
    credentials: dict[str, Any],
) -> Integration:
    name, config = _clean_integration(kind, name, config, credentials)
    if Integration.objects.filter(organization=organization, name__iexact=name).exists():
        raise ValidationError({"name": f"An integration named “{name}” already exists."})
    secret = {k: v.strip() for k, v in credentials.items()}
    with transaction.atomic():
        integration = Integration.objects.create(
            organization=organization,
            kind=kind,
            name=name,
            config=config,
            secret=crypto.encrypt(secret),
            secret_hint=crypto.hint(secret[INTEGRATION_SECRETS[kind][-1]]),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            organization=organization,
            action="integration.create",
            obj=integration,
            # Never the credentials, not even encrypted: only that there are some.
            after={"kind": kind, "name": name, "config": config, "credentials": "set"},
        )
    return integration


def integration_update(
    *,
    actor: User,
    integration: Integration,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
) -> Integration:
    """Rename, reconfigure, or replace the credentials (given whole; they are never read back)."""
    new_name, new_config = _clean_integration(
        integration.kind,
        integration.name if name is None else name,
        integration.config if config is None else config,
        credentials,
    )
    duplicate = (
        Integration.objects.filter(organization=integration.organization, name__iexact=new_name)
        .exclude(pk=integration.pk)
        .exists()
    )
    if duplicate:
        raise ValidationError({"name": f"An integration named “{new_name}” already exists."})
    with transaction.atomic():
        integration = Integration.objects.select_for_update(no_key=True).get(pk=integration.pk)
        before = {"name": integration.name, "config": integration.config}
        integration.name, integration.config = new_name, new_config
        fields = ["name", "config", "updated_at"]
        if credentials is not None:
            secret = {k: v.strip() for k, v in credentials.items()}
            integration.secret = crypto.encrypt(secret)
            integration.secret_hint = crypto.hint(secret[INTEGRATION_SECRETS[integration.kind][-1]])
            fields += ["secret", "secret_hint"]
        integration.save(update_fields=fields)
        old, new = changed(before, {"name": integration.name, "config": integration.config})
        if credentials is not None:
            new["credentials"] = "replaced"
        if new:
            audit_record(
                actor=actor,
                organization=integration.organization,
                action="integration.update",
                obj=integration,
                before=old or None,
                after=new,
            )
    return integration


def integration_delete(*, actor: User, integration: Integration) -> None:
    used = list(integration.tests.values_list("name", flat=True)[:5])
    if used:
        raise ValidationError(
            f"Tests still use this integration ({', '.join(used)}); move or delete them first."
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            organization=integration.organization,
            action="integration.delete",
            obj=integration,
            before={"kind": integration.kind, "name": integration.name},
        )
        integration.delete()


# --- control tests ------------------------------------------------------------------------------


def _validate_test(test: ControlTest, raw_parameters: dict[str, Any] | None) -> type[Check] | None:
    """Check the test as a whole; returns the check class. Sets cleaned parameters."""
    errors: dict[str, Any] = {}
    check = get_check(test.check_key)
    if check is None:
        errors["check_key"] = [f"Unknown check {test.check_key!r}."]
    name = (test.name or "").strip()
    test.name = name
    if not name:
        errors["name"] = ["Name the test."]
    elif len(name) > 200:
        errors["name"] = ["At most 200 characters."]
    if test.control.organization_id != test.organization_id or test.control.is_archived:
        errors["control"] = ["Not an active control of this organization."]
    if test.severity not in Severity.values:
        errors["severity"] = [f"Choose one of: {', '.join(Severity.values)}."]
    if check is not None:
        if raw_parameters is not None:
            try:
                test.parameters = clean_parameters(check, raw_parameters)
            except ValidationError as exc:
                # Dotted keys ("parameters.url"): Django's errors are one level deep.
                for name, messages in exc.message_dict.items():
                    errors[f"parameters.{name}"] = messages
        if check.integration:
            integration = test.integration
            integration_label = IntegrationKind(check.integration).label
            if integration is None:
                errors["integration"] = [
                    f"“{check.title}” needs {with_article(integration_label)} integration."
                ]
            elif (
                integration.organization_id != test.organization_id
                or integration.kind != check.integration
            ):
                errors["integration"] = [
                    f"Choose {with_article(integration_label)} integration of this organization."
                ]
        elif test.integration is not None:
            errors["integration"] = [f"“{check.title}” uses no integration."]
        if check.pushed and test.schedule_kind != ScheduleKind.PUSH:
            errors["schedule_kind"] = ["Results of this check are pushed: choose “push”."]
        if not check.pushed and test.schedule_kind == ScheduleKind.PUSH:
            errors["schedule_kind"] = ["Only a pushed check takes pushed results."]
    if test.schedule_kind not in ScheduleKind.values:
        errors["schedule_kind"] = [f"Choose one of: {', '.join(ScheduleKind.values)}."]
    elif test.schedule_kind == ScheduleKind.INTERVAL:
        minutes = test.interval_minutes
        if not isinstance(minutes, int) or not (
            schedule.MIN_INTERVAL_MINUTES <= minutes <= schedule.MAX_INTERVAL_MINUTES
        ):
            errors["interval_minutes"] = [
                f"Between {schedule.MIN_INTERVAL_MINUTES} and "
                f"{schedule.MAX_INTERVAL_MINUTES} minutes."
            ]
        test.cron = ""
    elif test.schedule_kind == ScheduleKind.CRON:
        test.cron = " ".join((test.cron or "").split())
        problem = schedule.cron_error(test.cron)
        if problem:
            errors["cron"] = [problem]
        test.interval_minutes = None
    else:
        test.interval_minutes, test.cron = None, ""
    duplicate = (
        ControlTest.objects.filter(control=test.control, name__iexact=name)
        .exclude(pk=test.pk)
        .exists()
    )
    if name and duplicate:
        errors.setdefault("name", []).append("This control already has a test with this name.")
    if errors:
        raise ValidationError(errors)
    return check


def _slot_after(test: ControlTest, after: dt.datetime) -> dt.datetime | None:
    return schedule.next_slot(
        kind=test.schedule_kind,
        interval_minutes=test.interval_minutes,
        cron=test.cron,
        time_zone=test.organization.time_zone,
        after=after,
    )


def _plan_next(test: ControlTest, now: dt.datetime) -> None:
    test.next_run_at = (
        schedule.next_slot(
            kind=test.schedule_kind,
            interval_minutes=test.interval_minutes,
            cron=test.cron,
            time_zone=test.organization.time_zone,
            after=now,
        )
        if test.enabled
        else None
    )


def control_test_create(
    *,
    actor: User,
    control: Control,
    name: str,
    check_key: str,
    parameters: dict[str, Any] | None = None,
    integration: Integration | None = None,
    schedule_kind: str = ScheduleKind.INTERVAL,
    interval_minutes: int | None = 60 * 24,
    cron: str = "",
    severity: str = Severity.MEDIUM,
    readiness_rule: str = "strict",
    enabled: bool = True,
) -> ControlTest:
    test = ControlTest(
        organization=control.organization,
        control=control,
        name=name,
        check_key=check_key,
        integration=integration,
        schedule_kind=schedule_kind,
        interval_minutes=interval_minutes,
        cron=cron,
        severity=severity,
        readiness_rule=readiness_rule,
        enabled=enabled,
        created_by=actor,
    )
    _validate_test(test, parameters or {})
    with transaction.atomic():
        _plan_next(test, timezone.now())
        test.save()
        _readiness_changed(test)
        audit_record(
            actor=actor,
            organization=test.organization,
            action="control_test.create",
            obj=test,
            after={**snapshot(test, TEST_FIELDS), "control": control.ref_id},
        )
    return test


def control_test_update(*, actor: User, test: ControlTest, changes: dict[str, Any]) -> ControlTest:
    allowed = set(TEST_FIELDS) - {"check_key"} | {"integration"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    with transaction.atomic():
        test = (
            ControlTest.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organization", "control")
            .get(pk=test.pk)
        )
        before = snapshot(test, TEST_FIELDS)
        parameters = changes.get("parameters")
        for name, value in changes.items():
            if name != "parameters":
                setattr(test, name, value)
        _validate_test(test, parameters)
        schedule_changed = any(
            name in changes for name in ("schedule_kind", "interval_minutes", "cron", "enabled")
        )
        if schedule_changed:
            _plan_next(test, timezone.now())
        test.save()
        old, new = changed(before, snapshot(test, TEST_FIELDS))
        if new:  # enabled, name (in the blocker's reason), readiness rule…
            _readiness_changed(test)
        if new or "integration" in changes:
            audit_record(
                actor=actor,
                organization=test.organization,
                action="control_test.update",
                obj=test,
                before=old or None,
                after=new or {"integration": test.integration.name if test.integration else None},
            )
    return test


def push_token_rotate(*, actor: User, test: ControlTest) -> str:
    """A new token for pushing results to this test (and only this test); shown once."""
    if test.schedule_kind != ScheduleKind.PUSH:
        raise ValidationError("Only a test whose results are pushed takes a push token.")
    token = PUSH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        ControlTest.objects.filter(pk=test.pk).update(
            push_token_hash=hashlib.sha256(token.encode()).hexdigest(),
            push_token_hint=token[-4:],
        )
        audit_record(
            actor=actor,
            organization=test.organization,
            action="control_test.push_token",
            obj=test,
            after={"token": f"…{token[-4:]}"},
        )
    test.refresh_from_db()
    return token


def test_for_push_token(token: str) -> ControlTest | None:
    if not token.startswith(PUSH_TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return (
        ControlTest.objects.select_related("organization", "control")
        .filter(push_token_hash=digest, enabled=True, schedule_kind=ScheduleKind.PUSH)
        .first()
    )


# --- exceptions ---------------------------------------------------------------------------------


def exception_create(
    *, actor: User, test: ControlTest, resource_id: str, reason: str, expires_on: dt.date | None
) -> TestException:
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    resource_id = (resource_id or "").strip()
    if not reason:
        errors["reason"] = ["Say why this risk is accepted."]
    elif len(reason) > 2000:
        errors["reason"] = ["At most 2000 characters."]
    today = organization_today(test.organization)
    if expires_on is None:
        errors["expires_on"] = ["Give the date the exception ends."]
    elif expires_on <= today:
        errors["expires_on"] = ["The exception must end after today."]
    elif expires_on > today + dt.timedelta(days=366):
        errors["expires_on"] = ["At most a year: accepted risks are reviewed at least yearly."]
    if not resource_id:
        errors["resource_id"] = ["Choose the failing resource."]
    elif not TestResult.objects.filter(run__control_test=test, resource_id=resource_id).exists():
        errors["resource_id"] = ["This test has never reported this resource."]
    elif active_exceptions(test, today).filter(resource_id=resource_id).exists():
        errors["resource_id"] = ["This resource already has an exception in force."]
    if errors or expires_on is None:
        raise ValidationError(errors)
    with transaction.atomic():
        exception = TestException.objects.create(
            control_test=test,
            resource_id=resource_id,
            reason=reason,
            expires_on=expires_on,
            created_by=actor,
        )
        _readiness_changed(test)
        audit_record(
            actor=actor,
            organization=test.organization,
            action="control_test.exception",
            obj=test,
            after={"resource": resource_id, "reason": reason, "expires_on": str(expires_on)},
        )
    return exception


def exception_revoke(*, actor: User, exception: TestException) -> TestException:
    with transaction.atomic():
        updated = TestException.objects.filter(pk=exception.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if not updated:
            raise ValidationError("This exception was already revoked.")
        exception.refresh_from_db()
        _readiness_changed(exception.control_test)
        audit_record(
            actor=actor,
            organization=exception.control_test.organization,
            action="control_test.exception_revoke",
            obj=exception.control_test,
            before={"resource": exception.resource_id, "expires_on": str(exception.expires_on)},
        )
    return exception


def active_exceptions(test: ControlTest, today: dt.date) -> Any:
    return TestException.objects.filter(
        control_test=test, revoked_at__isnull=True, expires_on__gte=today
    )


# --- runs: queueing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    run: TestRun
    enqueued: bool  # False: the broker is unavailable; the dispatcher will hand it over later


def run_now(*, actor: User, test: ControlTest) -> Queued:
    """Queue a run of ``test`` now (the "Run now" button and endpoint)."""
    check = get_check(test.check_key)
    if check is None or check.pushed:
        raise ValidationError("Results of this test are pushed by an outside system.")
    if not test.enabled:
        raise ValidationError("This test is disabled; enable it first.")
    with transaction.atomic():
        run = TestRun.objects.create(
            control_test=test,
            organization_id=test.organization_id,
            trigger=Trigger.MANUAL,
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            organization=test.organization,
            action="control_test.run",
            obj=test,
            after={"run": run.pk},
        )
    return Queued(run, enqueue(run))


def enqueue(run: TestRun) -> bool:
    """Hand a queued run to the broker; False (and the run stays queued) when it is down."""
    from controls.tasks import run_control_test

    check = get_check(run.control_test.check_key)
    limit = check.time_limit if check else settings.CELERY_TASK_SOFT_TIME_LIMIT
    try:
        run_control_test.apply_async(
            args=[run.pk],
            soft_time_limit=limit,
            time_limit=limit + 30,
            retry=False,  # answer the user now; the dispatcher retries
        )
    except Exception as exc:  # kombu/redis raise a variety of connection errors
        logger.warning("Could not queue test run %s: %s", run.pk, exc)
        return False
    TestRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(enqueued_at=timezone.now())
    return True


@dataclass
class DispatchReport:
    created: int = 0
    coalesced_slots: int = 0
    enqueued: int = 0
    requeued: int = 0
    not_enqueued: int = 0


def dispatch_due(now: dt.datetime | None = None) -> DispatchReport:
    """Create one run per due test for its latest due slot, then hand every waiting run to the
    broker: new runs, runs the broker never got (it was down), and runs whose worker died.

    After an outage a test runs once, for the latest slot it missed (older missed slots are
    counted, not run: ten runs of the same check in a row would say nothing more). A slot
    never runs twice: the run row is unique per (test, slot), and the test's row is locked while
    its next slot is moved on.
    """
    now = now or timezone.now()
    report = DispatchReport()
    due_ids = list(
        ControlTest.objects.filter(enabled=True, next_run_at__lte=now)
        .exclude(schedule_kind=ScheduleKind.PUSH)
        .values_list("pk", flat=True)
    )
    new_runs: list[TestRun] = []
    for test_id in due_ids:
        with transaction.atomic():
            test = (
                # The test's row only: skipping a test because its organization's row is
                # locked by some unrelated write would delay its slot for no reason.
                ControlTest.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
                .select_related("organization")
                .filter(pk=test_id, enabled=True, next_run_at__lte=now)
                .first()
            )
            if test is None or test.next_run_at is None:
                continue  # another dispatcher has it, or it changed meanwhile
            slot, missed = test.next_run_at, 0
            following = _slot_after(test, slot)
            while following is not None and following <= now:
                slot, missed = following, missed + 1
                if missed >= 10_000:  # a very long outage of a very frequent test
                    following = _slot_after(test, now)
                    break
                following = _slot_after(test, following)
            run, created = TestRun.objects.get_or_create(
                control_test=test,
                slot=slot,
                defaults={"organization_id": test.organization_id, "trigger": Trigger.SCHEDULE},
            )
            test.next_run_at = following
            test.save(update_fields=["next_run_at"])
            if created:
                report.created += 1
                report.coalesced_slots += missed
                if missed:
                    run.log = (
                        f"{missed} earlier slot(s) were missed while runs could not be queued.\n"
                    )
                    run.save(update_fields=["log"])
                new_runs.append(run)
    # Enabled tests that have no next slot yet (created while disabled, say).
    for test in (
        ControlTest.objects.filter(enabled=True, next_run_at__isnull=True)
        .exclude(schedule_kind=ScheduleKind.PUSH)
        .select_related("organization")
    ):
        _plan_next(test, now)
        test.save(update_fields=["next_run_at"])

    stale = now - dt.timedelta(seconds=settings.CONTROL_TEST_REQUEUE_AFTER)
    waiting = TestRun.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale), status=RunStatus.QUEUED
    ).select_related("control_test")
    for run in [*new_runs, *waiting.exclude(pk__in=[r.pk for r in new_runs])]:
        if enqueue(run):
            if run in new_runs:
                report.enqueued += 1
            else:
                report.requeued += 1
        else:
            report.not_enqueued += 1
    report.requeued += _requeue_abandoned(now)
    return report


def _requeue_abandoned(now: dt.datetime) -> int:
    """Runs left *running* by a worker that died go back to the broker: their heartbeat stopped
    ``CONTROL_TEST_HEARTBEAT_TIMEOUT`` seconds ago and their advisory lock is gone.

    A silent run whose lock is still held belongs to a session PostgreSQL still counts as alive
    (a hung worker, or a host that vanished without closing its connection): it is handed over
    once that session ends, never while it could still record an outcome.
    """
    from controls.monitoring.runner import run_is_locked

    count = 0
    silent_since = now - dt.timedelta(seconds=settings.CONTROL_TEST_HEARTBEAT_TIMEOUT)
    candidates = (
        TestRun.objects.filter(status=RunStatus.RUNNING)
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at", "queued_at"))
        .filter(last_sign__lt=silent_since)
        .select_related("control_test")
    )
    for run in candidates:
        last_sign: dt.datetime = run.last_sign
        if run_is_locked(run.pk):
            logger.warning(
                "Test run %s has sent no heartbeat since %s but its worker %r still holds its "
                "lock; it is handed over when that database session ends.",
                run.pk,
                last_sign,
                run.worker,
            )
            continue
        # Back to the queue, once: a second dispatcher (or the next minute) finds it queued,
        # and the old attempt can no longer beat. Should the broker be down, the queued-run
        # rule above sends it later.
        note = (
            f"Handed over: no heartbeat from {run.worker or 'its worker'} since "
            f"{last_sign.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC.\n"
        )
        claimed = TestRun.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts
        ).update(status=RunStatus.QUEUED, enqueued_at=None, log=Concat("log", Value(note)))
        if claimed and enqueue(run):
            count += 1
    return count


# --- runs: outcome ------------------------------------------------------------------------------


def _checked_resources(resources: Sequence[Resource]) -> list[Resource]:
    """Refuse what a check (or a pushing system) should never report."""
    if len(resources) > MAX_RESOURCES:
        raise ValidationError(f"At most {MAX_RESOURCES} resources per run.")
    seen: set[str] = set()
    for index, resource in enumerate(resources):
        if not resource.id or len(resource.id) > 500:
            raise ValidationError({f"results[{index}].id": "1 to 500 characters."})
        if resource.id in seen:
            raise ValidationError({f"results[{index}].id": f"{resource.id!r} is reported twice."})
        seen.add(resource.id)
        if resource.status not in ResultStatus.values:
            raise ValidationError(
                {f"results[{index}].status": f"Choose one of: {', '.join(ResultStatus.values)}."}
            )
    return list(resources)


def run_finish(
    *,
    run_id: int,
    resources: Sequence[Resource],
    error: str = "",
    log: str = "",
    attempt: int | None = None,
) -> TestRun | None:
    """Record a run's outcome once: its results, its status, findings opened and closed, the
    owner told of new failures, and the outcome frozen as an evidence revision.

    Returns None when the run was already finished (a duplicate delivery), or when ``attempt``
    is given and the run was handed over to a later attempt meanwhile: nothing changes.
    """
    now = timezone.now()
    with transaction.atomic():
        run = (
            # The run's row only (the control's owner is an outer join, which cannot be locked).
            TestRun.objects.select_for_update(no_key=True, of=("self",))
            .select_related("control_test__organization", "control_test__control__owner")
            .get(pk=run_id)
        )
        if run.is_finished or (attempt is not None and run.attempts != attempt):
            return None
        test = run.control_test
        if not error:
            try:
                resources = _checked_resources(resources)
            except ValidationError as exc:
                error = f"The check reported invalid results: {'; '.join(exc.messages)}"
        if error:
            resources = []
        today = organization_today(test.organization, now)
        excepted = set(active_exceptions(test, today).values_list("resource_id", flat=True))
        failing = [r for r in resources if r.status == ResultStatus.FAIL]
        blocking = [r for r in failing if r.id not in excepted]
        run.status = (
            RunStatus.ERROR if error else RunStatus.FAILED if blocking else RunStatus.PASSED
        )
        run.error = error[:4000]
        run.log = (run.log + log)[-100_000:]
        run.finished_at = now
        run.started_at = run.started_at or now
        run.passed_count = sum(1 for r in resources if r.status == ResultStatus.PASS)
        run.failed_count = len(failing)
        TestResult.objects.bulk_create(
            TestResult(
                run=run,
                resource_id=r.id,
                resource_name=r.name[:500],
                status=r.status,
                message=r.message[:4000],
                remediation=r.remediation[:4000],
                raw=r.raw,
            )
            for r in resources
        )
        new_findings = [] if error else _update_findings(run, failing, now, today)
        run.evidence_revision = _freeze_as_evidence(run, resources, today)
        run.save()
        ControlTest.objects.filter(pk=test.pk).update(last_run=run)
        _readiness_changed(test)  # the latest run, and the findings it opened or resolved
        if new_findings:
            _notify_new_findings(test, run, new_findings)
    return run


def _update_findings(
    run: TestRun, failing: list[Resource], now: dt.datetime, today: dt.date
) -> list[Finding]:
    """Open a finding for each newly failing resource, keep the open ones, close the rest."""
    test = run.control_test
    open_findings = {f.resource_id: f for f in Finding.objects.filter(
        control_test=test, resolved_at__isnull=True
    )}  # fmt: skip
    failing_ids = {r.id for r in failing}
    Finding.objects.filter(control_test=test, resolved_at__isnull=True).exclude(
        resource_id__in=failing_ids
    ).update(resolved_at=now, last_run=run)
    new = []
    for resource in failing:
        finding = open_findings.get(resource.id)
        if finding is not None:
            Finding.objects.filter(pk=finding.pk).update(
                last_run=run, message=resource.message[:4000]
            )
            continue
        new.append(
            Finding.objects.create(
                control_test=test,
                resource_id=resource.id,
                resource_name=resource.name[:500],
                message=resource.message[:4000],
                remediation=resource.remediation[:4000],
                severity=test.severity,
                opened_at=now,
                due_date=remediation_due(test.severity, today),
                first_run=run,
                last_run=run,
            )
        )
    return new


def _freeze_as_evidence(run: TestRun, resources: Sequence[Resource], today: dt.date) -> Any:
    from evidence.services import evidence_record_snapshot

    test = run.control_test
    document = {
        "attest": "control-test-run/1",
        "organization": test.organization.slug,
        "control": test.control.ref_id,
        "test": {"id": test.pk, "name": test.name, "check": test.check_key,
                 "parameters": test.parameters, "severity": test.severity},
        "run": {"id": run.pk, "trigger": run.trigger, "status": run.status,
                "slot": run.slot.isoformat() if run.slot else None,
                "started_at": run.started_at.isoformat() if run.started_at else None,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "worker": run.worker, "error": run.error},
        "results": [
            {"id": r.id, "name": r.name, "status": r.status, "message": r.message,
             "remediation": r.remediation, "raw": r.raw}
            for r in resources
        ],
    }  # fmt: skip
    content = json.dumps(document, indent=2, sort_keys=True, default=str).encode()
    return evidence_record_snapshot(
        organization=test.organization,
        system_key=f"control-test:{test.pk}",
        title=f"Automated test: {test.name}",
        controls=[test.control],
        effective_date=today,
        filename=f"test-{test.pk}-run-{run.pk}.json",
        content=content,
        note=f"Recorded by Attest from run {run.pk} ({run.get_status_display().lower()}).",
    )


def _notify_new_findings(test: ControlTest, run: TestRun, findings: list[Finding]) -> None:
    owner = test.control.owner
    if owner is None:
        return
    email_queue(
        template="control_test_failing",
        to=[owner.email],
        context={
            "test": test,
            "control": test.control,
            "run": run,
            "findings": findings,
            "organization": test.organization,
            "test_url": settings.SITE_URL
            + reverse("control_test_detail", args=[test.organization.slug, test.pk]),
        },
    )
    Finding.objects.filter(pk__in=[f.pk for f in findings]).update(notified_at=timezone.now())


def push_results(
    *, test: ControlTest, resources: Sequence[Resource], log: str = "", error: str = ""
) -> TestRun:
    """Results of a custom check posted by an outside system: a run, finished at once."""
    _checked_resources(resources)  # a bad payload is refused (400), not recorded as an error run
    with transaction.atomic():
        run = TestRun.objects.create(
            control_test=test,
            organization_id=test.organization_id,
            trigger=Trigger.PUSH,
            status=RunStatus.RUNNING,
            started_at=timezone.now(),
            worker="push",
        )
        finished = run_finish(run_id=run.pk, resources=resources, log=log, error=error)
    assert finished is not None
    return finished
