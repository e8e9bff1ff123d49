"""Security headers on every response: a strict Content-Security-Policy with a fresh nonce,
Permissions-Policy, and ``Cache-Control: no-store`` whenever someone is signed in.

The kind-catching tests are the crawl (every page each persona can reach by following links, every
inline script and <style> carrying the response's nonce, no event-handler attributes) and the scan
of every template in the repository, which also covers pages the crawl's data does not reach.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from compliance.middleware import PERMISSIONS_POLICY
from compliance.services import api_token_create
from evidence.services import evidence_create
from people.services.roster import person_create
from policies.services.workflow import policy_create
from tests.conftest import World, operator_client
from vendors.services import vendor_create

REPO = Path(__file__).resolve().parents[2]


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        assert name not in parsed, f"{name} appears twice in {policy!r}"
        parsed[name] = sources
    return parsed


def nonce_of(response, *, style_nonce: bool = True) -> str:  # type: ignore[no-untyped-def]
    """The nonce the response's policy allows for scripts, after checking the policy is strict."""
    assert "Content-Security-Policy" in response, "no Content-Security-Policy"
    csp = directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    scripts = csp["script-src"]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "data:", "*", "https:", "http:"} & set(scripts)
    nonces = [s for s in scripts if s.startswith("'nonce-")]
    assert len(nonces) == 1, scripts
    nonce = nonces[0][len("'nonce-") : -1]
    assert len(nonce) >= 22, "a nonce needs at least 128 bits"
    if style_nonce:
        assert f"'nonce-{nonce}'" in csp["style-src"]
        assert "'unsafe-inline'" not in csp["style-src"]
    return nonce


class PageParts(HTMLParser):
    """What the policy cares about in a page, and the links to follow."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.inline_scripts: list[str | None] = []  # their nonce attribute
        self.styles: list[str | None] = []
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline event handler)")
            if name.startswith(("hx-on", "data-hx-on")) or name in {"hx-vars", "data-hx-vars"}:
                self.problems.append(f"<{tag} {name}> (htmx would need eval)")
            if name in {"hx-vals", "data-hx-vals"} and (value or "").lstrip().startswith("js:"):
                self.problems.append(f"<{tag} {name}=js:…> (htmx would need eval)")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script" and not values.get("src"):
            kind = (values.get("type") or "text/javascript").lower()
            if kind in {"text/javascript", "module", "application/javascript"}:
                self.inline_scripts.append(values.get("nonce"))
        if tag == "style":
            self.styles.append(values.get("nonce"))
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def check_page(response, path: str) -> None:  # type: ignore[no-untyped-def]
    # Only the Redoc page lets its bundle write <style> elements (see compliance.middleware).
    nonce = nonce_of(response, style_nonce=path != reverse("redoc"))
    parts = PageParts()
    parts.feed(response.content.decode())
    assert not parts.problems, f"{path}: {parts.problems}"
    assert all(n == nonce for n in parts.inline_scripts), f"{path}: inline script without nonce"
    assert all(n == nonce for n in parts.styles), f"{path}: <style> without the nonce"


def crawl(client: Client, start: list[str], limit: int = 80) -> dict[str, int]:
    """Follow every same-site link (one visit per path) from the start pages; check each page."""
    queue = deque(start)
    seen: dict[str, int] = {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        path = urlsplit(url).path
        if path in seen or not path.startswith("/") or path.startswith(settings.STATIC_URL):
            continue
        response = client.get(url)
        seen[path] = response.status_code
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY, url
        if response.status_code in {301, 302}:
            queue.append(urljoin(url, response["Location"]))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            nonce_of(response)
            continue
        check_page(response, url)
        parts = PageParts()
        parts.feed(response.content.decode())
        for link in parts.links:
            target = urlsplit(urljoin(url, link))
            if not target.netloc or target.netloc == "testserver":
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


@pytest.fixture
def program(world: World, evidence_dir: Path) -> World:
    """The world, with one of each kind of thing the crawl should open (evidence stored in this
    test's own folder)."""
    admin = world.users["admin"]
    today = dt.date(2026, 1, 15)
    evidence_create(
        actor=admin,
        organization=world.org,
        title="Access review",
        kind="note",
        note="Reviewed every account.",
        effective_date=today,
        controls=[world.control],
    )
    policy_create(
        actor=admin,
        organization=world.org,
        title="Access control policy",
        category="access",
        body="# Access\n\nAccounts are **reviewed** quarterly.",
        owner=world.users["owner"],
    )
    person_create(
        actor=admin,
        organization=world.org,
        full_name="Robin Park",
        email="robin@acme.test",
        start_date=today,
    )
    vendor_create(actor=admin, organization=world.org, name="Cloudy Hosting", onboarded_on=today)
    return world


@pytest.mark.parametrize("persona", ["anonymous", "auditor", "viewer", "owner", "admin"])
def test_every_page_a_persona_reaches_has_a_strict_policy_and_nonced_scripts(
    program: World, persona: str
) -> None:
    start = ["/", "/login/", "/password-reset/", reverse("swagger-ui"), reverse("redoc")]
    if persona != "anonymous":
        start += [reverse("dashboard", args=["acme"]), reverse("organization_create")]
    seen = crawl(program.client(persona), start)
    pages = [path for path, status in seen.items() if status == 200]
    # The crawl really walked the app (a broken link walker would pass with nothing seen).
    least = {"anonymous": 3, "auditor": 6}.get(persona, 25)
    assert len(pages) >= least, seen


def page_names(resolver: URLResolver | None = None) -> Iterator[str]:
    """Every named URL pattern outside a namespace (the admin is crawled separately)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if not pattern.namespace:
                yield from page_names(pattern)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def test_every_url_pattern_that_needs_only_the_organization_has_the_policy(
    program: World,
) -> None:
    """Pages no link leads to yet are covered too: every pattern reversible with no argument or
    with just the organization, requested by an admin."""
    client = program.client("admin")
    checked = 0
    for name in sorted(set(page_names())):
        for kwargs in ({}, {"org": "acme"}):
            try:
                url = reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            response = client.get(url)
            assert response.status_code < 500, f"{url} answered {response.status_code}"
            if "text/html" in response.get("Content-Type", ""):
                check_page(response, url)
            else:
                nonce_of(response, style_nonce=False)
            checked += 1
    assert checked >= 40


def test_each_response_has_its_own_nonce(world: World) -> None:
    client = world.client("admin")
    url = reverse("dashboard", args=["acme"])
    first, second = client.get(url), client.get(url)
    assert nonce_of(first) != nonce_of(second)
    assert f'nonce="{nonce_of(second)}"' not in first.content.decode()


def test_the_api_docs_nonce_their_inline_scripts(world: World) -> None:
    client = world.client("viewer")
    swagger = client.get(reverse("swagger-ui"))
    assert swagger.status_code == 200
    check_page(swagger, "swagger")
    assert f'<script nonce="{nonce_of(swagger)}">' in swagger.content.decode()
    redoc = client.get(reverse("redoc"))
    assert redoc.status_code == 200
    check_page(redoc, reverse("redoc"))
    assert "fonts.googleapis.com" not in redoc.content.decode()
    # Redoc's bundle writes <style> elements it cannot nonce; its scripts stay strict.
    csp = directives(redoc["Content-Security-Policy"])
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]


def test_the_browsable_api_nonces_its_highlighting_style(world: World) -> None:
    response = world.client("viewer").get("/api/organizations/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "<style" in response.content.decode()
    check_page(response, "/api/organizations/")


def test_the_admin_site_works_under_the_policy(world: World) -> None:
    operator = world.users["admin"]
    operator.is_superuser = True
    operator.save()
    seen = crawl(operator_client(operator), ["/admin/"], limit=40)
    assert sum(1 for path, status in seen.items() if status == 200 and "/admin/" in path) >= 10


# --- Templates: the kind, wherever it hides -----------------------------------------------------
INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
JAVASCRIPT_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
HTMX_EVAL = re.compile(r"""\s(data-)?hx-(on\b|on:|on-|vars\b)|hx-vals\s*=\s*["']\s*js:""", re.I)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
STYLE_TAG = re.compile(r"<style\b([^>]*)>", re.I)
TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.DOTALL)


def project_templates() -> list[Path]:
    found = sorted((REPO / "templates").rglob("*.html"))
    for app in ["compliance", "controls", "evidence", "policies", "people", "vendors"]:
        found += sorted((REPO / app).glob("templates/**/*.html"))
    return [path for path in found if "/emails/" not in str(path)]


def test_templates_have_no_inline_handlers_javascript_urls_or_unnonced_scripts() -> None:
    templates = project_templates()
    assert len(templates) > 50
    problems = []
    for path in templates:
        text = TEMPLATE_COMMENT.sub("", path.read_text())
        name = path.relative_to(REPO)
        if INLINE_HANDLER.search(text):
            problems.append(f"{name}: inline event handler (use a data- attribute + attest.js)")
        if JAVASCRIPT_URL.search(text):
            problems.append(f"{name}: javascript: URL")
        if HTMX_EVAL.search(text):
            problems.append(f"{name}: an htmx attribute that needs eval")
        for attrs in SCRIPT_TAG.findall(text):
            if "src=" not in attrs and "{{ csp_nonce }}" not in attrs:
                problems.append(f'{name}: inline <script> without nonce="{{{{ csp_nonce }}}}"')
        for attrs in STYLE_TAG.findall(text):
            if "{{ csp_nonce }}" not in attrs:
                problems.append(f'{name}: <style> without nonce="{{{{ csp_nonce }}}}"')
    assert not problems, "\n".join(problems)


def test_the_template_scan_finds_each_kind(tmp_path: Path) -> None:
    """The patterns above are not vacuous: each catches what it is meant to."""
    assert INLINE_HANDLER.search('<select id="x"\n  onchange="this.form.submit()">')
    assert INLINE_HANDLER.search('<form method="post" onsubmit="return confirm(1)">')
    assert not INLINE_HANDLER.search('<select data-autosubmit name="condition">')
    assert JAVASCRIPT_URL.search('<a href="javascript:void(0)">')
    assert HTMX_EVAL.search('<button hx-on:click="alert(1)">')
    assert HTMX_EVAL.search("<div hx-vals='js:{a: 1}'>")
    assert SCRIPT_TAG.findall("<script>alert(1)</script>") == [""]


# --- Other headers ------------------------------------------------------------------------------
def test_permissions_policy_denies_powerful_features(world: World) -> None:
    response = Client().get(reverse("login"))
    policy = dict(item.split("=") for item in response["Permissions-Policy"].split(", "))
    for feature in ["camera", "microphone", "geolocation", "payment", "usb"]:
        assert policy[feature] == "()"


def test_signed_in_pages_are_not_stored_by_any_cache(world: World) -> None:
    response = world.client("viewer").get(reverse("dashboard", args=["acme"]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_responses_to_a_session_are_not_stored(world: World) -> None:
    client = Client()
    client.force_login(world.users["viewer"])
    response = client.get("/api/organizations/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    nonce_of(response)  # JSON answers carry the policy too (default-src 'none')


def test_api_responses_to_a_token_are_not_stored(world: World) -> None:
    _, secret = api_token_create(actor=world.users["viewer"], name="ci")
    response = Client().get("/api/organizations/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
