"""The demo's audit engagements: Northwind's SOC 2 Type I (as of its target audit date) shared
with the demo auditor, and the Type II period that follows it, in planning. The auditor signs in
with two-factor (the README gives the demo secret)."""

from __future__ import annotations

import datetime as dt

import pyotp
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from audits import demo_requests, demo_sampling, services
from audits.models import Audit, AuditorAccess, AuditStatus, AuditType, Population, Sample
from compliance import mfa
from compliance.demo_timeline import Timeline, stamped
from compliance.models import Organization, User
from controls.models import AdoptedFramework

# The demo auditor's TOTP secret (documented in the README: add it to an authenticator app, or
# compute a code with `python -c "import pyotp; print(pyotp.TOTP('...').now())"`).
DEMO_AUDITOR_TOTP_SECRET = "ATTESTDEMOAUDITORJORDANKIMXYZ234"  # noqa: S105  (the demo's, public)
FIRM = "Example CPA LLP"


def _turn_on_two_factor(user: User) -> None:
    if mfa.is_enabled(user):
        return
    earlier = timezone.now() - dt.timedelta(minutes=2)
    code = pyotp.TOTP(DEMO_AUDITOR_TOTP_SECRET).at(earlier)
    mfa.mfa_enable(user=user, secret=DEMO_AUDITOR_TOTP_SECRET, code=code, now=earlier)


def seed(
    *,
    organization: Organization,
    users: dict[str, User],
    timeline: Timeline,
    audit_date: dt.date,
) -> list[Audit]:
    dana, jordan = users["dana"], users["jordan"]
    _turn_on_two_factor(jordan)
    adoption = AdoptedFramework.objects.get(organization=organization, framework__slug="soc2")
    scope = list(adoption.scope.all())
    # Dana planned the engagements in the program's sixth week and shared them the next day;
    # jordan froze a population and drew a sample in week nine (the rows are dated so; the
    # audit trail keeps the moment of seeding).
    audits = Audit.objects.filter(organization=organization)
    with stamped(timeline.at(6, 1, 10), (audits, "created_at"), (audits, "updated_at")):
        type_1 = services.audit_create(
            actor=dana,
            organization=organization,
            adoption=adoption,
            scope=scope,
            name="SOC 2 Type I",
            kind=AuditType.TYPE_1,
            as_of=audit_date,
            firm=FIRM,
            status=AuditStatus.PLANNING,
            fieldwork_start=audit_date + dt.timedelta(days=3),
            fieldwork_end=audit_date + dt.timedelta(days=17),
            report_date=audit_date + dt.timedelta(days=42),
        )
        start = audit_date + dt.timedelta(days=1)
        type_2 = services.audit_create(
            actor=dana,
            organization=organization,
            adoption=adoption,
            scope=scope,
            name="SOC 2 Type II, first period",
            kind=AuditType.TYPE_2,
            period_start=start,
            period_end=start + relativedelta(months=6) - dt.timedelta(days=1),
            firm=FIRM,
            status=AuditStatus.PLANNING,
            report_date=start + relativedelta(months=6) + dt.timedelta(days=45),
        )
    accesses = AuditorAccess.objects.filter(audit__organization=organization)
    with stamped(timeline.at(6, 2, 9), (accesses, "invited_at")):
        for audit in (type_1, type_2):
            services.auditor_invite(actor=dana, audit=audit, email=jordan.email)
    demo_requests.seed(organization, users, [type_1, type_2], timeline)
    populations = Population.objects.filter(audit__organization=organization)
    samples = Sample.objects.filter(population__audit__organization=organization)
    with stamped(timeline.at(9, 3, 10), (populations, "frozen_at"), (samples, "created_at")):
        demo_sampling.seed(organization=organization, users=users, audits=[type_1, type_2])
    return [type_1, type_2]
