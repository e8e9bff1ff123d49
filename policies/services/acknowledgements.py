"""Writes of acknowledgements: sending a version to the people in scope, yearly renewal rounds,
and recording that a person acknowledged.

A person is *in scope* of a sent version when they are active on the day (see
:func:`people.models.active_people_q`) and match the distribution's optional employment type and
department. An acknowledgement counts for twelve months (:mod:`policies.dates`); afterwards the
person owes a new one, in the next *round*. Requests are unique per version, person and round, so
the daily task can run any number of times without emailing anyone twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from compliance.audit import audit_record
from compliance.emails import email_queue
from compliance.models import Organization, User
from people.models import EmploymentType, Person, active_people_q
from people.readiness import people_changed
from policies import links
from policies.dates import (
    ACKNOWLEDGE_WITHIN_DAYS,
    ack_valid_from,
    organization_today,
    review_due,
    review_state,
)
from policies.models import (
    Acknowledgement,
    AcknowledgementRequest,
    AcknowledgementVia,
    Distribution,
    Policy,
    PolicyVersion,
    VersionStatus,
)


def scope_q(*, employment_type: str, department: str) -> Q:
    """People matching a distribution's filters (activity is checked separately)."""
    condition = Q()
    if employment_type:
        condition &= Q(employment_type=employment_type)
    if department:
        condition &= Q(department__iexact=department)
    return condition


def in_scope(person: Person, distribution: Distribution, today: dt.date) -> bool:
    wanted_type, wanted_department = distribution.employment_type, distribution.department
    return (
        person.is_active_on(today)
        and (not wanted_type or person.employment_type == wanted_type)
        and (not wanted_department or person.department.lower() == wanted_department.lower())
    )


@dataclass
class SendResult:
    sent: int = 0
    up_to_date: int = 0
    already_asked: int = 0
    people: list[str] = field(default_factory=list)


def _send(
    *,
    version: PolicyVersion,
    distribution: Distribution,
    now: dt.datetime,
    notify: bool,
) -> SendResult:
    """Ask everyone in scope who owes an acknowledgement and was not asked in this round yet.
    Runs under the lock of the version's row."""
    organization = version.policy.organization
    today = organization_today(organization, now)
    people = list(
        Person.objects.filter(
            active_people_q(today),
            scope_q(
                employment_type=distribution.employment_type, department=distribution.department
            ),
            organization=organization,
        ).order_by("pk")
    )
    acks = {
        row["person_id"]: row
        for row in Acknowledgement.objects.filter(version=version, person__in=people)
        .values("person_id")
        .annotate(last=Max("acknowledged_at"), rounds=Max("round"))
    }
    asked = set(
        AcknowledgementRequest.objects.filter(version=version, person__in=people).values_list(
            "person_id", "round"
        )
    )
    valid_from = ack_valid_from(organization, today)
    result = SendResult()
    new: list[AcknowledgementRequest] = []
    for person in people:
        ack = acks.get(person.pk)
        if ack is not None and ack["last"] >= valid_from:
            result.up_to_date += 1
            continue
        round_number = (ack["rounds"] if ack else 0) + 1
        if (person.pk, round_number) in asked:
            result.already_asked += 1
            continue
        new.append(
            AcknowledgementRequest(version=version, person=person, round=round_number, sent_at=now)
        )
    AcknowledgementRequest.objects.bulk_create(new)
    due = today + dt.timedelta(days=ACKNOWLEDGE_WITHIN_DAYS)
    for request in new:
        result.sent += 1
        result.people.append(request.person.email)
        if notify:
            email_queue(
                template="policy_acknowledgement",
                to=[request.person.email],
                context={
                    "person": request.person,
                    "policy": version.policy,
                    "version": version,
                    "organization": organization,
                    "renewal": request.round > 1,
                    "due_date": due,
                    "link": links.link_url(version_id=version.pk, person_id=request.person.pk),
                    "link_expires": (now + links.link_lifetime()),
                },
            )
    return result


@transaction.atomic
def policy_send_for_acknowledgement(
    *,
    actor: User,
    version: PolicyVersion,
    employment_type: str = "",
    department: str = "",
    notify: bool = True,
    now: dt.datetime | None = None,
) -> SendResult:
    """Send the current version to the people in scope (optionally one employment type and/or one
    department). Sending again changes the audience and asks whoever was not asked yet."""
    now = now or timezone.now()
    version = (
        PolicyVersion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("policy__organization")
        .get(pk=version.pk)
    )
    errors: dict[str, str] = {}
    if version.status != VersionStatus.APPROVED:
        errors["version"] = "Only the approved version of a policy can be sent for acknowledgement."
    if employment_type and employment_type not in EmploymentType.values:
        errors["employment_type"] = f"Choose one of {', '.join(EmploymentType.values)}."
    department = " ".join(department.split())
    if len(department) > 100:
        errors["department"] = "At most 100 characters."
    if errors:
        raise ValidationError(errors)
    distribution = Distribution.objects.filter(version=version).first()
    before = None
    if distribution is None:
        distribution = Distribution(version=version, sent_at=now, sent_by=actor)
    else:
        before = {
            "employment_type": distribution.employment_type,
            "department": distribution.department,
        }
    distribution.employment_type = employment_type
    distribution.department = department
    distribution.save()
    result = _send(version=version, distribution=distribution, now=now, notify=notify)
    people_changed(organization=version.policy.organization)
    audit_record(
        actor=actor,
        organization=version.policy.organization,
        action="policy.send",
        obj=version,
        before=before,
        after={
            "employment_type": employment_type,
            "department": department,
            "sent": result.sent,
            "already_up_to_date": result.up_to_date,
            "notified": notify,
        },
    )
    return result


@dataclass
class RoundResult:
    versions: int = 0
    sent: int = 0
    reminded_owners: int = 0


def acknowledgement_rounds_send(
    *, organization: Organization, now: dt.datetime | None = None
) -> RoundResult:
    """The daily round of one organization: ask people whose acknowledgement of a current
    version expired after a year, or who joined after it was sent. Idempotent."""
    now = now or timezone.now()
    result = RoundResult()
    version_ids = list(
        PolicyVersion.objects.filter(
            policy__organization=organization,
            status=VersionStatus.APPROVED,
            distribution__isnull=False,
        ).values_list("pk", flat=True)
    )
    for version_id in version_ids:
        with transaction.atomic():
            version = (
                PolicyVersion.objects.select_for_update(no_key=True, of=("self",))
                .select_related("policy__organization", "distribution")
                .filter(pk=version_id, status=VersionStatus.APPROVED)
                .first()
            )
            if version is None:
                continue
            sent = _send(
                version=version,
                distribution=version.distribution,
                now=now,
                notify=True,
            )
            result.versions += 1
            if sent.sent:
                result.sent += sent.sent
                people_changed(organization=organization)
                audit_record(
                    actor=None,
                    organization=organization,
                    action="policy.send",
                    obj=version,
                    after={"trigger": "daily round", "sent": sent.sent},
                )
    result.reminded_owners = _remind_review_due(organization=organization, now=now)
    return result


def _remind_review_due(*, organization: Organization, now: dt.datetime) -> int:
    """Email each owner once per due date when their policy's review is due within 30 days."""
    today = organization_today(organization, now)
    reminded = 0
    approved = PolicyVersion.objects.filter(
        policy__organization=organization, status=VersionStatus.APPROVED
    ).values_list("policy_id", "effective_date")
    effective = dict(approved)
    for policy in Policy.objects.filter(pk__in=list(effective), owner__isnull=False).select_related(
        "owner"
    ):
        due = review_due(
            effective_date=effective[policy.pk],
            last_reviewed_on=policy.last_reviewed_on,
            review_months=policy.review_months,
        )
        if review_state(due, today) not in ("overdue", "due_soon"):
            continue
        with transaction.atomic():
            updated = (
                Policy.objects.filter(pk=policy.pk)
                .exclude(review_reminder_sent_for=due)
                .update(review_reminder_sent_for=due)
            )
            if not updated:
                continue
            assert policy.owner is not None
            email_queue(
                template="policy_review_due",
                to=[policy.owner.email],
                context={
                    "policy": policy,
                    "organization": organization,
                    "due_date": due,
                    "overdue": due is not None and due < today,
                },
            )
            audit_record(
                actor=None,
                organization=organization,
                action="policy.review_reminder",
                obj=policy,
                after={"due": due, "owner": policy.owner.email},
            )
            reminded += 1
    return reminded


# --- acknowledging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcknowledgeResult:
    acknowledgement: Acknowledgement
    created: bool


@transaction.atomic
def policy_acknowledge(
    *,
    version: PolicyVersion,
    person: Person,
    via: str,
    user: User | None = None,
    now: dt.datetime | None = None,
) -> AcknowledgeResult:
    """Record that ``person`` read ``version``. Acknowledging again within the year changes
    nothing and returns the existing acknowledgement."""
    now = now or timezone.now()
    if via not in AcknowledgementVia.values:
        raise ValidationError({"via": f"Unknown channel {via!r}."})
    # One person acknowledges one thing at a time (two tabs, a double click).
    person = Person.objects.select_for_update(no_key=True).get(pk=person.pk)
    version = PolicyVersion.objects.select_related("policy__organization").get(pk=version.pk)
    organization = version.policy.organization
    today = organization_today(organization, now)
    if person.organization_id != organization.pk:
        raise ValidationError({"person": "This person does not work for this organization."})
    if version.status != VersionStatus.APPROVED:
        raise ValidationError(
            {"version": f"Version {version.number} of “{version.policy.title}” is no longer the "
             "current version; acknowledge the current one instead."}
        )  # fmt: skip
    latest = (
        Acknowledgement.objects.filter(version=version, person=person).order_by("-round").first()
    )
    if latest is not None and latest.acknowledged_at >= ack_valid_from(organization, today):
        return AcknowledgeResult(latest, created=False)
    distribution = Distribution.objects.filter(version=version).first()
    if distribution is None:
        raise ValidationError({"version": "This policy has not been sent for acknowledgement yet."})
    if not in_scope(person, distribution, today):
        raise ValidationError({"person": "This policy was not sent to this person."})
    round_number = (latest.round if latest else 0) + 1
    try:
        with transaction.atomic():
            acknowledgement = Acknowledgement.objects.create(
                version=version,
                person=person,
                round=round_number,
                acknowledged_at=now,
                via=via,
                user=user,
            )
    except IntegrityError:  # the same round was recorded meanwhile
        existing = Acknowledgement.objects.get(version=version, person=person, round=round_number)
        return AcknowledgeResult(existing, created=False)
    people_changed(organization=organization)  # acknowledgements are a personnel requirement
    audit_record(
        actor=user,
        organization=organization,
        action="policy.acknowledge",
        obj=version,
        after={
            "person": person.email,
            "version": version.number,
            "round": round_number,
            "via": via,
        },
    )
    return AcknowledgeResult(acknowledgement, created=True)
