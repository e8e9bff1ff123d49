"""Forms of vendor documents: they collect and type-check input; vendors.documents validates it
(the model's clean(): which dates and opinion each type needs) and writes it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from compliance.fields import DateField, FileInput
from controls.models import Control
from vendors.models import SOC2_TYPES, AuditOpinion, DocumentType, ExceptionAssessment

CHOOSE = [("", "— Choose —")]
# Which fields each type shows (the script hides the others; the service checks them anyway).
AS_OF_TYPES = " ".join([DocumentType.SOC2_TYPE1])
PERIOD_TYPES = " ".join([DocumentType.SOC2_TYPE2, DocumentType.BRIDGE_LETTER])
OPINION_TYPES = " ".join(SOC2_TYPES)


class DocumentUploadForm(forms.Form):
    doc_type = forms.ChoiceField(label="Type", choices=[*CHOOSE, *DocumentType.choices])
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional, e.g. “SOC 2 Type II, 2025”. The type is shown when it is empty.",
    )
    file = forms.FileField(widget=FileInput, allow_empty_file=True)
    as_of = DateField(
        label="As of", required=False, help_text="SOC 2 Type I: the date the report is as of."
    )
    period_start = DateField(
        label="Period start",
        required=False,
        help_text="SOC 2 Type II and bridge letters: the period covered.",
    )
    period_end = DateField(label="Period end", required=False)
    opinion = forms.ChoiceField(
        label="Auditor's opinion",
        choices=[*CHOOSE, *AuditOpinion.choices],
        required=False,
        help_text="SOC 2 reports only.",
    )
    issued_on = DateField(label="Issued on", required=False)
    valid_until = DateField(
        label="Valid until",
        required=False,
        help_text="When the vendor says it expires (certificates, insurance, a bridge letter). "
        "Empty: a SOC 2 Type II report speaks for 12 months after its period ends.",
    )

    # Each field shown for which types ("" = every type), read by the template.
    shown_for = {
        "as_of": AS_OF_TYPES,
        "period_start": PERIOD_TYPES,
        "period_end": PERIOD_TYPES,
        "opinion": OPINION_TYPES,
    }

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "doc_type": data["doc_type"],
            "title": data["title"],
            "opinion": data["opinion"],
            "as_of": data["as_of"],
            "period_start": data["period_start"],
            "period_end": data["period_end"],
            "issued_on": data["issued_on"],
            "valid_until": data["valid_until"],
            "upload": data["file"],
        }


class ReportExceptionForm(forms.Form):
    """Shown beside the CUEC form on one page: ids of its own, so each label finds its field."""

    description = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the vendor's auditor found, as the report words it.",
    )
    criterion = forms.CharField(
        max_length=100, required=False, help_text="The criterion or control, e.g. CC6.2."
    )
    assessment = forms.ChoiceField(
        label="Our assessment",
        choices=ExceptionAssessment.choices,
        initial=ExceptionAssessment.NOT_ASSESSED,
    )
    assessment_note = forms.CharField(
        label="Note",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why it does or does not matter to us, and what we do about it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "exception_%s")
        super().__init__(*args, **kwargs)


class ControlChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ref_id} — {obj.name}" if obj.ref_id else obj.name


class CuecForm(forms.Form):
    reference = forms.CharField(
        max_length=100, required=False, help_text="The report's number for it, e.g. CUEC-3."
    )
    description = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the report says we, the customer, must do.",
    )
    controls = ControlChoices(
        queryset=Control.objects.none(),
        required=False,
        label="Our controls that do it",
        help_text="Hold Ctrl (⌘ on a Mac) to pick several. Leave empty if none does yet: the "
        "CUEC is then flagged.",
        error_messages={
            "invalid_choice": "Pick only controls of this organization that you can see.",
            "invalid_pk_value": "Pick only controls of this organization that you can see.",
        },
    )

    def __init__(self, *args: Any, controls: QuerySet[Control], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "cuec_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["controls"]
        assert isinstance(field, ControlChoices)
        field.queryset = controls
        field.widget.attrs["size"] = 6
