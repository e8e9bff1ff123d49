"""Words for people instead of stored keys: ``background_check`` reads "Background check".

The audit trail stores field names and values as written (that is what is hash-chained); the page
shows them with the model's labels and choice labels, and humanizes any other key it meets.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.formats import date_format

register = template.Library()

_KEY = re.compile(r"^[a-z][a-z0-9]*([_.][a-z0-9]+)*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@register.filter
def humanize_key(value: Any) -> str:
    """``background_check`` → "Background check"; ``control_set.import`` → "Control set: import"."""
    text = str(value)
    parts = [p.replace("_", " ").strip() for p in text.split(".")]
    joined = ": ".join(p for p in parts if p)
    return joined[:1].upper() + joined[1:]


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


APPS = ("compliance", "controls", "evidence", "policies", "people", "vendors")


@cache
def _choices_by_name() -> dict[str, dict[str, str]]:
    """Choice labels of every field with choices, by field name, across Attest's models (an
    event about a person can record a field of one of its records, like ``kind``)."""
    found: dict[str, dict[str, str]] = {}
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.concrete_fields:
            base = getattr(field, "base_field", None)
            chosen = field if field.choices else base if base is not None and base.choices else None
            if chosen is not None:
                labels = found.setdefault(field.name, {})
                for key, label in chosen.flatchoices:
                    labels.setdefault(str(key), str(label))
    return found


@cache
def _unique_choice_labels() -> dict[str, str]:
    """Choice values that mean one thing wherever they appear, with their label."""
    labels: dict[str, set[str]] = {}
    for choices in _choices_by_name().values():
        for key, label in choices.items():
            labels.setdefault(key, set()).add(label)
    return {key: next(iter(found)) for key, found in labels.items() if len(found) == 1}


def _display(value: Any, field: models.Field | None, name: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_display(v, field, name) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{humanize_key(k)}: {_display(v, None)}" for k, v in value.items())
    if field is not None and field.choices:
        labels = {str(k): str(v) for k, v in field.flatchoices}
        if str(value) in labels:
            return labels[str(value)]
    base_field = getattr(field, "base_field", None)  # an array of choices
    if base_field is not None and base_field.choices:
        return _display(value, base_field)
    text = str(value)
    if field is None and text in _choices_by_name().get(name, {}):
        return _choices_by_name()[name][text]
    if field is None and text in _unique_choice_labels():
        return _unique_choice_labels()[text]
    if _ISO_DATE.match(text):
        try:
            return date_format(dt.date.fromisoformat(text), "j M Y")
        except ValueError:
            return text
    if _KEY.match(text) and "_" in text:
        return humanize_key(text)
    return text


@register.filter
def audit_changes(event: Any) -> list[dict[str, Any]]:
    """The event's changed fields: label, old value (when there was one) and new value."""
    try:
        model = apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        model = None
    before = event.before or {}
    after = event.after or {}
    rows = []
    for name in list(after) + [k for k in before if k not in after]:
        field = _field(model, name)
        label = str(field.verbose_name) if field is not None else name
        rows.append(
            {
                "label": label[:1].upper() + label[1:].replace("_", " "),
                "before": _display(before[name], field, name) if name in before else None,
                "after": _display(after[name], field, name) if name in after else None,
                "removed": name not in after,
            }
        )
    return rows
