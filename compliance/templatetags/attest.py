from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_STATUS = {
    "not_started": ("badge-muted", "Not started"),
    "in_progress": ("badge-warn", "In progress"),
    "implemented": ("badge-ok", "Implemented"),
    "not_applicable": ("badge-info", "Not applicable"),
}
_STATE = {
    "ready": ("badge-ok", "Ready"),
    "not_ready": ("badge-warn", "Not ready"),
    "gap": ("badge-bad", "Gap"),
}


@register.simple_tag
def status_badge(status: str) -> str:
    css, label = _STATUS.get(status, ("badge-muted", status))
    return format_html('<span class="badge {}">{}</span>', css, label)


@register.simple_tag
def state_badge(state: str) -> str:
    css, label = _STATE.get(str(state), ("badge-muted", str(state)))
    return format_html('<span class="badge {}">{}</span>', css, label)


@register.simple_tag
def target_date(day: dt.date | None, status: str) -> str:
    """A control's target date, flagged when it passed and the control is not ready."""
    if day is None:
        return mark_safe('<span class="muted">—</span>')
    label = date_format(day, "j M Y")
    if day < timezone.localdate() and status not in ("implemented", "not_applicable"):
        return format_html(
            '<span class="badge badge-bad" title="Past its target date">{}</span>', label
        )
    return format_html("<span>{}</span>", label)


@register.simple_tag
def person(user: Any) -> str:
    if user is None:
        return mark_safe('<span class="muted">Unassigned</span>')
    return format_html(
        '<span class="person"><span class="avatar">{}</span>{}</span>',
        user.initials,
        user.display_name,
    )


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (``None`` removes one)."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context: dict[str, Any], key: str, label: str) -> str:
    current = context.get("sort", "")
    descending = current == key
    target = f"-{key}" if descending else key
    arrow = " ↑" if current == key else (" ↓" if current == f"-{key}" else "")
    css = "sorted" if current.lstrip("-") == key else ""
    return format_html(
        '<a class="{}" href="{}" hx-get="{}" hx-target="#control-table" hx-push-url="true">'
        "{}{}</a>",
        css,
        query(context, sort=target, page=None),
        query(context, sort=target, page=None),
        label,
        arrow,
    )


@register.filter
def frequency_label(value: str) -> str:
    from controls.models import Frequency

    return str(Frequency(value).label) if value in Frequency.values else value


@register.filter
def percent_of(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@register.filter
def field_has_error(field: Any) -> str:
    return " has-error" if getattr(field, "errors", None) else ""


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template, or None when it is not there."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
