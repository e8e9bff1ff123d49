"""Requests (PBC) and findings, through their services: every transition, who may make it, and
refusals that explain themselves and change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits import pbc_services, selectors
from audits.models import (
    AuditFinding,
    AuditRequest,
    AuditRequestComment,
    FindingStatus,
    RequestStatus,
)
from compliance.models import AuditEvent
from compliance.permissions import restrict
from evidence.models import EvidenceItem
from tests.audits.pbc_world import Pbc, pbc_fixture, soon  # noqa: F401  (the fixture)
from tests.evidence.conftest import pdf_upload
from tests.factories import ControlFactory, map_control

pytestmark = pytest.mark.django_db


def assign(p: Pbc) -> AuditRequest:
    return pbc_services.request_assign(
        actor=p.users["admin"], request=p.request, assignee=p.users["owner"]
    )


def answered(p: Pbc) -> AuditRequest:
    assign(p)
    pbc_services.request_attach(actor=p.users["owner"], request=p.request, items=[p.evidence])
    return pbc_services.request_submit(actor=p.users["owner"], request=p.request, body="Here.")


def unchanged(p: Pbc, events: int) -> None:
    assert AuditEvent.objects.count() == events


# --- requests ---------------------------------------------------------------------------------


def test_an_auditor_raises_numbered_requests_and_each_is_audit_logged(pbc: Pbc) -> None:
    second = pbc_services.request_create(
        actor=pbc.users["auditor"], audit=pbc.audit, title="Org chart"
    )
    assert (pbc.request.number, second.number) == (1, 2)
    assert pbc.request.status == RequestStatus.OPEN
    assert pbc.request.requested_by == pbc.users["auditor"]
    actions = list(
        AuditEvent.objects.filter(action="audit.request_create").values_list("after", flat=True)
    )
    assert sorted(a["request"] for a in actions) == ["PBC-1", "PBC-2"]


@pytest.mark.parametrize(
    "persona",
    ["admin", "owner", "viewer", "other_auditor", "revoked_auditor", "expired_access"],
)
def test_only_an_auditor_of_the_engagement_raises_a_request(pbc: Pbc, persona: str) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        pbc_services.request_create(actor=pbc.users[persona], audit=pbc.audit, title="More")
    assert AuditRequest.objects.count() == 1
    unchanged(pbc, events)


def test_a_request_names_a_title_a_future_due_date_and_a_control_in_scope(pbc: Pbc) -> None:
    world = pbc.world
    outside = ControlFactory(organization=world.org, ref_id="AV-01", name="Backups")
    map_control(outside, world.req_optional)
    auditor = pbc.users["auditor"]
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as blank:
        pbc_services.request_create(
            actor=auditor, audit=pbc.audit, title="  ", due_date=dt.date(2020, 1, 1)
        )
    assert set(blank.value.message_dict) == {"title", "due_date"}
    for control in (outside, world.foreign_control):
        with pytest.raises(ValidationError) as wrong:
            pbc_services.request_create(
                actor=auditor, audit=pbc.audit, title="Backups", control=control
            )
        assert "within the engagement's scope" in wrong.value.message_dict["control"][0]
    assert AuditRequest.objects.count() == 1
    unchanged(pbc, events)


def test_an_admin_assigns_a_request_to_a_member_and_may_set_its_due_date(pbc: Pbc) -> None:
    request = pbc_services.request_assign(
        actor=pbc.users["admin"],
        request=pbc.request,
        assignee=pbc.users["owner"],
        due_date=soon(20),
    )
    assert (request.status, request.assignee, request.due_date) == (
        RequestStatus.ASSIGNED,
        pbc.users["owner"],
        soon(20),
    )
    entry = AuditRequestComment.objects.get(request=request)
    assert (entry.status_from, entry.status_to) == (RequestStatus.OPEN, RequestStatus.ASSIGNED)
    event = AuditEvent.objects.get(action="audit.request_assign")
    assert event.after["assignee"] == "owner@acme.test"


def test_only_admins_assign_and_only_to_members_or_admins(pbc: Pbc) -> None:
    events = AuditEvent.objects.count()
    for persona in ("owner", "viewer", "auditor"):
        with pytest.raises(PermissionDenied):
            pbc_services.request_assign(
                actor=pbc.users[persona], request=pbc.request, assignee=pbc.users["owner"]
            )
    for assignee in ("viewer", "auditor", "outsider"):
        with pytest.raises(ValidationError) as refused:
            pbc_services.request_assign(
                actor=pbc.users["admin"], request=pbc.request, assignee=pbc.users[assignee]
            )
        assert "member or an admin" in refused.value.message_dict["assignee"][0]
    assert pbc.fresh().status == RequestStatus.OPEN and pbc.fresh().assignee is None
    unchanged(pbc, events)


def test_the_assignee_answers_with_evidence_and_submits(pbc: Pbc) -> None:
    request = answered(pbc)
    assert request.status == RequestStatus.SUBMITTED
    assert list(request.evidence.all()) == [pbc.evidence]
    assert AuditEvent.objects.filter(action="audit.request_attach").exists()
    assert AuditEvent.objects.filter(action="audit.request_submit").exists()


def test_an_answer_is_refused_to_others_without_evidence_or_with_evidence_of_another_control(
    pbc: Pbc, make_evidence: Callable[..., EvidenceItem]
) -> None:
    assign(pbc)
    other_item = make_evidence(dt.date(2026, 3, 2), control=pbc.world.unowned_control)
    events = AuditEvent.objects.count()
    for persona in ("member", "viewer", "auditor", "granted"):
        with pytest.raises(PermissionDenied):
            pbc_services.request_attach(
                actor=pbc.users[persona], request=pbc.request, items=[pbc.evidence]
            )
    owner = pbc.users["owner"]
    with pytest.raises(ValidationError) as wrong:
        pbc_services.request_attach(actor=owner, request=pbc.request, items=[other_item])
    assert "request's control" in wrong.value.message_dict["evidence"][0]
    with pytest.raises(ValidationError) as nothing:
        pbc_services.request_attach(actor=owner, request=pbc.request, items=[])
    assert "evidence" in nothing.value.message_dict
    with pytest.raises(ValidationError) as empty:
        pbc_services.request_submit(actor=owner, request=pbc.request)
    assert "Attach the evidence" in empty.value.message_dict["evidence"][0]
    assert pbc.fresh().status == RequestStatus.ASSIGNED and not pbc.fresh().evidence.exists()
    unchanged(pbc, events)


def test_the_assignee_uploads_new_evidence_through_the_evidence_service(pbc: Pbc) -> None:
    assign(pbc)
    item = pbc_services.request_upload(
        actor=pbc.users["owner"],
        request=pbc.request,
        title="Q1 review export",
        kind="file",
        effective_date=dt.date(2026, 4, 2),
        upload=pdf_upload("q1.pdf"),
    )
    assert list(item.controls.all()) == [pbc.world.control]
    assert item.latest_revision is not None and item.latest_revision.sha256
    assert list(pbc.fresh().evidence.all()) == [item]
    assert AuditEvent.objects.filter(action="evidence.create", object_id=str(item.pk)).exists()


def test_a_failed_upload_stores_and_attaches_nothing(pbc: Pbc) -> None:
    assign(pbc)
    items, events = EvidenceItem.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        pbc_services.request_upload(
            actor=pbc.users["owner"],
            request=pbc.request,
            title="Q1 review export",
            kind="file",
            effective_date=dt.date(2026, 4, 2),
        )
    assert "file" in refused.value.message_dict
    assert EvidenceItem.objects.count() == items and not pbc.fresh().evidence.exists()
    unchanged(pbc, events)


def test_the_auditor_accepts_a_submitted_request(pbc: Pbc) -> None:
    answered(pbc)
    request = pbc_services.request_accept(
        actor=pbc.users["auditor"], request=pbc.request, body="Received."
    )
    assert request.status == RequestStatus.ACCEPTED
    last = AuditRequestComment.objects.filter(request=request).last()
    assert last is not None and (last.status_to, last.body) == (RequestStatus.ACCEPTED, "Received.")


def test_the_auditor_returns_a_request_with_a_reason_and_it_is_answered_again(
    pbc: Pbc, make_evidence: Callable[..., EvidenceItem]
) -> None:
    answered(pbc)
    auditor = pbc.users["auditor"]
    with pytest.raises(ValidationError) as silent:
        pbc_services.request_return(actor=auditor, request=pbc.request, body=" ")
    assert "body" in silent.value.message_dict
    assert pbc.fresh().status == RequestStatus.SUBMITTED
    request = pbc_services.request_return(
        actor=auditor, request=pbc.request, body="This is Q4, we need Q1."
    )
    assert (request.status, request.assignee) == (RequestStatus.OPEN, pbc.users["owner"])
    better = make_evidence(dt.date(2026, 3, 31), title="Q1 access review, signed")
    pbc_services.request_attach(actor=pbc.users["owner"], request=request, items=[better])
    resubmitted = pbc_services.request_submit(actor=pbc.users["owner"], request=request)
    assert resubmitted.status == RequestStatus.SUBMITTED


def test_only_the_engagements_auditor_decides_and_only_on_a_submitted_request(pbc: Pbc) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as early:
        pbc_services.request_accept(actor=pbc.users["auditor"], request=pbc.request)
    assert "Only a submitted request" in early.value.messages[0]
    unchanged(pbc, events)
    answered(pbc)
    events = AuditEvent.objects.count()
    for persona in ("admin", "owner", "other_auditor", "revoked_auditor", "expired_access"):
        with pytest.raises(PermissionDenied):
            pbc_services.request_accept(actor=pbc.users[persona], request=pbc.request)
        with pytest.raises(PermissionDenied):
            pbc_services.request_return(actor=pbc.users[persona], request=pbc.request, body="No")
    assert pbc.fresh().status == RequestStatus.SUBMITTED
    unchanged(pbc, events)


def test_the_auditor_closes_a_request_and_nobody_answers_it_then(pbc: Pbc) -> None:
    assign(pbc)
    closed = pbc_services.request_close(
        actor=pbc.users["auditor"], request=pbc.request, body="No longer needed."
    )
    assert closed.status == RequestStatus.CLOSED
    with pytest.raises(PermissionDenied):
        pbc_services.request_attach(actor=pbc.users["owner"], request=closed, items=[pbc.evidence])
    with pytest.raises(ValidationError):
        pbc_services.request_close(actor=pbc.users["auditor"], request=closed)
    with pytest.raises(PermissionDenied):
        pbc_services.request_comment(actor=pbc.users["auditor"], request=closed, body="Hello")


def test_the_auditor_the_admins_and_the_assignee_comment_and_nobody_else(pbc: Pbc) -> None:
    assign(pbc)
    for persona in ("auditor", "admin", "owner"):
        pbc_services.request_comment(actor=pbc.users[persona], request=pbc.request, body=persona)
    events = AuditEvent.objects.count()
    for persona in ("member", "viewer", "other_auditor", "revoked_auditor", "outsider"):
        with pytest.raises(PermissionDenied):
            pbc_services.request_comment(actor=pbc.users[persona], request=pbc.request, body="x")
    with pytest.raises(ValidationError) as blank:
        pbc_services.request_comment(actor=pbc.users["auditor"], request=pbc.request, body="")
    assert "body" in blank.value.message_dict
    unchanged(pbc, events)
    bodies = list(
        AuditRequestComment.objects.filter(request=pbc.request)
        .exclude(body="")
        .values_list("body", flat=True)
    )
    assert bodies == ["auditor", "admin", "owner"]


def test_attached_evidence_outside_the_window_becomes_visible_to_the_engagements_auditors(
    pbc: Pbc, make_evidence: Callable[..., EvidenceItem]
) -> None:
    before = make_evidence(dt.date(2025, 6, 1), title="Last year's review")
    auditor, other = pbc.users["auditor"], pbc.users["other_auditor"]
    visible = lambda user: set(  # noqa: E731
        restrict(EvidenceItem.objects.all(), user, organization=pbc.world.org).values_list(
            "pk", flat=True
        )
    )
    assert before.pk not in visible(auditor)
    assign(pbc)
    pbc_services.request_attach(actor=pbc.users["owner"], request=pbc.request, items=[before])
    assert before.pk in visible(auditor)
    assert before.pk not in visible(other)
    revision = selectors.revision_get(user=auditor, audit=pbc.audit, pk=before.latest_revision_id)
    assert revision.item_id == before.pk
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.revision_get(user=other, audit=pbc.other, pk=before.latest_revision_id)


# --- findings --------------------------------------------------------------------------------


def raise_finding(p: Pbc, **values: object) -> AuditFinding:
    arguments: dict[str, object] = {
        "title": "Access review late",
        "severity": "moderate",
        "description": "Q1 review signed in May.",
        "controls": [p.world.control],
    }
    arguments.update(values)
    return pbc_services.finding_create(actor=p.users["auditor"], audit=p.audit, **arguments)  # type: ignore[arg-type]


def test_an_auditor_raises_and_edits_a_finding_and_an_admin_responds(pbc: Pbc) -> None:
    finding = raise_finding(pbc)
    assert (finding.number, finding.status, finding.get_severity_display()) == (
        1,
        FindingStatus.OPEN,
        "Moderate",
    )
    edited = pbc_services.finding_update(
        actor=pbc.users["auditor"],
        finding=finding,
        title="Access review late",
        severity="high",
        controls=[pbc.world.control, pbc.world.unowned_control],
    )
    assert edited.severity == "high" and edited.controls.count() == 2
    responded = pbc_services.finding_respond(
        actor=pbc.users["admin"], finding=finding, response="Reviews are now calendared."
    )
    assert responded.status == FindingStatus.RESPONDED
    assert responded.responded_by == pbc.users["admin"] and responded.responded_at
    closed = pbc_services.finding_close(actor=pbc.users["auditor"], finding=finding)
    assert closed.status == FindingStatus.CLOSED
    assert set(
        AuditEvent.objects.filter(action__startswith="audit.finding_").values_list(
            "action", flat=True
        )
    ) == {"audit.finding_create", "audit.finding_update", "audit.finding_respond",
          "audit.finding_close"}  # fmt: skip


def test_findings_refuse_whoever_may_not_and_bad_input_changing_nothing(pbc: Pbc) -> None:
    finding = raise_finding(pbc)
    events = AuditEvent.objects.count()
    for persona in ("admin", "owner", "other_auditor", "revoked_auditor"):
        with pytest.raises(PermissionDenied):
            pbc_services.finding_create(
                actor=pbc.users[persona], audit=pbc.audit, title="x", severity="low"
            )
        with pytest.raises(PermissionDenied):
            pbc_services.finding_update(
                actor=pbc.users[persona], finding=finding, title="x", severity="low"
            )
    for persona in ("owner", "viewer", "auditor"):
        with pytest.raises(PermissionDenied):
            pbc_services.finding_respond(actor=pbc.users[persona], finding=finding, response="x")
    with pytest.raises(ValidationError) as bad:
        pbc_services.finding_update(
            actor=pbc.users["auditor"], finding=finding, title="", severity="severe"
        )
    assert set(bad.value.message_dict) == {"title", "severity"}
    with pytest.raises(ValidationError) as outside:
        raise_finding(pbc, controls=[pbc.world.foreign_control])
    assert "controls" in outside.value.message_dict
    with pytest.raises(ValidationError) as empty:
        pbc_services.finding_respond(actor=pbc.users["admin"], finding=finding, response=" ")
    assert "management_response" in empty.value.message_dict
    finding.refresh_from_db()
    assert (finding.title, finding.severity, finding.status) == (
        "Access review late",
        "moderate",
        FindingStatus.OPEN,
    )
    assert AuditFinding.objects.count() == 1
    unchanged(pbc, events)


def test_the_other_side_is_emailed_when_a_request_is_assigned_answered_or_returned(
    pbc: Pbc,
) -> None:
    from compliance.models import OutboundEmail

    answered(pbc)
    pbc_services.request_return(actor=pbc.users["auditor"], request=pbc.request, body="Q4 please")
    sent = [(e.to, e.subject) for e in OutboundEmail.objects.order_by("pk")]
    assert sent == [
        (["owner@acme.test"], "PBC-1 assigned to you: Q1 access review"),
        (["auditor@acme.test"], "PBC-1 answered: Q1 access review"),
        (["owner@acme.test"], "PBC-1 returned: Q1 access review"),
    ]
    returned = OutboundEmail.objects.order_by("pk").last()
    assert returned is not None and "Q4 please" in returned.text_body
    assert f"/audits/{pbc.audit.pk}/requests/{pbc.request.pk}/" in returned.html_body
