"""Forms of the engagement pages: they collect and type-check input; audits.services validates
it and writes."""

from __future__ import annotations

from typing import Any

from django import forms

from audits.models import Audit, AuditStatus, AuditType
from compliance.fields import DateField
from compliance.models import Organization
from controls.models import AdoptedFramework, FrameworkCategory


class AdoptionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.framework.name


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.framework.short_name}: {obj.name}"


class AuditForm(forms.Form):
    name = forms.CharField(max_length=200)
    adoption = AdoptionChoiceField(
        label="Framework", queryset=AdoptedFramework.objects.none(), empty_label=None
    )
    scope = CategoryChoiceField(
        label="In scope",
        queryset=FrameworkCategory.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Categories of the framework's adopted scope this engagement covers.",
    )
    kind = forms.ChoiceField(label="Type", choices=AuditType.choices, widget=forms.RadioSelect)
    as_of = DateField(label="As of (Type I)", required=False)
    period_start = DateField(label="Period start (Type II)", required=False)
    period_end = DateField(label="Period end (Type II)", required=False)
    firm = forms.CharField(label="Audit firm", max_length=200, required=False)
    status = forms.ChoiceField(choices=AuditStatus.choices, initial=AuditStatus.PLANNING)
    fieldwork_start = DateField(required=False)
    fieldwork_end = DateField(required=False)
    report_date = DateField(
        required=False,
        help_text="Auditor access ends 30 days after it unless you set another date.",
    )

    def __init__(
        self, *args: Any, organization: Organization, audit: Audit | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        adoptions = AdoptedFramework.objects.filter(organization=organization).select_related(
            "framework"
        )
        self.fields["adoption"].queryset = adoptions  # type: ignore[attr-defined]
        categories = FrameworkCategory.objects.filter(
            pk__in=AdoptedFramework.scope.through.objects.filter(
                adoptedframework__organization=organization
            ).values("frameworkcategory_id")
        ).select_related("framework")
        self.fields["scope"].queryset = categories.order_by(  # type: ignore[attr-defined]
            "framework__name", "order"
        )
        if audit is not None:
            # The framework of an engagement does not change.
            self.fields["adoption"].disabled = True


class InviteAuditorForm(forms.Form):
    email = forms.EmailField(label="Auditor's email")
    expires_on = DateField(label="Access until", required=False)
