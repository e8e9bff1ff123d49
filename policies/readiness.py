"""Policies' say in readiness (see compliance.readiness).

A control linked to a policy is not ready while that policy has no approved version, or while
its review is overdue: the later of the approved version's effective date and the last recorded
review, plus the policy's review cadence, is before today in the organization's time zone. One
query, whatever the number of controls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, When
from django.urls import reverse
from django.utils.formats import date_format

from compliance.models import Organization
from compliance.readiness import Blocker, register_blocker_source
from controls.models import BlockerKind
from policies.dates import organization_today, review_due
from policies.models import Policy, PolicyVersion, VersionStatus


def policy_links_as_of(
    organization: Organization, control_ids: Sequence[int], *, at: dt.datetime, on: dt.date
) -> QuerySet[Any]:
    """The rows :func:`policy_blockers` reads, at a past moment: policies created by then, the
    effective date of the version approved and not yet retired then, and the last review if
    recorded on or before the day ``on`` (an earlier review it replaced is not known)."""
    through: Any = Policy.controls.through
    approved_then = (
        PolicyVersion.objects.filter(policy=OuterRef("policy_id"), approved_at__lte=at)
        .filter(Q(retired_at__isnull=True) | Q(retired_at__gt=at))
        .order_by("-approved_at", "-id")
    )
    return (
        through.objects.filter(
            control_id__in=list(control_ids),
            policy__organization=organization,
            policy__created_at__lte=at,
        )
        .annotate(
            effective_then=Subquery(approved_then.values("effective_date")[:1]),
            reviewed_then=Case(
                When(policy__last_reviewed_on__lte=on, then=F("policy__last_reviewed_on")),
                default=None,
            ),
        )
        .values_list(
            "control_id",
            "policy_id",
            "policy__title",
            "policy__review_months",
            "reviewed_then",
            "effective_then",
        )
        .order_by("control_id", "policy__title")
    )


@register_blocker_source
def policy_blockers(
    organization: Organization, control_ids: Sequence[int], *, as_of: dt.datetime | None = None
) -> Iterator[Blocker]:
    through: Any = Policy.controls.through  # the auto-created table of policy ↔ control links
    links = (
        through.objects.filter(control_id__in=list(control_ids), policy__organization=organization)
        .annotate(
            current_effective=Subquery(
                PolicyVersion.objects.filter(
                    policy=OuterRef("policy_id"), status=VersionStatus.APPROVED
                ).values("effective_date")[:1]
            )
        )
        .values_list(
            "control_id",
            "policy_id",
            "policy__title",
            "policy__review_months",
            "policy__last_reviewed_on",
            "current_effective",
        )
        .order_by("control_id", "policy__title")
    )
    today = organization_today(organization, as_of)
    if as_of is not None:
        links = policy_links_as_of(organization, control_ids, at=as_of, on=today)
    for control_id, policy_id, title, months, reviewed, effective in links:
        url = reverse("policy_detail", args=[organization.slug, policy_id])
        if effective is None:
            yield Blocker(
                control_id,
                BlockerKind.POLICY_UNAPPROVED,
                f"Policy “{title}” has no approved version.",
                url,
            )
            continue
        due = review_due(effective_date=effective, last_reviewed_on=reviewed, review_months=months)
        if due is not None and due < today:
            yield Blocker(
                control_id,
                BlockerKind.POLICY_REVIEW_OVERDUE,
                f"Policy “{title}” was due for review on {date_format(due, 'j M Y')}.",
                url,
                since=due,
            )
