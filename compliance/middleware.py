from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Callable

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
