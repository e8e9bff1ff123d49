"""Forms of the requests and findings pages: they collect and type-check input;
audits.pbc_services validates it and writes."""

from __future__ import annotations

from typing import Any

from django import forms

from audits.models import FindingSeverity
from compliance.fields import DateField, FileInput
from controls.forms import OwnerChoiceField
from controls.models import Control
from evidence.models import EvidenceKind


class ControlChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ref_id} — {obj.name}"


class ControlsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ref_id} — {obj.name}"


class EvidenceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} (effective {obj.effective_date:%d %b %Y})"


class RequestForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="What you need, e.g. “Q1 access review”.")
    description = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    control = ControlChoiceField(
        queryset=Control.objects.none(), required=False, empty_label="— No particular control —"
    )
    due_date = DateField(required=False)

    def __init__(self, *args: Any, controls: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = controls  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    assignee = OwnerChoiceField(queryset=None, label="Answered by")
    due_date = DateField(required=False)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people  # type: ignore[attr-defined]


class AttachForm(forms.Form):
    evidence = EvidenceChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, label="Existing evidence"
    )

    def __init__(self, *args: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = items  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(
        choices=EvidenceKind.choices, widget=forms.RadioSelect, initial=EvidenceKind.FILE
    )
    file = forms.FileField(required=False, allow_empty_file=True, widget=FileInput)
    url = forms.CharField(required=False, max_length=2000, label="Link")
    note = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )
    effective_date = DateField(help_text="When this was true — not when you upload it.")


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class FindingForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=FindingSeverity.choices)
    description = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    controls = ControlsChoiceField(
        queryset=Control.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Affected controls",
    )

    def __init__(self, *args: Any, controls: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["controls"].queryset = controls  # type: ignore[attr-defined]


class ResponseForm(forms.Form):
    management_response = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What caused the exception and what management does about it.",
    )
