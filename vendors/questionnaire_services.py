"""Writes of vendor questionnaires: templates, sending, the contact's answers, revoking and
the review recorded from a submitted questionnaire."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import audit_record
from compliance.emails import email_queue
from compliance.models import Organization, User
from compliance.tokens import new_secret, secret_hash
from evidence import storage
from evidence.uploads import check_upload
from vendors import services as vendor_services
from vendors.models import (
    AnswerKind,
    QuestionnaireAnswer,
    QuestionnaireAttachment,
    QuestionnaireStatus,
    QuestionnaireTemplate,
    SentQuestionnaire,
    TemplateQuestion,
    Vendor,
    VendorReview,
)
from vendors.models.questionnaires import OPEN_STATUSES
from vendors.questionnaires import starter_library, valid_answer

MAX_EXPIRY_DAYS = 90
MAX_QUESTIONS = 300
MAX_ATTACHMENTS = 50
ATTACHMENT_PREFIX = ".vendor-questionnaires"  # a "." folder: not evidence for the orphan check


class LinkClosed(Exception):
    """The questionnaire no longer takes answers (submitted, expired or revoked)."""


# --- templates ----------------------------------------------------------------------------------


def _question(position: int, data: dict[str, Any]) -> TemplateQuestion:
    kind = data.get("kind") or AnswerKind.YES_NO
    choices = [str(c).strip() for c in data.get("choices") or [] if str(c).strip()]
    question = TemplateQuestion(
        position=position,
        section=str(data.get("section") or "").strip(),
        text=str(data.get("text") or "").strip(),
        kind=kind,
        choices=choices if kind == AnswerKind.CHOICE else [],
        weight=int(data.get("weight", 1) or 0),
        scoring_answer=str(data.get("scoring_answer") or "").strip(),
        file_expected=bool(data.get("file_expected")),
    )
    where = f"Question {position}"
    if not question.text:
        raise ValidationError({"questions": f"{where} has no text."})
    if kind not in AnswerKind.values:
        raise ValidationError({"questions": f"{where}: unknown answer kind {kind!r}."})
    if kind == AnswerKind.CHOICE and len(choices) < 2:
        raise ValidationError({"questions": f"{where}: a choice question needs two choices."})
    if question.scoring_answer and not valid_answer(question.frozen(), question.scoring_answer):
        raise ValidationError(
            {"questions": f"{where}: {question.scoring_answer!r} is not one of its answers."}
        )
    if question.scoring_answer == "n/a":
        raise ValidationError({"questions": f"{where}: “not applicable” cannot be the scoring "
                               "answer."})  # fmt: skip
    if not 0 <= question.weight <= 100:
        raise ValidationError({"questions": f"{where}: use a weight from 0 to 100."})
    return question


@transaction.atomic
def template_create(
    *,
    actor: User | None,
    organization: Organization,
    name: str,
    questions: list[dict[str, Any]],
    description: str = "",
    library_key: str = "",
    library_version: int | None = None,
) -> QuestionnaireTemplate:
    """A template with its questions, in order. ValidationError on ``name`` or ``questions``."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the template a name."})
    if QuestionnaireTemplate.objects.filter(organization=organization, name__iexact=name).exists():
        raise ValidationError({"name": f"A template named {name} exists already."})
    if not questions:
        raise ValidationError({"questions": "Add at least one question."})
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError({"questions": f"At most {MAX_QUESTIONS} questions."})
    built = [_question(i, data) for i, data in enumerate(questions, start=1)]
    template = QuestionnaireTemplate(
        organization=organization,
        name=name,
        description=(description or "").strip(),
        library_key=library_key,
        library_version=library_version,
        created_by=actor,
    )
    template.full_clean(exclude=["organization", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"A template named {name} exists already."}) from exc
    for question in built:
        question.template = template
    TemplateQuestion.objects.bulk_create(built)
    audit_record(
        actor=actor,
        organization=organization,
        action="vendor_questionnaire_template.create",
        obj=template,
        after={"name": name, "questions": len(built), "library": library_key},
    )
    return template


@transaction.atomic
def template_update(
    *,
    actor: User,
    template: QuestionnaireTemplate,
    name: str,
    questions: list[dict[str, Any]],
    description: str = "",
) -> QuestionnaireTemplate:
    """Rename the template and replace its questions. Questionnaires already sent keep the
    questions they were sent with."""
    template = QuestionnaireTemplate.objects.select_for_update(no_key=True).get(pk=template.pk)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the template a name."})
    clash = (
        QuestionnaireTemplate.objects.filter(
            organization_id=template.organization_id, name__iexact=name
        )
        .exclude(pk=template.pk)
        .exists()
    )
    if clash:
        raise ValidationError({"name": f"A template named {name} exists already."})
    if not questions:
        raise ValidationError({"questions": "Add at least one question."})
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError({"questions": f"At most {MAX_QUESTIONS} questions."})
    built = [_question(i, data) for i, data in enumerate(questions, start=1)]
    before = {"name": template.name, "questions": template.questions.count()}
    template.name, template.description = name, (description or "").strip()
    template.save(update_fields=["name", "description", "updated_at"])
    template.questions.all().delete()
    for question in built:
        question.template = template
    TemplateQuestion.objects.bulk_create(built)
    audit_record(
        actor=actor,
        organization=template.organization,
        action="vendor_questionnaire_template.update",
        obj=template,
        before=before,
        after={"name": name, "questions": len(built)},
    )
    return template


def template_from_library(
    *, actor: User | None, organization: Organization, key: str
) -> QuestionnaireTemplate:
    """Copy a starter template into the organization ("use this template")."""
    entry = starter_library().get(key)
    if entry is None:
        raise ValidationError({"key": "No such starter template."})
    return template_create(
        actor=actor,
        organization=organization,
        name=entry.name,
        description=entry.description,
        questions=entry.questions,
        library_key=entry.key,
        library_version=entry.version,
    )


def template_import(
    *,
    actor: User,
    organization: Organization,
    name: str,
    source: Any,
    filename: str,
    question_column: str,
    sheet: str = "",
    section_column: str = "",
    kind: str = AnswerKind.YES_NO_NA,
) -> QuestionnaireTemplate:
    """A template from a CSV or XLSX file; ValidationError on ``file`` says what is wrong with
    the file, and nothing is created."""
    from compliance.tabular import TableError
    from vendors.questionnaire_import import read_questions

    try:
        questions = read_questions(
            source, filename=filename, sheet=sheet, question_column=question_column,
            section_column=section_column, kind=kind,
        )  # fmt: skip
    except TableError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    return template_create(actor=actor, organization=organization, name=name, questions=questions)


# --- sending and revoking -----------------------------------------------------------------------


def link_url(token: str) -> str:
    return settings.SITE_URL + reverse("vendor_questionnaire_link", args=[token])


@transaction.atomic
def questionnaire_send(
    *,
    actor: User,
    vendor: Vendor,
    template: QuestionnaireTemplate,
    contact_name: str,
    contact_email: str,
    expires_in_days: int,
) -> tuple[SentQuestionnaire, str]:
    """Send ``template``'s questions (frozen now) to the vendor's contact; returns the row and
    the link's token, which is stored only as its SHA-256 and emailed to the contact."""
    errors: dict[str, str] = {}
    contact_name = (contact_name or "").strip()
    contact_email = (contact_email or "").strip()
    if template.organization_id != vendor.organization_id:
        errors["template"] = "Choose one of this organization's templates."
    if not contact_name:
        errors["contact_name"] = "Enter the contact's name."
    try:
        validate_email(contact_email)
    except ValidationError:
        errors["contact_email"] = "Enter the contact's email address."
    if not isinstance(expires_in_days, int) or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        errors["expires_in_days"] = f"Use 1 to {MAX_EXPIRY_DAYS} days."
    if not vendor.is_active:
        errors["__all__"] = f"{vendor.name} is offboarded."
    if errors:
        raise ValidationError(errors)
    questions = [q.frozen() for q in template.questions.all()]
    if not questions:
        raise ValidationError({"template": "This template has no questions."})
    token = new_secret()
    now = timezone.now()
    questionnaire = SentQuestionnaire.objects.create(
        organization_id=vendor.organization_id,
        vendor=vendor,
        template=template,
        title=template.name,
        questions=questions,
        contact_name=contact_name,
        contact_email=contact_email,
        token_hash=secret_hash(token),
        expires_at=now + dt.timedelta(days=expires_in_days),
        sent_by=actor,
        sent_at=now,
    )
    audit_record(
        actor=actor,
        organization=vendor.organization,
        action="vendor_questionnaire.send",
        obj=questionnaire,
        after={
            "vendor": vendor.name,
            "template": template.name,
            "contact": contact_email,
            "expires_at": questionnaire.expires_at.isoformat(),
        },
    )
    email_queue(
        template="vendor_questionnaire",
        to=[contact_email],
        context={
            "questionnaire": questionnaire,
            "vendor": vendor,
            "organization": vendor.organization,
            "sender": actor,
            "link": link_url(token),
        },
    )
    return questionnaire, token


@transaction.atomic
def questionnaire_revoke(*, actor: User, questionnaire: SentQuestionnaire) -> SentQuestionnaire:
    questionnaire = SentQuestionnaire.objects.select_for_update(no_key=True).get(
        pk=questionnaire.pk
    )
    if not questionnaire.is_open:
        raise ValidationError(
            f"This questionnaire is {questionnaire.get_current_status_display().lower()}; "
            "only an open one can be revoked."
        )
    questionnaire.status = QuestionnaireStatus.REVOKED
    questionnaire.revoked_by = actor
    questionnaire.revoked_at = timezone.now()
    questionnaire.save(update_fields=["status", "revoked_by", "revoked_at"])
    audit_record(
        actor=actor,
        organization=questionnaire.organization,
        action="vendor_questionnaire.revoke",
        obj=questionnaire,
    )
    return questionnaire


# --- the contact, through the link --------------------------------------------------------------


def questionnaire_for_token(token: str) -> SentQuestionnaire | None:
    """The questionnaire a link's token opens, whatever its status; None for an unknown one."""
    if not token or len(token) > 100:
        return None
    return (
        SentQuestionnaire.objects.select_related("vendor__owner", "organization")
        .filter(token_hash=secret_hash(token))
        .first()
    )


def _lock_open(questionnaire: SentQuestionnaire) -> SentQuestionnaire:
    locked = SentQuestionnaire.objects.select_for_update(no_key=True).get(pk=questionnaire.pk)
    if not locked.is_open:
        raise LinkClosed
    return locked


def _store_answers(questionnaire: SentQuestionnaire, answers: dict[str, tuple[str, str]]) -> None:
    by_key = {q["key"]: q for q in questionnaire.questions}
    errors: dict[str, str] = {}
    for key, (value, _comment) in answers.items():
        question = by_key.get(key)
        if question is None:
            errors[key] = "Unknown question."
        elif not valid_answer(question, value):
            errors[key] = "Choose one of the offered answers."
    if errors:
        raise ValidationError(errors)
    existing = {a.question_key: a for a in questionnaire.answers.all()}
    new, changed = [], []
    for key, (value, comment) in answers.items():
        value, comment = value.strip()[:5000], comment.strip()[:5000]
        row = existing.get(key)
        if row is None:
            if value or comment:
                new.append(QuestionnaireAnswer(questionnaire=questionnaire, question_key=key,
                                               value=value, comment=comment))  # fmt: skip
        elif (row.value, row.comment) != (value, comment):
            row.value, row.comment, row.updated_at = value, comment, timezone.now()
            changed.append(row)
    QuestionnaireAnswer.objects.bulk_create(new)
    QuestionnaireAnswer.objects.bulk_update(changed, ["value", "comment", "updated_at"])


@transaction.atomic
def questionnaire_save(
    *, questionnaire: SentQuestionnaire, answers: dict[str, tuple[str, str]]
) -> SentQuestionnaire:
    """Store the contact's answers (value, comment by question key); LinkClosed when the
    questionnaire no longer takes answers, nothing written."""
    questionnaire = _lock_open(questionnaire)
    _store_answers(questionnaire, answers)
    if questionnaire.status == QuestionnaireStatus.SENT:
        questionnaire.status = QuestionnaireStatus.IN_PROGRESS
        questionnaire.save(update_fields=["status"])
    return questionnaire


@transaction.atomic
def questionnaire_attach(
    *, questionnaire: SentQuestionnaire, upload: Any, question_key: str = ""
) -> QuestionnaireAttachment:
    questionnaire = _lock_open(questionnaire)
    if question_key and question_key not in {q["key"] for q in questionnaire.questions}:
        raise ValidationError({"question": "Unknown question."})
    size = upload.size or 0
    if size > settings.VENDOR_QUESTIONNAIRE_MAX_FILE_BYTES:
        limit = settings.VENDOR_QUESTIONNAIRE_MAX_FILE_BYTES // (1024 * 1024)
        raise ValidationError({"file": f"The file is larger than {limit} MB."})
    if questionnaire.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"file": f"At most {MAX_ATTACHMENTS} files per questionnaire."})
    checked = check_upload(upload)
    key = f"{ATTACHMENT_PREFIX}/{questionnaire.organization_id}/{uuid.uuid4().hex}"
    storage.store(key, upload)
    try:
        attachment = QuestionnaireAttachment.objects.create(
            questionnaire=questionnaire,
            question_key=question_key,
            original_name=checked.name,
            storage_key=key,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
    except BaseException:
        storage.delete(key)
        raise
    if questionnaire.status == QuestionnaireStatus.SENT:
        questionnaire.status = QuestionnaireStatus.IN_PROGRESS
        questionnaire.save(update_fields=["status"])
    return attachment


@transaction.atomic
def questionnaire_submit(
    *, questionnaire: SentQuestionnaire, answers: dict[str, tuple[str, str]]
) -> SentQuestionnaire:
    """Store the last answers and submit: the link is dead from now on; the vendor's owner is
    told."""
    questionnaire = _lock_open(questionnaire)
    _store_answers(questionnaire, answers)
    questionnaire.status = QuestionnaireStatus.SUBMITTED
    questionnaire.submitted_at = timezone.now()
    questionnaire.save(update_fields=["status", "submitted_at"])
    vendor = Vendor.objects.select_related("owner", "organization").get(pk=questionnaire.vendor_id)
    audit_record(
        actor=None,
        organization=vendor.organization,
        action="vendor_questionnaire.submit",
        obj=questionnaire,
        after={"contact": questionnaire.contact_email},
    )
    recipient = vendor.owner or questionnaire.sent_by
    if recipient is not None and recipient.email:
        email_queue(
            template="vendor_questionnaire_submitted",
            to=[recipient.email],
            context={
                "questionnaire": questionnaire,
                "vendor": vendor,
                "organization": vendor.organization,
                "url": settings.SITE_URL
                + reverse(
                    "vendor_questionnaire_detail",
                    kwargs={
                        "org": vendor.organization.slug,
                        "pk": vendor.pk,
                        "qid": questionnaire.pk,
                    },
                ),
            },
        )
    return questionnaire


def answers_by_key(questionnaire: SentQuestionnaire) -> dict[str, QuestionnaireAnswer]:
    return {a.question_key: a for a in questionnaire.answers.all()}


# --- the review ---------------------------------------------------------------------------------


@transaction.atomic
def questionnaire_review_record(
    *,
    actor: User,
    questionnaire: SentQuestionnaire,
    reviewed_on: dt.date,
    outcome: str,
    summary: str,
    today: dt.date,
) -> VendorReview:
    """Record a due-diligence review from a submitted questionnaire; the review keeps it."""
    questionnaire = SentQuestionnaire.objects.select_for_update(no_key=True).get(
        pk=questionnaire.pk
    )
    if questionnaire.status != QuestionnaireStatus.SUBMITTED:
        raise ValidationError("Only a submitted questionnaire can back a review.")
    if questionnaire.review_id is not None:
        raise ValidationError("A review was already recorded from this questionnaire.")
    review = vendor_services.vendor_review_record(
        actor=actor,
        vendor=questionnaire.vendor,
        reviewed_on=reviewed_on,
        outcome=outcome,
        summary=summary,
        today=today,
    )
    questionnaire.review = review
    questionnaire.save(update_fields=["review"])
    audit_record(
        actor=actor,
        organization=questionnaire.organization,
        action="vendor_questionnaire.review",
        obj=questionnaire,
        after={"review": review.pk},
    )
    return review


__all__ = ["OPEN_STATUSES", "LinkClosed"]
