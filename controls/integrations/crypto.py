"""Integration credentials, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The keys come from ``INTEGRATIONS_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest first:
adding a new key in front rotates without re-encrypting at once). Without it, one key is derived
from ``SECRET_KEY`` so that the embedded default works; production sets its own keys, so that a
leaked database dump alone reveals nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(Exception):
    """The stored credentials cannot be decrypted with the configured keys."""


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.INTEGRATIONS_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(b"attest-integrations:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "INTEGRATIONS_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes); "
            "make one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        ) from exc


def encrypt(credentials: dict[str, Any]) -> str:
    payload = json.dumps(credentials, sort_keys=True).encode()
    return _fernet().encrypt(payload).decode()


def decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return dict(json.loads(_fernet().decrypt(token.encode())))
    except InvalidToken as exc:
        raise CredentialsUnreadable(
            "The stored credentials cannot be decrypted: INTEGRATIONS_ENCRYPTION_KEYS no longer "
            "holds the key they were saved with. Enter them again."
        ) from exc


def hint(secret: str) -> str:
    """What may be shown of a secret after saving: its last four characters."""
    secret = secret.strip()
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"
