"""Northwind's weekly program meetings for the demo: the ten past weeks of the program (see
compliance/demo_timeline.py), each with notes, and the action items they raised, written through
the services at the times they happened.

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
# Worded so as to agree with the rest of the demo, whose program began ten weeks ago (week 0 is
# the kick-off; "before" counts back from this week, so week w is 10 - w weeks before): the
# policies approved on Thursdays, the risk assessment done in week 2, the access review missed in
# week 4, the account executive who started in week 4 without a background check, Okta's late
# vendor review, the penetration test booked for after the audit date, the backup policy still a
# draft and the vendor management policy waiting in review are facts of the other demo steps.
ITEMS = [
    D(10, "Approve the information security, incident response, risk and acceptable use "
      "policies", "dana", "GOV-01", (10, 3), (10, 3, 9)),
    D(9, "Book the annual penetration test", "marcus", "OPS-02", (8, 4), (8, 2, 15)),
    D(9, "Send MFA enrolment reminders to everyone in Okta", "priya", "IAM-02", (9, 4),
      (9, 3, 11)),
    D(8, "Finish the annual risk assessment", "dana", "RSK-01", (8, 4), (8, 2, 16)),
    D(7, "Approve the access control, encryption and data classification policies", "dana",
      "IAM-01", (7, 3), (7, 3, 9)),
    D(6, "Run the quarterly access review (AWS, GitHub, Okta)", "priya", "IAM-04", (6, 4)),
    D(5, "Get the new account executive's background check done", "alice", "HR-01", (4, 4)),
    # Done a week late.
    D(5, "Circulate the incident response plan to the on-call engineers", "marcus", "INC-01",
      (2, 4), (1, 1, 16)),
    D(4, "Order MDM licences for the remaining laptops", "tom", "AST-03", (3, 4), (3, 1, 9)),
    D(3, "Test a backup restore and record the result", "marcus", "BCP-03", (-1, 4)),
    D(3, "Review Okta's SOC 2 report for the annual vendor review", "priya", "VEN-03", (1, 2)),
    D(2, "Schedule the incident-response tabletop exercise", "marcus", "INC-03", (-2, 3)),
    D(2, "Remind the people whose security training is due", "alice", "HR-03", (0, 4)),
    D(2, "Write the first draft of the backup policy", "tom", "BCP-02", (1, 4), (2, 4, 15)),
    D(1, "Approve the vendor management policy waiting in review", "dana", "VEN-01", (0, 2)),
    D(1, "Set up branch protection on the new billing repository", "marcus", "CHG-02",
      (-1, 1)),
]  # fmt: skip

NOTES = {
    10: """## Kick-off: SOC 2 Type I

- Scope: Security and Availability; Example CPA LLP will audit, Type I date in February.
- Every control family has an owner (see **Controls**); Dana chairs this meeting every Monday.
- Long-lead items to start now: the penetration test, laptop MDM, the risk assessment, the
  disaster recovery test, vendor reviews.
- Policies: the information security, incident response, risk and acceptable use policies are
  ready for approval on Thursday.

**Decision:** Okta is the only identity provider, with MFA for everyone.""",
    9: """## Week 1

- Four policies approved last Thursday; everyone has acknowledged the acceptable use policy.
- MFA rollout started in Okta; Priya sends enrolment reminders this week.
- Penetration test: Marcus to get quotes from two firms.""",
    8: """## Week 2

- Gap analysis: three criteria have no control yet; owners to propose one by next week.
- Priya set up Attest's automated checks for background checks, training, the acceptable use
  policy and vendor reviews.
- The annual risk assessment is due this week.""",
    7: """## Week 3

- Risk assessment finished and the risk register reviewed.
- Access control, encryption and data classification policies go to Dana on Thursday.
- The CI dependency scan starts pushing its results to Attest this week.""",
    6: """## Week 4

- The quarterly access review is due Friday: Priya to run it with the system owners.
- A new account executive starts this week; their background check is not back yet.
- MFA is enforced for everyone.""",
    5: """## Week 5

- The quarterly access review was missed; Priya to do it next.
- Change management and business continuity policies go to Dana on Thursday.
- The incident response plan goes to the on-call engineers by Friday.""",
    4: """## Week 6

- MDM licences for the remaining laptops to be ordered this week.
- The disaster recovery test is done this week; results recorded.
- Okta's annual vendor review is overdue: Priya to read their SOC 2 report.""",
    3: """## Week 7

- Penetration test booked for March, after the audit date: flagged on this page.
- Backups run nightly, but no restore has been tested yet: Marcus to test one and record it.
- The independent control assessment is done.""",
    2: """## Week 8

- The secure development policy goes to Dana on Thursday.
- The backup policy does not exist yet: Tom to write a first draft.
- Alice to remind the people whose security training is due.""",
    1: """## Week 9

| Area | Owner | Next step |
|---|---|---|
| Policies | Dana | Approve the vendor management policy |
| Incident response | Marcus | Circulate the plan (was due Friday), then the tabletop |
| People | Alice | Background check for the new account executive |
| Access and vendors | Priya | The access review and Okta's review, both late |

- Backup policy drafted by Tom; MDM is on every laptop.""",
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
