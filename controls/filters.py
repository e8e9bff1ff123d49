"""Filters of the control list, shared by the page, the CSV export and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from compliance.filters import FilterSet
from compliance.models import Organization, User
from compliance.readiness import (
    EVIDENCE_NEEDED_KINDS,
    READY_CONTROL_STATUSES,
    blocked_stored,
    not_ready_stored,
)
from controls.models import (
    BlockerKind,
    Control,
    ControlCategory,
    ControlStatus,
    Framework,
    Frequency,
)

READINESS_CHOICES = [("ready", "Ready"), ("not_ready", "Not ready")]
EVIDENCE_CHOICES = [("needed", "Missing or stale")]

# What a list may be sorted by: public name → database ordering. Nothing else is accepted.
CONTROL_ORDERING = {
    "ref_id": ("ref_id",),
    "name": ("name", "ref_id"),
    "status": ("status", "ref_id"),
    "category": ("category", "ref_id"),
    "owner": ("owner__full_name", "owner__email", "ref_id"),
    "target_date": ("target_date", "ref_id"),
    "updated_at": ("updated_at", "ref_id"),
}


class ControlFilterSet(FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    status = django_filters.MultipleChoiceFilter(choices=ControlStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=ControlCategory.choices)
    frequency = django_filters.MultipleChoiceFilter(choices=Frequency.choices)
    owner = django_filters.CharFilter(
        method="filter_owner",
        label="Owner",
        help_text="A user id, 'me', or 'none' for unowned controls.",
        max_length=20,
    )
    framework = django_filters.ModelChoiceFilter(
        queryset=Framework.objects.all(),
        to_field_name="slug",
        method="filter_framework",
        label="Framework",
    )
    requirement = django_filters.NumberFilter(method="filter_requirement", label="Requirement id")
    long_lead = django_filters.BooleanFilter()
    done = django_filters.BooleanFilter(
        method="filter_done",
        label="Implemented or not applicable",
        help_text="true: implemented or not applicable; false: not started or in progress.",
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Past target date")
    readiness = django_filters.ChoiceFilter(
        method="filter_readiness",
        label="Readiness",
        choices=READINESS_CHOICES,
        help_text="Ready as readiness counts it: implemented with no blocker, or not applicable.",
    )
    evidence = django_filters.ChoiceFilter(
        method="filter_evidence",
        label="Evidence",
        choices=EVIDENCE_CHOICES,
        help_text="Needed: implemented, the frequency asks for evidence and the newest accepted "
        "one is missing or stale (the stored readiness: what blocks the control).",
    )
    blocker = django_filters.ChoiceFilter(
        method="filter_blocker",
        label="Blocked by",
        choices=BlockerKind.choices,
        help_text="Implemented controls that a blocker of this kind keeps from being ready.",
    )

    class Meta:
        model = Control
        fields = [
            "q",
            "status",
            "category",
            "frequency",
            "owner",
            "framework",
            "requirement",
            "long_lead",
            "readiness",
            "evidence",
            "blocker",
            "done",
        ]

    def __init__(self, *args: Any, user: User, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.organization = organization
        self.filters["framework"].queryset = Framework.objects.filter(
            adoptions__organization=organization
        )

    def filter_search(
        self, queryset: QuerySet[Control], name: str, value: str
    ) -> QuerySet[Control]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(ref_id__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value)
        )

    def filter_owner(self, queryset: QuerySet[Control], name: str, value: str) -> QuerySet[Control]:
        if value == "me":
            return queryset.filter(Q(owner=self.user) | Q(backup_owner=self.user))
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset.none()

    def filter_framework(
        self, queryset: QuerySet[Control], name: str, value: Framework | None
    ) -> QuerySet[Control]:
        if value is None:
            return queryset
        return queryset.filter(mappings__requirement__framework=value).distinct()

    def filter_requirement(
        self, queryset: QuerySet[Control], name: str, value: int | None
    ) -> QuerySet[Control]:
        if value is None:
            return queryset
        return queryset.filter(mappings__requirement_id=value)

    def filter_overdue(
        self, queryset: QuerySet[Control], name: str, value: bool | None
    ) -> QuerySet[Control]:
        from django.utils import timezone

        if value is None:
            return queryset
        overdue = Q(target_date__lt=timezone.localdate()) & ~Q(
            status__in=[ControlStatus.IMPLEMENTED, ControlStatus.NOT_APPLICABLE]
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_readiness(
        self, queryset: QuerySet[Control], name: str, value: str
    ) -> QuerySet[Control]:
        if value not in ("ready", "not_ready"):
            return queryset
        not_ready = not_ready_stored()  # the stored state, kept current by the services
        return queryset.filter(not_ready) if value == "not_ready" else queryset.exclude(not_ready)

    def filter_done(
        self, queryset: QuerySet[Control], name: str, value: bool | None
    ) -> QuerySet[Control]:
        if value is None:
            return queryset
        done = Q(status__in=READY_CONTROL_STATUSES)
        return queryset.filter(done) if value else queryset.exclude(done)

    def filter_evidence(
        self, queryset: QuerySet[Control], name: str, value: str
    ) -> QuerySet[Control]:
        if value != "needed":
            return queryset
        # The stored state, as My work's "Evidence needed" group reads it.
        return queryset.filter(blocked_stored(*EVIDENCE_NEEDED_KINDS))

    def filter_blocker(
        self, queryset: QuerySet[Control], name: str, value: str
    ) -> QuerySet[Control]:
        if not value:
            return queryset
        return queryset.filter(blocked_stored(value))


def order_controls(queryset: QuerySet[Control], sort: str | None) -> tuple[QuerySet[Control], str]:
    """Apply a whitelisted ``sort`` (``name`` or ``-name``); unknown values fall back to ref_id."""
    sort = (sort or "").strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in CONTROL_ORDERING:
        return queryset.order_by("ref_id"), "ref_id"
    fields = CONTROL_ORDERING[key]
    ordering = [f"-{f}" if descending else f for f in fields]
    return queryset.order_by(*ordering), sort
