"""Two-factor sign-in with an authenticator app (TOTP, RFC 6238) and one-time recovery codes.

A user turns it on by scanning a secret and typing the code their app shows; from then on the
password alone does not sign them in. The secret is stored encrypted like integration
credentials; each code is accepted once (the step of the last accepted code is kept), one step
of clock drift either way is tolerated, and recovery codes are kept as SHA-256 only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from compliance.audit import audit_record
from compliance.models import RecoveryCode, TotpDevice, User
from controls.integrations import crypto

STEP = 30  # seconds per code
DRIFT = 1  # steps accepted either side of now
RECOVERY_CODES = 10
CODE_DIGITS = 6


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """What the QR code holds: ``otpauth://totp/<issuer>:<email>?secret=…&issuer=…``."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=settings.MFA_ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no image file, no outside service)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111827", border=2)


def is_enabled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user).exists()


def device_id(user: User) -> int | None:
    """The id of the user's authenticator (a new one each time it is turned on), or None."""
    return TotpDevice.objects.filter(user=user).values_list("pk", flat=True).first()


def enabled_for(user_id: Any) -> Exists:
    """An annotation: whether the user ``user_id`` (an ``OuterRef``) has it on."""
    return Exists(TotpDevice.objects.filter(user_id=user_id))


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The step (within the drift) whose code is ``code``, newest first; None if none is."""
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP
    for step in range(current + DRIFT, current - DRIFT - 1, -1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 10 hex digits, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=_hash(c)) for c in codes)
    return codes


def _require_enabled(user: User) -> None:
    if not is_enabled(user):
        raise ValidationError({"password": ["Two-factor sign-in is not on."]})


def _remove(user: User) -> None:
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


@transaction.atomic
def mfa_enable(*, user: User, secret: str, code: str, now: dt.datetime | None = None) -> list[str]:
    """Turn two-factor sign-in on once ``code`` proves the app holds ``secret``; returns the
    recovery codes, shown to the user this once."""
    now = now or timezone.now()
    User.objects.select_for_update(no_key=True).get(pk=user.pk)  # one enabling at a time per user
    if is_enabled(user):
        raise ValidationError({"code": ["Two-factor sign-in is already on."]})
    step = _matching_step(secret, _normalize(code), now)
    if step is None:
        raise ValidationError(
            {"code": ["That code does not match. Type the 6 digits your app shows now."]}
        )
    TotpDevice.objects.create(
        user=user, secret=crypto.encrypt({"secret": secret}), last_counter=step
    )
    codes = _new_recovery_codes(user)
    audit_record(actor=user, organization=None, action="user.mfa_enable", obj=user)
    return codes


@transaction.atomic
def mfa_disable(*, user: User) -> None:
    """Turn it off. Changes to a second factor that is on take the password again, so that an
    open session alone cannot: the caller has checked it with ``throttle.confirm_password``
    (outside this transaction, so that a wrong one stays counted)."""
    _require_enabled(user)
    _remove(user)
    audit_record(actor=user, organization=None, action="user.mfa_disable", obj=user)


@transaction.atomic
def mfa_verify(*, user: User, code: str, now: dt.datetime | None = None) -> bool:
    """Whether ``code`` (from the app, or an unused recovery code) completes this sign-in. A
    code is accepted once: neither an app code already used nor an older one passes again."""
    now = now or timezone.now()
    device = TotpDevice.objects.select_for_update(no_key=True).filter(user=user).first()
    if device is None:
        return False
    code = _normalize(code)
    # An app code is 6 digits; a recovery code is 10 hex digits, which may all be decimal
    # digits (about 1 in 110): telling them apart by length keeps such a code usable.
    if code.isdigit() and len(code) == CODE_DIGITS:
        secret = str(crypto.decrypt(device.secret)["secret"])
        step = _matching_step(secret, code, now)
        if step is None or step <= device.last_counter:
            return False
        device.last_counter = step
        device.save(update_fields=["last_counter"])
        return True
    recovery = (
        RecoveryCode.objects.select_for_update(no_key=True)
        .filter(user=user, code_hash=_hash(code), used_at__isnull=True)
        .first()
    )
    if recovery is None:
        return False
    recovery.used_at = now
    recovery.save(update_fields=["used_at"])
    audit_record(
        actor=user,
        organization=None,
        action="user.mfa_recovery_code_used",
        obj=user,
        after={"left": recovery_codes_left(user)},
    )
    return True


@transaction.atomic
def mfa_reset(*, actor: User, user: User) -> None:
    """An operator turns it off for someone who lost both their phone and recovery codes
    (after checking who they are); they sign in with the password and can turn it on again."""
    _remove(user)
    audit_record(actor=actor, organization=None, action="user.mfa_reset", obj=user)


@transaction.atomic
def mfa_new_recovery_codes(*, user: User) -> list[str]:
    """Replace every recovery code (used or not) with ten new ones, shown this once. The
    caller has checked the password, as for ``mfa_disable``."""
    _require_enabled(user)
    codes = _new_recovery_codes(user)
    audit_record(actor=user, organization=None, action="user.mfa_recovery_codes", obj=user)
    return codes
