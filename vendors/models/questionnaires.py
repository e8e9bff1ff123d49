"""Security questionnaires sent to vendors: templates, the questionnaires sent through a link,
their answers and attached files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from compliance.models import Organization
from vendors.models.inventory import Vendor, VendorReview


class AnswerKind(models.TextChoices):
    YES_NO = "yes_no", "Yes / no"
    YES_NO_NA = "yes_no_na", "Yes / no / not applicable"
    TEXT = "text", "Text"
    CHOICE = "choice", "One of a list"


# The answers a kind offers (choice questions list their own).
KIND_ANSWERS: dict[str, list[str]] = {
    AnswerKind.YES_NO: ["yes", "no"],
    AnswerKind.YES_NO_NA: ["yes", "no", "n/a"],
}
ANSWER_LABELS = {"yes": "Yes", "no": "No", "n/a": "Not applicable"}
NOT_APPLICABLE = "n/a"


class QuestionnaireTemplate(models.Model):
    """A set of questions an organization sends to vendors."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="questionnaire_templates"
    )
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True, max_length=2000)
    # Copied from the starter library: its key and version ("" when made here or imported).
    library_key = models.CharField(max_length=60, blank=True)
    library_version = models.PositiveSmallIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                F("organization"), Lower("name"), name="questionnaire_template_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class TemplateQuestion(models.Model):
    template = models.ForeignKey(
        QuestionnaireTemplate, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveIntegerField()
    section = models.CharField(max_length=120, blank=True)
    text = models.TextField(max_length=2000)
    kind = models.CharField(max_length=10, choices=AnswerKind.choices, default=AnswerKind.YES_NO)
    choices = models.JSONField(default=list, blank=True)  # for CHOICE questions
    weight = models.PositiveSmallIntegerField(default=1)
    # The answer that scores ("" = the question is not scored, e.g. free text).
    scoring_answer = models.CharField(max_length=100, blank=True)
    file_expected = models.BooleanField("a file is expected", default=False)

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "position"], name="template_question_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

    def frozen(self) -> dict[str, Any]:
        """The question as a sent questionnaire keeps it (edits of the template leave sent
        questionnaires alone)."""
        return {
            "key": f"q{self.position}",
            "section": self.section,
            "text": self.text,
            "kind": self.kind,
            "choices": list(self.choices or []),
            "weight": self.weight,
            "scoring_answer": self.scoring_answer,
            "file_expected": self.file_expected,
        }


class QuestionnaireStatus(models.TextChoices):
    SENT = "sent", "Sent"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


OPEN_STATUSES = (QuestionnaireStatus.SENT, QuestionnaireStatus.IN_PROGRESS)


class SentQuestionnaire(models.Model):
    """A questionnaire sent to a vendor's contact, answered through a link without an account.
    The link's token is stored only as its SHA-256."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sent_questionnaires"
    )
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="questionnaires")
    template = models.ForeignKey(
        QuestionnaireTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=150)
    questions = models.JSONField(default=list)  # frozen copies (TemplateQuestion.frozen)
    contact_name = models.CharField(max_length=150)
    contact_email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=QuestionnaireStatus.choices, default=QuestionnaireStatus.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The due-diligence review recorded from the submitted answers.
    review = models.ForeignKey(
        VendorReview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questionnaires",
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["vendor", "-sent_at"], name="vendor_questionnaire_sent")]

    def __str__(self) -> str:
        return f"{self.title} for {self.vendor_id}"

    def current_status(self, now: Any = None) -> str:
        """The stored status, or "expired" once an open questionnaire's link has lapsed."""
        now = now or timezone.now()
        if self.status in OPEN_STATUSES and self.expires_at <= now:
            return QuestionnaireStatus.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return QuestionnaireStatus(self.current_status()).label

    @property
    def is_open(self) -> bool:
        return self.current_status() in OPEN_STATUSES


class QuestionnaireAnswer(models.Model):
    questionnaire = models.ForeignKey(
        SentQuestionnaire, on_delete=models.CASCADE, related_name="answers"
    )
    question_key = models.CharField(max_length=20)
    value = models.TextField(blank=True, max_length=5000)
    comment = models.TextField(blank=True, max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "question_key"], name="questionnaire_answer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question_key}"


class QuestionnaireAttachment(models.Model):
    """A file the vendor's contact attached, stored and hashed like evidence."""

    questionnaire = models.ForeignKey(
        SentQuestionnaire, on_delete=models.CASCADE, related_name="attachments"
    )
    question_key = models.CharField(max_length=20, blank=True)
    original_name = models.CharField(max_length=255)
    storage_key = models.CharField(max_length=200, unique=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name
