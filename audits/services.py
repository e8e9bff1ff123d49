"""Writes of the audits app: engagements, auditor access, the access log. Each write runs in one
transaction with its audit event (compliance.audit)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from audits.models import AccessLogEntry, Audit, AuditorAccess, AuditStatus, AuditType
from compliance.audit import audit_record, changed, snapshot
from compliance.models import Membership, Organization, Role, User
from compliance.permissions import grant_object_permission, revoke_object_permission
from controls.models import AdoptedFramework, FrameworkCategory

AUDIT_FIELDS = (
    "name",
    "kind",
    "as_of",
    "period_start",
    "period_end",
    "firm",
    "status",
    "fieldwork_start",
    "fieldwork_end",
    "report_date",
)
# A Type II period runs from 3 to 12 months (AICPA guidance: at least two months is accepted,
# three is the practical minimum most firms test).
MIN_PERIOD_MONTHS = 3
MAX_PERIOD_MONTHS = 12
# Auditor access ends this long after the report date unless the admin sets another date.
ACCESS_AFTER_REPORT = dt.timedelta(days=30)


def _validate(
    *,
    organization: Organization,
    adoption: AdoptedFramework | None,
    scope: list[FrameworkCategory],
    values: dict[str, Any],
) -> None:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not str(values.get("name") or "").strip():
        add("name", "Name the engagement, e.g. “SOC 2 Type I 2027”.")
    if adoption is None or adoption.organization_id != organization.pk:
        add("adoption", "Choose a framework this organization adopted.")
    else:
        allowed = set(adoption.scope.values_list("pk", flat=True))
        if not scope:
            add("scope", "Choose at least one category of the framework's scope.")
        elif any(c.pk not in allowed for c in scope):
            add("scope", "Choose categories within the framework's adopted scope.")
    kind = values.get("kind")
    if kind not in AuditType.values:
        add("kind", "Choose Type I or Type II.")
    elif kind == AuditType.TYPE_1:
        if values.get("as_of") is None:
            add("as_of", "A Type I audit needs its “as of” date.")
    else:
        start, end = values.get("period_start"), values.get("period_end")
        if start is None:
            add("period_start", "A Type II audit needs the start of its period.")
        if end is None:
            add("period_end", "A Type II audit needs the end of its period.")
        if start is not None and end is not None:
            if end <= start:
                add("period_end", "The period ends after it starts.")
            elif end < start + relativedelta(months=MIN_PERIOD_MONTHS) - dt.timedelta(days=1):
                add("period_end", f"A Type II period lasts at least {MIN_PERIOD_MONTHS} months.")
            elif end > start + relativedelta(months=MAX_PERIOD_MONTHS) - dt.timedelta(days=1):
                add("period_end", f"A Type II period lasts at most {MAX_PERIOD_MONTHS} months.")
    if values.get("status") not in AuditStatus.values:
        add("status", "Choose a status.")
    first, last = values.get("fieldwork_start"), values.get("fieldwork_end")
    if first is not None and last is not None and last < first:
        add("fieldwork_end", "Fieldwork ends after it starts.")
    report = values.get("report_date")
    if report is not None:
        window_end = values.get("as_of") if kind == AuditType.TYPE_1 else values.get("period_end")
        if window_end is not None and report < window_end:
            add("report_date", "The report is dated on or after the end of what it covers.")
    if errors:
        raise ValidationError(errors)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: values.get(k) for k in AUDIT_FIELDS}
    cleaned["name"] = str(cleaned.get("name") or "").strip()
    cleaned["firm"] = str(cleaned.get("firm") or "").strip()
    cleaned["status"] = cleaned.get("status") or AuditStatus.PLANNING
    if cleaned.get("kind") == AuditType.TYPE_1:
        cleaned["period_start"] = cleaned["period_end"] = None
    elif cleaned.get("kind") == AuditType.TYPE_2:
        cleaned["as_of"] = None
    return cleaned


def _plan_target(actor: User, audit: Audit) -> None:
    """The forecast's target audit date follows the adoption's next planned engagement: the
    earliest Type I date or Type II start among its engagements not closed (left as it is when
    every engagement is closed)."""
    from controls.services import framework_set_target_audit_date

    dates = [
        a.target_date
        for a in Audit.objects.filter(adoption=audit.adoption).exclude(status=AuditStatus.CLOSED)
        if a.target_date is not None
    ]
    if dates:
        framework_set_target_audit_date(
            actor=actor, adoption=audit.adoption, target_audit_date=min(dates)
        )


@transaction.atomic
def audit_create(
    *,
    actor: User,
    organization: Organization,
    adoption: AdoptedFramework | None,
    scope: Iterable[FrameworkCategory],
    **values: Any,
) -> Audit:
    scope = list(scope)
    values = _clean(values)
    _validate(organization=organization, adoption=adoption, scope=scope, values=values)
    assert adoption is not None
    audit = Audit.objects.create(
        organization=organization, adoption=adoption, created_by=actor, **values
    )
    audit.scope.set(scope)
    audit_record(
        actor=actor,
        organization=organization,
        action="audit.create",
        obj=audit,
        after={
            **snapshot(audit, AUDIT_FIELDS),
            "framework": adoption.framework.short_name,
            "scope": sorted(c.code for c in scope),
        },
    )
    _plan_target(actor, audit)
    return audit


@transaction.atomic
def audit_update(
    *, actor: User, audit: Audit, scope: Iterable[FrameworkCategory], **values: Any
) -> Audit:
    audit = Audit.objects.select_for_update(no_key=True).get(pk=audit.pk)
    scope = list(scope)
    values = _clean(values)
    _validate(organization=audit.organization, adoption=audit.adoption, scope=scope, values=values)
    before = {
        **snapshot(audit, AUDIT_FIELDS),
        "scope": sorted(audit.scope.values_list("code", flat=True)),
    }
    for field, value in values.items():
        setattr(audit, field, value)
    audit.save()
    audit.scope.set(scope)
    after = {**snapshot(audit, AUDIT_FIELDS), "scope": sorted(c.code for c in scope)}
    old, new = changed(before, after)
    if new:
        audit_record(
            actor=actor,
            organization=audit.organization,
            action="audit.update",
            obj=audit,
            before=old,
            after=new,
        )
    _plan_target(actor, audit)
    return audit


# --- auditor access ---------------------------------------------------------------------------


def default_access_expiry(audit: Audit) -> dt.date | None:
    """The report date plus 30 days (None without a report date)."""
    return audit.report_date + ACCESS_AFTER_REPORT if audit.report_date else None


def _end_of_day(day: dt.date, organization: Organization) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)


def _grant(audit: Audit, access: AuditorAccess, user: User, actor: User | None) -> None:
    access.user = user
    access.save(update_fields=["user"])
    grant_object_permission(user, "view_audit", audit)
    audit_record(
        actor=actor,
        organization=audit.organization,
        action="audit.access_grant",
        obj=audit,
        after={"auditor": user.email, "expires_at": access.expires_at},
    )


@transaction.atomic
def auditor_invite(
    *, actor: User, audit: Audit, email: str, expires_on: dt.date | None = None
) -> AuditorAccess:
    """Share the engagement with an auditor. An auditor of the organization gets the grant at
    once; an address without an account in it is invited (the grant follows the acceptance).
    Access ends at the end of ``expires_on`` (default: the report date + 30 days)."""
    from compliance.services import invitation_create

    organization = audit.organization
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    expires_on = expires_on or default_access_expiry(audit)
    if expires_on is None:
        raise ValidationError(
            {"expires_on": "Set the engagement's report date, or an expiry date for this access."}
        )
    if expires_on < timezone.localdate():
        raise ValidationError({"expires_on": "The expiry date is in the past."})
    if AuditorAccess.objects.filter(audit=audit, email=email, revoked_at__isnull=True).exists():
        raise ValidationError({"email": f"{email} already has access to this engagement."})
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, user__email__iexact=email)
        .first()
    )
    if membership is not None and membership.role != Role.AUDITOR:
        raise ValidationError(
            {
                "email": f"{email} is a {membership.get_role_display().lower()} of "
                f"{organization.name}: auditors sign in with an account of their own."
            }
        )
    expires_at = _end_of_day(expires_on, organization)
    access = AuditorAccess.objects.create(
        audit=audit, email=email, invited_by=actor, expires_at=expires_at
    )
    audit_record(
        actor=actor,
        organization=organization,
        action="audit.access_invite",
        obj=audit,
        after={"auditor": email, "expires_at": expires_at},
    )
    if membership is not None:
        # The organization membership lasts as long as the longest engagement access.
        if membership.expires_at is None or membership.expires_at < expires_at:
            membership.expires_at = expires_at
            membership.save(update_fields=["expires_at"])
        _grant(audit, access, membership.user, actor)
    else:
        invitation_create(
            actor=actor,
            organization=organization,
            email=email,
            role=Role.AUDITOR,
            access_expires_on=expires_on,
        )
    return access


@transaction.atomic
def auditor_revoke(*, actor: User, access: AuditorAccess) -> AuditorAccess:
    access = (
        AuditorAccess.objects.select_for_update(no_key=True)
        .select_related("audit")
        .get(pk=access.pk)
    )
    if access.revoked_at is not None:
        raise ValidationError("This access was already revoked.")
    access.revoked_at = timezone.now()
    access.revoked_by = actor
    access.save(update_fields=["revoked_at", "revoked_by"])
    if access.user is not None:
        revoke_object_permission(access.user, "view_audit", access.audit)
    audit_record(
        actor=actor,
        organization=access.audit.organization,
        action="audit.access_revoke",
        obj=access.audit,
        after={"auditor": access.email},
    )
    return access


@receiver(post_save, sender=Membership, dispatch_uid="audits.claim_access")
def _claim_on_join(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    """An auditor who accepts the invitation gets the engagements they were invited to (in the
    acceptance's transaction)."""
    if not created or instance.role != Role.AUDITOR:
        return
    pending = AuditorAccess.objects.select_related("audit__organization").filter(
        audit__organization_id=instance.organization_id,
        email__iexact=instance.user.email,
        user__isnull=True,
        revoked_at__isnull=True,
    )
    for access in pending:
        _grant(access.audit, access, instance.user, instance.user)


# --- the access log -----------------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *,
    request: HttpRequest,
    organization: Organization,
    audit: Audit | None,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_repr: str = "",
) -> AccessLogEntry:
    """One view or download: who, what, when, from where. Written outside any business
    transaction (reads write nothing else)."""
    user = request.user if request.user.is_authenticated else None
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_repr = object_repr or str(obj)
    return AccessLogEntry.objects.create(
        organization=organization,
        audit=audit,
        user=user,
        user_label=getattr(user, "email", "") or "anonymous",
        action=action,
        path=request.get_full_path()[:500],
        object_type=object_type[:100],
        object_id=str(getattr(obj, "pk", "") or "")[:64],
        object_repr=object_repr[:200],
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
