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


KIND_WORDS = {
    "yes/no/na": AnswerKind.YES_NO_NA, "yes/no/n/a": AnswerKind.YES_NO_NA,
    "yes/no": AnswerKind.YES_NO, "text": AnswerKind.TEXT,
}  # fmt: skip
QUESTION_LINES_HELP = (
    "One question a line: Section | Question | Answers | Weight | Scores when | file. "
    "Answers: yes/no, yes/no/na, text, or choice: A / B / C. Only the question is required "
    "(defaults: yes/no/na, weight 1, scores on yes). End with “| file” when a file is expected."
)


def parse_question_lines(text: str) -> list[dict[str, Any]]:
    """The questions typed one a line; ValidationError names the line that is wrong."""
    from django.core.exceptions import ValidationError

    questions = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")]
        file_expected = len(parts) > 1 and parts[-1].lower() == "file"
        if file_expected:
            parts = parts[:-1]
        if len(parts) == 1:  # just the question
            parts = ["", parts[0]]
        parts += [""] * (5 - len(parts))
        section, question, kind_text, weight_text, scoring = parts[:5]
        if len(parts) > 5 and any(parts[5:]):
            raise ValidationError(f"Line {number}: too many “|” separators.")
        if not question:
            raise ValidationError(f"Line {number}: the question is missing.")
        choices: list[str] = []
        lowered = kind_text.lower().replace(" ", "")
        if lowered.startswith("choice:"):
            kind = AnswerKind.CHOICE
            choices = [c.strip() for c in kind_text.split(":", 1)[1].split("/") if c.strip()]
        elif not lowered:
            kind = AnswerKind.YES_NO_NA
        elif lowered in KIND_WORDS:
            kind = KIND_WORDS[lowered]
        else:
            raise ValidationError(
                f"Line {number}: answers {kind_text!r} — use yes/no, yes/no/na, text or choice:."
            )
        try:
            weight = int(weight_text) if weight_text else 1
        except ValueError:
            raise ValidationError(f"Line {number}: the weight must be a whole number.") from None
        if not scoring and kind in (AnswerKind.YES_NO, AnswerKind.YES_NO_NA):
            scoring = "yes"
        questions.append(
            {"section": section, "text": question, "kind": kind, "choices": choices,
             "weight": weight, "scoring_answer": scoring.lower() if kind != AnswerKind.CHOICE
             else scoring, "file_expected": file_expected}
        )  # fmt: skip
    return questions


def question_lines(template: QuestionnaireTemplate) -> str:
    lines = []
    for q in template.questions.all():
        if q.kind == AnswerKind.CHOICE:
            kind = "choice: " + " / ".join(q.choices)
        else:
            kind = {AnswerKind.YES_NO: "yes/no", AnswerKind.YES_NO_NA: "yes/no/na",
                    AnswerKind.TEXT: "text"}[AnswerKind(q.kind)]  # fmt: skip
        line = f"{q.section} | {q.text} | {kind} | {q.weight} | {q.scoring_answer}"
        lines.append(line + (" | file" if q.file_expected else ""))
    return "\n".join(lines)


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=150)
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(
        attrs={"rows": 2}))  # fmt: skip
    questions = forms.CharField(
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=QUESTION_LINES_HELP,
    )

    def clean_questions(self) -> list[dict[str, Any]]:
        from django.core.exceptions import ValidationError

        try:
            parsed = parse_question_lines(self.cleaned_data["questions"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        if not parsed:
            raise forms.ValidationError("Add at least one question.")
        return parsed
