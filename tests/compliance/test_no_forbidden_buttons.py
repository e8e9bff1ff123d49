"""Only what a person may do is offered to them.

For each persona, a bounded crawler walks the demo company from the dashboard as that person:
it follows every link shown (same origin, within the organization), submits every GET form as
shown, and submits every POST form as shown inside a transaction that is rolled back (so the
walk changes nothing). Nothing it is offered may answer 403 (or 404, 405, 500): a button that
leads to "not allowed" is a defect.

The demo is seeded once for the module (about 20 s); each persona's walk is capped in pages, and
each route is visited a few times at most, whatever the data.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from compliance import demo
from compliance.models import Membership, Organization, Role, User
from compliance.permissions import grant_object_permission
from controls.models import Control
from tests.factories import UserFactory
from tests.pages import Form, Page, path_of, read_page

ORIGIN = "http://testserver"
MAX_PAGES = 150  # per persona
PER_ROUTE = 2  # pages (or forms) of one route with one shape of query, per persona
BAD = {403, 404, 405}
# Submitting these would end the walk rather than test a permission.
SKIP_POSTS = {"logout"}


@dataclass
class Walk:
    visited: int = 0
    posted: int = 0
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def northwind(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[User, str]]]:
    """The demo company, plus a member who owns nothing and a member granted one control;
    seeded once, rolled back at the end of the module."""
    root: Path = tmp_path_factory.mktemp("evidence")
    storages = {
        **settings.STORAGES,
        "evidence": {**settings.STORAGES["evidence"], "OPTIONS": {"location": str(root)}},
    }
    with (
        override_settings(
            EVIDENCE_ROOT=root, EVIDENCE_INCOMING_DIR=root / ".incoming", STORAGES=storages
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        cache.clear()
        demo.seed_demo()
        northwind = Organization.objects.get(slug=demo.SLUG)
        newcomer = UserFactory(email="newcomer@northwind.test", full_name="Nico Newcomer")
        Membership.objects.create(user=newcomer, organization=northwind, role=Role.MEMBER)
        granted = UserFactory(email="gita@northwind.test", full_name="Gita Granted")
        Membership.objects.create(user=granted, organization=northwind, role=Role.MEMBER)
        control = Control.objects.filter(organization=northwind).order_by("ref_id").first()
        assert control is not None
        grant_object_permission(granted, "change_control", control)
        users = {u.email.split("@")[0]: u for u in User.objects.all()}
        yield {
            "admin": (users["dana"], demo.SLUG),
            "owner": (users["priya"], demo.SLUG),
            "granted": (granted, demo.SLUG),
            "member": (newcomer, demo.SLUG),
            # The case: a member of an organization where they own no control.
            "member_elsewhere": (users["marcus"], demo.LABS_SLUG),
            "viewer": (users["sam"], demo.SLUG),
            "auditor": (users["jordan"], demo.SLUG),
        }
        transaction.set_rollback(True)
    cache.clear()


@pytest.fixture
def evidence_dir(northwind: dict[str, tuple[User, str]]) -> Path:
    """The demo's files live in the module's folder; the suite's per-test folder would hide them
    (every download link would then meet a missing file)."""
    return Path(settings.EVIDENCE_ROOT)


def route_key(method: str, url: str) -> tuple[str, str, tuple[str, ...]]:
    """Pages of one route with the same query keys count as one shape."""
    parts = urlsplit(url)
    try:
        name = resolve(parts.path).view_name
    except Resolver404:
        name = parts.path
    keys = tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return method, name, keys


def walk(user: User, slug: str) -> Walk:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    inside = f"/o/{slug}/"
    result = Walk()
    seen: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
    fetched: set[str] = set()
    queue: deque[tuple[str, str]] = deque([(inside, "start")])

    def fetch(path: str, origin: str) -> Page | None:
        response = client.get(path)
        result.visited += 1
        if response.status_code in BAD or response.status_code >= 500:
            result.failures.append(f"GET {path} → {response.status_code} (shown on {origin})")
            return None
        if response.status_code in (301, 302) and response["Location"].startswith(inside):
            # A landing that sends this persona elsewhere (an auditor's dashboard → audits).
            target = response["Location"]
            if target not in fetched:
                queue.append((target, path))
            return None
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            return None
        return read_page(ORIGIN + path, response.content.decode())

    def post(form: Form, origin: str) -> None:
        path = path_of(form.action)
        with transaction.atomic():
            response = client.post(path, dict_of(form.data()))
            transaction.set_rollback(True)
        result.posted += 1
        if response.status_code in BAD or response.status_code >= 500:
            result.failures.append(f"POST {path} → {response.status_code} (form on {origin})")
        client.force_login(user)  # whatever the form did to the session

    while queue and result.visited < MAX_PAGES:
        path, origin = queue.popleft()
        if path in fetched:
            continue
        fetched.add(path)
        page = fetch(path, origin)
        if page is None or not path.startswith(inside):
            continue  # outside the organization: checked, not walked
        targets = [link for link in page.links if link.startswith(ORIGIN)]
        targets += [f.url() for f in page.get_forms() if f.action.startswith(ORIGIN)]
        for target in targets:
            key = route_key("GET", target)
            target_path = path_of(target)
            if target_path in fetched or seen[key] >= PER_ROUTE:
                continue
            seen[key] += 1
            queue.append((target_path, path))
        for form in page.forms:
            if form.method != "post" or not form.action.startswith(ORIGIN):
                continue
            key = route_key("POST", form.action)
            if key[1] in SKIP_POSTS or seen[key] >= PER_ROUTE:
                continue
            seen[key] += 1
            post(form, path)
    return result


def dict_of(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for key, value in pairs:
        data.setdefault(key, []).append(value)
    return data


@pytest.mark.parametrize(
    "persona",
    ["viewer", "member", "member_elsewhere", "owner", "granted", "admin", "auditor"],
)
def test_nothing_a_persona_is_shown_answers_forbidden(
    persona: str, northwind: dict[str, tuple[User, str]], db: Any
) -> None:
    user, slug = northwind[persona]
    result = walk(user, slug)
    assert result.visited > (1 if persona == "auditor" else 20), result
    assert not result.failures, "\n".join(result.failures)
