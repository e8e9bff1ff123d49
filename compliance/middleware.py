from __future__ import annotations

import json
import logging
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from compliance.request_context import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a sane ``X-Request-ID`` from the proxy).

    The id is written on every audit event and log line and returned in the response header, so a
    user's report can be traced to the rows it wrote.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


NULL_MESSAGE = "Null characters are not allowed."
_JSON_NULL = b"\\u0000"  # how JSON spells a NUL inside a string; a raw NUL is not valid JSON


class RejectNullCharactersMiddleware:
    """Answers 400 when the path, the query string, a cookie, a form field or a JSON string
    carries a NUL character.

    PostgreSQL cannot store or compare text containing NUL, so such a value reaching any query
    is a 500 from the database driver. Refusing it here, once, protects every view, filter and
    API endpoint. Multipart bodies are left to the view (their text fields go through form and
    serializer fields, which refuse NUL themselves; the files are never read here).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self.find_null(request)
        if problem is not None:
            return self.refuse(request, *problem)
        return self.get_response(request)

    @staticmethod
    def find_null(request: HttpRequest) -> tuple[str, str] | None:
        """(where, name) of the first NUL found, or None."""
        if "\x00" in request.path_info:
            return "path", ""
        for source, values in (("query", request.GET), ("cookie", request.COOKIES)):
            for name, value in _pairs(values):
                if "\x00" in name or "\x00" in value:
                    return source, name
        content_type = request.content_type or ""
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        if content_type == "application/x-www-form-urlencoded":
            for name, value in _pairs(request.POST):
                if "\x00" in name or "\x00" in value:
                    return "form", name
        elif content_type == "application/json" or content_type.endswith("+json"):
            body = request.body  # bounded by DATA_UPLOAD_MAX_MEMORY_SIZE (else RequestDataTooBig)
            if _JSON_NULL in body:
                try:
                    data = json.loads(body)
                except (ValueError, RecursionError):
                    return None  # malformed JSON: the parser answers 400 with its own message
                path = _null_in_json(data)
                if path is not None:
                    return "json", path
        return None

    @staticmethod
    def refuse(request: HttpRequest, where: str, name: str) -> HttpResponse:
        from compliance.views.errors import html_bad_request, is_api, json_error

        shown = name.replace("\x00", "\\0")
        if where == "path":
            message = "The address contains a null character (%00)."
        else:
            label = {"query": "query parameter", "cookie": "cookie", "form": "field"}.get(
                where, "field"
            )
            message = f"The {label} “{shown}” contains a null character, which is not allowed."
        if is_api(request):
            if where in ("form", "json", "query") and shown:
                return json_error(400, {shown: [NULL_MESSAGE]})
            return json_error(400, {"detail": message})
        return html_bad_request(message)


def _pairs(values: Any) -> Iterator[tuple[str, str]]:
    if hasattr(values, "lists"):
        for name, items in values.lists():
            for item in items:
                yield name, item
    else:
        yield from values.items()


def _null_in_json(data: Any) -> str | None:
    """The dotted path of the first string (or key) holding a NUL in a parsed JSON value.
    Iterative, so a deeply nested body cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                here = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return here
                stack.append((here, item))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((f"{path}.{index}" if path else str(index), value[index]))
    return None


# --- Security headers ---------------------------------------------------------------------------
# Django 5.2 has no Content-Security-Policy of its own; this one is small enough to keep here.
#
# Scripts run only from our own origin or with this response's nonce (no 'unsafe-inline', no
# 'unsafe-eval': htmx is configured with allowEval false in base.html). <style> elements need the
# nonce too; style="" attributes stay allowed through style-src-attr, because about 200 of them
# remain in the templates. Everything not named is refused by default-src 'none'.
_CSP = (
    "default-src 'none'",
    "script-src 'self' 'nonce-{nonce}'",
    "style-src 'self' 'nonce-{nonce}'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
)
# Redoc's bundle (the /api/redoc/ page) builds its styles at run time in <style> elements it
# cannot nonce, and runs its search in a worker made from a blob. Its scripts stay strict.
_CSP_REDOC = (
    *(directive for directive in _CSP if not directive.startswith("style-src")),
    "style-src 'self' 'unsafe-inline'",
    "worker-src blob:",
)

# Powerful browser features Attest never uses, refused for the page and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


def content_security_policy(nonce: str, *, redoc: bool = False) -> str:
    return "; ".join(_CSP_REDOC if redoc else _CSP).format(nonce=nonce)


class SecurityHeadersMiddleware:
    """Content-Security-Policy with a fresh nonce per request, Permissions-Policy, and
    ``Cache-Control: no-store`` on every response to a signed-in user (pages and API), so a shared
    or back-button cache never keeps what only that person may see.

    Templates read the nonce as ``{{ csp_nonce }}`` (compliance.context_processors.csp_nonce; the
    name django-htmx's ``{% htmx_script %}`` looks for).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(
                nonce, redoc=_is_redoc(request)
            )
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = PERMISSIONS_POLICY
        if _signed_in(request) and not request.path.startswith(settings.STATIC_URL or "/static/"):
            patch_cache_control(response, no_store=True)
        return response


def _signed_in(request: HttpRequest) -> bool:
    # DRF copies a token-authenticated user onto the Django request, so API calls count too; a
    # request that sent credentials the view did not check is treated the same.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated) or "Authorization" in request.headers


def _is_redoc(request: HttpRequest) -> bool:
    from drf_spectacular.views import SpectacularRedocView

    match = getattr(request, "resolver_match", None)
    view_class = getattr(getattr(match, "func", None), "view_class", None)
    return isinstance(view_class, type) and issubclass(view_class, SpectacularRedocView)
