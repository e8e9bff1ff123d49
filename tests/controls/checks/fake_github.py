"""A fake GitHub: a real HTTP server on 127.0.0.1 answering the REST endpoints the checks use.

Tests put canned answers on paths (a JSON body, a status, headers, a delay), listings served in
pages with ``Link`` headers, or a sequence of answers (a rate limit, then the data). Every request
is recorded with its query and headers. Unknown paths answer 404 like GitHub.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-ready, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering


@dataclass
class Request:
    method: str
    path: str  # without the server's prefix and the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names


Route = Callable[[Request], Reply]


class FakeGitHub:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix.rstrip("/")
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one interval
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answers -------------------------------------------------------------------------------

    def reply(
        self,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.replies(path, Reply(status, body, headers or {}, delay))

    def replies(self, path: str, *replies: Reply) -> None:
        """Answer the requests to ``path`` in this order; the last answer repeats."""
        queue = list(replies)

        def route(request: Request) -> Reply:
            with self._lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self.routes[path] = route

    def paginate(self, path: str, items: list[Any], *, page_size: int = 2) -> None:
        """Serve ``items`` in pages of ``page_size`` (whatever per_page asks), linked by Link."""
        last = max(1, -(-len(items) // page_size))

        def route(request: Request) -> Reply:
            page = int(request.query.get("page", "1"))
            chunk = items[(page - 1) * page_size : page * page_size]
            links = []

            def link(number: int, rel: str) -> None:
                query = urlencode({**request.query, "page": str(number)})
                links.append(f'<{self.url}{path}?{query}>; rel="{rel}"')

            if page < last:
                link(page + 1, "next")
                link(last, "last")
            if page > 1:
                link(1, "first")
                link(page - 1, "prev")
            return Reply(200, chunk, {"Link": ", ".join(links)} if links else {})

        self.routes[path] = route

    # --- canned GitHub objects -----------------------------------------------------------------

    def repository(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        archived: bool = False,
        security: dict[str, str] | None = None,
        hide_security: bool = False,
    ) -> dict[str, Any]:
        """Serve ``GET /repos/{full_name}`` and return the object (for listings)."""
        owner, name = full_name.split("/")
        repo: dict[str, Any] = {
            "id": abs(hash(full_name)) % 10**8,
            "name": name,
            "full_name": full_name,
            "owner": {"login": owner, "type": "Organization"},
            "private": True,
            "archived": archived,
            "disabled": False,
            "default_branch": default_branch,
            "html_url": f"https://github.com/{full_name}",
        }
        if not hide_security:
            statuses = {
                "dependabot_security_updates": "enabled",
                "secret_scanning": "enabled",
                "secret_scanning_push_protection": "enabled",
                **(security or {}),
            }
            repo["security_and_analysis"] = {
                key: {"status": status} for key, status in statuses.items() if status
            }
        self.reply(f"/repos/{full_name}", repo)
        self.rulesets(full_name, default_branch)  # GitHub lists no rules when there are none
        return repo

    def rulesets(
        self, full_name: str, branch: str = "main", *rules: dict[str, Any], page_size: int = 30
    ) -> None:
        """Serve the rules that active rulesets apply to the branch (``GET .../rules/branches``)."""
        path = f"/repos/{full_name}/rules/branches/{quote(branch, safe='')}"
        self.paginate(path, list(rules), page_size=page_size)

    def protection(self, full_name: str, branch: str = "main", *, approvals: int | None) -> None:
        """Serve the branch's protection; ``approvals=None``: protected without required reviews."""
        base = f"{self.url}/repos/{full_name}/branches/{branch}/protection"
        body: dict[str, Any] = {
            "url": base,
            "required_status_checks": None,
            "enforce_admins": {"url": f"{base}/enforce_admins", "enabled": True},
        }
        if approvals is not None:
            body["required_pull_request_reviews"] = {
                "url": f"{base}/required_pull_request_reviews",
                "dismiss_stale_reviews": True,
                "require_code_owner_reviews": False,
                "required_approving_review_count": approvals,
            }
        self.reply(f"/repos/{full_name}/branches/{branch}/protection", body)

    def unprotected(self, full_name: str, branch: str = "main") -> None:
        self.reply(
            f"/repos/{full_name}/branches/{branch}/protection",
            {"message": "Branch not protected", "documentation_url": "https://docs.github.com"},
            status=404,
        )

    # --- what was asked ------------------------------------------------------------------------

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def rule(kind: str, ruleset_id: int = 1, **parameters: Any) -> dict[str, Any]:
    """One rule as GitHub lists it for a branch; ``pull_request`` takes its approvals."""
    item: dict[str, Any] = {
        "type": kind,
        "ruleset_source_type": "Repository",
        "ruleset_source": "acme/api",
        "ruleset_id": ruleset_id,
    }
    if parameters:
        item["parameters"] = parameters
    return item


def pull_request_rule(approvals: int, ruleset_id: int = 1) -> dict[str, Any]:
    return rule(
        "pull_request",
        ruleset_id,
        required_approving_review_count=approvals,
        dismiss_stale_reviews_on_push=True,
        require_code_owner_review=False,
        require_last_push_approval=False,
        required_review_thread_resolution=False,
    )


def pull_request(
    repo: str,
    number: int,
    *,
    title: str = "Change things",
    body: str | None = None,
    branch: str = "change-things",
    merged: dt.datetime | None,
    updated: dt.datetime,
    author: str = "octocat",
) -> dict[str, Any]:
    """A pull request as ``GET /repos/{repo}/pulls`` lists it (the fields that matter); an
    ``author`` ending in ``[bot]`` is a GitHub App's account, as GitHub shows Dependabot."""

    def stamp(value: dt.datetime | None) -> str | None:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    return {
        "number": number,
        "state": "closed",
        "title": title,
        "body": body,
        "user": {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"},
        "head": {"ref": branch, "label": f"acme:{branch}"},
        "base": {"ref": "main"},
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "created_at": stamp(updated - dt.timedelta(days=1)),
        "updated_at": stamp(updated),
        "closed_at": stamp(merged or updated),
        "merged_at": stamp(merged),
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        path = parts.path
        if fake.prefix and path.startswith(fake.prefix):
            path = path[len(fake.prefix) :]
        request = Request(
            method="GET",
            path=path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        with fake._lock:
            fake.requests.append(request)
        route = fake.routes.get(path)
        reply = route(request) if route else Reply(404, NOT_FOUND)
        if reply.delay:
            threading.Event().wait(reply.delay)
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass
