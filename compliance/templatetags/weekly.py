"""Names of weeks on the weekly page (see compliance.meetings.weeks)."""

from __future__ import annotations

import datetime as dt

from django import template

from compliance.meetings.weeks import Week

register = template.Library()


@register.filter
def week_name(day: dt.date | None) -> str:
    """The week a date falls in: ``week 47``."""
    if not isinstance(day, dt.date):
        return ""
    return f"week {Week.of(day).number}"
