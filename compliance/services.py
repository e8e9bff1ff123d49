"""Writes of the core: organizations, memberships, invitations, API tokens, passwords.

Each service is one transaction with its audit event; emails go out after commit.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from guardian.utils import get_user_obj_perms_model

from compliance import mfa, permissions
from compliance.audit import audit_record, changed, snapshot
from compliance.emails import email_queue
from compliance.models import ApiToken, Invitation, Membership, Organization, Role, User
from compliance.tokens import API_TOKEN_PREFIX, new_secret, secret_hash

MEMBERSHIP_FIELDS = ("user", "organization", "role", "expires_at")
ORGANIZATION_FIELDS = (
    "name", "time_zone", "require_two_factor", "snapshot_weekday", "snapshot_hour",
)  # fmt: skip


def _validate_time_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError({"time_zone": f"Unknown time zone {name!r}."})


@transaction.atomic
def organization_create(
    *, actor: User, name: str, slug: str = "", time_zone: str = "UTC"
) -> Organization:
    """Create an organization with ``actor`` as its first admin."""
    organization = Organization(
        name=name.strip(), slug=slug or slugify(name)[:50].strip("-"), time_zone=time_zone
    )
    organization.full_clean()
    _validate_time_zone(time_zone)
    organization.save()
    membership = Membership.objects.create(user=actor, organization=organization, role=Role.ADMIN)
    audit_record(
        actor=actor,
        organization=organization,
        action="organization.create",
        obj=organization,
        after=snapshot(organization, ("name", "slug", "time_zone")),
    )
    audit_record(
        actor=actor,
        organization=organization,
        action="membership.create",
        obj=membership,
        after=snapshot(membership, MEMBERSHIP_FIELDS),
    )
    permissions.forget_memberships(actor)
    return organization


@transaction.atomic
def organization_update(
    *,
    actor: User,
    organization: Organization,
    name: str,
    time_zone: str,
    require_two_factor: bool,
    snapshot_weekday: int | None = None,
    snapshot_hour: int | None = None,
) -> Organization:
    """Change the organization's name, time zone, sign-in rule and the weekday and hour of its
    weekly readiness snapshot (None: unchanged). Requiring two-factor sign-in is refused to an
    admin without it, who would lock themselves out at once."""
    organization = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    before = snapshot(organization, ORGANIZATION_FIELDS)
    organization.name = name.strip()
    organization.time_zone = time_zone
    organization.require_two_factor = require_two_factor
    if snapshot_weekday is not None:
        organization.snapshot_weekday = snapshot_weekday
    if snapshot_hour is not None:
        organization.snapshot_hour = snapshot_hour
    organization.full_clean()
    _validate_time_zone(time_zone)
    if require_two_factor and not before["require_two_factor"] and not mfa.is_enabled(actor):
        raise ValidationError(
            {
                "require_two_factor": [
                    "Turn on two-factor sign-in for your own account first (menu under your "
                    "name), or you would be locked out."
                ]
            }
        )
    old, new = changed(before, snapshot(organization, ORGANIZATION_FIELDS))
    if not new:
        return organization
    organization.save(update_fields=list(new))
    audit_record(
        actor=actor,
        organization=organization,
        action="organization.update",
        obj=organization,
        before=old,
        after=new,
    )
    return organization


def _admins_left(organization: Organization, excluding: Membership, lasting: bool = False) -> int:
    """Other active admins (``lasting``: only those whose access does not expire)."""
    admins = Membership.objects.active().filter(organization=organization, role=Role.ADMIN)
    if lasting:
        admins = admins.filter(expires_at__isnull=True)
    return admins.exclude(pk=excluding.pk).count()


@transaction.atomic
def membership_change_role(
    *, actor: User, membership: Membership, role: str, expires_at: dt.datetime | None = None
) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    membership = Membership.objects.select_for_update(no_key=True).get(pk=membership.pk)
    if role == Role.AUDITOR and expires_at is None:
        raise ValidationError({"expires_at": "Auditor access needs an expiry date."})
    if expires_at is not None and expires_at <= timezone.now():
        # Removing someone is what membership_remove is for (it keeps the last admin).
        raise ValidationError({"expires_at": "The expiry is in the past."})
    if _admins_left(membership.organization, membership, lasting=True) == 0:
        if membership.role == Role.ADMIN and role != Role.ADMIN:
            raise ValidationError({"role": "An organization needs at least one admin."})
        if role == Role.ADMIN and expires_at is not None:
            raise ValidationError(
                {"expires_at": "The only admin's access cannot expire; add another admin first."}
            )
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.role = role
    membership.expires_at = expires_at
    membership.save(update_fields=["role", "expires_at"])
    old, new = changed(before, snapshot(membership, MEMBERSHIP_FIELDS))
    if new:
        audit_record(
            actor=actor,
            organization=membership.organization,
            action="membership.update",
            obj=membership,
            before=old,
            after=new,
        )
    permissions.forget_memberships(membership.user)
    return membership


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership) -> None:
    membership = Membership.objects.select_for_update(no_key=True).get(pk=membership.pk)
    organization = membership.organization
    if membership.role == Role.ADMIN and _admins_left(organization, membership, lasting=True) == 0:
        raise ValidationError("An organization needs at least one admin.")
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    _revoke_object_grants(membership.user, organization)
    audit_record(
        actor=actor,
        organization=organization,
        action="membership.delete",
        obj=membership,
        before=before,
    )
    membership.delete()
    permissions.forget_memberships(membership.user)


def _revoke_object_grants(user: User, organization: Organization) -> None:
    """Object grants a user held on rows of an organization they are leaving."""
    from controls.models import Control

    perm_model = get_user_obj_perms_model(Control)  # type: ignore[arg-type]  # accepts classes
    perm_model.objects.filter(  # type: ignore[attr-defined]
        user=user, content_object__organization=organization
    ).delete()


def _expiry_end_of_day(day: dt.date | None, organization: Organization) -> dt.datetime | None:
    if day is None:
        return None
    tz = zoneinfo.ZoneInfo(organization.time_zone)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    organization: Organization,
    email: str,
    role: str,
    access_expires_on: dt.date | None = None,
) -> Invitation:
    """Invite an address with a role; a pending invitation to the same address is replaced."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    if role == Role.AUDITOR and access_expires_on is None:
        raise ValidationError({"access_expires_on": "Auditor access needs an expiry date."})
    if access_expires_on is not None and access_expires_on < timezone.localdate():
        raise ValidationError({"access_expires_on": "The expiry date is in the past."})
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization.name}."})

    now = timezone.now()
    for pending in Invitation.objects.select_for_update(no_key=True).filter(
        organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ):
        pending.revoked_at = now
        pending.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            organization=organization,
            action="invitation.revoke",
            obj=pending,
            after={"reason": "replaced by a new invitation"},
        )

    token = new_secret()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=secret_hash(token),
        invited_by=actor,
        expires_at=now + dt.timedelta(days=settings.INVITATION_TTL_DAYS),
        access_expires_at=_expiry_end_of_day(access_expires_on, organization),
    )
    audit_record(
        actor=actor,
        organization=organization,
        action="invitation.create",
        obj=invitation,
        after=snapshot(invitation, ("email", "role", "expires_at", "access_expires_at")),
    )
    email_queue(
        template="invitation",
        to=[email],
        context={
            "invitation": invitation,
            "organization": organization,
            "inviter": actor,
            "accept_url": settings.SITE_URL + reverse("invitation_accept", args=[token]),
            "role_label": Role(role).label,
        },
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> None:
    invitation = Invitation.objects.select_for_update(no_key=True).get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError("This invitation was already used or revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        organization=invitation.organization,
        action="invitation.revoke",
        obj=invitation,
        after={"revoked_at": invitation.revoked_at},
    )


def invitation_find(token: str) -> Invitation | None:
    """The pending invitation behind a link, or ``None`` (unknown, used, revoked or expired)."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=secret_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None,
    full_name: str = "",
    password: str = "",
) -> Membership:
    """Join the organization of an invitation.

    A signed-in user accepts for themself (their address must be the invited one). Without a
    session, a new account is created for the invited address with the given password.
    """
    found = invitation_find(token)
    if found is None:
        raise ValidationError("This invitation link is invalid, expired, or was already used.")
    invitation = Invitation.objects.select_for_update(no_key=True).get(pk=found.pk)
    if not invitation.is_pending:
        raise ValidationError("This invitation link is invalid, expired, or was already used.")
    organization = invitation.organization

    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationError(
                f"An account for {invitation.email} exists already: sign in, then open the "
                "link again."
            )
        if not full_name.strip():
            raise ValidationError({"full_name": "Enter your name."})
        candidate = User(email=invitation.email, full_name=full_name.strip())
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        candidate.set_password(password)
        candidate.full_clean()
        candidate.save()
        user = candidate
        audit_record(
            actor=user,
            organization=None,
            action="user.create",
            obj=user,
            after={"email": user.email, "full_name": user.full_name, "via": "invitation"},
        )
    elif user.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"This invitation is for {invitation.email}, but you are signed in as {user.email}."
        )

    if Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(f"You are already a member of {organization.name}.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user,
                organization=organization,
                role=invitation.role,
                expires_at=invitation.access_expires_at,
            )
    except IntegrityError:
        raise ValidationError(f"You are already a member of {organization.name}.") from None
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        organization=organization,
        action="invitation.accept",
        obj=invitation,
        after={"accepted_at": invitation.accepted_at},
    )
    audit_record(
        actor=user,
        organization=organization,
        action="membership.create",
        obj=membership,
        after=snapshot(membership, MEMBERSHIP_FIELDS),
    )
    permissions.forget_memberships(user)
    return membership


@transaction.atomic
def api_token_create(
    *, actor: User, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new personal token; the secret is returned once and only its hash is kept."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the system that uses it."})
    if len(name) > 100:
        raise ValidationError({"name": "At most 100 characters."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry is in the past."})
    secret = new_secret(API_TOKEN_PREFIX)
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=secret[: len(API_TOKEN_PREFIX) + 6],
        token_hash=secret_hash(secret),
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        organization=None,
        action="api_token.create",
        obj=token,
        after={"name": token.name, "prefix": token.prefix, "expires_at": token.expires_at},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update(no_key=True).get(pk=token.pk)
    if token.user_id != actor.pk:
        raise PermissionError("Only the owner of a token can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            organization=None,
            action="api_token.revoke",
            obj=token,
            after={"revoked_at": token.revoked_at},
        )
    return token


@transaction.atomic
def user_set_password(*, user: User, password: str, reason: str) -> None:
    """Set a password (reset link or change); the audit event never holds the password."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=user, organization=None, action="user.password_set", obj=user, after={"via": reason}
    )
