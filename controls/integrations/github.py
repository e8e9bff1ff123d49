"""A small client for the GitHub REST API, as the GitHub checks use it.

Every way GitHub can fail to answer — a rejected token, a missing repository, a rate limit that
does not reset soon, a 5xx, a timeout, malformed JSON — becomes a :class:`CheckError` naming what
was asked, so that a run is an error and never a pass. Pagination follows the ``Link`` header.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from controls.checks import CheckError

if TYPE_CHECKING:
    from controls.checks import CheckContext

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100
# Pages followed for one listing (100 items each) before the rest is left out, with a log line.
MAX_PAGES = 50
# Seconds a run may wait for a rate limit to reset before retrying once; longer is an error.
RATE_LIMIT_MAX_WAIT = 5.0


class NotFound(CheckError):
    """GitHub answered 404; ``github_message`` is its own explanation ("Branch not protected")."""

    def __init__(self, message: str, github_message: str = "") -> None:
        super().__init__(message)
        self.github_message = github_message


def path_segment(value: str) -> str:
    """One path segment (a branch name may hold slashes), percent-encoded."""
    return quote(value, safe="")


class GitHub:
    """One session with GitHub: ``get`` an object, or iterate the ``pages`` of a listing."""

    def __init__(
        self,
        *,
        token: str,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 20.0,
        log: Callable[[str], None] = lambda line: None,
        max_pages: int = MAX_PAGES,
        max_wait: float = RATE_LIMIT_MAX_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise CheckError("The GitHub integration has no token; enter one on its page.")
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.timeout = timeout
        self.log = log
        self.max_pages = max_pages
        self.max_wait = max_wait
        self.sleep = sleep
        self._client = httpx.Client(
            base_url=self.api_url,
            timeout=timeout,
            # A renamed repository answers 301; httpx drops the token if the host changes.
            follow_redirects=True,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "Attest",
            },
        )

    @classmethod
    def for_context(cls, context: CheckContext) -> GitHub:
        config = context.integration.config if context.integration else {}
        return cls(
            token=str(context.credentials.get("token") or ""),
            api_url=str(config.get("api_url") or DEFAULT_API_URL),
            timeout=context.timeout,
            log=context.log,
        )

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    # --- reading ---------------------------------------------------------------------------------

    def get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON of ``GET path``."""
        return _json(self._request(path, params), path)

    def get_object(self, path: str, *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return expect_dict(self.get(path, params=params), f"GET {path}")

    def pages(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Each page of a listing, following ``rel="next"``; more than ``max_pages`` of them is
        an error. A caller that has read enough (pull requests older than its window) stops
        iterating earlier."""
        url: str = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        for number in range(1, self.max_pages + 1):
            response = self._request(url, query)
            yield expect_list(_json(response, path), f"GET {path} (page {number})")
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            url, query = self._same_origin(next_url, path), None
        # Never a verdict on part of the data: a pass could hide what was not read.
        raise CheckError(
            f"GET {path} has more than {self.max_pages} pages; narrow the check's parameters "
            "(list the repositories) so that every item is read."
        )

    # --- plumbing --------------------------------------------------------------------------------

    def _same_origin(self, url: str, path: str) -> str:
        """The next page's address, refused unless on the API's own host (it gets the token)."""
        ours, theirs = urlsplit(self.api_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise CheckError(f"GitHub pointed the next page of {path} to another host ({url}).")
        return url

    def _request(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        shown = _shown(url, self.api_url)
        for attempt in (1, 2):
            try:
                response = self._client.get(url, params=params)
            except httpx.TimeoutException as exc:
                raise CheckError(
                    f"GitHub did not answer GET {shown} within {self.timeout:g} s."
                ) from exc
            except httpx.HTTPError as exc:
                raise CheckError(f"Could not reach GitHub at {self.api_url}: {exc}.") from exc
            wait = _rate_limit_wait(response)
            if wait is None:
                break
            if attempt == 1 and wait <= self.max_wait:
                self.log(f"GitHub's rate limit: waiting {wait:.0f} s before retrying GET {shown}.")
                self.sleep(wait)
                continue
            raise CheckError(_rate_limit_message(response, wait))
        status = response.status_code
        if status == 200:
            return response
        message = _github_message(response)
        if status == 401:
            raise CheckError("GitHub rejected the token (401): replace it on the integration.")
        if status == 403:
            raise CheckError(
                f"The token may not read GET {shown} (403: {message or 'forbidden'}); "
                "give it the permissions the check needs."
            )
        if status == 404:
            raise NotFound(f"GitHub found nothing at GET {shown} (404).", message)
        if status >= 500:
            raise CheckError(f"GitHub failed with {status} on GET {shown}; try again later.")
        raise CheckError(f"GitHub answered {status} to GET {shown}: {message or 'no reason'}.")


def _shown(url: str, api_url: str) -> str:
    return url[len(api_url) :] if url.startswith(api_url) else url


def _json(response: httpx.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise CheckError(f"GitHub answered with malformed JSON to GET {path}.") from exc


def _github_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds to wait when the answer is a rate limit (403/429), else None."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("Retry-After", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if headers.get("X-RateLimit-Remaining") == "0":
        reset = headers.get("X-RateLimit-Reset", "").strip()
        if reset.isdigit():
            return max(1.0, int(reset) - time.time())
        return 60.0  # used up, reset unknown: GitHub's secondary limits advise a minute
    return None


def _rate_limit_message(response: httpx.Response, wait: float) -> str:
    reset = response.headers.get("X-RateLimit-Reset", "").strip()
    if response.headers.get("Retry-After", "").strip().isdigit():
        when = f"GitHub asks to wait {wait:.0f} s before the next request"
    elif reset.isdigit():
        at = dt.datetime.fromtimestamp(int(reset), tz=dt.UTC)
        when = f"it resets at {at:%Y-%m-%d %H:%M:%S} UTC"
    else:
        when = "GitHub did not say when it resets"
    return f"GitHub's rate limit for this token is used up ({response.status_code}); {when}."


# --- shapes ---------------------------------------------------------------------------------------


def malformed(what: str, expected: str) -> CheckError:
    return CheckError(f"GitHub answered with malformed JSON to {what}: expected {expected}.")


def expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(what, "an object")
    return value


def expect_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise malformed(what, "a list")
    return value


def expect_str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise malformed(what, f"a text in {key!r}")
    return value


def expect_time(obj: dict[str, Any], key: str, what: str) -> dt.datetime | None:
    """An ISO 8601 timestamp (``…Z``), None when GitHub sent null."""
    value = obj.get(key)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise malformed(what, f"a timestamp in {key!r}") from exc
    if parsed.tzinfo is None:
        raise malformed(what, f"a timestamp with a time zone in {key!r}")
    return parsed
