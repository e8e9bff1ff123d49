from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from compliance.fields import DateField
from compliance.forms import user_choice_label
from compliance.models import Organization, User
from compliance.permissions import restrict
from controls.services import assignable_owners, mappable_requirements
from people.models import EmploymentType, Person
from policies.models import Policy, PolicyVersion
from policies.services import mappable_controls


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_choice_label(obj)


class ControlChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ref_id} — {obj.name}"


class RequirementChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.framework.short_name} {obj.ref_id} — {obj.title}"


class PolicyForm(forms.ModelForm):
    """Collects and type-checks input; the services validate against the database."""

    owner = OwnerChoiceField(queryset=None, required=False, empty_label="— Unassigned —")
    controls = ControlChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Controls this policy supports. They are not ready while the policy has no "
        "approved version or its review is overdue.",
    )
    requirements = RequirementChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Requirements of your adopted frameworks this policy addresses.",
    )
    review_months = forms.IntegerField(
        min_value=1,
        max_value=36,
        initial=12,
        label="Review every (months)",
        help_text="Annual (12) by default. The review is due this many months after the approved "
        "version took effect or was last reviewed.",
    )
    body = forms.CharField(
        required=False,
        max_length=100_000,
        label="Policy text (Markdown)",
        widget=forms.Textarea(attrs={"rows": 14, "class": "mono"}),
        help_text="The first draft. You can edit it before submitting it for review.",
    )

    class Meta:
        model = Policy
        fields = ["title", "category", "owner", "review_months", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(
        self, *args: Any, organization: Organization, user: User, creating: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(organization)  # type: ignore[attr-defined]
        self.fields["controls"].queryset = restrict(  # type: ignore[attr-defined]
            mappable_controls(organization), user, organization=organization
        ).order_by("ref_id")
        self.fields["requirements"].queryset = mappable_requirements(organization).order_by(  # type: ignore[attr-defined]
            "framework__name", "order"
        )
        if not creating:
            del self.fields["body"]
        if self.instance.pk:
            self.fields["controls"].initial = list(
                self.instance.controls.values_list("pk", flat=True)
            )
            self.fields["requirements"].initial = list(
                self.instance.requirements.values_list("pk", flat=True)
            )

    def _post_clean(self) -> None:
        # The model is validated by the service that writes it, with the organization known.
        pass

    def service_arguments(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["controls"] = list(self.cleaned_data["controls"])
        data["requirements"] = list(self.cleaned_data["requirements"])
        return data

    def requirement_groups(self) -> list[tuple[str, list[Any]]]:
        groups: dict[str, list[Any]] = {}
        requirements = {r.pk: r for r in self.fields["requirements"].queryset}  # type: ignore[attr-defined]
        for widget in self["requirements"]:
            requirement = requirements[int(widget.data["value"].value)]
            groups.setdefault(requirement.framework.name, []).append((widget, requirement))
        return list(groups.items())


class VersionForm(forms.ModelForm):
    class Meta:
        model = PolicyVersion
        fields = ["body", "change_summary"]
        labels = {"body": "Policy text (Markdown)", "change_summary": "What changed"}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 28, "class": "mono", "spellcheck": "true"}),
        }
        help_texts = {
            "body": "Headings (#), lists (-, 1.), **bold**, links and tables. HTML is removed.",
            "change_summary": "One line for approvers and readers, e.g. “Quarterly access "
            "reviews now cover service accounts”.",
        }

    def _post_clean(self) -> None:
        pass


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False, widget=forms.TextInput())


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.TextInput())


class ApproveForm(forms.Form):
    effective_date = DateField(
        help_text="When the text takes effect; today or earlier.",
    )
    reason = forms.CharField(max_length=2000, required=False, label="Note")

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].initial = today


class SendForm(forms.Form):
    employment_type = forms.ChoiceField(required=False, label="Who", choices=[("", "Everyone")])
    department = forms.ChoiceField(required=False, label="Department", choices=[("", "All")])

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["employment_type"].choices = [("", "Employees and contractors")] + [  # type: ignore[attr-defined]
            (value, f"{label}s only") for value, label in EmploymentType.choices
        ]
        departments = sorted(
            set(
                Person.objects.filter(organization=organization)
                .exclude(department="")
                .values_list("department", flat=True)
            ),
            key=str.lower,
        )
        self.fields["department"].choices = [("", "All departments")] + [  # type: ignore[attr-defined]
            (d, d) for d in departments
        ]


class LibraryImportForm(forms.Form):
    keys = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label="Policies to import", required=True
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keys"].choices = choices  # type: ignore[attr-defined]
