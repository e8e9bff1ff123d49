"""Demo evidence for Northwind Cloud, created through the services.

Each implemented control gets its first evidence the day it was put in place (see the program's
weeks in compliance/demo.py), accepted by Dana the next day, and a new revision every period its
frequency asks for, so it stays fresh; a few stay realistic problems: one never refreshed (stale),
one waiting for review, one rejected. The monthly scan request has its deliveries. The quarterly
access review (IAM-04, owned by Priya) missed this quarter's due date in week 4: the control is
implemented but not ready until Priya uploads the review and Dana accepts it — the demo's
evidence journey.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.demo_timeline import Timeline, stamped
from compliance.models import Organization, User
from controls.models import Control, ControlStatus, ControlStatusChange, Frequency
from evidence import services
from evidence.freshness import needs_evidence
from evidence.models import (
    Cadence,
    EvidenceItem,
    EvidenceRequest,
    EvidenceRevision,
    OccurrenceStatusChange,
    RequestOccurrence,
    ReviewStatus,
    RevisionReview,
)

# title, cadence, owner, control ref_ids, first due date (program week, weekday), instructions
REQUESTS = [
    ("Quarterly user access review", Cadence.QUARTERLY, "priya", ["IAM-04"], (4, 4),
     "Export each critical system's user list, have its owner confirm every account, and attach "
     "the signed-off export with the removals made."),
    ("Monthly vulnerability scan report", Cadence.MONTHLY, "marcus", ["OPS-01", "CHG-04"], (1, 4),
     "Attach the scanner's summary for the month with open critical and high findings and their "
     "tickets."),
    ("Quarterly backup restore test", Cadence.QUARTERLY, "marcus", ["BCP-03", "BCP-02"], (11, 4),
     "Restore the production database snapshot into an isolated account and record the time it "
     "took and the row counts checked."),
    ("Annual penetration test report", Cadence.ANNUAL, "priya", ["OPS-02"], (27, 4),
     "Attach the tester's final report and the retest letter for every high finding."),
    ("Background check for each new hire", Cadence.EVENT_DRIVEN, "alice", ["HR-01"], None,
     "Log each new hire as an event and attach the provider's completion certificate."),
]  # fmt: skip
# How often an implemented control's evidence is refreshed, in weeks (none: one upload lasts the
# ten weeks), so that it never goes stale.
REFRESH_WEEKS = {
    Frequency.CONTINUOUS: 4, Frequency.MONTHLY: 4, Frequency.WEEKLY: 1, Frequency.DAILY: 1,
}  # fmt: skip
# The realistic problems: evidence never refreshed (stale since about week 7), an upload still
# waiting for review, and one rejected.
STALE, PENDING, REJECTED = "CRY-03", "PHY-01", "IAM-01"


JOURNEY_CONTROL = "IAM-04"


def _file(name: str, lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/plain")


def _evidence_file(control: Control, effective: dt.date) -> SimpleUploadedFile:
    slug = control.ref_id.lower()
    if control.category in ("access", "people"):
        return _file(
            f"{slug}-{effective:%Y-%m-%d}.csv",
            ["account,system,owner,decision", "ana@northwind.test,AWS,priya,kept",
             "old.contractor@northwind.test,GitHub,marcus,removed"],
        )  # fmt: skip
    record = {"control": control.ref_id, "checked_on": effective.isoformat(), "result": "pass"}
    return _file(f"{slug}-{effective:%Y-%m-%d}.json", [json.dumps(record, indent=2)])


class _Dates:
    """Re-dates what the evidence services stamp "now" (the one place this demo step does)."""

    def __init__(self, organization: Organization) -> None:
        items = EvidenceItem.objects.filter(organization=organization)
        revisions = EvidenceRevision.objects.filter(item__organization=organization)
        changes = OccurrenceStatusChange.objects.filter(
            occurrence__request__organization=organization
        )
        self.upload = (
            (items, "created_at"),
            (revisions, "uploaded_at"),
            (changes, "created_at"),
        )
        self.review = (
            (revisions, "reviewed_at"),
            (
                RevisionReview.objects.filter(revision__item__organization=organization),
                "created_at",
            ),
            (changes, "created_at"),
        )
        self.request = (
            (EvidenceRequest.objects.filter(organization=organization), "created_at"),
            (RequestOccurrence.objects.filter(request__organization=organization), "created_at"),
            (changes, "created_at"),
        )


def seed(
    *,
    organization: Organization,
    users: dict[str, User],
    today: dt.date,
    timeline: Timeline | None = None,
) -> None:
    rng = random.Random(7)
    timeline = timeline or Timeline.of(organization)
    dana = users["dana"]
    dates = _Dates(organization)
    controls = {c.ref_id: c for c in Control.objects.filter(organization=organization)}
    in_place = dict(
        ControlStatusChange.objects.filter(
            control__organization=organization, to_status=ControlStatus.IMPLEMENTED
        ).values_list("control_id", "created_at")
    )
    implemented = [
        c for c in controls.values()
        if c.status == ControlStatus.IMPLEMENTED and needs_evidence(c.frequency)
        and c.pk in in_place
    ]  # fmt: skip
    implemented.sort(key=lambda c: c.ref_id)
    for control in implemented:
        owner = control.owner or dana
        # The first evidence the afternoon the control was put in place; a report made for a
        # quarterly or yearly control may date from a little before it was uploaded.
        uploaded = timeline.on(timeline.local(in_place[control.pk]).date(), 16)
        effective = timeline.local(uploaded).date()
        if control.ref_id == JOURNEY_CONTROL:
            effective -= dt.timedelta(days=70)  # last quarter's review, uploaded at kick-off
        elif control.frequency in (Frequency.QUARTERLY, Frequency.ANNUAL):
            effective -= dt.timedelta(days=rng.randint(0, 20))
        with stamped(uploaded, *dates.upload):
            item = services.evidence_create(
                actor=owner,
                organization=organization,
                title=f"{control.name} — {effective:%B %Y}",
                kind="file",
                effective_date=effective,
                controls=[control],
                upload=_evidence_file(control, effective),
            )
        revision = item.revisions.get()
        if control.ref_id == PENDING:
            continue
        reviewed = timeline.on(effective_day(uploaded, timeline) + dt.timedelta(days=1), 10)
        if control.ref_id == REJECTED:
            with stamped(reviewed, *dates.review):
                services.revision_review(
                    actor=dana,
                    revision=revision,
                    decision=ReviewStatus.REJECTED,
                    reason="This export is from the staging account; attach production's.",
                )
            continue
        with stamped(reviewed, *dates.review):
            services.revision_review(actor=dana, revision=revision, decision=ReviewStatus.ACCEPTED)
        step = REFRESH_WEEKS.get(Frequency(control.frequency))
        if step is None or control.ref_id == STALE:
            continue
        day = effective_day(uploaded, timeline) + dt.timedelta(weeks=step)
        while day < timeline.today:
            uploaded = timeline.on(day, 11)
            with stamped(uploaded, *dates.upload):
                revision = services.evidence_add_revision(
                    actor=owner,
                    item=item,
                    upload=_evidence_file(control, day),
                    effective_date=day,
                )
            with stamped(timeline.on(day, 16), *dates.review):
                services.revision_review(
                    actor=dana, revision=revision, decision=ReviewStatus.ACCEPTED
                )
            day += dt.timedelta(weeks=step)

    for title, cadence, owner_key, refs, first_due, instructions in REQUESTS:
        linked = [controls[ref] for ref in refs if ref in controls]
        if not linked:
            continue
        # Every request was set up in the kick-off week.
        created = timeline.at(0, 3, 14)
        due = timeline.today
        if first_due is not None:
            due = timeline.start + dt.timedelta(weeks=first_due[0], days=first_due[1])
        with stamped(created, *dates.request):
            request = services.request_create(
                actor=dana,
                organization=organization,
                title=title,
                cadence=cadence,
                first_due_date=due,
                owner=users[owner_key],
                controls=linked,
                instructions=instructions,
            )
        _history(request, users, dana, timeline, dates, created=created)


def effective_day(moment: dt.datetime, timeline: Timeline) -> dt.date:
    return timeline.local(moment).date()


def _history(
    request: EvidenceRequest,
    users: dict[str, User],
    dana: User,
    timeline: Timeline,
    dates: _Dates,
    *,
    created: dt.datetime,
) -> None:
    today = timeline.today
    if request.cadence == Cadence.EVENT_DRIVEN:
        with stamped(timeline.on(today, 8), *dates.request):
            services.occurrence_log_event(
                actor=dana, request=request, due_date=today + dt.timedelta(days=5),
                note="New hire: support engineer starting next week",
            )  # fmt: skip
        return
    occurrences = services.request_schedule(request, today=today)
    for occurrence in occurrences:
        # Opened by the scheduler when its period began, not before the request existed.
        assert occurrence.period_start is not None
        opened = max(created, timeline.on(occurrence.period_start, 0, 30))
        RequestOccurrence.objects.filter(pk=occurrence.pk).update(created_at=opened)
        OccurrenceStatusChange.objects.filter(occurrence=occurrence).update(created_at=opened)
    owner = request.owner or dana
    past = [o for o in occurrences if o.due_date < today]
    for occurrence in past:
        if JOURNEY_CONTROL in {c.ref_id for c in request.controls.all()} and occurrence == past[-1]:
            # The missed quarter: overdue from the day after its due date (the overdue tick)
            # until the owner uploads it.
            marked = timeline.on(occurrence.due_date + dt.timedelta(days=1), 0, 20)
            with stamped(marked, *dates.request):
                services.occurrences_mark_overdue(request.organization, today=today)
            continue
        # Delivered two days before it was due, accepted the next morning.
        delivered = timeline.on(occurrence.due_date - dt.timedelta(days=2), 14)
        with stamped(delivered, *dates.upload):
            item = services.evidence_create(
                actor=owner,
                organization=request.organization,
                title=f"{request.title} — due {occurrence.due_date:%d %b %Y}",
                kind="note",
                effective_date=occurrence.due_date - dt.timedelta(days=2),
                covers_from=occurrence.period_start,
                covers_until=occurrence.period_end,
                occurrence=occurrence,
                note=f"Completed for the period {occurrence.period_start:%d %b} to "
                f"{occurrence.period_end:%d %b %Y}. Export and sign-off stored in the team "
                "drive.",
            )
        accepted = timeline.on(occurrence.due_date - dt.timedelta(days=1), 10)
        with stamped(accepted, *dates.review):
            services.revision_review(
                actor=dana, revision=item.revisions.get(), decision=ReviewStatus.ACCEPTED
            )
