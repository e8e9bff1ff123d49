"""The security questionnaire answer library, and the questionnaires answered from it.

An entry is an approved question/answer pair backed by controls and policies, with an owner and a
review date. An incoming questionnaire keeps its original file (in the evidence storage, under a
"." folder the orphan check skips) and one row per question, with the suggestion the retrieval
made and the reviewer's decision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from compliance.models import Organization


class AnswerEntry(models.Model):
    """An approved answer to a question customers ask."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="answer_entries"
    )
    question = models.TextField(max_length=2000)
    answer = models.TextField(max_length=8000)
    aliases = models.TextField(
        "other wordings",
        blank=True,
        max_length=4000,
        help_text="Other ways customers ask this question, one per line (used for matching).",
    )
    notes = models.TextField(
        "internal notes", blank=True, max_length=4000, help_text="Never exported."
    )
    controls = models.ManyToManyField("controls.Control", blank=True, related_name="answer_entries")
    policies = models.ManyToManyField("policies.Policy", blank=True, related_name="answer_entries")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answer_entries_owned",
    )
    review_by = models.DateField("review by", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["question", "pk"]
        verbose_name_plural = "answer entries"
        indexes = [
            # The library list's "review due" filter: an organization's entries by review date.
            models.Index(fields=["organization", "review_by"], name="answer_entry_org_review"),
        ]

    def __str__(self) -> str:
        return self.question[:80]


class QuestionnaireFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel workbook (XLSX)"


class QuestionnaireStatus(models.TextChoices):
    MAPPING = "mapping", "Choosing columns"
    REVIEW = "review", "In review"
    COMPLETED = "completed", "Completed"


class Questionnaire(models.Model):
    """A questionnaire a customer sent us, imported from its file to be answered and sent back
    in the same layout."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="questionnaires"
    )
    name = models.CharField(max_length=200)
    customer = models.CharField(max_length=200, blank=True)
    filename = models.CharField("file name", max_length=255)
    storage_key = models.CharField(max_length=200, unique=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=4, choices=QuestionnaireFormat.choices)
    delimiter = models.CharField(max_length=1, blank=True, default=",")
    encoding = models.CharField(max_length=10, blank=True, default="utf-8")
    sheet = models.CharField(max_length=100, blank=True)
    question_column = models.PositiveSmallIntegerField(null=True, blank=True)
    answer_column = models.PositiveSmallIntegerField(null=True, blank=True)
    header_row = models.PositiveIntegerField(
        default=1, help_text="The row of column titles (1 = the first); questions start below it."
    )
    status = models.CharField(
        max_length=10, choices=QuestionnaireStatus.choices, default=QuestionnaireStatus.MAPPING
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="mapping")
                | Q(question_column__isnull=False, answer_column__isnull=False),
                name="questionnaire_mapped_has_columns",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RowDecision(models.TextChoices):
    PENDING = "pending", "To review"
    ACCEPTED = "accepted", "Accepted"
    EDITED = "edited", "Edited"
    REJECTED = "rejected", "Rejected"
    NO_MATCH = "no_match", "No match"


class QuestionnaireRow(models.Model):
    """One question of a questionnaire, its suggestion and the reviewer's decision."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(help_text="The file's row (1 = the first).")
    question = models.TextField()
    existing_answer = models.TextField(blank=True)
    suggested_entry = models.ForeignKey(
        AnswerEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggested_in"
    )
    suggested_answer = models.TextField(blank=True)
    confidence = models.FloatField(null=True, blank=True)
    decision = models.CharField(
        max_length=10, choices=RowDecision.choices, default=RowDecision.PENDING
    )
    final_answer = models.TextField(blank=True, max_length=8000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "row_number"], name="questionnaire_row_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.question[:60]}"

    @property
    def has_suggestion(self) -> bool:
        return self.suggested_entry_id is not None
