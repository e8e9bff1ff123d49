"""Signing in while Redis (the throttle's cache) is down: it keeps working and stays limited,
the failures being counted in the database instead.

Redis is really unreachable here: the cache points at a loopback port nobody listens on, or
at a redis-server this test starts and kills."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import redis
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from compliance import mfa, throttle
from compliance.models import ThrottleCount, User
from tests.conftest import World
from tests.factories import PASSWORD

LIMIT = 3  # each wrong password costs an Argon2 hash: a small limit keeps this quick
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_cache(port: int) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "attest-outage-test",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


@pytest.fixture(autouse=True)
def _throttle(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.LOGIN_THROTTLE_ATTEMPTS = LIMIT
    monkeypatch.setattr(throttle, "_cache_retry_at", 0.0)


@pytest.fixture
def redis_unreachable(settings: Any) -> None:
    """The cache is a Redis on a loopback port where nothing listens."""
    settings.CACHES = redis_cache(free_port())
    with pytest.raises(RedisError):
        cache.get("anything")  # really unreachable (asked directly, not through the throttle)


def sign_in(client: Client, password: str, email: str = "member@acme.test") -> int:
    response = client.post(reverse("login"), {"username": email, "password": password})
    return response.status_code


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def counted(email: str = "member@acme.test") -> int:
    row = ThrottleCount.objects.filter(key=throttle._key("email", email)).first()
    return row.count if row else 0


def test_signing_in_works_while_redis_is_unreachable(world: World, redis_unreachable: None) -> None:
    client = Client()
    assert sign_in(client, PASSWORD) == 302
    assert signed_in(client)
    assert client.get(reverse("dashboard", args=["acme"])).status_code == 200


def test_signing_in_stays_throttled_while_redis_is_unreachable(
    world: World, redis_unreachable: None
) -> None:
    client = Client()
    for attempt in range(LIMIT):
        assert sign_in(client, f"wrong {attempt}") == 200, attempt
    assert counted() == LIMIT
    assert ThrottleCount.objects.get(key=throttle._key("ip", "127.0.0.1")).count == LIMIT

    assert sign_in(client, PASSWORD) == 429
    assert not signed_in(client)
    # Another account is not locked by this one's failures.
    assert sign_in(Client(), PASSWORD, email="viewer@acme.test") == 302


def test_the_two_factor_code_step_stays_throttled_while_redis_is_unreachable(
    world: World, redis_unreachable: None
) -> None:
    member = world.users["member"]
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=member, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)
    client = Client()
    assert sign_in(client, PASSWORD) == 302
    for _ in range(LIMIT):
        assert client.post(reverse("login_mfa"), {"code": "000000"}).status_code == 400
    right = client.post(reverse("login_mfa"), {"code": pyotp.TOTP(SECRET).now()})
    assert right.status_code == 429
    assert not signed_in(client)


def test_a_code_completes_the_sign_in_while_redis_is_unreachable(
    world: World, redis_unreachable: None
) -> None:
    member = world.users["member"]
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=member, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)
    client = Client()
    sign_in(client, PASSWORD)
    assert client.post(reverse("login_mfa"), {"code": "000000"}).status_code == 400
    assert counted() == 1
    done = client.post(reverse("login_mfa"), {"code": pyotp.TOTP(SECRET).now()})
    assert done.status_code == 302 and signed_in(client)
    assert counted() == 0  # the right code clears the account's count, here too


def test_password_confirmations_stay_throttled_while_redis_is_unreachable(
    world: World, redis_unreachable: None
) -> None:
    member = world.users["member"]
    client = Client()
    client.force_login(member)
    new = "a brand new passphrase 42"
    data = {"new_password1": new, "new_password2": new}
    for attempt in range(LIMIT):
        wrong = client.post(reverse("password_change"), {**data, "old_password": f"no {attempt}"})
        assert wrong.status_code == 400
    locked = client.post(reverse("password_change"), {**data, "old_password": PASSWORD})
    assert locked.status_code == 429
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)


def test_an_unreachable_redis_is_tried_once_then_left_alone_for_a_while(
    world: World, redis_unreachable: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="compliance.throttle")
    client = Client()
    for attempt in range(LIMIT):
        sign_in(client, f"wrong {attempt}")
    down = [r for r in caplog.records if r.getMessage().startswith("Cache unreachable")]
    assert len(down) == 1
    assert "counted in the database" in down[0].getMessage()


def test_counts_past_their_window_no_longer_count_and_are_removed(
    world: World, redis_unreachable: None
) -> None:
    past = timezone.now() - dt.timedelta(seconds=1)
    ThrottleCount.objects.create(key=throttle._key("email", "member@acme.test"), count=99,
                                 expires_at=past)  # fmt: skip
    ThrottleCount.objects.create(key=throttle._key("email", "gone@acme.test"), count=99,
                                 expires_at=past)  # fmt: skip
    client = Client()
    assert sign_in(client, "wrong") == 200  # not blocked by the expired row
    assert counted() == 1
    assert not ThrottleCount.objects.filter(expires_at__lte=timezone.now()).exists()
    assert sign_in(client, PASSWORD) == 302


# --- a real redis-server, killed and started again ------------------------------------------------


class RedisServer:
    def __init__(self, port: int, directory: Path) -> None:
        self.port, self.directory = port, directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(100):  # up to ~10 s on a busy machine
            try:
                if client.ping():
                    return
            except RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: what a crash does
        self.process.wait(timeout=10)

    def keys(self) -> list[bytes]:
        return list(redis.Redis(port=self.port).scan_iter("*login-fail*"))


@pytest.fixture
def redis_server(tmp_path: Path, settings: Any) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is needed (Debian package redis-server)")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    settings.CACHES = redis_cache(server.port)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


def test_redis_killed_mid_attack_sign_in_keeps_answering_and_the_limit_holds(
    world: World, redis_server: RedisServer
) -> None:
    client = Client()
    # While Redis is up the failures are counted there, not in the database.
    assert sign_in(client, "wrong 1") == 200
    assert len(redis_server.keys()) == 2  # the account's and the address's counts
    assert counted() == 0

    redis_server.kill()
    # What Redis counted is out of reach now; from here the database counts.
    statuses = [sign_in(client, f"wrong {n}") for n in range(2, LIMIT + 2)]
    assert statuses == [200] * LIMIT  # answered, not 500
    assert counted() == LIMIT
    assert sign_in(client, PASSWORD) == 429
    assert not signed_in(client)

    # Redis comes back (empty: it kept nothing), and the retry pause passes.
    redis_server.start()
    throttle._cache_retry_at = 0.0
    assert cache.get("anything") is None  # reachable again
    # The failures counted during the outage still count.
    assert sign_in(client, PASSWORD) == 429
    assert not signed_in(client)

    # Once they are past their window, the right password signs in and clears the count.
    ThrottleCount.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert sign_in(client, PASSWORD) == 302
    assert signed_in(client)
