from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.nodeid import coerce_node_id
from django.test import Client
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from rest_framework.test import APIClient

from compliance.models import AuditEvent, Organization, Role, TotpDevice, User
from compliance.permissions import grant_object_permission
from controls.models import AdoptedFramework, Control, Framework, FrameworkCategory, Requirement
from tests.factories import (
    CategoryFactory,
    ControlFactory,
    FrameworkFactory,
    MembershipFactory,
    OrganizationFactory,
    RequirementFactory,
    UserFactory,
    adopt,
    days_from_now,
    map_control,
    recompute,
)

# Everyone who may try to cross a permission boundary, least to most privileged.
PERSONAS = [
    "anonymous",
    "outsider",
    "expired_auditor",
    "auditor",
    "viewer",
    "member",
    "granted",
    "owner",
    "admin",
]


@dataclass
class World:
    """One organization with a person of every role, and a stranger organization next door."""

    org: Organization
    other_org: Organization
    framework: Framework
    security: FrameworkCategory
    optional: FrameworkCategory
    req_a: Requirement
    req_b: Requirement
    req_gap: Requirement
    req_optional: Requirement
    adoption: AdoptedFramework
    users: dict[str, User]
    control: Control  # owned by "owner", backed up by nobody, granted to "granted"
    unowned_control: Control
    foreign_control: Control  # belongs to other_org
    clients: dict[str, Any] = field(default_factory=dict)

    def user(self, persona: str) -> User | None:
        return self.users.get(persona)

    def client(self, persona: str) -> Client:
        client = Client()
        user = self.users.get(persona)
        if user is not None:
            client.force_login(user)
        return client

    def api(self, persona: str) -> APIClient:
        client = APIClient()
        user = self.users.get(persona)
        if user is not None:
            client.force_authenticate(user)
        return client


def enable_mfa(user: User, secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") -> str:  # noqa: S107
    """Turn on two-factor sign-in for ``user`` with ``secret``; returns the secret."""
    import pyotp
    from django.utils import timezone

    from compliance import mfa

    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=user, secret=secret, code=pyotp.TOTP(secret).at(earlier), now=earlier)
    return secret


def build_world() -> World:
    org = OrganizationFactory(name="Acme", slug="acme")
    other_org = OrganizationFactory(name="Globex", slug="globex")
    framework = FrameworkFactory(slug="tsc", short_name="TSC", name="Test Services Criteria")
    security = CategoryFactory(
        framework=framework, code="SEC", name="Security", mandatory=True, order=0
    )
    optional = CategoryFactory(
        framework=framework, code="AV", name="Availability", mandatory=False, order=1
    )
    req_a = RequirementFactory(category=security, ref_id="SEC1.1", title="Access is restricted")
    req_b = RequirementFactory(category=security, ref_id="SEC1.2", title="Changes are approved")
    req_gap = RequirementFactory(category=security, ref_id="SEC1.3", title="Incidents are handled")
    req_optional = RequirementFactory(category=optional, ref_id="AV1.1", title="Backups are tested")
    adoption = adopt(org, framework, security)
    adopt(other_org, framework, security)

    users: dict[str, User] = {}
    for persona, role in [
        ("admin", Role.ADMIN),
        ("owner", Role.MEMBER),
        ("member", Role.MEMBER),
        ("granted", Role.MEMBER),
        ("viewer", Role.VIEWER),
        ("auditor", Role.AUDITOR),
        ("expired_auditor", Role.AUDITOR),
    ]:
        user = UserFactory(
            email=f"{persona}@acme.test", full_name=persona.replace("_", " ").title()
        )
        expires = None
        if persona == "auditor":
            expires = days_from_now(30)
        elif persona == "expired_auditor":
            expires = days_from_now(-1)
        MembershipFactory(user=user, organization=org, role=role, expires_at=expires)
        if role == Role.AUDITOR:
            # Auditors see nothing before they turn on two-factor sign-in (audits app). The
            # device row only: the service's audit event and recovery codes would be the
            # world's own, where tests read "the latest event" or count codes.
            TotpDevice.objects.create(user=user, secret="unused: no code is ever checked")
        users[persona] = user
    outsider = UserFactory(email="outsider@globex.test", full_name="Outsider")
    MembershipFactory(user=outsider, organization=other_org, role=Role.ADMIN)
    users["outsider"] = outsider

    control = ControlFactory(
        organization=org, ref_id="IAM-01", name="MFA everywhere", owner=users["owner"]
    )
    map_control(control, req_a)
    grant_object_permission(users["granted"], "change_control", control)
    unowned = ControlFactory(organization=org, ref_id="CHG-01", name="Changes are reviewed")
    map_control(unowned, req_b)
    foreign = ControlFactory(organization=other_org, ref_id="IAM-01", name="Globex secret control")
    map_control(foreign, req_a)
    # Built with factories, which bypass the services that keep readiness current.
    recompute(org, other_org)
    return World(
        org=org,
        other_org=other_org,
        framework=framework,
        security=security,
        optional=optional,
        req_a=req_a,
        req_b=req_b,
        req_gap=req_gap,
        req_optional=req_optional,
        adoption=adoption,
        users=users,
        control=control,
        unowned_control=unowned,
        foreign_control=foreign,
    )


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def audit_count(db: Any):  # type: ignore[no-untyped-def]
    """How many audit events exist now (every write adds one, so unchanged = nothing written)."""
    return lambda: AuditEvent.objects.count()


# Playwright driving Debian's Chromium (never a downloaded browser) against the live server.
# Playwright's sync API allows one instance per thread, so there is one session-wide browser here.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}; `make test` installs Debian's package."
        )
    # Playwright gives each launch a fresh, empty profile of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# Every page reports what its Content-Security-Policy blocked (the browser also logs it).
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


# Redoc's bundle always shows its vendor's logo from their CDN (hidden again when it fails to
# load); the policy keeps readers' browsers from calling that third party, on purpose.
_DELIBERATELY_BLOCKED = ("https://cdn.redoc.ly/",)


def _is_policy_complaint(text: str) -> bool:
    if any(url in text for url in _DELIBERATELY_BLOCKED):
        return False
    return any(
        marker in text
        for marker in (
            "CSP violation",
            "Content Security Policy",
            "Content-Security-Policy",
            "Permissions-Policy",
            "Permissions policy",
        )
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page at 1440 px. A test fails if anything on its pages broke the Content-Security-Policy
    (a script, style or connection it blocked) or the Permissions-Policy header was rejected."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    complaints: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if _is_policy_complaint(message.text):
            complaints.append(f"{message.page.url if message.page else ''}: {message.text}")

    context.on("console", note)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not complaints, "the browser reported policy violations:\n" + "\n".join(complaints)


def settings_refusal(environment: dict[str, str]) -> str:
    """Start Django with the production settings module and ``environment`` (the rest of this
    process's environment underneath); it must refuse to start. Returns what it printed."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "compliance.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, "the settings were accepted"
    return result.stderr


def operator_client(user: User, **client_options: Any) -> Client:
    """A client signed in as an operator of the installation the way the admin site requires:
    staff, two-factor sign-in on, and this session has typed a code."""
    import pyotp

    from compliance import mfa
    from compliance.views.auth import MFA_CONFIRMED

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    if not mfa.is_enabled(user):
        enable_mfa(user, pyotp.random_base32())
    client = Client(**client_options)
    client.force_login(user)
    session = client.session
    session[MFA_CONFIRMED] = mfa.device_id(user)
    session.save()
    return client


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Path) -> Path:
    """This test's evidence files in a folder of its own, like a fresh installation (every
    finished control-test run is stored as evidence too). Every test gets one, so no test writes
    into another's files or into the working copy's var/."""
    root = tmp_path / "evidence"
    settings.EVIDENCE_ROOT = root
    settings.EVIDENCE_INCOMING_DIR = root / ".incoming"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "evidence.storage.EvidenceFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


# --- The suite leaves the working copy's data alone ---------------------------------------------
# tests/settings.py points every default path into a temporary folder; this guard catches anything
# that still writes into var/ (a hard-coded path, a subprocess given the wrong environment): the
# session fails and names the files.
WORKING_COPY_DATA = Path(__file__).resolve().parents[1] / "var"


def _data_snapshot() -> dict[str, tuple[int, int]]:
    if not WORKING_COPY_DATA.exists():
        return {}
    snapshot = {}
    for path in WORKING_COPY_DATA.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            snapshot[str(path.relative_to(WORKING_COPY_DATA))] = (stat.st_size, stat.st_mtime_ns)
    return snapshot


# --- Every collected test has its own id -------------------------------------------------------
# pytest-xdist schedules tests by node id: two tests sharing one run once. schemathesis names each
# operation's test ("…[GET /api/checks/]") but gives all of them the function's node id, so under
# two workers 93 of its 94 tests were silently never run. Each such test gets its name as its id,
# and a collection in which two tests still share one is refused.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.rsplit("::", 1)[-1] != item.name and "[" not in item.nodeid:
            nodeid = f"{item.nodeid.rsplit('::', 1)[0]}::{item.name}"
            # pytest 9 keeps the id structured (a private attribute; the check below fails the
            # run loudly if a later pytest stores it elsewhere).
            item._id = coerce_node_id(nodeid)  # type: ignore[attr-defined]
    seen: set[str] = set()
    shared = sorted({item.nodeid for item in items if item.nodeid in seen or seen.add(item.nodeid)})
    if shared:
        raise pytest.UsageError(
            "tests share a node id (pytest-xdist would run only one of each): "
            + ", ".join(shared[:5])
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_DATA_BEFORE] = _data_snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_DATA_BEFORE, None)
    if before is None or hasattr(session.config, "workerinput"):
        return  # the controlling process checks once, not every worker
    if os.environ.get("ATTEST_TEST_IGNORE_VAR") == "true":
        return  # a `make run` is working in var/ at the same time
    changed = var_changes(before, _data_snapshot())
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        listing = "\n  ".join(changed[:20])
        message = (
            f"the test suite wrote into {WORKING_COPY_DATA}:\n  {listing}\n"
            "(if a `make run` was working there meanwhile, ATTEST_TEST_IGNORE_VAR=true skips this)"
        )
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def var_changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """Files of var/ that appeared, changed or went away between two snapshots."""
    names = sorted(set(before) | set(after))
    return [name for name in names if before.get(name) != after.get(name)]


_DATA_BEFORE = pytest.StashKey[dict[str, tuple[int, int]]]()
