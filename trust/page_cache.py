"""The cached public trust page: one rendered body per organization and version.

The version is a counter in the cache, bumped on commit by every change to what the page shows
(trust rows, documents, subprocessor vendors, audit engagements; the receivers are in
``trust.apps``). The live control status is read at render, so a cached body is also kept at
most ``TRUST_PAGE_TTL`` seconds: a test run or an evidence review shows within that time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

Renderer = Callable[[], bytes]

TRUST_PAGE_TTL = 60  # seconds a rendered page is served before the live status is re-read


def _scope() -> str:
    """The database the rows come from: two deployments (or a test run and a demo) sharing a
    Redis must never serve each other's pages for the same organization id."""
    return str(connection.settings_dict.get("NAME") or "default")


def _version_key(organization_id: int) -> str:
    return f"trust:page:version:{_scope()}:{organization_id}"


def page_version(organization_id: int) -> int:
    version = cache.get(_version_key(organization_id))
    if version is None:
        cache.add(_version_key(organization_id), 1, timeout=None)
        version = cache.get(_version_key(organization_id)) or 1
    return int(version)


def bump(organization_id: int) -> None:
    """Invalidate the organization's cached page now and again when the current transaction
    commits (a request rendering between the two would otherwise cache the old rows under the
    new version)."""

    def _bump() -> None:
        key = _version_key(organization_id)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 2, timeout=None)

    _bump()
    transaction.on_commit(_bump)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    rendered_at: datetime


def _body_key(organization_id: int, name: str) -> str:
    return f"trust:page:{name}:{_scope()}:{organization_id}:{page_version(organization_id)}"


def cached_render(organization_id: int, name: str, render: Renderer) -> Rendered:
    key = _body_key(organization_id, name)
    hit = cache.get(key)
    if isinstance(hit, Rendered):
        return hit
    body = render()
    rendered = Rendered(
        body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        rendered_at=timezone.now().replace(microsecond=0),
    )
    cache.set(key, rendered, timeout=TRUST_PAGE_TTL)
    return rendered
