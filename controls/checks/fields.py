"""Form fields for check parameters that arrive as JSON from the API as often as from a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class StrictCheckbox(forms.CheckboxInput):
    """A checkbox that hands over what it cannot read instead of calling it "on"; a parameter
    left out is None, so the field's default applies."""

    TRUE = frozenset({"true", "on", "1", "yes"})
    FALSE = frozenset({"false", "off", "0", "no", ""})

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if name not in data:
            return None
        value = data.get(name)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in self.TRUE:
                return True
            if lowered in self.FALSE:
                return False
        return value


class StrictBooleanField(forms.BooleanField):
    """true or false, and nothing else: "maybe" or 3 is refused, not read as true. Left out,
    it is ``default`` (the checkbox starts in that state on a new test)."""

    widget = StrictCheckbox

    def __init__(self, *, default: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("initial", default)
        super().__init__(**kwargs)
        self.default = default

    def to_python(self, value: Any) -> bool:
        if value is None:
            return self.default
        if not isinstance(value, bool):
            raise ValidationError("Choose true or false.", code="invalid")
        return value
