"""Template helpers of the vendor pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html

from compliance.templatetags.attest import query
from vendors.models import ReviewOutcome, RiskTier, Vendor

register = template.Library()

TIER_TONES: dict[str, str] = {
    RiskTier.CRITICAL: "bad",
    RiskTier.HIGH: "warn",
    RiskTier.MEDIUM: "info",
    RiskTier.LOW: "muted",
}
OUTCOME_TONES: dict[str, str] = {
    ReviewOutcome.APPROVED: "ok",
    ReviewOutcome.CONDITIONS: "warn",
    ReviewOutcome.REJECTED: "bad",
}


@register.simple_tag(takes_context=True)
def vendor_sort_link(context: dict[str, Any], key: str, label: str) -> str:
    """A column header that sorts the inventory (htmx swaps only the table)."""
    current = context.get("sort", "")
    target = f"-{key}" if current == key else key
    arrow = " ↑" if current == key else (" ↓" if current == f"-{key}" else "")
    css = "sorted" if current.lstrip("-") == key else ""
    url = query(context, sort=target, page=None)
    return format_html(
        '<a class="{}" href="{}" hx-get="{}" hx-target="#vendor-table" hx-push-url="true">{}{}</a>',
        css,
        url,
        url,
        label,
        arrow,
    )


@register.filter
def host(url: str) -> str:
    """The host of a website, without ``www.``: ``https://www.stripe.com/x`` → ``stripe.com``."""
    try:
        name = urlsplit(url or "").hostname or ""
    except ValueError:
        return ""
    return name.removeprefix("www.")


@register.simple_tag
def tier_badge(vendor: Vendor) -> str:
    return format_html(
        '<span class="badge badge-{}">{}</span>',
        TIER_TONES.get(vendor.risk_tier, "muted"),
        vendor.get_risk_tier_display(),
    )


@register.simple_tag
def outcome_badge(review: Any) -> str:
    return format_html(
        '<span class="badge badge-{}">{}</span>',
        OUTCOME_TONES.get(review.outcome, "muted"),
        review.get_outcome_display(),
    )


def _every(months: int) -> str:
    if months == 0:
        return "once, before onboarding"
    return f"every {months} month{'s' if months != 1 else ''}"


@register.filter
def cadence(vendor: Vendor) -> str:
    """How often the vendor is reviewed, and whether that is its tier's default."""
    text = _every(vendor.cadence_months)
    if vendor.uses_tier_cadence:
        return f"{text} (tier default)"
    return f"{text} (set for this vendor)"
