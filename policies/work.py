"""Policies' part of "My work" (see compliance.work): what to acknowledge, reviews coming due
on the policies the user owns, and, for admins, versions waiting for approval."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.formats import date_format

from compliance.models import Organization, User
from compliance.permissions import Capability, has_capability, membership_for
from compliance.work import WorkItem, register_work_source
from policies.dates import organization_today, review_due, review_state
from policies.models import PolicyVersion, VersionStatus
from policies.selectors import owed_acknowledgements, person_for_user


@register_work_source
def policy_work(user: User, organization: Organization) -> Iterator[WorkItem]:
    slug = organization.slug
    today = organization_today(organization)
    membership = membership_for(user, organization)
    if not has_capability(membership, Capability.VIEW_PROGRAM):
        return

    person = person_for_user(user=user, organization=organization)
    if person is not None:
        for owed in owed_acknowledgements(person=person, organization=organization, today=today):
            policy = owed.version.policy
            yield WorkItem(
                kind="Policy to acknowledge",
                title=f"{policy.title} (version {owed.version.number})",
                url=reverse("policy_detail", args=[slug, policy.pk]) + "#acknowledge",
                due=owed.due_date,
                status="Yearly renewal" if owed.renewal else "Not acknowledged",
                tone="bad" if owed.due_date < today else "warn",
            )

    # Reviews of the policies the user owns, due within 30 days or overdue.
    for version in (
        PolicyVersion.objects.filter(
            policy__organization=organization, policy__owner=user, status=VersionStatus.APPROVED
        )
        .defer("body")
        .select_related("policy")
    ):
        due = review_due(
            effective_date=version.effective_date,
            last_reviewed_on=version.policy.last_reviewed_on,
            review_months=version.policy.review_months,
        )
        state = review_state(due, today)
        if due is None or state not in ("overdue", "due_soon"):
            continue
        yield WorkItem(
            kind="Policy review",
            title=version.policy.title,
            url=reverse("policy_detail", args=[slug, version.policy_id]),
            due=due,
            status="Overdue" if state == "overdue" else f"Due {date_format(due, 'j M')}",
            tone="bad" if state == "overdue" else "warn",
        )

    # Approvers: versions waiting for a decision.
    if has_capability(membership, Capability.MANAGE_POLICIES):
        for version in (
            PolicyVersion.objects.filter(
                policy__organization=organization, status=VersionStatus.IN_REVIEW
            )
            .select_related("policy")
            .order_by("updated_at")
        ):
            yield WorkItem(
                kind="Approve policy",
                title=f"{version.policy.title} (version {version.number})",
                url=reverse(
                    "policy_version_detail", args=[slug, version.policy_id, version.number]
                ),
                status="In review",
                tone="info",
            )
