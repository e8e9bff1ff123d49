"""Demo policies for the demo company, built only through the services.

The library is imported at the program's kick-off and owners are assigned; most policies are
approved by Dana over the program's weeks (see compliance/demo_timeline.py), each taking effect
the day it is approved (one revised into a second version in week 7), one waits in review and
one is still a draft. Approved policies are sent to everyone an hour after the approval, and
everyone in scope has acknowledged them since except a few laggards (one person in eight) who
each still owe one or two.
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import AbstractContextManager

from django.core.exceptions import ValidationError

from compliance.demo_timeline import Timeline, stamped
from compliance.models import Organization, User
from people.models import Person
from policies import services
from policies.models import (
    AcknowledgementVia,
    Policy,
    PolicyVersion,
    PolicyVersionStatusChange,
    VersionStatus,
)

OWNERS = {
    "information-security": "dana",
    "acceptable-use": "alice",
    "access-control": "priya",
    "change-management": "marcus",
    "incident-response": "priya",
    "business-continuity": "marcus",
    "vendor-management": "dana",
    "data-classification-retention": "priya",
    "risk-management": "dana",
    "secure-development": "marcus",
    "backup": "tom",
    "encryption": "priya",
}
# The program week each policy was approved in (on the Thursday; it takes effect that day).
APPROVED_IN = {
    "information-security": 0, "incident-response": 0, "risk-management": 0,
    "acceptable-use": 0, "access-control": 3, "encryption": 3,
    "data-classification-retention": 3, "change-management": 5, "business-continuity": 5,
    "secure-development": 8,
}  # fmt: skip
IN_REVIEW = "vendor-management"  # submitted on the Friday of week 8, waiting for Dana
DRAFT = "backup"  # Tom's first draft, week 8
REVISED = "access-control"  # approved in week 3, then revised into a second version in week 7
REVISED_IN = 7
ACCEPTABLE_USE = "acceptable-use"
LAGGARD_SHARE = 1 / 8  # of the people, who each still owe one or two acknowledgements

REVISION = (
    "\n## 12. Passkeys\n\n"
    "Where an application supports passkeys or platform authenticators, they are the preferred "
    "way to sign in and replace passwords for that application. IT enables them for the identity "
    "provider first and tracks the remaining applications in the access control register.\n"
)


class _Dates:
    """Re-dates what the policy services stamp "now" (the one place this demo step does)."""

    def __init__(self, organization: Organization) -> None:
        versions = PolicyVersion.objects.filter(policy__organization=organization)
        self.targets = (
            (Policy.objects.filter(organization=organization), "created_at"),
            (versions, "created_at"),
            (versions, "approved_at"),
            (versions, "retired_at"),
            (PolicyVersionStatusChange.objects.filter(version__policy__organization=organization),
             "created_at"),
        )  # fmt: skip

    def at(self, moment: dt.datetime) -> AbstractContextManager[None]:
        return stamped(moment, *self.targets)


def _approve(
    *,
    dana: User,
    owner: User,
    version: PolicyVersion,
    timeline: Timeline,
    week: int,
    note: str,
    dates: _Dates,
) -> PolicyVersion:
    """Submitted by its owner in the morning, approved by Dana an hour later, effective that day
    (the approval's local date is the effective date)."""
    with dates.at(timeline.at(week, 3, 8)):
        services.policy_version_submit(actor=owner, version=version, reason="Ready for approval")
    approved = timeline.at(week, 3, 9)
    with dates.at(approved):
        services.policy_version_approve(
            actor=dana,
            version=version,
            effective_date=timeline.local(approved).date(),
            reason=note,
        )
    version.refresh_from_db()  # the re-dated approval
    return version


def seed(
    *,
    organization: Organization,
    users: dict[str, User],
    today: dt.date,
    timeline: Timeline | None = None,
) -> None:
    rng = random.Random(4242)
    timeline = timeline or Timeline.of(organization)
    dates = _Dates(organization)
    dana = users["dana"]
    with dates.at(timeline.at(0, 0, 9, 30)):  # imported at the kick-off
        services.library_import(actor=dana, organization=organization)
        policies = {
            p.library_key: p
            for p in Policy.objects.filter(organization=organization).exclude(library_key="")
        }
        for key, policy in policies.items():
            owner = users.get(OWNERS.get(key, "dana"), dana)
            services.policy_update(actor=dana, policy=policy, changes={"owner": owner})

    approved: list[PolicyVersion] = []
    for key, policy in sorted(policies.items()):
        owner = users.get(OWNERS.get(key, "dana"), dana)
        draft = PolicyVersion.objects.get(policy=policy, number=1)
        if key == DRAFT:
            with dates.at(timeline.at(8, 2, 15)):
                services.policy_version_update(
                    actor=owner,
                    version=draft,
                    body=draft.body,
                    change_summary="Adapting the starter text to our AWS setup",
                )
            continue
        if key == IN_REVIEW:
            with dates.at(timeline.at(8, 4, 14)):
                services.policy_version_submit(
                    actor=owner, version=draft, reason="First version for approval"
                )
            continue
        version = _approve(
            dana=dana, owner=owner, version=draft, timeline=timeline,
            week=APPROVED_IN.get(key, 2), note="Adopted", dates=dates,
        )  # fmt: skip
        if key == REVISED:
            with dates.at(timeline.at(REVISED_IN - 1, 2, 11)):
                second = services.policy_version_create(
                    actor=owner, policy=policy, change_summary="Passkeys preferred over passwords"
                )
                services.policy_version_update(
                    actor=owner, version=second, body=second.body.rstrip("\n") + "\n" + REVISION
                )
            version = _approve(
                dana=dana, owner=owner, version=second, timeline=timeline, week=REVISED_IN,
                note="Passkeys rollout", dates=dates,
            )  # fmt: skip
        approved.append(version)

    people = list(Person.objects.filter(organization=organization).order_by("pk"))
    if not people:
        return
    now = timeline.now
    laggards = rng.sample(people, k=max(1, round(len(people) * LAGGARD_SHARE)))
    # Each laggard still owes the passkeys revision and sometimes one more; nobody owes the
    # acceptable use policy: everyone signs it within days (HR-02's test).
    [revised] = [v for v in approved if v.policy.library_key == REVISED]
    chasing = [v for v in approved if v.policy.library_key not in (ACCEPTABLE_USE, REVISED)]
    owed = {(p.pk, revised.pk) for p in laggards} | {
        (p.pk, v.pk) for p in laggards for v in rng.sample(chasing, k=rng.randint(0, 1))
    }
    for version in approved:
        assert version.effective_date is not None and version.approved_at is not None
        # Sent an hour after the approval.
        sent_at = version.approved_at + dt.timedelta(hours=1)
        services.policy_send_for_acknowledgement(
            actor=dana, version=version, notify=False, now=sent_at
        )
        for person in people:
            if (person.pk, version.pk) in owed:
                continue
            start = max(version.effective_date, person.start_date)
            delay = rng.randint(0, 10)
            if version.policy.library_key == ACCEPTABLE_USE:
                # Within days of the kick-off; a later starter signs it on their first day.
                delay = 0 if person.start_date > version.effective_date else delay % 5
            moment = timeline.on(start + dt.timedelta(days=delay), 9)
            moment += dt.timedelta(minutes=rng.randint(0, 8 * 60))
            moment = max(moment, sent_at + dt.timedelta(minutes=rng.randint(5, 120)))
            if moment >= now:
                continue
            # The first acknowledgement, then the yearly rounds, each a few days after the last
            # one ran out (acknowledging again sooner changes nothing), up to today.
            while moment < now:
                try:
                    services.policy_acknowledge(
                        version=version,
                        person=person,
                        via=AcknowledgementVia.APP if person.user_id else AcknowledgementVia.LINK,
                        user=person.user,
                        now=moment,
                    )
                except ValidationError:
                    break  # not in scope on that day (left before, or joined after it was sent)
                moment += dt.timedelta(days=366 + rng.randint(0, 10))
    assert all(v.status == VersionStatus.APPROVED for v in approved)
