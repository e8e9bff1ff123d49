"""Northwind's weekly program meetings for the demo: five past weeks of notes and the action
items they raised, written through the services at the times they happened.

Each meeting is on Monday at 10:00 in the organization's time zone; items are raised there and
closed by their owners on later days, never after now. Some were done on time, one late, and
eight are still open this week (some overdue), so the current week opens with carried-over
items and a fresh page for this week's notes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from compliance.meetings import services
from compliance.meetings.weeks import Week, current_week
from compliance.models import Organization, User
from controls.models import Control

MEETING_HOUR = 10


@dataclass(frozen=True)
class DemoItem:
    raised: int  # weeks before this one
    title: str
    owner: str
    control: str
    due: tuple[int, int]  # (weeks before this one, weekday 0-6)
    done: tuple[int, int, int] | None = None  # (weeks before this one, weekday, hour)


D = DemoItem
# Worded so as to agree with the rest of the demo whatever the controls' statuses: the missing
# background check, Okta's late vendor review, the overdue access review, the draft backup
# policy and the secure development policy waiting in review are facts of the other demo steps.
ITEMS = [
    D(5, "Book the annual penetration test", "marcus", "OPS-02", (3, 4), (3, 2, 15)),
    D(5, "Send MFA enrolment reminders to everyone in Okta", "priya", "IAM-02", (4, 4),
      (4, 3, 11)),
    # Done a week late.
    D(5, "Circulate the incident response plan to the on-call engineers", "marcus", "INC-01",
      (2, 4), (1, 1, 16)),
    D(5, "Get the new account executive's background check done", "alice", "HR-01", (1, 4)),
    D(4, "Run the quarterly access review (AWS, GitHub, Okta)", "priya", "IAM-04", (2, 2)),
    D(4, "Order MDM licences for the remaining laptops", "tom", "AST-03", (3, 4), (3, 1, 9)),
    D(3, "Test a backup restore and record the result", "marcus", "BCP-03", (-1, 4)),
    D(3, "Review Okta's SOC 2 report for the annual vendor review", "priya", "VEN-03", (1, 2)),
    D(2, "Schedule the incident-response tabletop exercise", "marcus", "INC-03", (-2, 3)),
    D(2, "Remind the people whose security training is due", "alice", "HR-03", (0, 4)),
    D(2, "Write the first draft of the backup policy", "tom", "BCP-02", (1, 4), (2, 4, 15)),
    D(1, "Review the secure development policy waiting for approval", "dana", "CHG-03", (0, 2)),
    D(1, "Set up branch protection on the new billing repository", "marcus", "CHG-02",
      (-1, 1)),
]  # fmt: skip

NOTES = {
    5: """## Kick-off: SOC 2 Type I

- Scope: Security and Availability; Example CPA LLP will audit.
- Every control family has an owner (see **Controls**); Dana chairs this meeting every Monday.
- Long-lead items to start now: the penetration test, security awareness training, vendor
  reviews.

**Decision:** Okta is the only identity provider, with MFA for everyone.""",
    4: """## Week 2

- MFA rollout started in Okta; enrolment reminders went out last week.
- The quarterly access review is due: Priya to run it with the system owners.
- Gap analysis: three criteria have no control yet; owners to propose one by next week.""",
    3: """## Week 3

- Penetration test: vendor chosen, booking this week.
- MDM licences for the remaining laptops to be ordered this week.
- Backups run nightly, but no restore has been tested yet: Marcus to test one and record it.
- Okta's annual vendor review is overdue: Priya to read their SOC 2 report.""",
    2: """## Week 4

- The incident response plan goes to the on-call engineers by Friday.
- The backup policy does not exist yet: Tom to write a first draft.
- Alice to remind the people whose security training is due.""",
    1: """## Week 5

| Area | Owner | Next step |
|---|---|---|
| Policies | Dana | Review the secure development policy |
| Incident response | Marcus | Circulate the plan (was due Friday), then the tabletop |
| People | Alice | Background check for the new account executive |
| Access and vendors | Priya | The access review and Okta's review, both late |

- Backup policy drafted by Tom.""",
}


def _at(week: Week, organization: Organization, weekday: int, hour: int) -> dt.datetime:
    return week.begins_at(organization) + dt.timedelta(days=weekday, hours=hour)


def seed(*, organization: Organization, users: dict[str, User]) -> None:
    dana = users["dana"]
    now = timezone.now()
    this_week = current_week(organization, now)

    def week(before: int) -> Week:
        return Week(this_week.start - dt.timedelta(weeks=before))

    controls = {
        control.ref_id: control
        for control in Control.objects.filter(
            organization=organization,
            archived_at__isnull=True,
            ref_id__in=[item.control for item in ITEMS],
        )
    }
    for before in sorted(NOTES, reverse=True):
        meeting = _at(week(before), organization, 0, MEETING_HOUR)
        services.meeting_notes_save(
            actor=dana,
            organization=organization,
            week=week(before),
            notes=NOTES[before],
            now=meeting + dt.timedelta(hours=1),
        )
        for spec in [item for item in ITEMS if item.raised == before]:
            due_week, due_day = spec.due
            item = services.action_item_create(
                actor=dana,
                organization=organization,
                title=spec.title,
                owner=users[spec.owner],
                due_on=week(due_week).start + dt.timedelta(days=due_day),
                control=controls.get(spec.control),
                now=meeting,
            )
            if spec.done is not None:
                done_week, done_day, done_hour = spec.done
                services.action_item_close(
                    actor=users[spec.owner],
                    item=item,
                    now=min(_at(week(done_week), organization, done_day, done_hour), now),
                )
