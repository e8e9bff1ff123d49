from __future__ import annotations

from typing import Any

from django import forms

from compliance.fields import DateField, FileInput
from controls.forms import OwnerChoiceField
from controls.models import Control
from controls.services import assignable_owners
from evidence.models import EvidenceKind, EvidenceRequest, ReviewStatus


class ControlChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ref_id} — {obj.name}"


class EvidenceForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="What this shows, e.g. “Q3 access review”.")
    kind = forms.ChoiceField(
        choices=EvidenceKind.choices, widget=forms.RadioSelect, initial=EvidenceKind.FILE
    )
    file = forms.FileField(required=False, allow_empty_file=True, widget=FileInput)
    url = forms.CharField(required=False, max_length=2000, label="Link")
    note = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    controls = ControlChoices(
        queryset=Control.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Controls this evidence supports (those you own or were granted).",
    )
    effective_date = DateField(help_text="When this was true — not when you upload it.")
    covers_from = DateField(required=False, label="Covers from")
    covers_until = DateField(required=False, label="Covers until")

    def __init__(self, *args: Any, controls: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["controls"].queryset = controls  # type: ignore[attr-defined]


class RevisionForm(forms.Form):
    file = forms.FileField(required=False, allow_empty_file=True, widget=FileInput)
    url = forms.CharField(required=False, max_length=2000, label="Link")
    note = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    effective_date = DateField(
        required=False, help_text="Leave empty to keep the current effective date."
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(ReviewStatus.ACCEPTED, "Accept"), (ReviewStatus.REJECTED, "Reject")]
    )
    reason = forms.CharField(required=False, max_length=2000, widget=forms.TextInput())


class EvidenceRequestForm(forms.ModelForm):
    owner = OwnerChoiceField(queryset=None, required=False, empty_label="— Unassigned —")
    controls = ControlChoices(
        queryset=Control.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = EvidenceRequest
        fields = [
            "title", "instructions", "owner", "controls", "cadence", "first_due_date",
            "remind_days_before", "active",
        ]  # fmt: skip
        widgets = {"instructions": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"first_due_date": DateField}
        help_texts = {
            "first_due_date": "Later due dates follow the cadence from this one.",
            "remind_days_before": "Email the owner this many days before each due date.",
        }

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(organization)  # type: ignore[attr-defined]
        self.fields["controls"].queryset = Control.objects.filter(  # type: ignore[attr-defined]
            organization=organization, archived_at__isnull=True
        ).order_by("ref_id")
        if self.instance.pk:
            self.fields["controls"].initial = list(
                self.instance.controls.values_list("pk", flat=True)
            )

    def _post_clean(self) -> None:
        pass  # the evidence services validate the model with the organization known

    def service_arguments(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["controls"] = list(self.cleaned_data["controls"])
        return data


class LogEventForm(forms.Form):
    due_date = DateField(help_text="When the evidence for this event is due.")
    note = forms.CharField(required=False, max_length=2000, label="What happened")
