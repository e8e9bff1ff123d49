"""The strict boolean parameter: JSON true/false or a checkbox, never a guess."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from controls.checks.fields import StrictBooleanField


class Parameters(forms.Form):
    off_by_default = StrictBooleanField()
    on_by_default = StrictBooleanField(default=True)


def clean(data: dict[str, Any]) -> dict[str, Any] | forms.utils.ErrorDict:
    form = Parameters(data=data)
    return form.cleaned_data if form.is_valid() else form.errors


def test_left_out_each_takes_its_default() -> None:
    assert clean({}) == {"off_by_default": False, "on_by_default": True}
    assert Parameters().fields["on_by_default"].initial is True  # a new test's box is ticked


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("on", True), ("0", False), ("false", False)],
)
def test_json_booleans_and_checkbox_values_are_read(value: Any, expected: bool) -> None:
    assert clean({"off_by_default": value, "on_by_default": value}) == {
        "off_by_default": expected,
        "on_by_default": expected,
    }


@pytest.mark.parametrize("value", ["maybe", 2, 1.0, [], {"x": 1}])
def test_anything_else_is_refused_not_read_as_true(value: Any) -> None:
    errors = clean({"on_by_default": value})
    assert errors == {"on_by_default": ["Choose true or false."]}
