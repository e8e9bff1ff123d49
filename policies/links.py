"""Signed, expiring acknowledgement links for people without a login.

The token carries the version and the person, signed with the project's secret and a salt of
its own (a token signed for anything else does not verify here), and stamped with its creation
time; it stops working ``settings.ACKNOWLEDGEMENT_LINK_DAYS`` days later. Nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "attest.policies.acknowledgement-link"


class LinkInvalid(Exception):
    """The token was altered, truncated or signed for something else."""


class LinkExpired(Exception):
    """The token is genuine but older than the allowed lifetime."""


@dataclass(frozen=True)
class LinkTarget:
    version_id: int
    person_id: int


def link_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.ACKNOWLEDGEMENT_LINK_DAYS)


def make_token(*, version_id: int, person_id: int) -> str:
    return signing.dumps({"v": version_id, "p": person_id}, salt=SALT)


def read_token(token: str) -> LinkTarget:
    try:
        data = signing.loads(token, salt=SALT, max_age=link_lifetime())
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    try:
        return LinkTarget(version_id=int(data["v"]), person_id=int(data["p"]))
    except (KeyError, TypeError, ValueError):
        raise LinkInvalid from None


def link_url(*, version_id: int, person_id: int) -> str:
    token = make_token(version_id=version_id, person_id=person_id)
    return settings.SITE_URL + reverse("policy_ack_link", args=[token])
