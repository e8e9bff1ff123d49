"""outstanding_acknowledgements: what the people app shows in its onboarding column."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from policies import services
from policies.models import AcknowledgementVia
from policies.selectors import outstanding_acknowledgements
from tests.policies.factories import PolicyWorld, approve, approved_policy, days_ago


def everyone(pw: PolicyWorld) -> list[int]:
    return [p.pk for p in pw.people.values()]


def counts(pw: PolicyWorld, today: dt.date | None = None) -> dict[str, int]:
    result = outstanding_acknowledgements(
        organization=pw.org, person_ids=everyone(pw), today=today or timezone.localdate()
    )
    by_pk = {p.pk: key for key, p in pw.people.items()}
    return {by_pk[pk]: len(owed) for pk, owed in result.items()}


def test_nothing_is_outstanding_before_a_policy_is_sent(pw: PolicyWorld) -> None:
    approved_policy(pw.world)

    assert set(counts(pw).values()) == {0}


def test_each_active_person_owes_the_sent_versions_in_their_scope(pw: PolicyWorld) -> None:
    admin = pw.world.users["admin"]
    _, everyone_policy = approved_policy(pw.world, title="Handbook")
    _, sales_policy = approved_policy(pw.world, title="Sales Rules")
    services.policy_send_for_acknowledgement(actor=admin, version=everyone_policy)
    services.policy_send_for_acknowledgement(actor=admin, version=sales_policy, department="Sales")

    assert counts(pw) == {
        "member": 1,
        "owner": 1,
        "eng": 1,
        "sales": 2,
        "contractor": 1,
        "left": 0,  # no longer active
        "future": 0,  # not started yet
        "globex": 0,  # another organization
    }


def test_an_acknowledgement_settles_a_version_for_a_year(pw: PolicyWorld) -> None:
    _, version = approved_policy(pw.world, effective=timezone.localdate() - dt.timedelta(days=500))
    services.policy_send_for_acknowledgement(
        actor=pw.world.users["admin"], version=version, now=days_ago(450), notify=False
    )
    services.policy_acknowledge(
        version=version, person=pw.people["member"], via=AcknowledgementVia.APP, now=days_ago(364)
    )
    services.policy_acknowledge(
        version=version, person=pw.people["eng"], via=AcknowledgementVia.APP, now=days_ago(366)
    )

    result = counts(pw)

    assert result["member"] == 0
    assert result["eng"] == 1  # more than a year ago: outstanding again
    assert result["sales"] == 1


def test_a_version_sent_before_someone_started_counts_once_they_are_active(
    pw: PolicyWorld,
) -> None:
    _, version = approved_policy(pw.world)
    services.policy_send_for_acknowledgement(actor=pw.world.users["admin"], version=version)
    start = pw.people["future"].start_date

    assert counts(pw, today=start - dt.timedelta(days=1))["future"] == 0
    assert counts(pw, today=start)["future"] == 1


def test_a_retired_or_replaced_version_is_no_longer_owed(pw: PolicyWorld) -> None:
    admin = pw.world.users["admin"]
    policy, v1 = approved_policy(pw.world, effective=timezone.localdate() - dt.timedelta(days=9))
    services.policy_send_for_acknowledgement(actor=admin, version=v1)
    services.policy_acknowledge(version=v1, person=pw.people["member"], via=AcknowledgementVia.APP)

    v2 = services.policy_version_create(actor=admin, policy=policy)
    approve(pw.world, v2)
    assert counts(pw)["member"] == 0  # v2 not sent yet; v1 retired

    services.policy_send_for_acknowledgement(actor=admin, version=v2)
    assert counts(pw)["member"] == 1  # the new version needs a new acknowledgement


def test_unknown_ids_answer_zero_and_an_empty_list_answers_empty(pw: PolicyWorld) -> None:
    assert (
        outstanding_acknowledgements(organization=pw.org, person_ids=[], today=timezone.localdate())
        == {}
    )
    assert outstanding_acknowledgements(
        organization=pw.org, person_ids=[999_999], today=timezone.localdate()
    ) == {999_999: []}


def test_the_answer_costs_four_queries_whatever_the_number_of_people(
    pw: PolicyWorld, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for index in range(3):
        _, version = approved_policy(pw.world, title=f"Policy {index}")
        services.policy_send_for_acknowledgement(actor=pw.world.users["admin"], version=version)

    with django_assert_num_queries(4):
        outstanding_acknowledgements(
            organization=pw.org, person_ids=everyone(pw), today=timezone.localdate()
        )


def test_each_owed_version_comes_with_its_due_date(pw: PolicyWorld) -> None:
    """Thirty days after it was sent for a first acknowledgement; the day the last one runs out
    for a renewal; soonest first."""
    admin = pw.world.users["admin"]
    today = timezone.localdate()
    _, old = approved_policy(pw.world, title="Old", effective=today - dt.timedelta(days=500))
    services.policy_send_for_acknowledgement(
        actor=admin, version=old, now=days_ago(450), notify=False
    )
    services.policy_acknowledge(
        version=old, person=pw.people["member"], via=AcknowledgementVia.APP, now=days_ago(370)
    )
    _, new = approved_policy(pw.world, title="New", effective=today - dt.timedelta(days=5))
    services.policy_send_for_acknowledgement(
        actor=admin, version=new, now=days_ago(4), notify=False
    )

    owed = outstanding_acknowledgements(
        organization=pw.org, person_ids=[pw.people["member"].pk], today=today
    )[pw.people["member"].pk]

    assert [(o.version.pk, o.renewal) for o in owed] == [(old.pk, True), (new.pk, False)]
    assert owed[0].due_date < today  # the year ran out: overdue
    assert owed[1].due_date == days_ago(4).date() + dt.timedelta(days=30)
