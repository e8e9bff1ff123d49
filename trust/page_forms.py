"""Forms of the trust page's admin side."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models

from audits.models import Audit
from compliance.models import Organization
from controls.models import Control
from trust.models import TrustCertification, TrustControlCategory, TrustFaq, TrustPage
from trust.selectors import engagement_choices, organization_controls
from trust.services import CATEGORY_FIELDS, CERT_FIELDS, FAQ_FIELDS, PAGE_FIELDS


def _https_urls(field: models.Field, **kwargs: Any) -> forms.Field | None:
    """A URL typed without a scheme is read as https (Django 6's default, said now)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PageSettingsForm(forms.ModelForm):
    class Meta:
        model = TrustPage
        fields = PAGE_FIELDS
        formfield_callback = _https_urls
        widgets = {
            "overview": forms.Textarea(attrs={"rows": 6}),
            "security_txt_expires": forms.DateInput(attrs={"type": "date"}),
        }


class CertificationForm(forms.ModelForm):
    class Meta:
        model = TrustCertification
        fields = CERT_FIELDS
        widgets = {
            "report_date": forms.DateInput(attrs={"type": "date"}),
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }


class EngagementCertificationForm(forms.Form):
    audit: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Audit.objects.none(), label="Audit engagement"
    )
    is_published = forms.BooleanField(required=False, label="Published")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["audit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = engagement_choices(organization)


class CategoryForm(forms.ModelForm):
    controls: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=Control.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="Only this organization's controls are listed. They are never named on the "
        "public page; only the category's status is shown.",
    )

    class Meta:
        model = TrustControlCategory
        fields = CATEGORY_FIELDS

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["controls"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = organization_controls(organization)
        field.label_from_instance = _control_label  # type: ignore[method-assign,assignment]
        if self.instance.pk:
            self.initial["controls"] = list(self.instance.controls.values_list("pk", flat=True))


def _control_label(control: Any) -> str:
    return f"{control.ref_id} {control.name}"


class FaqForm(forms.ModelForm):
    class Meta:
        model = TrustFaq
        fields = FAQ_FIELDS
        widgets = {"answer": forms.Textarea(attrs={"rows": 4})}
