"""Forms of the vendor questionnaire pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from compliance.fields import DateField
from vendors.models import AnswerKind, QuestionnaireTemplate, ReviewOutcome
from vendors.questionnaire_services import MAX_EXPIRY_DAYS


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class SendForm(forms.Form):
    template = TemplateChoiceField(queryset=None, empty_label="— Choose a template —")
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


IMPORT_KINDS = [
    (AnswerKind.YES_NO_NA, "Yes / no / not applicable (scores on yes)"),
    (AnswerKind.YES_NO, "Yes / no (scores on yes)"),
    (AnswerKind.TEXT, "Text (not scored)"),
]


class TemplateImportForm(forms.Form):
    name = forms.CharField(max_length=150, label="Template name")
    file = forms.FileField(
        allow_empty_file=True,  # compliance.tabular says "The file is empty."
        help_text="CSV (UTF-8) or XLSX; the first row holds the headings.",
    )
    sheet = forms.CharField(
        max_length=100, required=False, help_text="XLSX only; empty: the first sheet."
    )
    question_column = forms.CharField(
        max_length=100, initial="Question", help_text="Its heading, or its letter (B)."
    )
    section_column = forms.CharField(
        max_length=100, required=False, help_text="Optional: heading or letter."
    )
    kind = forms.ChoiceField(choices=IMPORT_KINDS, label="Answers")
