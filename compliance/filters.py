"""The base of every filter set: pages, CSV exports and the API filter the same way.

A filter form sends every field it shows, chosen or not: picking a status on the controls page
submits ``?q=&status=implemented&owner=&framework=&category=``. An empty value means "any", so
it is dropped before validation; a choice filter would otherwise reject ``""`` as "not one of
the available choices" and the page would show no row at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.http import QueryDict


def without_empty_values(data: Mapping[str, Any]) -> QueryDict:
    """``data`` without its blank values; a key left with no value is left out."""
    cleaned = QueryDict(mutable=True)
    for key in data:
        if isinstance(data, QueryDict):
            values: list[Any] = data.getlist(key)
        else:
            raw = data[key]
            values = list(raw) if isinstance(raw, list | tuple) else [raw]
        kept = [v for v in values if v is not None and str(v).strip() != ""]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned


class FilterSet(django_filters.FilterSet):
    """A filter set on which an empty value of any filter means "any"."""

    def __init__(self, data: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(without_empty_values(data) if data is not None else None, *args, **kwargs)
