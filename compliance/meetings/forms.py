"""Forms of the weekly page: they collect and type-check input; the services validate the rest."""

from __future__ import annotations

from typing import Any

from django import forms

from compliance.fields import DateField
from compliance.forms import user_choice_label
from compliance.meetings import selectors
from compliance.models import ActionItem, Organization, User
from compliance.models.meetings import NOTES_MAX_LENGTH

CONTROL_OPTIONS_ID = "control-options"


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_choice_label(obj)


class NotesForm(forms.Form):
    notes = forms.CharField(
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
        label="The meeting's notes",
        help_text="In Markdown: **bold**, lists with - or 1., [links](https://…), tables.",
    )


class ActionItemForm(forms.Form):
    """Add or edit an action item. A member picks only themselves as owner (editing, the owner
    is shown but fixed); the control is typed as its ID, with suggestions from a search."""

    title = forms.CharField(max_length=200, help_text="What is to be done, in a few words.")
    owner = OwnerChoiceField(queryset=User.objects.none(), empty_label="— Choose —")
    due_on = DateField(label="Due")
    control = forms.CharField(
        required=False,
        max_length=50,
        label="Control (optional)",
        help_text="Its ID, e.g. IAM-01: type part of an ID or name for suggestions.",
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        organization: Organization,
        manager: bool,
        search_url: str,
        item: ActionItem | None = None,
        **kwargs: Any,
    ) -> None:
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": item.title,
                "owner": item.owner_id,
                "due_on": item.due_on,
                "control": item.control.ref_id if item.control else "",
            }
        super().__init__(*args, **kwargs)
        self.user, self.organization, self.item = user, organization, item
        owners = selectors.owner_choices(organization)
        field: Any = self.fields["owner"]
        if manager:
            field.queryset = owners
        elif item is None:
            field.queryset = owners.filter(pk=user.pk)
            field.initial = user.pk
            field.empty_label = None
            field.help_text = "Members raise action items for themselves."
        else:
            # The owner is the admins' to change: shown, not sent, not changed.
            field.queryset = owners.filter(pk=item.owner_id or 0)
            field.disabled = True
            field.required = False
            field.help_text = "Only admins give an item to someone else."
        self.fields["control"].widget.attrs.update(
            {
                "list": CONTROL_OPTIONS_ID,
                "autocomplete": "off",
                "placeholder": "e.g. IAM-01",
                "hx-get": search_url,
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#{CONTROL_OPTIONS_ID}",
                "hx-swap": "innerHTML",
            }
        )

    def clean_control(self) -> Any:
        ref_id = self.cleaned_data.get("control", "").strip()
        if not ref_id:
            return None
        control = selectors.control_by_ref(
            user=self.user, organization=self.organization, ref_id=ref_id
        )
        if control is None:
            raise forms.ValidationError(
                f"No active control has the ID {ref_id}. Type the ID as the control list shows "
                "it, or leave this empty."
            )
        return control

    def service_arguments(self) -> dict[str, Any]:
        data = {
            "title": self.cleaned_data["title"],
            "due_on": self.cleaned_data["due_on"],
            "control": self.cleaned_data["control"],
        }
        if not self.fields["owner"].disabled:
            data["owner"] = self.cleaned_data["owner"]
        return data
