"""Demo evidence for Northwind Cloud, created through the services.

Most implemented controls get accepted, fresh evidence; a few stay realistic problems: one stale,
one waiting for review, one rejected. Recurring requests have history. The quarterly access
review (IAM-04, owned by Priya) missed its last quarter: the control is implemented but not
ready until Priya uploads the review and Dana accepts it — the demo's evidence journey.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import Organization, User
from controls import services as control_services
from controls.models import Control, ControlStatus
from evidence import services
from evidence.freshness import PERIOD, needs_evidence
from evidence.models import Cadence, EvidenceRequest, ReviewStatus

# title, cadence, owner, control ref_ids, months since the first due date, instructions
REQUESTS = [
    ("Quarterly user access review", Cadence.QUARTERLY, "priya", ["IAM-04"], 10,
     "Export each critical system's user list, have its owner confirm every account, and attach "
     "the signed-off export with the removals made."),
    ("Monthly vulnerability scan report", Cadence.MONTHLY, "marcus", ["OPS-01", "CHG-04"], 6,
     "Attach the scanner's summary for the month with open critical and high findings and their "
     "tickets."),
    ("Quarterly backup restore test", Cadence.QUARTERLY, "marcus", ["BCP-03", "BCP-02"], 9,
     "Restore the production database snapshot into an isolated account and record the time it "
     "took and the row counts checked."),
    ("Annual penetration test report", Cadence.ANNUAL, "priya", ["OPS-02"], 11,
     "Attach the tester's final report and the retest letter for every high finding."),
    ("Background check for each new hire", Cadence.EVENT_DRIVEN, "alice", ["HR-01"], 0,
     "Log each new hire as an event and attach the provider's completion certificate."),
]  # fmt: skip


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


def seed(*, organization: Organization, users: dict[str, User], today: dt.date) -> None:
    rng = random.Random(7)
    dana = users["dana"]
    controls = {c.ref_id: c for c in Control.objects.filter(organization=organization)}
    journey = controls.get(JOURNEY_CONTROL)
    if journey is not None and journey.status != ControlStatus.IMPLEMENTED:
        control_services.control_update(
            actor=dana,
            control=journey,
            changes={"status": ControlStatus.IMPLEMENTED, "target_date": None},
            reason="Reviews run every quarter",
        )

    implemented = [
        c for c in Control.objects.filter(organization=organization)
        if c.status == ControlStatus.IMPLEMENTED and needs_evidence(c.frequency)
        and c.ref_id != JOURNEY_CONTROL
    ]  # fmt: skip
    implemented.sort(key=lambda c: c.ref_id)
    troubles = {"stale": implemented[3], "pending": implemented[7], "rejected": implemented[11]}
    for control in implemented:
        owner = control.owner or dana
        period = PERIOD[control.frequency]
        assert period is not None
        if control is troubles["stale"]:
            effective = today - period - relativedelta(months=2)
        else:
            effective = today - dt.timedelta(days=rng.randint(2, 20))
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
        if control is troubles["pending"]:
            continue
        if control is troubles["rejected"]:
            services.revision_review(
                actor=dana,
                revision=revision,
                decision=ReviewStatus.REJECTED,
                reason="This export is from the staging account; attach production's.",
            )
            continue
        services.revision_review(actor=dana, revision=revision, decision=ReviewStatus.ACCEPTED)

    for title, cadence, owner_key, refs, months_ago, instructions in REQUESTS:
        linked = [controls[ref] for ref in refs if ref in controls]
        if not linked:
            continue
        first_due = today - relativedelta(months=months_ago) if months_ago else today
        request = services.request_create(
            actor=dana,
            organization=organization,
            title=title,
            cadence=cadence,
            first_due_date=first_due,
            owner=users[owner_key],
            controls=linked,
            instructions=instructions,
        )
        _history(request, users, dana, today)


def _history(request: EvidenceRequest, users: dict[str, User], dana: User, today: dt.date) -> None:
    occurrences = services.request_schedule(request, today=today)
    if request.cadence == Cadence.EVENT_DRIVEN:
        services.occurrence_log_event(
            actor=dana, request=request, due_date=today + dt.timedelta(days=5),
            note="New hire: support engineer starting next week",
        )  # fmt: skip
        return
    owner = request.owner or dana
    past = [o for o in occurrences if o.due_date < today]
    for occurrence in past:
        if JOURNEY_CONTROL in {c.ref_id for c in request.controls.all()} and occurrence == past[-1]:
            continue  # the missed quarter: overdue until the owner uploads it
        item = services.evidence_create(
            actor=owner,
            organization=request.organization,
            title=f"{request.title} — due {occurrence.due_date:%d %b %Y}",
            kind="note",
            effective_date=occurrence.due_date,
            covers_from=occurrence.period_start,
            covers_until=occurrence.period_end,
            occurrence=occurrence,
            note=f"Completed for the period {occurrence.period_start:%d %b} to "
            f"{occurrence.period_end:%d %b %Y}. Export and sign-off stored in the team drive.",
        )
        services.revision_review(
            actor=dana, revision=item.revisions.get(), decision=ReviewStatus.ACCEPTED
        )
    services.occurrences_mark_overdue(request.organization, today=today)
