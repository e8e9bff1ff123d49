"""The signed download link of an approved access request.

The link carries a random secret (256 bits) signed with the project's secret and a salt of its
own, so an altered or forged token is refused before any lookup. Only the secret's SHA-256 is
stored (``AccessGrant.token_hash``); the grant row says when the link expires and whether it was
revoked. Every way a link can be dead answers the same page, never saying which.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from compliance.tokens import new_secret, secret_hash

SALT = "attest.trust.access-link"


class LinkDead(Exception):
    """Forged, altered, unknown, expired or revoked: the caller shows one page for all."""


def access_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.TRUST_ACCESS_DAYS)


def new_token() -> tuple[str, str]:
    """A fresh link token and the hash to store for it."""
    secret = new_secret()
    return signing.Signer(salt=SALT).sign(secret), secret_hash(secret)


def token_hash(token: str) -> str:
    """The stored hash a genuine token maps to; ``LinkDead`` when the signature is wrong."""
    try:
        secret = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        raise LinkDead from None
    return secret_hash(secret)


def access_url(*, slug: str, token: str) -> str:
    return settings.SITE_URL + reverse("trust_access", args=[slug, token])
