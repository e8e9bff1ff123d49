"""The organization's Ed25519 signing key: made on first use, the private half encrypted at rest
with the integration credentials' Fernet keys (controls.integrations.crypto) and never shown."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.db import transaction

from audits.models import SigningKey
from compliance.audit import audit_record
from compliance.models import Organization
from controls.integrations import crypto

ALGORITHM = "Ed25519"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def signing_key(organization: Organization) -> SigningKey:
    """The organization's key, made (with its audit event) the first time it is needed."""
    found = SigningKey.objects.filter(organization=organization).first()
    if found is not None:
        return found
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with transaction.atomic():
        key, created = SigningKey.objects.get_or_create(
            organization=organization,
            defaults={
                "public_key": _b64(raw_public),
                "private_key_encrypted": crypto.encrypt({"ed25519": _b64(raw_private)}),
            },
        )
        if created:
            audit_record(
                actor=None,
                organization=organization,
                action="audit.signing_key_create",
                obj=key,
                after={"algorithm": ALGORITHM, "public_key": key.public_key},
            )
    return key


def public_key_of(organization: Organization) -> str | None:
    """The base64 public key, or None before the first package (nothing is made here)."""
    return (
        SigningKey.objects.filter(organization=organization)
        .values_list("public_key", flat=True)
        .first()
    )


def sign(key: SigningKey, message: bytes | memoryview) -> str:
    """Base64 of the raw Ed25519 signature over ``message`` (any bytes-like object)."""
    raw = base64.b64decode(crypto.decrypt(key.private_key_encrypted)["ed25519"])
    return _b64(Ed25519PrivateKey.from_private_bytes(raw).sign(message))


class BadPublicKey(ValueError):
    """Not the base64 of a raw 32-byte Ed25519 public key."""


def load_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise BadPublicKey(
            "The public key must be the base64 of a raw 32-byte Ed25519 key, as the "
            "engagement's Package page and the manifest show it."
        ) from exc


def signature_valid(public_key: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature.strip(), validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
