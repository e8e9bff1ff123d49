"""Writes of policies and their versions: draft → in review → approved → retired.

An approved version is immutable: every service that changes a version's text refuses unless
the version is a draft. Approving a version retires the one approved before it, so a policy has
at most one current version (also enforced by a partial unique constraint). Every status change
is a :class:`PolicyVersionStatusChange` row, written with a conditional update next to the
version's current status, and an audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from compliance.audit import audit_record, changed, snapshot
from compliance.models import Organization, User
from compliance.readiness import controls_changed
from controls.models import Control, Requirement
from controls.services import assignable_owners, mappable_requirements, refs_outside
from people.readiness import people_linked_controls
from policies.dates import organization_today
from policies.models import (
    OPEN_STATUSES,
    Policy,
    PolicyVersion,
    PolicyVersionStatusChange,
    VersionStatus,
)
from policies.rendering import word_count

POLICY_FIELDS = ("title", "category", "description", "owner", "review_months", "last_reviewed_on")
IMMUTABLE_MESSAGE = (
    "Version {number} is {status} and cannot be changed. Start a new version to revise the policy."
)


class PolicyChanges(TypedDict, total=False):
    title: str
    category: str
    description: str
    owner: User | None
    review_months: int
    controls: list[Control]
    requirements: list[Requirement]


EDITABLE_FIELDS = frozenset(PolicyChanges.__annotations__)


def mappable_controls(organization: Organization) -> Any:
    """Controls a policy of this organization may support: its active controls."""
    return Control.objects.filter(organization=organization, archived_at__isnull=True)


def _validate_policy(
    policy: Policy,
    controls: Sequence[Control] | None,
    requirements: Sequence[Requirement] | None,
) -> None:
    errors: dict[str, list[str]] = {}
    try:
        policy.full_clean(
            exclude=["organization", "controls", "requirements"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if (
        policy.title
        and Policy.objects.filter(
            organization_id=policy.organization_id, title__iexact=policy.title
        )
        .exclude(pk=policy.pk)
        .exists()
    ):
        errors.setdefault("title", []).append(f"A policy named “{policy.title}” already exists.")
    if (
        policy.owner_id is not None
        and not assignable_owners(policy.organization).filter(pk=policy.owner_id).exists()
    ):
        errors.setdefault("owner", []).append("Choose an admin or member of this organization.")
    if controls:
        bad = refs_outside(mappable_controls(policy.organization), controls)
        if bad:
            errors.setdefault("controls", []).append(
                "Not active controls of this organization: " + ", ".join(bad)
            )
    if requirements:
        bad = refs_outside(mappable_requirements(policy.organization), requirements)
        if bad:
            errors.setdefault("requirements", []).append(
                "Not requirements of a framework this organization adopted: " + ", ".join(bad)
            )
    if errors:
        raise ValidationError(errors)


def _policy_snapshot(policy: Policy) -> dict[str, Any]:
    data = snapshot(policy, POLICY_FIELDS)
    data["owner"] = policy.owner.email if policy.owner is not None else None
    return data


def _body_digest(body: str) -> dict[str, Any]:
    return {
        "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        "words": word_count(body),
    }


def _record_status_change(
    *, actor: User | None, version: PolicyVersion, from_status: str, reason: str
) -> PolicyVersionStatusChange:
    return PolicyVersionStatusChange.objects.create(
        version=version,
        from_status=from_status,
        to_status=version.status,
        actor=actor,
        reason=reason.strip(),
    )


def _transition(
    *,
    version: PolicyVersion,
    from_status: str,
    to_status: str,
    actor: User | None,
    reason: str,
    **fields: Any,
) -> PolicyVersion:
    """Move a version between statuses with a conditional update, and keep the change as a row."""
    updated = PolicyVersion.objects.filter(pk=version.pk, status=from_status).update(
        status=to_status, updated_at=timezone.now(), **fields
    )
    if updated != 1:
        raise ValidationError({"status": "The version changed meanwhile; reload the page."})
    version.refresh_from_db(fields=["status", "updated_at", *fields])
    _record_status_change(actor=actor, version=version, from_status=from_status, reason=reason)
    return version


def _readiness_changed(policy: Policy, also: Sequence[int] = (), people: bool = False) -> None:
    """Readiness of the controls linked to the policy (and ``also``: controls it was linked to
    before), in the transaction of the change; with ``people``, also of the controls linked to
    personnel requirements (a new current version changes what people must acknowledge). One
    call, so the requirement rows are locked in one order."""
    linked = Policy.controls.through.objects.filter(policy_id=policy.pk).values_list(
        "control_id", flat=True
    )
    ids = {*linked, *also}
    if people:
        ids |= set(people_linked_controls(organization=policy.organization))
    controls_changed(organization=policy.organization, control_ids=ids)


def _locked_version(version: PolicyVersion) -> PolicyVersion:
    """The version, re-read under a lock on its policy (transitions of a policy serialize)."""
    Policy.objects.select_for_update(no_key=True).filter(pk=version.policy_id).first()
    return PolicyVersion.objects.select_related("policy__organization").get(pk=version.pk)


# --- policies -----------------------------------------------------------------------------------


@transaction.atomic
def policy_create(
    *,
    actor: User | None,
    organization: Organization,
    title: str,
    category: str,
    owner: User | None = None,
    review_months: int = 12,
    description: str = "",
    body: str = "",
    controls: Sequence[Control] = (),
    requirements: Sequence[Requirement] = (),
    library_key: str = "",
    reason: str = "",
) -> Policy:
    """A new policy with its first version, a draft holding ``body``."""
    policy = Policy(
        organization=organization,
        title=" ".join(title.split()),
        category=category,
        description=description.strip(),
        owner=owner,
        review_months=review_months,
        library_key=library_key,
        created_by=actor,
    )
    _validate_policy(policy, list(controls), list(requirements))
    version = PolicyVersion(policy=policy, number=1, body=body, created_by=actor)
    _validate_body(version)
    policy.save()
    policy.controls.set(controls)
    policy.requirements.set(requirements)
    _readiness_changed(policy)
    version.policy = policy
    version.save()
    _record_status_change(
        actor=actor, version=version, from_status="", reason=reason or "First draft"
    )
    after = _policy_snapshot(policy)
    after.update(
        controls=sorted(c.ref_id for c in controls),
        requirements=sorted(r.key for r in requirements),
        library_key=library_key,
        version=1,
        **_body_digest(body),
    )
    audit_record(
        actor=actor, organization=organization, action="policy.create", obj=policy, after=after
    )
    return policy


@transaction.atomic
def policy_update(*, actor: User, policy: Policy, changes: PolicyChanges) -> Policy:
    """Change a policy's details and mappings (its text changes through versions)."""
    changes = PolicyChanges(**changes)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    policy = (
        Policy.objects.select_for_update(no_key=True, of=("self",))
        .select_related("owner")
        .get(pk=policy.pk)
    )
    before = _policy_snapshot(policy)
    linked_before = list(policy.controls.values_list("pk", flat=True))
    controls = changes.pop("controls", None)
    requirements = changes.pop("requirements", None)
    for name, value in changes.items():
        if name == "title" and isinstance(value, str):
            value = " ".join(value.split())
        setattr(policy, name, value)
    _validate_policy(policy, controls, requirements)
    policy.save()
    old, new = changed(before, _policy_snapshot(policy))
    if controls is not None:
        current = set(policy.controls.values_list("ref_id", flat=True))
        wanted = {c.ref_id for c in controls}
        if current != wanted:
            policy.controls.set(controls)
            old["controls"], new["controls"] = sorted(current), sorted(wanted)
    if requirements is not None:
        current = set(policy.requirements.values_list("key", flat=True))
        wanted = {r.key for r in requirements}
        if current != wanted:
            policy.requirements.set(requirements)
            old["requirements"], new["requirements"] = sorted(current), sorted(wanted)
    if old or new:  # links, title (in the blocker's reason) or review cadence
        _readiness_changed(policy, linked_before)
        audit_record(
            actor=actor,
            organization=policy.organization,
            action="policy.update",
            obj=policy,
            before=old,
            after=new,
        )
    return policy


@transaction.atomic
def policy_mark_reviewed(
    *, actor: User, policy: Policy, note: str = "", today: dt.date | None = None
) -> Policy:
    """Record that the approved text was reviewed and still holds (the review clock restarts)."""
    policy = (
        Policy.objects.select_for_update(no_key=True, of=("self",))
        .select_related("organization")
        .get(pk=policy.pk)
    )
    if not policy.versions.filter(status=VersionStatus.APPROVED).exists():
        raise ValidationError(
            "Only a policy with an approved version can be marked as reviewed; approve a "
            "version instead."
        )
    today = today or organization_today(policy.organization)
    before = {"last_reviewed_on": policy.last_reviewed_on}
    policy.last_reviewed_on = today
    policy.save(update_fields=["last_reviewed_on", "updated_at"])
    _readiness_changed(policy)
    audit_record(
        actor=actor,
        organization=policy.organization,
        action="policy.review",
        obj=policy,
        before=before,
        after={"last_reviewed_on": today, "note": note.strip()},
    )
    return policy


# --- versions -----------------------------------------------------------------------------------


def _validate_body(version: PolicyVersion) -> None:
    try:
        version.full_clean(
            exclude=["policy", "created_by", "approved_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise ValidationError(
            {k: v for k, v in exc.message_dict.items() if k in ("body", "change_summary")}
            or exc.message_dict
        ) from None


@transaction.atomic
def policy_version_create(
    *, actor: User, policy: Policy, change_summary: str = ""
) -> PolicyVersion:
    """A new draft, copied from the latest version; refused while another one is open."""
    policy = (
        Policy.objects.select_for_update(no_key=True, of=("self",))
        .select_related("organization")
        .get(pk=policy.pk)
    )
    open_version = policy.versions.filter(status__in=OPEN_STATUSES).first()
    if open_version is not None:
        raise ValidationError(
            {
                "version": f"Version {open_version.number} is still "
                f"{open_version.get_status_display().lower()}; finish or edit it first."
            }
        )
    latest = policy.versions.order_by("-number").first()
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion(
        policy=policy,
        number=number,
        body=latest.body if latest is not None else "",
        change_summary=change_summary.strip(),
        created_by=actor,
    )
    _validate_body(version)
    version.save()
    _record_status_change(
        actor=actor,
        version=version,
        from_status="",
        reason=f"Copied from version {latest.number}" if latest else "First draft",
    )
    audit_record(
        actor=actor,
        organization=policy.organization,
        action="policy.version_create",
        obj=version,
        after={
            "number": number,
            "copied_from": latest.number if latest else None,
            **_body_digest(version.body),
        },
    )
    return version


@transaction.atomic
def policy_version_update(
    *, actor: User, version: PolicyVersion, body: str, change_summary: str | None = None
) -> PolicyVersion:
    """Change a draft's text. Any other status is refused: approved versions are immutable."""
    version = _locked_version(version)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            {
                "body": IMMUTABLE_MESSAGE.format(
                    number=version.number, status=version.get_status_display().lower()
                )
            }
        )
    before = {"change_summary": version.change_summary, **_body_digest(version.body)}
    version.body = body
    if change_summary is not None:
        version.change_summary = change_summary.strip()
    _validate_body(version)
    # Written only while still a draft (a concurrent submit wins, and this edit is refused).
    updated = PolicyVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
        body=version.body, change_summary=version.change_summary, updated_at=timezone.now()
    )
    if updated != 1:
        raise ValidationError({"body": "The version was submitted meanwhile; reload the page."})
    old, new = changed(before, {"change_summary": version.change_summary, **_body_digest(body)})
    if old or new:
        audit_record(
            actor=actor,
            organization=version.policy.organization,
            action="policy.version_update",
            obj=version,
            before=old,
            after=new,
        )
    return version


@transaction.atomic
def policy_version_submit(
    *, actor: User, version: PolicyVersion, reason: str = ""
) -> PolicyVersion:
    version = _locked_version(version)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            {"status": f"Only a draft can be submitted; version {version.number} is "
             f"{version.get_status_display().lower()}."}
        )  # fmt: skip
    if not version.body.strip():
        raise ValidationError({"body": "Write the policy text before submitting it for review."})
    version = _transition(
        version=version,
        from_status=VersionStatus.DRAFT,
        to_status=VersionStatus.IN_REVIEW,
        actor=actor,
        reason=reason or "Submitted for review",
    )
    audit_record(
        actor=actor,
        organization=version.policy.organization,
        action="policy.version_submit",
        obj=version,
        before={"status": VersionStatus.DRAFT},
        after={"status": VersionStatus.IN_REVIEW, "reason": reason.strip()},
    )
    return version


@transaction.atomic
def policy_version_return(*, actor: User, version: PolicyVersion, reason: str) -> PolicyVersion:
    """Send a version in review back to draft, with the reason (requested changes)."""
    version = _locked_version(version)
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError({"status": "Only a version in review can go back to draft."})
    if not reason.strip():
        raise ValidationError({"reason": "Say what needs to change."})
    version = _transition(
        version=version,
        from_status=VersionStatus.IN_REVIEW,
        to_status=VersionStatus.DRAFT,
        actor=actor,
        reason=reason,
    )
    audit_record(
        actor=actor,
        organization=version.policy.organization,
        action="policy.version_return",
        obj=version,
        before={"status": VersionStatus.IN_REVIEW},
        after={"status": VersionStatus.DRAFT, "reason": reason.strip()},
    )
    return version


@transaction.atomic
def policy_version_approve(
    *,
    actor: User,
    version: PolicyVersion,
    effective_date: dt.date | None = None,
    reason: str = "",
) -> PolicyVersion:
    """Approve a version in review; the previously approved version is retired."""
    version = _locked_version(version)
    policy = version.policy
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError(
            {"status": f"Only a version in review can be approved; version {version.number} is "
             f"{version.get_status_display().lower()}."}
        )  # fmt: skip
    today = organization_today(policy.organization)
    effective_date = effective_date or today
    current = PolicyVersion.objects.filter(policy=policy, status=VersionStatus.APPROVED).first()
    if effective_date > today:
        raise ValidationError(
            {"effective_date": "The effective date cannot be in the future; approve the version "
             "on the day it takes effect."}
        )  # fmt: skip
    if current is not None and current.effective_date and effective_date < current.effective_date:
        raise ValidationError(
            {"effective_date": f"Must be on or after {date_format(current.effective_date, 'j M Y')}"
             f", when version {current.number} took effect."}
        )  # fmt: skip
    now = timezone.now()
    if current is not None:
        _transition(
            version=current,
            from_status=VersionStatus.APPROVED,
            to_status=VersionStatus.RETIRED,
            actor=actor,
            reason=f"Superseded by version {version.number}",
            retired_at=now,
        )
    version = _transition(
        version=version,
        from_status=VersionStatus.IN_REVIEW,
        to_status=VersionStatus.APPROVED,
        actor=actor,
        reason=reason or "Approved",
        approved_by=actor,
        approved_at=now,
        effective_date=effective_date,
    )
    _readiness_changed(policy, people=True)
    audit_record(
        actor=actor,
        organization=policy.organization,
        action="policy.approve",
        obj=version,
        before={"status": VersionStatus.IN_REVIEW},
        after={
            "status": VersionStatus.APPROVED,
            "effective_date": effective_date,
            "retired_version": current.number if current else None,
            "reason": reason.strip(),
            **_body_digest(version.body),
        },
    )
    return version


@transaction.atomic
def policy_version_retire(*, actor: User, version: PolicyVersion, reason: str) -> PolicyVersion:
    """Withdraw the approved version; the policy has no current version until another one is
    approved."""
    version = _locked_version(version)
    if version.status != VersionStatus.APPROVED:
        raise ValidationError({"status": "Only the approved version can be retired."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the policy is withdrawn."})
    version = _transition(
        version=version,
        from_status=VersionStatus.APPROVED,
        to_status=VersionStatus.RETIRED,
        actor=actor,
        reason=reason,
        retired_at=timezone.now(),
    )
    _readiness_changed(version.policy, people=True)
    audit_record(
        actor=actor,
        organization=version.policy.organization,
        action="policy.retire",
        obj=version,
        before={"status": VersionStatus.APPROVED},
        after={"status": VersionStatus.RETIRED, "reason": reason.strip()},
    )
    return version
