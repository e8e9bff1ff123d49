"""Writes of the roster, its onboarding requirements and the completion records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from compliance.audit import audit_record, changed, snapshot
from compliance.models import Membership, Organization, User
from compliance.readiness import controls_changed
from controls.models import Control
from evidence.models import EvidenceItem
from people import completion
from people.models import (
    RECORDED_KINDS,
    BackgroundCheckResult,
    EmploymentType,
    Person,
    PersonnelRecord,
    PersonnelRequirement,
    RequirementKind,
)
from people.readiness import people_changed

PERSON_FIELDS = (
    "full_name", "email", "title", "department", "manager", "employment_type", "start_date",
    "end_date", "user",
)  # fmt: skip
STARTER_SET = "urn:attest:control-set:soc2-starter"

# --- accounts -----------------------------------------------------------------------------------


def accounts_by_email(organization: Organization, emails: Iterable[str]) -> dict[str, int]:
    """Attest accounts of members of the organization, by (lower-case) email: one query."""
    wanted = {e.lower() for e in emails if e}
    if not wanted:
        return {}
    rows = User.objects.filter(
        email__in=wanted,
        memberships__in=Membership.objects.active().filter(organization=organization),
    ).values_list("email", "pk")
    return {email.lower(): pk for email, pk in rows}


def account_for(organization: Organization, email: str) -> User | None:
    """The account with this email in the organization, to link a person to."""
    user_id = accounts_by_email(organization, [email]).get(email.lower())
    return User.objects.get(pk=user_id) if user_id else None


# --- people -------------------------------------------------------------------------------------


class PersonChanges(TypedDict, total=False):
    full_name: str
    email: str
    title: str
    department: str
    manager: Person | None
    employment_type: str
    start_date: dt.date
    end_date: dt.date | None


EDITABLE_FIELDS = frozenset(PersonChanges.__annotations__)


def _manager_loop(person: Person) -> bool:
    """Would ``person.manager`` make a loop of managers (A manages B manages A)?"""
    seen = {person.pk}
    manager_id = person.manager_id
    while manager_id is not None:
        if manager_id in seen:
            return True
        seen.add(manager_id)
        manager_id = (
            Person.objects.filter(pk=manager_id).values_list("manager_id", flat=True).first()
        )
    return False


def _validate_person(person: Person) -> None:
    errors: dict[str, list[str]] = {}
    try:
        person.full_clean(
            exclude=["organization", "manager", "user"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not person.full_name.strip() and "full_name" not in errors:
        errors["full_name"] = ["Enter the person's name."]
    if person.email and "email" not in errors:
        clash = (
            Person.objects.filter(
                organization_id=person.organization_id, email__iexact=person.email
            )
            .exclude(pk=person.pk)
            .first()
        )
        if clash is not None:
            errors["email"] = [f"{person.email} is already in the roster ({clash.full_name})."]
    if person.manager_id is not None:
        manager = person.manager
        if manager is None or manager.organization_id != person.organization_id:
            errors.setdefault("manager", []).append("Choose someone in this organization's roster.")
        elif person.pk is not None and manager.pk == person.pk:
            errors.setdefault("manager", []).append("A person cannot be their own manager.")
        elif person.pk is not None and _manager_loop(person):
            errors.setdefault("manager", []).append(
                f"{manager.full_name} reports (directly or not) to {person.full_name}."
            )
    if person.start_date and person.end_date and person.end_date < person.start_date:
        errors.setdefault("end_date", []).append("The last day cannot be before the start date.")
    if errors:
        raise ValidationError(errors)


def _person_snapshot(person: Person) -> dict[str, Any]:
    data = snapshot(person, PERSON_FIELDS)
    data["manager"] = person.manager.email if person.manager_id and person.manager else None
    data["user"] = person.user_id
    return data


@transaction.atomic
def person_create(
    *,
    actor: User | None,
    organization: Organization,
    full_name: str,
    email: str,
    start_date: dt.date,
    title: str = "",
    department: str = "",
    manager: Person | None = None,
    employment_type: str = EmploymentType.EMPLOYEE,
    end_date: dt.date | None = None,
) -> Person:
    """Add someone to the roster, linked to their Attest account when one has this email."""
    person = Person(
        organization=organization,
        full_name=full_name.strip(),
        email=email.strip().lower(),
        title=title.strip(),
        department=department.strip(),
        manager=manager,
        employment_type=employment_type,
        start_date=start_date,
        end_date=end_date,
    )
    _validate_person(person)
    person.user = account_for(organization, person.email)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        raise ValidationError({"email": f"{person.email} is already in the roster."}) from exc
    people_changed(organization=organization)
    audit_record(
        actor=actor,
        organization=organization,
        action="person.create",
        obj=person,
        after=_person_snapshot(person),
    )
    return person


@transaction.atomic
def person_update(*, actor: User, person: Person, changes: PersonChanges) -> Person:
    """Change roster fields; setting ``end_date`` is how someone leaves (offboarding starts)."""
    changes = PersonChanges(**changes)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    person = (
        Person.objects.select_for_update(no_key=True, of=("self",))
        .select_related("manager")
        .get(pk=person.pk)
    )
    before = _person_snapshot(person)
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
            if name == "email":
                value = value.lower()
        setattr(person, name, value)
    _validate_person(person)
    if "email" in changes and person.email.lower() != (before["email"] or "").lower():
        person.user = account_for(person.organization, person.email)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        raise ValidationError({"email": f"{person.email} is already in the roster."}) from exc
    old, new = changed(before, _person_snapshot(person))
    if new or old:
        people_changed(organization=person.organization)
        audit_record(
            actor=actor,
            organization=person.organization,
            action="person.update",
            obj=person,
            before=old,
            after=new,
        )
    return person


# --- requirements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementDefault:
    kind: str
    employees: bool
    contractors: bool
    due_days: int
    starter_control: str  # ref_id in Attest's SOC 2 starter set


DEFAULTS = [
    RequirementDefault(RequirementKind.BACKGROUND_CHECK, True, False, 0, "HR-01"),
    RequirementDefault(RequirementKind.AGREEMENT, True, True, 0, "HR-02"),
    RequirementDefault(RequirementKind.SECURITY_TRAINING, True, True, 30, "HR-03"),
    RequirementDefault(RequirementKind.POLICY_ACKNOWLEDGEMENTS, True, True, 14, ""),
    RequirementDefault(RequirementKind.PASSWORD_MANAGER, True, True, 7, "IAM-01"),
    RequirementDefault(RequirementKind.MFA, True, True, 1, "IAM-02"),
    RequirementDefault(RequirementKind.OFFBOARDING, True, True, 1, "HR-04"),
]
KIND_ORDER = {d.kind: i for i, d in enumerate(DEFAULTS)}
MAX_DUE_DAYS = 365


def _ordered(requirements: Iterable[PersonnelRequirement]) -> list[PersonnelRequirement]:
    return sorted(requirements, key=lambda r: KIND_ORDER.get(r.kind, 99))


def people_requirements_ensure(*, organization: Organization) -> list[PersonnelRequirement]:
    """The organization's requirements, created with defaults the first time.

    Defaults: background check (employees, by the start date), agreement/NDA (by the start date),
    security training (30 days, yearly), policy acknowledgements (14 days), password manager
    (7 days), MFA (1 day), access revoked within 1 day of the last day. Each is linked to the
    matching control imported from Attest's SOC 2 starter set, when there is one.
    """
    existing = list(
        PersonnelRequirement.objects.filter(organization=organization).select_related("control")
    )
    if len(existing) >= len(DEFAULTS):
        return _ordered(existing)
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        have = set(
            PersonnelRequirement.objects.filter(organization=organization).values_list(
                "kind", flat=True
            )
        )
        missing = [d for d in DEFAULTS if d.kind not in have]
        if missing:
            controls = dict(
                Control.objects.filter(
                    organization=organization,
                    archived_at__isnull=True,
                    source_key__in=[f"{STARTER_SET}#{d.starter_control}" for d in missing],
                ).values_list("source_key", "pk")
            )
            PersonnelRequirement.objects.bulk_create(
                [
                    PersonnelRequirement(
                        organization=organization,
                        kind=d.kind,
                        applies_to_employees=d.employees,
                        applies_to_contractors=d.contractors,
                        due_days=d.due_days,
                        control_id=controls.get(f"{STARTER_SET}#{d.starter_control}"),
                    )
                    for d in missing
                ]
            )
            people_changed(organization=organization)
            audit_record(
                actor=None,
                organization=organization,
                action="people.requirements_init",
                object_type="people.personnelrequirement",
                object_repr="Onboarding requirements",
                after={"kinds": [d.kind for d in missing]},
            )
    return _ordered(
        PersonnelRequirement.objects.filter(organization=organization).select_related("control")
    )


class RequirementChanges(TypedDict, total=False):
    applies_to_employees: bool
    applies_to_contractors: bool
    due_days: int
    control: Control | None


REQUIREMENT_FIELDS = ("applies_to_employees", "applies_to_contractors", "due_days", "control")


@transaction.atomic
def requirement_update(
    *, actor: User, requirement: PersonnelRequirement, changes: RequirementChanges
) -> PersonnelRequirement:
    unknown = set(changes) - set(REQUIREMENT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    requirement = PersonnelRequirement.objects.select_for_update(no_key=True).get(pk=requirement.pk)
    before = snapshot(requirement, REQUIREMENT_FIELDS)
    before_control = requirement.control_id
    for name, value in changes.items():
        setattr(requirement, name, value)
    errors: dict[str, list[str]] = {}
    if requirement.due_days is None or not 0 <= requirement.due_days <= MAX_DUE_DAYS:
        errors["due_days"] = [f"Use a number of days from 0 to {MAX_DUE_DAYS}."]
    control = requirement.control
    if control is not None and (
        control.organization_id != requirement.organization_id or control.is_archived
    ):
        errors["control"] = ["Choose an active control of this organization."]
    if errors:
        raise ValidationError(errors)
    requirement.save()
    old, new = changed(before, snapshot(requirement, REQUIREMENT_FIELDS))
    if new or old:
        # The control it was linked to (no longer blocked by it), and the one it is linked to.
        controls_changed(
            organization=requirement.organization,
            control_ids=[pk for pk in (before_control, requirement.control_id) if pk],
        )
        audit_record(
            actor=actor,
            organization=requirement.organization,
            action="people.requirement_update",
            obj=requirement,
            before=old,
            after=new,
        )
    return requirement


# --- records ------------------------------------------------------------------------------------


@transaction.atomic
def record_create(
    *,
    actor: User | None,
    person: Person,
    kind: str,
    completed_on: dt.date,
    provider: str = "",
    result: str = "",
    evidence: EvidenceItem | None = None,
    notes: str = "",
    today: dt.date | None = None,
) -> PersonnelRecord:
    """Record that a person completed a requirement (or, for offboarding, when access was
    revoked). Recording again adds a row; the latest completion counts."""
    organization = person.organization
    today = today or completion.organization_today(organization)
    record = PersonnelRecord(
        person=person,
        kind=kind,
        completed_on=completed_on,
        provider=provider.strip(),
        result=result,
        evidence=evidence,
        notes=notes.strip(),
        recorded_by=actor,
    )
    errors: dict[str, list[str]] = {}
    try:
        record.full_clean(exclude=["person", "evidence", "recorded_by"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if kind == RequirementKind.POLICY_ACKNOWLEDGEMENTS:
        errors["kind"] = ["Policy acknowledgements are collected in Policies, not recorded here."]
    elif kind not in RECORDED_KINDS and "kind" not in errors:
        errors["kind"] = ["Choose a requirement."]
    if completed_on and completed_on > today:
        errors.setdefault("completed_on", []).append("The date cannot be in the future.")
    if kind == RequirementKind.BACKGROUND_CHECK:
        if not record.provider:
            errors.setdefault("provider", []).append("Name the background check provider.")
        if result not in BackgroundCheckResult.values:
            errors.setdefault("result", []).append("Choose the result: clear, consider or failed.")
    elif result:
        errors.setdefault("result", []).append("Only background checks have a result.")
    if kind == RequirementKind.OFFBOARDING and person.end_date is None:
        errors.setdefault("kind", []).append(
            "Set the person's last day before recording that their access was revoked."
        )
    if evidence is not None and evidence.organization_id != person.organization_id:
        errors.setdefault("evidence", []).append("Choose evidence of this organization.")
    if errors:
        raise ValidationError(errors)
    record.save()
    people_changed(organization=organization)
    audit_record(
        actor=actor,
        organization=organization,
        action="person.record",
        obj=person,
        after={
            "record": record.pk,
            **snapshot(record, ("kind", "completed_on", "provider", "result", "evidence", "notes")),
        },
    )
    return record
