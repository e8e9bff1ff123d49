"""Policies' part of "My work" (see compliance.work): what to acknowledge, reviews coming due
on the policies the user owns, and, for admins, versions waiting for approval. Each group links
to the policy list filtered to exactly its policies."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.formats import date_format

from compliance.models import Organization, User
from compliance.permissions import Capability, has_capability, membership_for
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, group_of, register_work_source
from policies.dates import organization_today, review_due, review_state
from policies.models import PolicyVersion, VersionStatus
from policies.selectors import owed_acknowledgements, person_for_user


@register_work_source
def policy_work(
    user: User, organization: Organization, *, limit: int = GROUP_LIMIT
) -> Iterator[WorkGroup | None]:
    slug = organization.slug
    policy_list = reverse("policy_list", args=[slug])
    today = organization_today(organization)
    membership = membership_for(user, organization)
    if not has_capability(membership, Capability.VIEW_PROGRAM):
        return

    person = person_for_user(user=user, organization=organization)
    owed = (
        owed_acknowledgements(person=person, organization=organization, today=today)
        if person is not None
        else []
    )
    yield group_of(
        "Policies to acknowledge",
        (
            WorkItem(
                kind="Policy to acknowledge",
                title=f"{o.version.policy.title} (version {o.version.number})",
                url=reverse("policy_detail", args=[slug, o.version.policy_id]) + "#acknowledge",
                due=o.due_date,
                status="Yearly renewal" if o.renewal else "Not acknowledged",
                tone="bad" if o.due_date < today else "warn",
            )
            for o in owed
        ),
        limit=limit,
        all_url=f"{policy_list}?ack=me",
        all_label="policies for you to acknowledge",
        key="policies_to_acknowledge",
    )

    # Reviews of the policies the user owns, due within 30 days or overdue.
    reviews = []
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
        reviews.append(
            WorkItem(
                kind="Policy review",
                title=version.policy.title,
                url=reverse("policy_detail", args=[slug, version.policy_id]),
                due=due,
                status="Overdue" if state == "overdue" else f"Due {date_format(due, 'j M')}",
                tone="bad" if state == "overdue" else "warn",
            )
        )
    yield group_of(
        "Policy reviews",
        reviews,
        limit=limit,
        all_url=f"{policy_list}?owner=me&review=due",
        all_label="of your policies due for review",
        key="policy_reviews",
    )

    # Approvers: versions waiting for a decision, longest waiting first.
    if has_capability(membership, Capability.MANAGE_POLICIES):
        in_review = PolicyVersion.objects.filter(
            policy__organization=organization, status=VersionStatus.IN_REVIEW
        )
        versions = list(
            in_review.defer("body").select_related("policy").order_by("updated_at", "pk")[:limit]
        )
        yield WorkGroup(
            key="policies_to_approve",
            title="Policies to approve",
            items=[
                WorkItem(
                    kind="Approve policy",
                    title=f"{version.policy.title} (version {version.number})",
                    url=reverse(
                        "policy_version_detail", args=[slug, version.policy_id, version.number]
                    ),
                    status="In review",
                    tone="info",
                )
                for version in versions
            ],
            total=in_review.count(),
            all_url=f"{policy_list}?status=in_review",
            all_label="policies in review",
        )
