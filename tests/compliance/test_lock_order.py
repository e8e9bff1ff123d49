"""Concurrent writes never deadlock on the rows they point at.

PostgreSQL checks Django's foreign keys at COMMIT (they are ``DEFERRABLE INITIALLY DEFERRED``):
each new row takes a FOR KEY SHARE lock on the rows it references (its organization, its person)
at the very end, after the writer took the organization's audit-chain head. A writer that held
FOR UPDATE on such a parent row and then waited for the chain head closed the circle:
DeadlockDetected at COMMIT. Services lock rows with FOR NO KEY UPDATE (``no_key=True``), which
serialises writers of the same row but lets foreign-key checks through.

The requests here are real HTTP requests to the live server, fired together by threads that wait
at a barrier, each served by its own database connection.
"""

from __future__ import annotations

import ast
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse

from compliance.audit import chain_for, verify_chain
from compliance.models import Organization, User
from people.models import Person, PersonnelRecord
from people.services import people_requirements_ensure
from policies import links
from policies import services as policy_services
from policies.models import Acknowledgement, AcknowledgementRequest
from tests.conftest import World, build_world
from tests.policies.factories import PersonFactory, approved_policy

ROUNDS = 2
PEOPLE = 6


class Browser:
    """A requests session against the live server, signed in (or not), with a CSRF token."""

    def __init__(self, base_url: str, user: User | None = None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if user is not None:
            client = Client()
            client.force_login(user)
            self.session.cookies.set(
                settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
            )

    def open(self, path: str) -> None:
        """GET a page (which sets the CSRF cookie the form POST needs)."""
        response = self.session.get(self.base_url + path, timeout=30)
        assert response.status_code == 200, (path, response.status_code)

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        token = self.session.cookies.get(settings.CSRF_COOKIE_NAME, "")
        return self.session.post(
            self.base_url + path,
            data={**data, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=60,
        )


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released at the same moment; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = calls[index]()
        except Exception as exc:  # reported by the assertion below
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def statuses(answers: list[Any]) -> list[Any]:
    return [getattr(a, "status_code", a) for a in answers]


@pytest.fixture
def world(transactional_db: Any) -> World:
    return build_world()


def test_sending_a_policy_while_people_acknowledge_another_deadlocks_nothing(
    world: World, live_server: Any
) -> None:
    admin_user = world.users["admin"]
    people = [PersonFactory(organization=world.org) for _ in range(PEOPLE)]
    admin = Browser(live_server.url, admin_user)
    readers = [Browser(live_server.url) for _ in people]
    for round_number in range(ROUNDS):
        # Policies A went out before; policy B is sent while everyone acknowledges the As, one
        # after the other (so that person rows are locked all through the sending).
        versions_a = []
        for letter in "xyz":
            _, version_a = approved_policy(world, title=f"Policy A{round_number}{letter}")
            policy_services.policy_send_for_acknowledgement(
                actor=admin_user, version=version_a, notify=False
            )
            versions_a.append(version_a)
        policy_b, version_b = approved_policy(world, title=f"Policy B{round_number}")
        send_path = reverse("policy_send", args=[world.org.slug, policy_b.pk])
        admin.open(reverse("policy_detail", args=[world.org.slug, policy_b.pk]))
        ack_paths = {
            reader: [
                reverse(
                    "policy_ack_link",
                    args=[links.make_token(version_id=version.pk, person_id=person.pk)],
                )
                for version in versions_a
            ]
            for reader, person in zip(readers, people, strict=True)
        }
        for reader, paths in ack_paths.items():
            reader.open(paths[0])

        def acknowledge_all(reader: Browser, paths: list[str]) -> list[int]:
            return [reader.post(path, {"confirm": "yes"}).status_code for path in paths]

        calls: list[Callable[[], Any]] = [
            lambda path=send_path: admin.post(path, {"employment_type": "", "department": ""})
        ]
        calls += [
            lambda reader=reader, paths=paths: acknowledge_all(reader, paths)
            for reader, paths in ack_paths.items()
        ]
        answers = together(calls)

        assert statuses(answers) == [302] + [[302, 302, 302]] * PEOPLE
        assert AcknowledgementRequest.objects.filter(version=version_b).count() == PEOPLE
        for version_a in versions_a:
            assert Acknowledgement.objects.filter(version=version_a).count() == PEOPLE
    assert verify_chain(chain_for(world.org)).problem is None


def test_recording_completions_while_an_admin_renames_the_organization_deadlocks_nothing(
    world: World, live_server: Any
) -> None:
    admin_user = world.users["admin"]
    people_requirements_ensure(organization=world.org)
    people = [PersonFactory(organization=world.org) for _ in range(PEOPLE)]
    admin = Browser(live_server.url, admin_user)
    admin.open(reverse("organization_settings", args=[world.org.slug]))
    recorders = [Browser(live_server.url, admin_user) for _ in people]
    record_paths = []
    for recorder, person in zip(recorders, people, strict=True):
        recorder.open(reverse("person_detail", args=[world.org.slug, person.pk]))
        record_paths.append(reverse("person_record_create", args=[world.org.slug, person.pk]))
    settings_path = reverse("organization_settings", args=[world.org.slug])

    for round_number in range(ROUNDS):
        name = f"Acme {round_number}"
        calls: list[Callable[[], Any]] = [
            lambda name=name: admin.post(
                settings_path,
                {
                    "name": name,
                    "time_zone": "UTC",
                    "require_two_factor": "",
                    "snapshot_weekday": "0",
                    "snapshot_hour": "6",
                },
            )
        ]
        calls += [
            lambda recorder=recorder, path=path, day=round_number: recorder.post(
                path,
                {
                    "kind": "agreement",
                    "completed_on": (dt.date(2024, 2, 1) + dt.timedelta(days=day)).isoformat(),
                    "notes": "",
                },
            )
            for recorder, path in zip(recorders, record_paths, strict=True)
        ]
        answers = together(calls)

        assert statuses(answers) == [302] * (PEOPLE + 1)
        assert Organization.objects.get(pk=world.org.pk).name == name
        for person in people:
            assert PersonnelRecord.objects.filter(person=person).count() == round_number + 1
    assert verify_chain(chain_for(world.org)).problem is None
    assert Person.objects.filter(organization=world.org).count() == PEOPLE


# --- the kind: every row lock in the apps lets foreign-key checks through ---------------------

APPS = ["compliance", "controls", "evidence", "policies", "people", "vendors"]


def _sources() -> Iterator[Path]:
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _chain(call: ast.Call) -> list[ast.Call]:
    """The calls of a method chain, outermost first: ``a.b().c().d()`` → [d(), c(), b()]."""
    calls = []
    node: ast.AST = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        calls.append(node)
        node = node.func.value
    return calls


def lock_problems(source: str, where: str) -> tuple[int, set[str]]:
    """How many ``select_for_update()`` calls the source has, and what is wrong with them."""
    locks: set[int] = set()
    problems = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        chain = _chain(node)
        names = [c.func.attr for c in chain]  # type: ignore[attr-defined]
        for call in chain:
            if call.func.attr != "select_for_update":  # type: ignore[attr-defined]
                continue
            locks.add(id(call))
            keywords = {k.arg: k.value for k in call.keywords}
            no_key = keywords.get("no_key")
            if not (isinstance(no_key, ast.Constant) and no_key.value is True):
                problems.add(f"{where}:{call.lineno}: select_for_update() without no_key=True")
            if "select_related" in names and "of" not in keywords:
                problems.add(
                    f"{where}:{call.lineno}: select_for_update() with select_related() "
                    "but without of="
                )
    return len(locks), problems


def test_every_row_lock_in_the_apps_lets_foreign_key_checks_through() -> None:
    """FOR UPDATE blocks the FOR KEY SHARE of another writer's foreign-key check at its COMMIT
    (after it took the audit-chain head): the deadlock of issue 9. FOR NO KEY UPDATE does not.
    A lock joined to other tables names its own (``of=("self",)``), or it would lock the
    organization's row too."""
    total = 0
    problems: set[str] = set()
    for path in _sources():
        source = path.read_text()
        if "select_for_update" not in source:
            continue
        count, found = lock_problems(source, str(path.relative_to(settings.BASE_DIR)))
        total += count
        problems |= found
    assert total > 20  # the scan does find the services' locks
    assert not problems, "\n".join(sorted(problems))


def test_the_lock_scan_tells_a_plain_row_lock_from_a_no_key_one() -> None:
    plain = "Policy.objects.select_for_update().select_related('organization').get(pk=1)\n"
    assert lock_problems(plain, "plain.py") == (
        1,
        {
            "plain.py:1: select_for_update() without no_key=True",
            "plain.py:1: select_for_update() with select_related() but without of=",
        },
    )
    good = (
        "Policy.objects.select_for_update(no_key=True, of=('self',))"
        ".select_related('organization').get(pk=1)\n"
    )
    assert lock_problems(good, "good.py") == (1, set())
