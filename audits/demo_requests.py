"""The demo's PBC list and findings: on Northwind's SOC 2 Type I, the auditor (jordan) asked
for three things: one answered by priya with existing evidence and accepted, one assigned to
priya, one still open; and raised one finding that dana answered for management."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from audits import pbc_services, selectors
from audits.models import (
    Audit,
    AuditFinding,
    AuditRequest,
    AuditRequestComment,
    FindingSeverity,
)
from compliance.demo_timeline import Timeline, stamped
from compliance.models import Organization, User
from compliance.permissions import forget_memberships


def seed(
    organization: Organization,
    users: dict[str, User],
    audits: list[Audit],
    timeline: Timeline | None = None,
) -> None:
    """Each step is dated in the program's past weeks when ``timeline`` is given (the rows;
    the audit trail keeps the moment of seeding, its chain being what it is)."""
    timeline = timeline or Timeline.of(organization)
    requests = AuditRequest.objects.filter(audit__organization=organization)
    comments = AuditRequestComment.objects.filter(request__audit__organization=organization)
    findings = AuditFinding.objects.filter(audit__organization=organization)

    def on(week: int, weekday: int, hour: int) -> Any:
        return stamped(
            timeline.at(week, weekday, hour),
            (requests, "created_at"),
            (requests, "updated_at"),
            (comments, "created_at"),
            (findings, "created_at"),
            (findings, "updated_at"),
            (findings, "responded_at"),
        )

    dana, priya, jordan = users["dana"], users["priya"], users["jordan"]
    for user in (dana, priya, jordan):
        forget_memberships(user)  # the auditor's access was granted just now
    type_1 = audits[0]
    today = timezone.localdate()
    # Requests are due by the start of fieldwork (or within two weeks if it is close).
    due = max(type_1.fieldwork_start or today, today + dt.timedelta(days=14))
    controls = {c.ref_id: c for c in selectors.controls(user=jordan, audit=type_1)}
    review = controls.get("IAM-04")  # quarterly user access reviews (priya's, with evidence)
    privileged = controls.get("IAM-05")  # privileged access (priya's)
    roles = controls.get("GOV-03")  # security roles and responsibilities

    with on(7, 1, 10):
        answered = pbc_services.request_create(
            actor=jordan,
            audit=type_1,
            title="Latest quarterly user access review",
            description="The most recent review of user access to critical systems, with sign-off.",
            control=review,
            due_date=due,
        )
    with on(7, 1, 15):
        pbc_services.request_assign(actor=dana, request=answered, assignee=priya)
    item = pbc_services.answerable_evidence(user=priya, request=answered).first()
    if item is not None:
        with on(7, 3, 11):
            pbc_services.request_attach(actor=priya, request=answered, items=[item])
            pbc_services.request_submit(
                actor=priya, request=answered, body="The latest evidence is attached."
            )
        with on(8, 0, 9):
            pbc_services.request_accept(actor=jordan, request=answered, body="Thank you, received.")

    with on(8, 1, 10):
        assigned = pbc_services.request_create(
            actor=jordan,
            audit=type_1,
            title="List of privileged accounts",
            description="Every account with production or administrator access, with its "
            "approval and expiry.",
            control=privileged,
            due_date=due,
        )
    with on(8, 2, 9):
        pbc_services.request_assign(actor=dana, request=assigned, assignee=priya)
    with on(9, 0, 14):
        pbc_services.request_comment(
            actor=priya,
            request=assigned,
            body="Exporting it from the identity provider this week.",
        )

    with on(9, 2, 10):
        pbc_services.request_create(
            actor=jordan,
            audit=type_1,
            title="Organization chart and security roles",
            description="Current organization chart with who holds the security responsibilities.",
            control=roles,
            due_date=due,
        )

    with on(8, 4, 16):
        finding = pbc_services.finding_create(
            actor=jordan,
            audit=type_1,
            title="Quarterly access review not evidenced for one system",
            severity=FindingSeverity.MODERATE,
            description="No review record was provided for the billing database in the last "
            "quarter.",
            controls=[review] if review else [],
        )
    with on(9, 1, 11):
        pbc_services.finding_respond(
            actor=dana,
            finding=finding,
            response="The review took place but was not recorded. The billing database is now "
            "in the quarterly review checklist, and the review was re-performed and recorded.",
        )
