"""Badges and sort links of the policy pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from compliance.templatetags.attest import query

register = template.Library()

_VERSION = {
    "draft": ("badge-muted", "Draft"),
    "in_review": ("badge-info", "In review"),
    "approved": ("badge-ok", "Approved"),
    "retired": ("badge-muted", "Retired"),
}


@register.simple_tag
def version_badge(status: str) -> SafeString:
    css, label = _VERSION.get(status, ("badge-muted", status))
    return format_html('<span class="badge {}">{}</span>', css, label)


@register.simple_tag
def review_badge(state: str, due: dt.date | None) -> SafeString:
    if due is None or state == "none":
        return mark_safe('<span class="muted">—</span>')
    label = date_format(due, "j M Y")
    if state == "overdue":
        return format_html('<span class="badge badge-bad" title="Review overdue">{}</span>', label)
    if state == "due_soon":
        return format_html(
            '<span class="badge badge-warn" title="Review due soon">{}</span>', label
        )
    return format_html("<span>{}</span>", label)


@register.simple_tag(takes_context=True)
def sort_by(context: dict[str, Any], key: str, label: str, anchor: str = "") -> SafeString:
    """A column header that sorts by ``key`` (again: reverses), keeping the other filters."""
    current = context.get("sort", "")
    target = f"-{key}" if current == key else key
    arrow = " ↑" if current == key else (" ↓" if current == f"-{key}" else "")
    css = "sorted" if current.lstrip("-") == key else ""
    href = query(context, sort=target, page=None) + (f"#{anchor}" if anchor else "")
    return format_html('<a class="{}" href="{}">{}{}</a>', css, href, label, arrow)
