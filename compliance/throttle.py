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
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

if TYPE_CHECKING:
    from compliance.models import User

logger = logging.getLogger(__name__)

# An office behind one address is allowed more failures than one account.
IP_FACTOR = 4


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
