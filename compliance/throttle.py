"""Throttling of every secret a person types: failed attempts are counted per account and per
client address.

Signing in (the password, then the two-factor code) and every form that asks for the current
password again (changing it, turning two-factor sign-in off, new recovery codes) check the
secret through ``attempt``, so they share one count: guesses on any of them use up the same
allowance, and past the limit none of them even checks the secret.

Behind a reverse proxy every request comes from the proxy's address; ``TRUSTED_PROXIES`` says
how many proxies to look through so that one office's typos do not lock out everyone.

Counts live in the cache (Redis in production) for ``LOGIN_THROTTLE_WINDOW`` seconds from the
first failure. Past the limit the password is not even checked, so guessing stops paying.

When the cache fails (Redis down), signing in must neither answer 500 nor stop being limited:
failures are then counted in the database (``ThrottleCount``), which every web process shares
and which signing in needs anyway, rather than in each process's memory, where the limit
would be multiplied by the number of processes and reset by every restart. The database
counts are read together with the cache's, so what was counted during an outage still counts
after it. A process that saw the cache fail leaves it alone for ``CACHE_RETRY_SECONDS``, so
that an unreachable Redis costs one connection timeout, not one per operation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from redis.exceptions import RedisError

from compliance.models import ThrottleCount, User

logger = logging.getLogger(__name__)

# An office behind one address is allowed more failures than one account.
IP_FACTOR = 4
# What a failing cache raises: Redis's own errors, and OS errors (the file-based cache).
CACHE_ERRORS = (RedisError, OSError)
CACHE_RETRY_SECONDS = 30
_cache_retry_at = 0.0  # in this process, the cache is left alone until then (monotonic)


class Throttled(Exception):
    """Too many failures for this account or this address: the secret was not checked."""

    def __init__(self) -> None:
        self.minutes = window_minutes()
        super().__init__(f"Too many failed attempts. Wait {self.minutes} minutes and try again.")


def attempt(
    request: HttpRequest | None,
    *,
    email: str,
    what: str,
    check: Callable[[], bool],
    clear_on_success: bool = True,
) -> bool:
    """Check a secret typed for the account ``email`` (``check`` says whether it is right).

    Past the limit ``check`` is not called and ``Throttled`` is raised. A wrong secret counts
    against the account and the address; a right one clears the account's count unless
    ``clear_on_success`` is off (signing in clears it only once the second factor is right).
    ``what`` names the step in the log, which records every failure and every refusal.
    """
    ip = client_ip(request) if request is not None else ""
    if is_blocked(email=email, ip=ip):
        logger.warning("%s refused, too many failures: account %r, address %s", what, email, ip)
        raise Throttled
    if check():
        if clear_on_success:
            record_success(email=email)
        return True
    if email:
        record_failure(email=email, ip=ip)
    logger.info("%s failed: account %r, address %s", what, email, ip)
    return False


def confirm_password(request: HttpRequest | None, *, user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s current password, asked again by a form of a signed-in
    user; counted and limited like signing in. Raises ``Throttled`` past the limit."""
    return attempt(
        request,
        email=user.email,
        what="password confirmation",
        check=lambda: user.check_password(password),
    )


def client_ip(request: HttpRequest) -> str:
    """The address the request came from. Behind ``TRUSTED_PROXIES`` reverse proxies it is the
    entry that many places from the right of X-Forwarded-For (each proxy appends the address it
    saw, so what a client writes there itself stays on the left, untrusted); without proxies,
    or when the header is shorter or garbled, the peer's own address."""
    peer = str(request.META.get("REMOTE_ADDR", ""))
    hops = settings.TRUSTED_PROXIES
    if not hops:
        return peer
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) < hops:
        return peer
    candidate = chain[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]
    return f"login-fail:{kind}:{digest}"


class _CacheDown(Exception):
    pass


def _cached(operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``operation`` on the cache, or ``_CacheDown`` when the cache failed now or lately."""
    global _cache_retry_at
    if time.monotonic() < _cache_retry_at:
        raise _CacheDown
    try:
        return operation(*args, **kwargs)
    except CACHE_ERRORS as exc:
        _cache_retry_at = time.monotonic() + CACHE_RETRY_SECONDS
        logger.warning(
            "Cache unreachable (%s); failed attempts are counted in the database for the "
            "next %s s.",
            exc,
            CACHE_RETRY_SECONDS,
        )
        raise _CacheDown from exc


def _limits(email: str, ip: str) -> dict[str, int]:
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    return {_key("email", email): limit, _key("ip", ip): limit * IP_FACTOR}


def is_blocked(*, email: str, ip: str) -> bool:
    """Whether the account or the address is past its limit, counting what the cache holds
    and what was counted in the database while the cache was down (it may be back since)."""
    limits = _limits(email, ip)
    counts = dict(
        ThrottleCount.objects.filter(key__in=limits, expires_at__gt=timezone.now()).values_list(
            "key", "count"
        )
    )
    try:
        cached = _cached(cache.get_many, list(limits))
    except _CacheDown:
        cached = {}
    return any(counts.get(key, 0) + cached.get(key, 0) >= limit for key, limit in limits.items())


def record_failure(*, email: str, ip: str) -> None:
    keys = list(_limits(email, ip))
    try:
        for key in keys:
            _cached(cache.add, key, 0, timeout=settings.LOGIN_THROTTLE_WINDOW)
            try:
                _cached(cache.incr, key)
            except ValueError:  # expired between add and incr
                _cached(cache.set, key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW)
    except _CacheDown:
        _record_failure_in_database(keys)


def _record_failure_in_database(keys: list[str]) -> None:
    now = timezone.now()
    ThrottleCount.objects.filter(expires_at__lte=now).delete()
    for key in keys:
        counted = ThrottleCount.objects.filter(key=key, expires_at__gt=now).update(
            count=F("count") + 1
        )
        if not counted:
            expires_at = now + dt.timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)
            ThrottleCount.objects.update_or_create(
                key=key, defaults={"count": 1, "expires_at": expires_at}
            )


def record_success(*, email: str) -> None:
    key = _key("email", email)
    ThrottleCount.objects.filter(key=key).delete()
    with contextlib.suppress(_CacheDown):  # what the cache holds expires with the window
        _cached(cache.delete, key)


def window_minutes() -> int:
    return max(1, round(settings.LOGIN_THROTTLE_WINDOW / 60))


def over_rate(keys: list[str], *, limit: int, window: int, what: str) -> bool:
    """Count one use under each of ``keys`` (cache counters living ``window`` seconds from the
    first use); True when any of them is past ``limit``. For public forms and links (trust
    access requests, vendor questionnaire links) — not secrets, which go through ``attempt``.
    A failing cache lets the use through (logged): a public page must not refuse everyone
    because Redis is down. ``what`` names the limit in that log line."""
    over = False
    try:
        for key in keys:
            if cache.add(key, 1, timeout=window):
                count = 1
            else:
                try:
                    count = int(cache.incr(key))
                except ValueError:  # expired between add and incr: a new window
                    cache.set(key, 1, timeout=window)
                    count = 1
            over = over or count > limit
    except CACHE_ERRORS as exc:
        logger.warning("Cache unreachable, %s is not rate-limited: %s", what, exc)
        return False
    return over
