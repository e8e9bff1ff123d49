"""The demo seed: the library imported, most policies approved by Dana over the program's ten
weeks (each effective the day it was approved), one in review and one draft, and everyone
acknowledged but a few laggards."""

from __future__ import annotations

from django.utils import timezone

from compliance.meetings.weeks import local_date
from policies import demo
from policies.dates import organization_today
from policies.models import Acknowledgement, Distribution, Policy, PolicyVersion
from policies.selectors import policy_list, policy_rows
from tests.conftest import World
from tests.policies.factories import PersonFactory


def users(world: World) -> dict:  # type: ignore[type-arg]
    u = world.users
    return {
        "dana": u["admin"], "marcus": u["owner"], "priya": u["member"], "tom": u["granted"],
        "alice": u["member"], "sam": u["viewer"], "jordan": u["auditor"],
    }  # fmt: skip


def test_the_demo_seed_builds_a_believable_policy_program(world: World) -> None:
    people = [PersonFactory(organization=world.org) for _ in range(20)]

    demo.seed(organization=world.org, users=users(world), today=timezone.localdate())

    today = organization_today(world.org)
    rows = policy_rows(
        policies=list(policy_list(user=world.users["admin"], organization=world.org)),
        organization=world.org,
        today=today,
    )
    assert len(rows) >= 12
    approved = [r for r in rows if r.current is not None]
    assert len(approved) == len(rows) - 2
    assert all(r.current.approved_by == world.users["admin"] for r in approved)
    for row in approved:
        version = row.current
        # Approved on the day it took effect, within the program's weeks (none in the future).
        assert local_date(world.org, version.approved_at) == version.effective_date
        assert 0 <= (today - version.effective_date).days <= 11 * 7
    assert [r.policy.library_key for r in rows if r.review_state == "overdue"] == []
    open_states = {r.policy.library_key: r.open.status for r in rows if r.current is None}
    assert open_states == {demo.IN_REVIEW: "in_review", demo.DRAFT: "draft"}
    assert PolicyVersion.objects.filter(policy__library_key=demo.REVISED).count() == 2
    assert Policy.objects.filter(organization=world.org, owner__isnull=True).count() == 0

    assert Distribution.objects.count() == len(approved)
    done = {(a.person_id, a.version_id) for a in Acknowledgement.objects.filter(person__in=people)}
    owing = {p.pk for p in people for r in approved if (p.pk, r.current.pk) not in done}
    # 20 people: 2 or 3 laggards (people who started after a policy was sent owe nothing older).
    assert 1 <= len(owing) <= 3
    assert len(done) >= len(approved) * len(people) - 2 * 3


def test_the_demo_seed_skips_acknowledgements_without_people(world: World) -> None:
    demo.seed(organization=world.org, users=users(world), today=timezone.localdate())

    assert Policy.objects.filter(organization=world.org).count() >= 12
    assert not Distribution.objects.exists()
    assert not Acknowledgement.objects.exists()
