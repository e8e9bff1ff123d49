from __future__ import annotations

from typing import Any

from django import forms

from compliance.fields import DateField
from compliance.forms import user_choice_label
from compliance.models import Organization
from controls.models import Control, ControlStatus, FrameworkCategory, Requirement
from controls.services import assignable_owners, mappable_requirements


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_choice_label(obj)


class RequirementChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.framework.short_name} {obj.ref_id} — {obj.title}"


class ControlForm(forms.ModelForm):
    """Collects and type-checks input; the control services do the validation that needs the
    database (unique IDs, owners who belong to the organization, adopted requirements)."""

    owner = OwnerChoiceField(queryset=None, required=False, empty_label="— Unassigned —")
    backup_owner = OwnerChoiceField(queryset=None, required=False, empty_label="— None —")
    requirements = RequirementChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Requirements of your adopted frameworks this control satisfies.",
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Why is the status changing?",
        help_text="Kept in the control's status history.",
        widget=forms.TextInput(),
    )

    class Meta:
        model = Control
        fields = [
            "ref_id", "name", "description", "category", "status", "na_justification", "owner",
            "backup_owner", "frequency", "long_lead", "target_date", "narrative", "guidance",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "narrative": forms.Textarea(attrs={"rows": 6}),
            "guidance": forms.Textarea(attrs={"rows": 4}),
            "na_justification": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"target_date": DateField}
        help_texts = {
            "ref_id": "A short, unique ID such as IAM-04.",
            "narrative": "How the control is carried out here, in your words. Auditors read it.",
            "guidance": "How to implement the control and what evidence shows it operated.",
        }

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = assignable_owners(organization)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        self.fields["backup_owner"].queryset = owners  # type: ignore[attr-defined]
        self.fields["requirements"].queryset = mappable_requirements(organization).order_by(  # type: ignore[attr-defined]
            "framework__name", "order"
        )
        if self.instance.pk:
            self.fields["requirements"].initial = list(
                self.instance.mappings.values_list("requirement_id", flat=True)
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("status") == ControlStatus.NOT_APPLICABLE
            and not (cleaned.get("na_justification") or "").strip()
        ):
            self.add_error("na_justification", "Explain why this control does not apply.")
        return cleaned

    def _post_clean(self) -> None:
        # The model is validated by the service that writes it, with the organization known.
        pass

    def service_arguments(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["requirements"] = list(self.cleaned_data["requirements"])
        return data

    def requirement_groups(self) -> list[tuple[str, list[Any]]]:
        """Checkboxes grouped by framework, for the template."""
        groups: dict[str, list[Any]] = {}
        requirements = {r.pk: r for r in self.fields["requirements"].queryset}  # type: ignore[attr-defined]
        for widget in self["requirements"]:
            requirement = requirements[int(widget.data["value"].value)]
            groups.setdefault(requirement.framework.name, []).append((widget, requirement))
        return list(groups.items())


class AdoptFrameworkForm(forms.Form):
    scope = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, required=True, label="Categories in scope"
    )
    target_audit_date = DateField(
        required=False,
        label="Target audit date",
        help_text="A Type I date or the start of a Type II period: the weekly forecast says "
        "whether readiness reaches 100 % by then.",
    )

    def __init__(self, *args: Any, categories: list[FrameworkCategory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = categories
        self.fields["scope"].choices = [(c.code, c.name) for c in categories]  # type: ignore[attr-defined]
        self.fields["scope"].initial = [c.code for c in categories if c.mandatory]


class ArchiveForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)


class GrantForm(forms.Form):
    user = OwnerChoiceField(queryset=None, label="Member", empty_label="Choose a member…")

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users  # type: ignore[attr-defined]


def requirement_label(requirement: Requirement) -> str:
    return f"{requirement.ref_id} {requirement.title}"
