"""Forms of the answer library and the questionnaire import."""

from __future__ import annotations

from typing import Any

from django import forms

from compliance.meetings.forms import OwnerChoiceField
from compliance.models import Organization
from compliance.tabular import Table, column_letter
from controls.models import Control
from controls.services import assignable_owners
from policies.models import Policy
from trust.models import AnswerEntry

PREVIEW_ROWS = 8


class EntryForm(forms.ModelForm):
    owner = OwnerChoiceField(queryset=None, required=False, empty_label="— Nobody yet —")
    review_by = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Review by"
    )
    controls: forms.ModelMultipleChoiceField[Control] = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The controls that back this answer: it turns stale when one is not ready.",
    )
    policies: forms.ModelMultipleChoiceField[Policy] = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )

    class Meta:
        model = AnswerEntry
        fields = ["question", "answer", "aliases", "notes", "owner", "review_by"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 2}),
            "answer": forms.Textarea(attrs={"rows": 5}),
            "aliases": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(
        self, *args: Any, organization: Organization, can_manage: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = assignable_owners(organization)
        if not can_manage:
            owner.disabled = True
        controls = self.fields["controls"]
        assert isinstance(controls, forms.ModelMultipleChoiceField)
        controls.queryset = Control.objects.filter(
            organization=organization, archived_at__isnull=True
        ).order_by("name")
        policies = self.fields["policies"]
        assert isinstance(policies, forms.ModelMultipleChoiceField)
        policies.queryset = Policy.objects.filter(organization=organization).order_by("title")
        if self.instance.pk:
            self.initial["controls"] = list(self.instance.controls.values_list("pk", flat=True))
            self.initial["policies"] = list(self.instance.policies.values_list("pk", flat=True))


class UploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Empty: the file's name.")
    customer = forms.CharField(max_length=200, required=False)
    file = forms.FileField(help_text="CSV (UTF-8) or Excel workbook (.xlsx), up to 5,000 rows.")


class MappingForm(forms.Form):
    """Where the questions and answers are: choices taken from the file itself."""

    sheet = forms.ChoiceField()
    header_row = forms.TypedChoiceField(coerce=int, label="Header row")
    question_column = forms.TypedChoiceField(coerce=int, label="Question column")
    answer_column = forms.TypedChoiceField(coerce=int, label="Answer column")

    def __init__(self, *args: Any, table: Table, sheet: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data = table.sheet(sheet) if sheet in table.sheet_names else table.sheets[0]
        header = data.rows[0] if data.rows else []
        self.fields["sheet"].choices = [(name, name) for name in table.sheet_names]  # type: ignore[attr-defined]
        width = max(data.width, 1) + 1  # one more: an empty answer column right of the table
        columns = [
            (
                index,
                f"{column_letter(index)}"
                + (f" — {header[index][:40]}" if index < len(header) and header[index] else ""),
            )
            for index in range(width)
        ]
        self.fields["question_column"].choices = columns  # type: ignore[attr-defined]
        self.fields["answer_column"].choices = columns  # type: ignore[attr-defined]
        self.fields["header_row"].choices = [  # type: ignore[attr-defined]
            (number, f"Row {number}") for number in range(1, min(len(data.rows), 20) + 1)
        ]
        self.sheet_data = data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accepted", "Accept"), ("edited", "Edit"), ("rejected", "Reject")]
    )
    answer = forms.CharField(required=False, max_length=8000, widget=forms.Textarea)
