"""Token-authenticated API requests cost no password hashing."""

from __future__ import annotations

import statistics
import time

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client

from compliance import services
from compliance.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    median = statistics.median(samples)
    print(f"  {label:<54} median {median:7.2f} ms   p95 {p95:7.2f} ms   n={len(samples)}")


def test_token_request_versus_password_hash() -> None:
    user = UserFactory()
    MembershipFactory(user=user, organization=OrganizationFactory(), role=Role.ADMIN)
    _, secret = services.api_token_create(actor=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/organizations/").status_code == 200  # warm up

    requests = timed(lambda: client.get("/api/organizations/"), 300)
    encoded = make_password("a password of ordinary length")
    hashes = timed(lambda: check_password("a password of ordinary length", encoded), 20)

    print("\nAPI authentication")
    report("GET /api/organizations/ with a Bearer token", requests)
    report("one Argon2 password check (what Basic auth would pay)", hashes)
    ratio = statistics.median(requests) / statistics.median(hashes)
    print(f"  a token request costs {ratio:.1%} of one password check")
    assert client.get("/api/organizations/").json()["count"] == 1
