from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from compliance.fields import DateField, FileInput
from controls.models import Control
from evidence.models import EvidenceItem
from people.importer import ImportMode
from people.models import (
    RECORDED_KINDS,
    BackgroundCheckResult,
    Person,
    PersonnelRecord,
    PersonnelRequirement,
    RequirementKind,
)

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} <{obj.email}>"


class PersonForm(forms.ModelForm):
    """Collects and type-checks input; people.services validates against the roster."""

    manager = PersonChoiceField(queryset=None, required=False, empty_label="— None —")

    class Meta:
        model = Person
        fields = [
            "full_name", "email", "title", "department", "manager", "employment_type",
            "start_date", "end_date",
        ]  # fmt: skip
        field_classes = {"start_date": DateField, "end_date": DateField}
        labels = {"full_name": "Name", "end_date": "Last day"}
        help_texts = {
            "email": "Their work email. It links them to their Attest account, if they have one.",
            "end_date": "Set when they leave: access must then be revoked within the SLA.",
        }

    def __init__(self, *args: Any, managers: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = managers  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # The model is validated by the service that writes it, with the organization known.
        pass

    def service_arguments(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class EvidenceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} ({obj.effective_date:%d %b %Y})"


class RecordForm(forms.ModelForm):
    kind = forms.ChoiceField(label="Requirement")
    evidence = EvidenceChoiceField(
        queryset=None,
        required=False,
        empty_label="— None —",
        help_text="Optional: the evidence item that proves it (e.g. the provider's report).",
    )
    result = forms.ChoiceField(
        choices=[("", "—"), *BackgroundCheckResult.choices],
        required=False,
        help_text="Background checks only.",
    )

    class Meta:
        model = PersonnelRecord
        fields = ["kind", "completed_on", "provider", "result", "evidence", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"completed_on": DateField}
        labels = {"completed_on": "Date"}
        help_texts = {
            "completed_on": "When it was done; for offboarding, the day access was revoked.",
            "provider": "Who did it, e.g. the background check or training provider.",
        }

    def __init__(
        self,
        *args: Any,
        evidence: QuerySet[EvidenceItem],
        person: Person,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        kinds = [k for k in RECORDED_KINDS if k != RequirementKind.OFFBOARDING or person.end_date]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]  # type: ignore[attr-defined]
        self.fields["evidence"].queryset = evidence  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass

    def service_arguments(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["provider"] = data["provider"] or ""
        data["notes"] = data["notes"] or ""
        return data


class ControlChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ref_id} {obj.name}"


class RequirementForm(forms.ModelForm):
    control = ControlChoiceField(
        queryset=None,
        required=False,
        empty_label="— No control —",
        help_text="The control whose readiness depends on this requirement.",
    )

    class Meta:
        model = PersonnelRequirement
        fields = ["applies_to_employees", "applies_to_contractors", "due_days", "control"]

    def __init__(self, *args: Any, controls: QuerySet[Control], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = controls  # type: ignore[attr-defined]
        if self.instance.is_offboarding:
            self.fields["due_days"].label = "Revoke access within (days)"
            self.fields[
                "due_days"
            ].help_text = "The SLA: days after the last day by which access must be revoked."

    def _post_clean(self) -> None:
        pass

    def service_arguments(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ImportForm(forms.Form):
    file = forms.FileField(
        widget=FileInput(attrs={"accept": ".csv,text/csv"}),
        label="CSV file",
        help_text="UTF-8 CSV with a header line; its columns are described under “The file”.",
    )
    mode = forms.ChoiceField(
        choices=[(m.value, m.label) for m in ImportMode],
        initial=ImportMode.ALL_OR_NOTHING.value,
        widget=forms.RadioSelect,
        label="If some rows have errors",
    )
    update_existing = forms.BooleanField(
        required=False,
        label="Update people already in the roster",
        help_text="Off (the default): an email already in the roster is an error.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it.")
        return upload
