"""Template helpers of the people pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from compliance.templatetags.attest import query
from people.completion import Cell, CellState

register = template.Library()


@register.simple_tag(takes_context=True)
def people_sort_link(context: dict[str, Any], key: str, label: str) -> str:
    """A column header that sorts the roster table (htmx swaps only the table)."""
    current = context.get("sort", "")
    target = f"-{key}" if current == key else key
    arrow = " ↑" if current == key else (" ↓" if current == f"-{key}" else "")
    css = "sorted" if current.lstrip("-") == key else ""
    url = query(context, sort=target, page=None)
    return format_html(
        '<a class="{}" href="{}" hx-get="{}" hx-target="#person-table" hx-push-url="true">{}{}</a>',
        css,
        url,
        url,
        label,
        arrow,
    )


def _day(day: Any) -> str:
    return date_format(day, "j M Y") if day else ""


@register.simple_tag
def cell_badge(cell: Cell, compact: bool = False, stacked: bool = False) -> str:
    """A requirement cell: done / due / overdue / not required, with its date and note.

    ``stacked`` (the completion matrix) puts a due date under the badge, so that a row of
    seven requirements fits the page's width."""
    state = cell.state
    if state == CellState.NOT_REQUIRED:
        return mark_safe('<span class="muted" title="Not required">—</span>')
    if state == CellState.UNKNOWN:
        return format_html('<span class="badge badge-muted" title="{}">?</span>', cell.note)
    if state == CellState.DONE:
        label = "Done" if compact or not cell.done_on else f"Done {_day(cell.done_on)}"
        title = f"Done {_day(cell.done_on)}" if cell.done_on else "Done"
        if cell.expires:
            title += f"; valid until {_day(cell.expires)}"
    else:
        # Compact dates drop the year only when it is this year's.
        due = cell.due
        this_year = due is not None and due.year == timezone.localdate().year
        when = date_format(due, "j M") if compact and due and this_year else _day(due)
        label = f"{state.label} {when}".strip()
        title = f"{state.label} {_day(cell.due)}" if cell.due else state.label
    if cell.note:
        title += f" — {cell.note}"
    tone = "warn" if state == CellState.DONE and cell.note else cell.tone
    if stacked and state != CellState.DONE and when:
        return format_html(
            '<span class="badge badge-{}" title="{}">{}</span><span class="cell-date">{}</span>',
            tone,
            title,
            state.label,
            when,
        )
    return format_html('<span class="badge badge-{}" title="{}">{}</span>', tone, title, label)


@register.filter
def tone_of(state: str) -> str:
    return CellState(state).tone if state in {s.value for s in CellState} else "muted"


@register.filter
def state_label(state: str) -> str:
    return CellState(state).label if state in {s.value for s in CellState} else state


SHORT_LABELS = {
    "background_check": "Background check",
    "agreement": "Agreement / NDA",
    "security_training": "Training",
    "policy_acknowledgements": "Policies",
    "password_manager": "Password manager",
    "mfa": "MFA",
    "offboarding": "Access revoked",
}


@register.filter
def short_label(kind: str) -> str:
    return SHORT_LABELS.get(kind, kind)
