"""Writes of the answer library: entries, questionnaire import, suggestions, review decisions,
saving answers back to the library. Every write runs in one transaction with its audit event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.audit import audit_record, snapshot
from compliance.models import Membership, Organization, Role, User
from compliance.permissions import can, membership_for
from compliance.tabular import TableError, cell_name, column_letter, read_table
from controls.models import Control
from evidence import storage
from policies.models import Policy
from trust.models import (
    AnswerEntry,
    Questionnaire,
    QuestionnaireRow,
    QuestionnaireStatus,
    RowDecision,
)
from trust.suggest import Index, entry_texts, threshold

MAX_ROWS = 5_000
FOLDER = ".questionnaires"  # in the evidence storage; the orphan check skips "." folders
ENTRY_FIELDS = ["question", "answer", "aliases", "notes", "review_by"]


def may_manage_library(actor: User, organization: Organization) -> bool:
    membership = membership_for(actor, organization)
    return membership is not None and membership.role == Role.ADMIN


def may_review(actor: User, organization: Organization) -> bool:
    membership: Membership | None = membership_for(actor, organization)
    return membership is not None and membership.role in (Role.ADMIN, Role.MEMBER)


# --- entries ------------------------------------------------------------------------------------


def _entry_snapshot(entry: AnswerEntry) -> dict[str, Any]:
    data = snapshot(entry, ENTRY_FIELDS)
    data["owner"] = entry.owner.email if entry.owner_id and entry.owner else None
    return data


def _validate_entry(
    entry: AnswerEntry, controls: Sequence[Control] | None, policies: Sequence[Policy] | None
) -> None:
    for name in ("question", "answer", "aliases", "notes"):
        setattr(entry, name, (getattr(entry, name) or "").strip())
    errors: dict[str, list[str]] = {}
    try:
        entry.full_clean(exclude=["organization", "owner", "created_by"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if entry.owner is not None and membership_for(entry.owner, entry.organization) is None:
        errors["owner"] = ["Choose a member of this organization."]
    if controls and any(c.organization_id != entry.organization_id for c in controls):
        errors["controls"] = ["Choose controls of this organization."]
    if policies and any(p.organization_id != entry.organization_id for p in policies):
        errors["policies"] = ["Choose policies of this organization."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def answer_entry_create(
    *,
    actor: User,
    organization: Organization,
    question: str,
    answer: str,
    aliases: str = "",
    notes: str = "",
    owner: User | None = None,
    review_by: dt.date | None = None,
    controls: Sequence[Control] = (),
    policies: Sequence[Policy] = (),
) -> AnswerEntry:
    """Add an approved answer to the library (admins)."""
    if not may_manage_library(actor, organization):
        raise PermissionDenied("Only admins add answers to the library.")
    entry = AnswerEntry(
        organization=organization,
        question=question,
        answer=answer,
        aliases=aliases,
        notes=notes,
        owner=owner,
        review_by=review_by,
        created_by=actor,
    )
    _validate_entry(entry, controls, policies)
    entry.save()
    entry.controls.set(controls)
    entry.policies.set(policies)
    audit_record(
        actor=actor,
        organization=organization,
        action="answer_entry.create",
        obj=entry,
        after=_entry_snapshot(entry),
    )
    return entry


@transaction.atomic
def answer_entry_update(
    *,
    actor: User,
    entry: AnswerEntry,
    changes: dict[str, Any],
    controls: Sequence[Control] | None = None,
    policies: Sequence[Policy] | None = None,
) -> AnswerEntry:
    """Change an entry (admins, or the member who owns it; only admins change its owner)."""
    if not can(actor, "change", entry):
        raise PermissionDenied("You may not change this answer.")
    unknown = set(changes) - {*ENTRY_FIELDS, "owner"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    entry = AnswerEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    before = _entry_snapshot(entry)
    owner_changes = "owner" in changes and changes["owner"] != entry.owner
    if owner_changes and not may_manage_library(actor, entry.organization):
        raise PermissionDenied("Only admins change an answer's owner.")
    for name, value in changes.items():
        setattr(entry, name, value)
    _validate_entry(entry, controls, policies)
    entry.save()
    if controls is not None:
        entry.controls.set(controls)
    if policies is not None:
        entry.policies.set(policies)
    audit_record(
        actor=actor,
        organization=entry.organization,
        action="answer_entry.update",
        obj=entry,
        before=before,
        after=_entry_snapshot(entry),
    )
    return entry


@transaction.atomic
def answer_entry_delete(*, actor: User, entry: AnswerEntry) -> None:
    if not may_manage_library(actor, entry.organization):
        raise PermissionDenied("Only admins remove answers from the library.")
    before = _entry_snapshot(entry)
    audit_record(
        actor=actor,
        organization=entry.organization,
        action="answer_entry.delete",
        obj=entry,
        before=before,
    )
    entry.delete()


# --- questionnaires -----------------------------------------------------------------------------


@transaction.atomic
def questionnaire_upload(
    *,
    actor: User,
    organization: Organization,
    name: str,
    upload: Any,
    customer: str = "",
) -> Questionnaire:
    """Keep an incoming questionnaire's file after checking it reads as CSV or XLSX
    (ValidationError on ``file`` otherwise; nothing stored)."""
    if not may_review(actor, organization):
        raise PermissionDenied("Only admins and members import questionnaires.")
    filename = getattr(upload, "name", "") or "questionnaire"
    try:
        upload.seek(0)
        table = read_table(upload, filename=filename, max_rows=MAX_ROWS)
    except TableError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    questionnaire = Questionnaire(
        organization=organization,
        name=(name or "").strip() or filename,
        customer=(customer or "").strip(),
        filename=filename[:255],
        format=table.format,
        delimiter=table.delimiter if table.format == "csv" else "",
        encoding=table.encoding if table.format == "csv" else "",
        sheet=table.sheets[0].name,
        uploaded_by=actor,
        storage_key="",
        size=0,
        sha256="",
    )
    questionnaire.full_clean(
        exclude=["organization", "uploaded_by", "storage_key", "sha256", "size"],
        validate_constraints=False,
    )
    key = f"{FOLDER}/{storage.new_key(organization.pk)}"
    storage.store(key, upload)
    try:
        questionnaire.size, questionnaire.sha256 = storage.hash_file(key)
        questionnaire.storage_key = key
        questionnaire.save()
        audit_record(
            actor=actor,
            organization=organization,
            action="questionnaire.upload",
            obj=questionnaire,
            after={"name": questionnaire.name, "file": filename, "sha256": questionnaire.sha256},
        )
    except BaseException:
        storage.delete(key)
        raise
    return questionnaire


def questionnaire_table(questionnaire: Questionnaire) -> Any:
    with storage.open_file(questionnaire.storage_key) as handle:
        return read_table(handle, filename=questionnaire.filename, max_rows=MAX_ROWS)


@transaction.atomic
def questionnaire_map(
    *,
    actor: User,
    questionnaire: Questionnaire,
    sheet: str,
    question_column: int,
    answer_column: int,
    header_row: int = 1,
) -> Questionnaire:
    """Choose where the questions and answers are, read the questions and suggest an answer
    for each (ValidationError naming the field, nothing changed, when the choice is wrong)."""
    if not can(actor, "change", questionnaire):
        raise PermissionDenied("You may not review this questionnaire.")
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if questionnaire.status != QuestionnaireStatus.MAPPING:
        raise ValidationError({"sheet": ["The columns of this questionnaire are already chosen."]})
    table = questionnaire_table(questionnaire)
    if sheet not in table.sheet_names:
        raise ValidationError({"sheet": [f"The file has no sheet named {sheet!r}."]})
    data = table.sheet(sheet)
    if question_column == answer_column:
        raise ValidationError({"answer_column": ["Choose a column other than the questions'."]})
    for field, column in (("question_column", question_column), ("answer_column", answer_column)):
        if not 0 <= column < max(data.width, 1) + 1:
            raise ValidationError(
                {field: [f"Sheet {sheet!r} has no column {column_letter(column)}."]}
            )
    if not 1 <= header_row <= len(data.rows):
        raise ValidationError({"header_row": [f"Choose a row between 1 and {len(data.rows)}."]})
    formulas = data.formulas_in([question_column, answer_column], first_row=header_row)
    if formulas:
        first = formulas[0]
        raise ValidationError(
            {
                "question_column": [
                    f"{first} holds a formula; Attest imports text only "
                    f"({len(formulas)} cell{'s' if len(formulas) > 1 else ''} with formulas: "
                    f"{', '.join(formulas[:5])})."
                ]
            }
        )
    questions = [
        (index, data.cell(index, question_column), data.cell(index, answer_column))
        for index in range(header_row, len(data.rows))
        if data.cell(index, question_column).strip()
    ]
    if not questions:
        raise ValidationError(
            {
                "question_column": [
                    f"Column {column_letter(question_column)} has no questions "
                    f"below row {header_row}."
                ]
            }
        )
    questionnaire.sheet = sheet
    questionnaire.question_column = question_column
    questionnaire.answer_column = answer_column
    questionnaire.header_row = header_row
    questionnaire.status = QuestionnaireStatus.REVIEW
    questionnaire.save()
    entries = list(
        AnswerEntry.objects.filter(organization=questionnaire.organization).only(
            "pk", "question", "aliases", "answer"
        )
    )
    suggestions = suggest([text for _, text, _ in questions], entries)
    QuestionnaireRow.objects.bulk_create(
        QuestionnaireRow(
            questionnaire=questionnaire,
            row_number=index + 1,
            question=text,
            existing_answer=existing,
            suggested_entry=best[0] if best else None,
            suggested_answer=best[0].answer if best else "",
            confidence=best[1] if best else None,
            decision=RowDecision.PENDING if best else RowDecision.NO_MATCH,
        )
        for (index, text, existing), best in zip(questions, suggestions, strict=True)
    )
    audit_record(
        actor=actor,
        organization=questionnaire.organization,
        action="questionnaire.map",
        obj=questionnaire,
        after={
            "sheet": sheet,
            "question_column": cell_name(header_row - 1, question_column),
            "answer_column": cell_name(header_row - 1, answer_column),
            "rows": len(questions),
        },
    )
    return questionnaire


def suggest(
    questions: Sequence[str], entries: Sequence[AnswerEntry]
) -> list[tuple[AnswerEntry, float] | None]:
    """The best entry for each question and its confidence, or None below the threshold."""
    index = Index([(entry.pk, entry_texts(entry.question, entry.aliases)) for entry in entries])
    by_pk = {entry.pk: entry for entry in entries}
    limit = threshold()
    results: list[tuple[AnswerEntry, float] | None] = []
    for candidates in index.rank(questions, limit=1):
        best = candidates[0] if candidates else None
        results.append((by_pk[best.key], best.score) if best and best.score >= limit else None)
    return results


@transaction.atomic
def questionnaire_row_decide(
    *, actor: User, row: QuestionnaireRow, decision: str, answer: str = ""
) -> QuestionnaireRow:
    """Accept the suggestion, write another answer (edited), or reject it (left blank)."""
    if not can(actor, "change", row):
        raise PermissionDenied("You may not review this questionnaire.")
    row = (
        QuestionnaireRow.objects.select_for_update().select_related("questionnaire").get(pk=row.pk)
    )
    if row.questionnaire.status != QuestionnaireStatus.REVIEW:
        raise ValidationError({"decision": ["This questionnaire is not in review."]})
    answer = (answer or "").strip()
    if decision == RowDecision.ACCEPTED:
        if not row.suggested_answer:
            raise ValidationError(
                {"decision": ["There is no suggestion to accept: write an answer."]}
            )
        row.final_answer = row.suggested_answer
    elif decision == RowDecision.EDITED:
        if not answer:
            raise ValidationError({"answer": ["Write the answer."]})
        if len(answer) > 8000:
            raise ValidationError({"answer": ["Keep the answer under 8,000 characters."]})
        row.final_answer = answer
    elif decision == RowDecision.REJECTED:
        row.final_answer = ""
    else:
        raise ValidationError({"decision": ["Choose accepted, edited or rejected."]})
    before = {"decision": row.decision, "answer": row.final_answer}
    row.decision = decision
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save()
    audit_record(
        actor=actor,
        organization=row.questionnaire.organization,
        action="questionnaire.row_decide",
        obj=row,
        before=before,
        after={"decision": decision, "answer": row.final_answer},
    )
    return row


@transaction.atomic
def questionnaire_row_save_to_library(
    *, actor: User, row: QuestionnaireRow, update_source: bool
) -> AnswerEntry:
    """Keep a reviewed answer: update the entry it came from, or add a new entry."""
    if row.decision not in (RowDecision.ACCEPTED, RowDecision.EDITED) or not row.final_answer:
        raise ValidationError({"decision": ["Only accepted or edited answers go to the library."]})
    organization = row.questionnaire.organization
    if update_source and row.suggested_entry_id:
        entry = row.suggested_entry
        assert entry is not None
        aliases = entry.aliases
        if (
            row.question.strip().lower() != entry.question.strip().lower()
            and row.question not in aliases
        ):
            aliases = "\n".join(filter(None, [aliases, row.question]))
        return answer_entry_update(
            actor=actor, entry=entry, changes={"answer": row.final_answer, "aliases": aliases}
        )
    return answer_entry_create(
        actor=actor,
        organization=organization,
        question=row.question,
        answer=row.final_answer,
        owner=actor,
    )


def _set_review_status(
    actor: User, questionnaire: Questionnaire, *, was: str, becomes: str, action: str
) -> Questionnaire:
    if not can(actor, "change", questionnaire):
        raise PermissionDenied("You may not review this questionnaire.")
    questionnaire = Questionnaire.objects.select_for_update(no_key=True).get(pk=questionnaire.pk)
    if questionnaire.status != was:
        raise ValidationError(
            {"status": [f"This questionnaire is {questionnaire.get_status_display().lower()}."]}
        )
    questionnaire.status = becomes
    questionnaire.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        organization=questionnaire.organization,
        action=action,
        obj=questionnaire,
        before={"status": was},
        after={"status": becomes},
    )
    return questionnaire


@transaction.atomic
def questionnaire_complete(*, actor: User, questionnaire: Questionnaire) -> Questionnaire:
    """The review is done: rows can no longer be decided (reopen to change one). The export
    and saving answers to the library stay available."""
    return _set_review_status(
        actor,
        questionnaire,
        was=QuestionnaireStatus.REVIEW,
        becomes=QuestionnaireStatus.COMPLETED,
        action="questionnaire.complete",
    )


@transaction.atomic
def questionnaire_reopen(*, actor: User, questionnaire: Questionnaire) -> Questionnaire:
    return _set_review_status(
        actor,
        questionnaire,
        was=QuestionnaireStatus.COMPLETED,
        becomes=QuestionnaireStatus.REVIEW,
        action="questionnaire.reopen",
    )
