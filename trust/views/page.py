"""The public trust page and its security.txt: no account, no cookie, cached."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from trust import selectors
from trust.models import TrustPage
from trust.views.page_render import (
    PUBLIC_CSP,
    SECURITY_TXT_DEFAULT_LIFETIME,
    page_rendered,
    public_response,
)


@require_safe
def public_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.published_page(slug)
    return public_response(request, page_rendered(page))


def security_txt_body(page: TrustPage, canonical: str) -> str:
    """RFC 9116: Contact (required), Expires (required, under a year ahead), then the optional
    fields the page has."""
    if page.security_txt_expires:
        expires = datetime.combine(page.security_txt_expires, time.min, tzinfo=UTC)
    else:
        expires = (page.updated_at + SECURITY_TXT_DEFAULT_LIFETIME).replace(microsecond=0)
    lines = [
        f"Contact: mailto:{page.security_email}",
        f"Expires: {expires.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
    ]
    if page.preferred_languages:
        lines.append(f"Preferred-Languages: {page.preferred_languages}")
    if page.security_policy_url:
        lines.append(f"Policy: {page.security_policy_url}")
    lines.append(f"Canonical: {canonical}")
    return "\n".join(lines) + "\n"


@require_safe
def security_txt(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.published_page(slug)
    if not page.security_email:
        raise Http404("No security contact.")
    canonical = request.build_absolute_uri(reverse("trust_security_txt", args=[slug]))
    response = HttpResponse(
        security_txt_body(page, canonical), content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=3600"
    response["Content-Security-Policy"] = PUBLIC_CSP
    return response
