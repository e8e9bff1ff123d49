"""The policies part of "My work"."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from compliance.work import work_items
from policies import services
from policies.work import policy_work
from tests.policies.factories import PolicyWorld, approved_policy, first_version, make_policy


def items(pw: PolicyWorld, persona: str) -> list[tuple[str, str, str]]:
    return [
        (item.kind, item.title, item.status)
        for group in policy_work(pw.world.users[persona], pw.org)
        if group is not None
        for item in group.items
    ]


def test_people_see_the_policies_they_must_acknowledge_soonest_first(pw: PolicyWorld) -> None:
    admin = pw.world.users["admin"]
    _, older = approved_policy(
        pw.world, title="Older", effective=timezone.localdate() - dt.timedelta(days=60)
    )
    _, newer = approved_policy(pw.world, title="Newer")
    services.policy_send_for_acknowledgement(actor=admin, version=newer)
    services.policy_send_for_acknowledgement(
        actor=admin, version=older, now=timezone.now() - dt.timedelta(days=40), notify=False
    )

    found = [
        i
        for i in work_items(user=pw.world.users["member"], organization=pw.org)
        if i.kind == "Policy to acknowledge"
    ]

    assert [i.title for i in found] == ["Older (version 1)", "Newer (version 1)"]
    assert found[0].due == timezone.localdate() - dt.timedelta(days=10)
    assert found[0].tone == "bad"  # past due
    assert found[0].url.endswith("#acknowledge")

    services.policy_acknowledge(version=older, person=pw.people["member"], via="app")
    assert [t for _, t, _ in items(pw, "member")] == ["Newer (version 1)"]


def test_owners_see_reviews_due_within_30_days_or_overdue(pw: PolicyWorld) -> None:
    owner = pw.world.users["owner"]
    today = timezone.localdate()
    approved_policy(
        pw.world, title="Overdue", owner=owner, effective=today - dt.timedelta(days=400)
    )
    approved_policy(pw.world, title="Soon", owner=owner, effective=today - dt.timedelta(days=350))
    approved_policy(pw.world, title="Later", owner=owner, effective=today - dt.timedelta(days=100))
    approved_policy(pw.world, title="Someone else's", effective=today - dt.timedelta(days=400))

    found = [(k, t, s) for k, t, s in items(pw, "owner") if k == "Policy review"]

    assert [t for _, t, _ in found] == ["Overdue", "Soon"]
    assert found[0][2] == "Overdue"
    assert found[1][2].startswith("Due ")


def test_admins_see_versions_waiting_for_approval(pw: PolicyWorld) -> None:
    policy = make_policy(pw.world, title="Waiting")
    services.policy_version_submit(actor=pw.world.users["admin"], version=first_version(policy))
    make_policy(pw.world, title="Still a draft")

    assert items(pw, "admin") == [("Approve policy", "Waiting (version 1)", "In review")]
    assert items(pw, "member") == []


def test_auditors_and_strangers_get_nothing(pw: PolicyWorld) -> None:
    policy = make_policy(pw.world, title="Waiting")
    services.policy_version_submit(actor=pw.world.users["admin"], version=first_version(policy))

    assert items(pw, "auditor") == []
    assert [g for g in policy_work(pw.world.users["outsider"], pw.org) if g] == []


def test_the_source_costs_a_fixed_number_of_queries(
    pw: PolicyWorld, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    admin = pw.world.users["admin"]
    for index in range(4):
        _, version = approved_policy(pw.world, title=f"P{index}", owner=admin)
        services.policy_send_for_acknowledgement(actor=admin, version=version)
    user = pw.world.users["admin"]

    with django_assert_max_num_queries(8):
        list(policy_work(user, pw.org))
