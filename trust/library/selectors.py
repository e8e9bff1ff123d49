"""Reads of the answer library, always through the permission choke point."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from compliance.models import Organization, User
from compliance.permissions import can, restrict
from controls.models import ControlReadiness
from people.completion import organization_today
from trust.models import AnswerEntry, Questionnaire, QuestionnaireRow, QuestionnaireStatus

STALE_FILTERS = {"stale": "Stale", "current": "Current"}


def _not_ready_control() -> Exists:
    """A linked control whose stored readiness says it is not ready (compliance.readiness keeps
    ControlReadiness current; an archived control no longer backs anything)."""
    return Exists(
        ControlReadiness.objects.filter(
            control__answer_entries=OuterRef("pk"),
            control__archived_at__isnull=True,
            ready=False,
        )
    )


def with_staleness(queryset: QuerySet[AnswerEntry], today: dt.date) -> QuerySet[AnswerEntry]:
    """Annotate ``review_overdue``, ``control_not_ready`` and ``is_stale`` (one query)."""
    return queryset.annotate(
        control_not_ready=_not_ready_control(),
    ).annotate(
        is_stale=Q(review_by__lt=today) | Q(control_not_ready=True),
        review_overdue=Q(review_by__lt=today),
    )


def answer_entry_list(
    *,
    user: User,
    organization: Organization,
    search: str = "",
    stale: str = "",
    owner: str = "",
) -> QuerySet[AnswerEntry]:
    today = organization_today(organization)
    queryset = with_staleness(
        restrict(AnswerEntry.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("owner"),
        today,
    )
    if search:
        queryset = queryset.filter(
            Q(question__icontains=search)
            | Q(answer__icontains=search)
            | Q(aliases__icontains=search)
        )
    stale_condition = Q(review_by__lt=today) | Q(control_not_ready=True)
    if stale == "stale":
        queryset = queryset.filter(stale_condition)
    elif stale == "current":
        queryset = queryset.exclude(stale_condition)
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner.isdigit():
        queryset = queryset.filter(owner_id=int(owner))
    return queryset.order_by("question", "pk")


def answer_entry_get(*, user: User, organization: Organization, pk: Any) -> AnswerEntry:
    entry = (
        answer_entry_list(user=user, organization=organization)
        .prefetch_related("controls", "policies")
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise Http404("No such answer.")
    return entry


def answer_entry_can_change(*, user: User, entry: AnswerEntry) -> bool:
    return can(user, "change", entry)


def questionnaire_list(
    *, user: User, organization: Organization, search: str = "", status: str = ""
) -> QuerySet[Questionnaire]:
    queryset = (
        restrict(Questionnaire.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("uploaded_by")
        .annotate(
            row_count=Count("rows"),
            to_review=Count("rows", filter=Q(rows__decision="pending")),
        )
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(customer__icontains=search))
    if status in QuestionnaireStatus.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-uploaded_at", "-pk")


def questionnaire_get(*, user: User, organization: Organization, pk: Any) -> Questionnaire:
    questionnaire = (
        restrict(Questionnaire.objects.all(), user, organization=organization)
        .filter(organization=organization, pk=pk)
        .select_related("uploaded_by")
        .first()
    )
    if questionnaire is None:
        raise Http404("No such questionnaire.")
    return questionnaire


def questionnaire_rows(
    *, user: User, questionnaire: Questionnaire, decision: str = ""
) -> QuerySet[QuestionnaireRow]:
    today = organization_today(questionnaire.organization)
    queryset = (
        restrict(QuestionnaireRow.objects.all(), user, organization=questionnaire.organization)
        .filter(questionnaire=questionnaire)
        .select_related("decided_by", "suggested_entry")
        .annotate(
            source_stale=Q(suggested_entry__review_by__lt=today)
            | Exists(
                ControlReadiness.objects.filter(
                    control__answer_entries=OuterRef("suggested_entry_id"),
                    control__archived_at__isnull=True,
                    ready=False,
                )
            )
        )
    )
    if decision:
        queryset = queryset.filter(decision=decision)
    return queryset.order_by("row_number")


def questionnaire_row_get(*, user: User, questionnaire: Questionnaire, pk: Any) -> QuestionnaireRow:
    row = questionnaire_rows(user=user, questionnaire=questionnaire).filter(pk=pk).first()
    if row is None:
        raise Http404("No such row.")
    return row
