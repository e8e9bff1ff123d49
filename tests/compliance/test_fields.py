"""Dates typed as the app writes them, and the file picker."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect

import pytest
from django import forms
from django.urls import reverse

from compliance import fields
from compliance.models import Membership, Role
from tests.conftest import World
from tests.factories import UserFactory

FORM_MODULES = [
    "compliance.forms",
    "controls.forms",
    "controls.monitoring.forms",
    "evidence.forms",
    "people.forms",
    "policies.forms",
    "vendors.forms",
]


@pytest.mark.parametrize(
    "typed",
    ["2 Apr 2027", "2 april 2027", "02 Apr 2027", "2 Apr. 2027", "  2  Apr  2027 ", "Apr 2, 2027",
     "2027-04-02"],
)  # fmt: skip
def test_a_date_is_read_as_the_app_writes_it_or_as_iso(typed: str) -> None:
    assert fields.DateField().clean(typed) == dt.date(2027, 4, 2)


@pytest.mark.parametrize("typed", ["02/04/2027", "4/2/2027", "31 Feb 2027", "tomorrow", "2027"])
def test_an_ambiguous_or_wrong_date_gets_a_clear_error(typed: str) -> None:
    with pytest.raises(forms.ValidationError) as caught:
        fields.DateField().clean(typed)
    assert caught.value.messages == ["Enter a date like 2 Apr 2027 (or 2027-04-02)."]


def test_a_date_box_shows_the_date_as_the_pages_write_it() -> None:
    html = fields.DateInput().render("due", dt.date(2027, 4, 2))

    assert 'type="text"' in html
    assert 'value="2 Apr 2027"' in html
    assert 'placeholder="2 Apr 2027"' in html
    assert "data-date-input" in html


def test_the_file_picker_keeps_a_real_file_input_with_a_labelled_button() -> None:
    html = fields.FileInput().render("file", None, {"id": "id_file"})

    assert '<input type="file" name="file" class="file-input" id="id_file">' in html
    assert '<label class="btn btn-sm file-button" for="id_file"' in html
    assert "No file chosen" in html


def form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == name:
                found.append(value)
    return found


def test_every_date_field_of_every_form_uses_the_apps_date_entry() -> None:
    classes = form_classes()
    dates = [
        (form.__name__, name, field)
        for form in classes
        for name, field in form.base_fields.items()
        if isinstance(field, forms.DateField)
    ]
    assert len(dates) >= 10
    wrong = [(f, n) for f, n, field in dates if not isinstance(field, fields.DateField)]
    assert wrong == []
    browser_dates = [
        (f, n) for f, n, field in dates if getattr(field.widget, "input_type", "") == "date"
    ]
    assert browser_dates == []


def test_every_file_field_of_every_form_uses_the_file_picker() -> None:
    files = [
        (form.__name__, name, field)
        for form in form_classes()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.FileField)
    ]
    assert files
    assert [(f, n) for f, n, field in files if not isinstance(field.widget, fields.FileInput)] == []


def test_a_member_end_date_typed_as_the_app_writes_it_is_saved(world: World) -> None:
    person = UserFactory()
    membership = Membership.objects.create(user=person, organization=world.org, role=Role.MEMBER)
    url = reverse("member_update", args=["acme", membership.pk])

    world.client("admin").post(url, {"role": "member", "expires_on": "2 Apr 2099"})

    membership.refresh_from_db()
    assert membership.expires_at is not None
    page = world.client("admin").get(reverse("member_list", args=["acme"])).content.decode()
    assert 'value="2 Apr 2099"' in page
    assert 'type="date"' not in page


def test_a_wrong_member_end_date_says_why_and_changes_nothing(world: World) -> None:
    person = UserFactory()
    membership = Membership.objects.create(user=person, organization=world.org, role=Role.MEMBER)
    url = reverse("member_update", args=["acme", membership.pk])

    response = world.client("admin").post(
        url, {"role": "viewer", "expires_on": "04/02/2099"}, follow=True
    )

    membership.refresh_from_db()
    assert (membership.role, membership.expires_at) == (Role.MEMBER, None)
    assert "Enter a date like 2 Apr 2027 (or 2027-04-02)." in response.content.decode()
