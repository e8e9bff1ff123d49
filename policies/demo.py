"""Demo policies for the demo company, built only through the services.

The library is imported, owners are assigned, most policies are approved by Dana with effective
dates spread over the past year (one approved long enough ago that its review is overdue, one
revised into a second version), one waits in review and one is still a draft. Approved policies
are sent to everyone, and everyone in scope has acknowledged them except a few laggards (one
person in eight) who each still owe one or two.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from compliance.models import Organization, User
from people.models import Person
from policies import services
from policies.models import AcknowledgementVia, Policy, PolicyVersion, VersionStatus

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
IN_REVIEW = "secure-development"
DRAFT = "backup"
OVERDUE = "vendor-management"  # approved 13 months ago: its yearly review is overdue
REVISED = "access-control"  # approved, then revised into a second version
LAGGARD_SHARE = 1 / 8  # of the people, who each still owe one or two acknowledgements

REVISION = (
    "\n## 12. Passkeys\n\n"
    "Where an application supports passkeys or platform authenticators, they are the preferred "
    "way to sign in and replace passwords for that application. IT enables them for the identity "
    "provider first and tracks the remaining applications in the access control register.\n"
)


def _moment(organization: Organization, day: dt.date, hour: int) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=zone)


def _approve(
    *, dana: User, owner: User, version: PolicyVersion, effective: dt.date, note: str
) -> PolicyVersion:
    services.policy_version_submit(actor=owner, version=version, reason="Ready for approval")
    return services.policy_version_approve(
        actor=dana, version=version, effective_date=effective, reason=note
    )


def seed(*, organization: Organization, users: dict[str, User], today: dt.date) -> None:
    rng = random.Random(4242)
    dana = users["dana"]
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
            services.policy_version_update(
                actor=owner,
                version=draft,
                body=draft.body,
                change_summary="Adapting the starter text to our AWS setup",
            )
            continue
        if key == IN_REVIEW:
            services.policy_version_submit(
                actor=owner, version=draft, reason="First version for approval"
            )
            continue
        if key == OVERDUE:
            effective = today - dt.timedelta(days=396)
        elif key == REVISED:
            effective = today - dt.timedelta(days=rng.randint(280, 330))
        else:
            effective = today - dt.timedelta(days=rng.randint(25, 320))
        version = _approve(
            dana=dana, owner=owner, version=draft, effective=effective, note="Adopted"
        )
        if key == REVISED:
            second = services.policy_version_create(
                actor=owner, policy=policy, change_summary="Passkeys preferred over passwords"
            )
            services.policy_version_update(
                actor=owner, version=second, body=second.body.rstrip("\n") + "\n" + REVISION
            )
            version = _approve(
                dana=dana,
                owner=owner,
                version=second,
                effective=today - dt.timedelta(days=rng.randint(30, 60)),
                note="Passkeys rollout",
            )
        approved.append(version)

    people = list(Person.objects.filter(organization=organization).order_by("pk"))
    if not people:
        return
    now = timezone.now()
    laggards = rng.sample(people, k=max(1, round(len(people) * LAGGARD_SHARE)))
    owed = {(p.pk, v.pk) for p in laggards for v in rng.sample(approved, k=rng.randint(1, 2))}
    for version in approved:
        assert version.effective_date is not None
        sent_at = _moment(organization, version.effective_date, 10)
        services.policy_send_for_acknowledgement(
            actor=dana, version=version, notify=False, now=sent_at
        )
        for person in people:
            if (person.pk, version.pk) in owed:
                continue
            start = max(version.effective_date, person.start_date)
            moment = _moment(organization, start + dt.timedelta(days=rng.randint(0, 21)), 9)
            moment += dt.timedelta(minutes=rng.randint(0, 8 * 60))
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
