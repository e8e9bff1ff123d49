"""The one rendering of the public page, shared by the public view and the admins' preview."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import http_date, parse_http_date_safe

from trust.models import TrustPage
from trust.page_cache import TRUST_PAGE_TTL, Rendered, cached_render
from trust.selectors import public_page_data

# Public trust pages run no script and carry no inline style.
PUBLIC_CSP = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def render_page(page: TrustPage) -> bytes:
    """The page's HTML; rendered without the request, so nothing of the visitor (no CSRF
    token, no nonce, no session) can be in it, and the cache may serve it to anyone."""
    return render_to_string("trust/public/page.html", public_page_data(page).context()).encode()


def page_rendered(page: TrustPage) -> Rendered:
    return cached_render(page.organization_id, "page", lambda: render_page(page))


def not_modified(request: HttpRequest, rendered: Rendered) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return rendered.etag in tags or "*" in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(rendered.rendered_at.timestamp()) <= since


def public_response(
    request: HttpRequest, rendered: Rendered, content_type: str = "text/html; charset=utf-8"
) -> HttpResponse:
    response = (
        HttpResponse(status=304)
        if not_modified(request, rendered)
        else HttpResponse(rendered.body, content_type=content_type)
    )
    response["ETag"] = rendered.etag
    response["Last-Modified"] = http_date(rendered.rendered_at.timestamp())
    response["Cache-Control"] = f"public, max-age={TRUST_PAGE_TTL}"
    response["Content-Security-Policy"] = PUBLIC_CSP
    return response


SECURITY_TXT_DEFAULT_LIFETIME = timedelta(days=365)
