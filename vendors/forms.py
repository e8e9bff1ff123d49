"""Forms of the vendor pages: they collect and type-check input; vendors.services validates it
against the inventory and writes it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from compliance.fields import DateField
from compliance.models import User
from evidence.models import EvidenceItem
from vendors.models import DEFAULT_REVIEW_MONTHS, DataAccess, ReviewOutcome, Vendor, VendorReview
from vendors.services import MANAGER_FIELDS


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} <{obj.email}>"


class EvidenceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} ({obj.effective_date:%d %b %Y})"


class VendorForm(forms.ModelForm):
    """Add or edit a vendor. For someone who may not manage vendors (a member who owns it) the
    manager-only fields are shown disabled: the browser does not send them and the form ignores
    whatever is sent in their place."""

    website = forms.URLField(
        required=False,
        max_length=200,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    data_access = forms.MultipleChoiceField(
        choices=DataAccess.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Data it can reach",
        help_text="What of ours the vendor stores, processes or can access.",
    )
    owner = OwnerChoiceField(
        queryset=None,
        required=False,
        empty_label="— Nobody yet —",
        help_text="Who manages the relationship and records its reviews (an admin or member).",
    )
    review_every_months = forms.IntegerField(
        required=False,
        min_value=0,
        label="Review every (months)",
        help_text="Leave empty for the tier's cadence: critical and high every 12 months, "
        "medium every 24, low once before onboarding. 0 means once, before onboarding.",
    )

    class Meta:
        model = Vendor
        fields = [
            "name", "website", "description", "category", "risk_tier", "data_access",
            "is_subprocessor", "location", "owner", "onboarded_on", "review_every_months",
        ]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"onboarded_on": DateField}
        labels = {"risk_tier": "Risk tier", "onboarded_on": "Onboarded on"}
        help_texts = {
            "risk_tier": "From the data it touches and how much we depend on it. The tier sets "
            "how often it is reviewed.",
            "onboarded_on": "When it started (or starts) to serve us; the first review is due "
            "on that day.",
        }

    def __init__(self, *args: Any, owners: QuerySet[User], manager: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        self.manager = manager
        tier = self.instance.risk_tier if self.instance.pk else None
        default = DEFAULT_REVIEW_MONTHS.get(tier) if tier else None
        self.fields["review_every_months"].widget.attrs["placeholder"] = (
            "Tier default"
            if default is None
            else f"Tier default: {'once' if default == 0 else f'every {default} months'}"
        )
        if not manager:
            for name in MANAGER_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Only admins change this."

    def _post_clean(self) -> None:
        # The model is validated by the service that writes it, with the organization known.
        pass

    def service_arguments(self) -> dict[str, Any]:
        """What the user may change, as the service's keyword arguments."""
        return {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if not self.fields[name].disabled
        }


class ReviewForm(forms.ModelForm):
    outcome = forms.ChoiceField(choices=[("", "— Choose —"), *ReviewOutcome.choices])
    evidence = EvidenceChoiceField(
        queryset=None,
        required=False,
        empty_label="— None —",
        help_text="Optional: the review memo or the report you relied on, kept as evidence.",
    )

    class Meta:
        model = VendorReview
        fields = ["reviewed_on", "outcome", "summary", "evidence"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"reviewed_on": DateField}
        labels = {"reviewed_on": "Reviewed on"}

    def __init__(self, *args: Any, evidence: QuerySet[EvidenceItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = evidence  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        pass

    def service_arguments(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class OffboardForm(forms.Form):
    offboarded_on = DateField(label="Offboarded on")
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Contract ended, replaced by…, data deleted on…",
    )
