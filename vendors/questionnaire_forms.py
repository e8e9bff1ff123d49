"""Forms of the vendor questionnaire pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from compliance.fields import DateField
from vendors.models import QuestionnaireTemplate, ReviewOutcome
from vendors.questionnaire_services import MAX_EXPIRY_DAYS


class SendForm(forms.Form):
    template = forms.ModelChoiceField(queryset=None, empty_label="— Choose a template —")
    contact_name = forms.CharField(max_length=150, label="Contact's name")
    contact_email = forms.EmailField(label="Contact's email")
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=MAX_EXPIRY_DAYS, initial=21, label="Link works for (days)"
    )

    def __init__(
        self, *args: Any, templates: QuerySet[QuestionnaireTemplate], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]


class QuestionnaireReviewForm(forms.Form):
    reviewed_on = DateField(label="Reviewed on")
    outcome = forms.ChoiceField(choices=[("", "— Choose —"), *ReviewOutcome.choices])
    summary = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


def templates_of(organization: Any) -> QuerySet[QuestionnaireTemplate]:
    return QuestionnaireTemplate.objects.filter(organization=organization).order_by("name")


def send_form(organization: Any, data: Any = None) -> SendForm:
    return SendForm(data, templates=templates_of(organization))
