"""High-entropy secrets that are stored only as SHA-256 (API tokens, invitation links)."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "att_"  # noqa: S105 - a public marker, not a secret


def new_secret(prefix: str = "") -> str:
    """256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
