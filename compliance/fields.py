"""Form fields and widgets shared by every page.

Dates are typed the way Attest writes them ("2 Apr 2027"), or as ISO ("2027-04-02"); a browser's
own date control would show the visitor's locale (mm/dd/yyyy) next to pages that never use it,
and reads 02/04/2027 differently on each side of the Atlantic. A small static script adds a
calendar button that fills the same text box.

A file input keeps the real ``<input type="file">`` (keyboard, screen readers and automation all
use it), with a labelled button and the chosen file's name next to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString

DISPLAY_FORMAT = "j M Y"  # as the pages write dates: 2 Apr 2027
EXAMPLE = "2 Apr 2027"
# Day before month, or ISO; never the ambiguous 02/04/2027.
INPUT_FORMATS = [
    "%d %b %Y",
    "%d %B %Y",
    "%d %b, %Y",
    "%d %B, %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%Y-%m-%d",
]


def display_date(value: dt.date) -> str:
    return format_date(value, DISPLAY_FORMAT)


class DateInput(forms.TextInput):
    """A text box for a date, showing and accepting the app's format."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {
            "placeholder": EXAMPLE,
            "autocomplete": "off",
            "spellcheck": "false",
            "data-date-input": "",
            "class": "date-input",
        }
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return display_date(value)
        return super().format_value(value)


class DateField(forms.DateField):
    widget = DateInput
    input_formats = INPUT_FORMATS
    default_error_messages = {
        "invalid": f"Enter a date like {EXAMPLE} (or 2027-04-02).",
    }

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, str):
            value = " ".join(value.replace(".", " ").split())  # "2 Apr. 2027", extra spaces
        return super().to_python(value)


class FileInput(forms.FileInput):
    """The browser's file input, kept for what it does, dressed as a button with a file name.

    Without the script the input shows as is (styled); with it, the input is visually hidden
    behind its label, and the name of the chosen file appears next to the button."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"class": "file-input", **(attrs or {})})

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = {**(attrs or {})}
        attrs.setdefault("id", f"id_{name}")
        control = super().render(name, value, attrs, renderer)
        return format_html(
            '<span class="file-picker" data-file-picker>{}<label class="btn btn-sm file-button" '
            'for="{}" aria-hidden="true">Choose a file…</label><span class="file-name muted '
            'small" data-file-name aria-live="polite">No file chosen</span></span>',
            control,
            attrs["id"],
        )
