"""Sign-in throttling: failed attempts are counted per account and per client address.

Behind a reverse proxy every request comes from the proxy's address; ``TRUSTED_PROXIES`` says
how many proxies to look through so that one office's typos do not lock out everyone.

Counts live in the cache (Redis in production) for ``LOGIN_THROTTLE_WINDOW`` seconds from the
first failure. Past the limit the password is not even checked, so guessing stops paying.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# An office behind one address is allowed more failures than one account.
IP_FACTOR = 4


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


def is_blocked(*, email: str, ip: str) -> bool:
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    counts = cache.get_many([_key("email", email), _key("ip", ip)])
    return (
        counts.get(_key("email", email), 0) >= limit
        or counts.get(_key("ip", ip), 0) >= limit * IP_FACTOR
    )


def record_failure(*, email: str, ip: str) -> None:
    for key in (_key("email", email), _key("ip", ip)):
        cache.add(key, 0, timeout=settings.LOGIN_THROTTLE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW)


def record_success(*, email: str) -> None:
    cache.delete(_key("email", email))


def window_minutes() -> int:
    return max(1, round(settings.LOGIN_THROTTLE_WINDOW / 60))
