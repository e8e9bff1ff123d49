"""Writes of the auditor's workspace: requests for evidence (the PBC list) and findings.

Auditors of an engagement (an active access, two-factor on) create their own work in it:
requests, comments, acceptances and returns, findings. Admins assign requests and write
management's responses; a request's assignee (or an admin) answers it with evidence. Each write
runs in one transaction with its audit event; refusals change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from audits import scope
from audits.models import (
    Audit,
    AuditFinding,
    AuditRequest,
    AuditRequestComment,
    FindingSeverity,
    FindingStatus,
    RequestStatus,
)
from audits.policies import auditor_windows
from compliance.audit import audit_record
from compliance.emails import email_queue
from compliance.models import Role, User
from compliance.permissions import Capability, has_capability, membership_for, restrict
from controls.models import Control
from evidence.models import EvidenceItem

MAX_COMMENT = 5000
MAX_TEXT = 20000
# Who answers requests: the organization's control owners and admins.
ANSWERERS = (Role.ADMIN, Role.MEMBER)


# --- who may do what (the views show an action only to who passes these) ----------------------


def is_engagement_auditor(user: Any, audit: Audit) -> bool:
    """An auditor with access to ``audit`` now (not expired, not revoked)."""
    membership = membership_for(user, audit.organization_id)
    if membership is None or membership.role != Role.AUDITOR:
        return False
    return any(w.audit_id == audit.pk for w in auditor_windows(membership))


def is_audit_manager(user: Any, audit: Audit) -> bool:
    return has_capability(membership_for(user, audit.organization_id), Capability.MANAGE_AUDITS)


def may_answer(user: Any, request: AuditRequest) -> bool:
    if request.status not in (RequestStatus.OPEN, RequestStatus.ASSIGNED):
        return False
    if is_audit_manager(user, request.audit):
        return True
    membership = membership_for(user, request.audit.organization_id)
    return (
        membership is not None
        and membership.role in ANSWERERS
        and request.assignee_id is not None
        and request.assignee_id == getattr(user, "pk", None)
    )


def may_comment(user: Any, request: AuditRequest) -> bool:
    if request.status == RequestStatus.CLOSED:
        return False
    if is_engagement_auditor(user, request.audit) or is_audit_manager(user, request.audit):
        return True
    membership = membership_for(user, request.audit.organization_id)
    return (
        membership is not None
        and membership.role in ANSWERERS
        and request.assignee_id == getattr(user, "pk", None)
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _text(value: Any) -> str:
    return str(value or "").strip()


def _control_in_scope(audit: Audit, control: Control | None, field: str) -> None:
    if control is None:
        return
    in_scope = Control.objects.filter(
        scope.controls_q(scope.window_of(audit)),
        pk=control.pk,
        organization_id=audit.organization_id,
        archived_at__isnull=True,
    ).exists()
    if not in_scope:
        raise ValidationError({field: "Choose a control within the engagement's scope."})


def _next_number(model: type[AuditRequest] | type[AuditFinding], audit: Audit) -> int:
    # The engagement's row is the lock that numbers its requests and findings one at a time.
    Audit.objects.select_for_update(no_key=True).filter(pk=audit.pk).first()
    top = model.objects.filter(audit=audit).aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


def _locked(request: AuditRequest) -> AuditRequest:
    return (
        AuditRequest.objects.select_for_update(no_key=True, of=("self",))
        .select_related("audit__organization", "control")
        .get(pk=request.pk)
    )


def _record(actor: User, request: AuditRequest, action: str, **after: Any) -> None:
    audit_record(
        actor=actor,
        organization=request.audit.organization,
        action=f"audit.request_{action}",
        obj=request,
        after={"audit": request.audit_id, "request": request.label, **after},
    )


def _move(actor: User, request: AuditRequest, new: str, body: str = "") -> AuditRequestComment:
    """Set the request's status, with a thread entry old → new (and the comment, if any)."""
    old = request.status
    request.status = new
    request.save(update_fields=["status", "updated_at"])
    return AuditRequestComment.objects.create(
        request=request, author=actor, body=body, status_from=old, status_to=new
    )


# What the email says of each change: (subject's headline, the sentence's verb phrase).
EMAILS = {
    "assign": ("assigned to you", "assigned you"),
    "submit": ("answered", "submitted the answer to"),
    "return": ("returned", "returned"),
}


def _email(
    actor: User, request: AuditRequest, event: str, to: User | None, comment: str = ""
) -> None:
    """Tell the other side (after commit, through the outbox)."""
    if to is None or to.pk == actor.pk or not to.email:
        return
    headline, sentence = EMAILS[event]
    organization = request.audit.organization
    email_queue(
        template="audit_request",
        to=[to.email],
        context={
            "request": request,
            "actor": actor,
            "organization": organization,
            "headline": headline,
            "sentence": sentence,
            "comment": comment,
            "url": settings.SITE_URL
            + reverse(
                "audit_request_detail", args=[organization.slug, request.audit_id, request.pk]
            ),
        },
    )


def _comment_body(body: Any, *, required: bool) -> str:
    body = _text(body)
    if required and not body:
        raise ValidationError({"body": "Write a comment."})
    if len(body) > MAX_COMMENT:
        raise ValidationError({"body": f"At most {MAX_COMMENT:,} characters."})
    return body


# --- requests --------------------------------------------------------------------------------


@transaction.atomic
def request_create(
    *,
    actor: User,
    audit: Audit,
    title: str,
    description: str = "",
    control: Control | None = None,
    due_date: dt.date | None = None,
) -> AuditRequest:
    _require(is_engagement_auditor(actor, audit), "Only the engagement's auditors raise requests.")
    errors: dict[str, str] = {}
    title = _text(title)
    if not title:
        errors["title"] = "Say what you need, e.g. “User access review for Q1”."
    elif len(title) > 200:
        errors["title"] = "At most 200 characters."
    if len(_text(description)) > MAX_TEXT:
        errors["description"] = f"At most {MAX_TEXT:,} characters."
    if due_date is not None and due_date < timezone.localdate():
        errors["due_date"] = "The due date is in the past."
    if errors:
        raise ValidationError(errors)
    _control_in_scope(audit, control, "control")
    request = AuditRequest.objects.create(
        audit=audit,
        number=_next_number(AuditRequest, audit),
        title=title,
        description=_text(description),
        requested_by=actor,
        control=control,
        due_date=due_date,
    )
    _record(
        actor,
        request,
        "create",
        title=title,
        control=control.ref_id if control else None,
        due_date=due_date,
    )
    return request


@transaction.atomic
def request_assign(
    *,
    actor: User,
    request: AuditRequest,
    assignee: User | None,
    due_date: dt.date | None = None,
) -> AuditRequest:
    """An admin names who answers (a member or an admin), and may set the due date."""
    request = _locked(request)
    _require(is_audit_manager(actor, request.audit), "Only admins assign requests.")
    if request.status not in (RequestStatus.OPEN, RequestStatus.ASSIGNED):
        raise ValidationError(
            {"assignee": f"A {request.get_status_display().lower()} request is not reassigned."}
        )
    membership = membership_for(assignee, request.audit.organization_id) if assignee else None
    if membership is None or membership.role not in ANSWERERS:
        raise ValidationError({"assignee": "Choose a member or an admin of the organization."})
    if due_date is not None and due_date != request.due_date and due_date < timezone.localdate():
        raise ValidationError({"due_date": "The due date is in the past."})
    assert assignee is not None
    before = {"assignee": getattr(request.assignee, "email", None), "due_date": request.due_date}
    request.assignee = assignee
    if due_date is not None:
        request.due_date = due_date
    request.save(update_fields=["assignee", "due_date", "updated_at"])
    if request.status != RequestStatus.ASSIGNED:
        _move(actor, request, RequestStatus.ASSIGNED)
    audit_record(
        actor=actor,
        organization=request.audit.organization,
        action="audit.request_assign",
        obj=request,
        before=before,
        after={"assignee": assignee.email, "due_date": request.due_date},
    )
    _email(actor, request, "assign", assignee)
    return request


def answerable_evidence(*, user: Any, request: AuditRequest) -> Any:
    """The existing evidence ``user`` may attach: items they may see, of the request's control
    (any control of the engagement's scope when it names none), newest first."""
    items = EvidenceItem.objects.filter(
        organization_id=request.audit.organization_id, system_key=""
    )
    if request.control_id is not None:
        items = items.filter(controls=request.control_id)
    else:
        items = items.filter(controls__in=scope.control_ids(scope.window_of(request.audit)))
    visible = restrict(items, user, organization=request.audit.organization)
    return (
        EvidenceItem.objects.filter(pk__in=visible.values("pk"))
        .select_related("latest_revision")
        .order_by("-effective_date", "-pk")
    )


@transaction.atomic
def request_attach(
    *, actor: User, request: AuditRequest, items: Sequence[EvidenceItem]
) -> AuditRequest:
    """The assignee (or an admin) attaches existing evidence they may see."""
    request = _locked(request)
    _require(may_answer(actor, request), "Only the request's assignee or an admin answers it.")
    if not items:
        raise ValidationError({"evidence": "Choose the evidence that answers the request."})
    allowed = set(
        answerable_evidence(user=actor, request=request)
        .filter(pk__in=[i.pk for i in items])
        .values_list("pk", flat=True)
    )
    if any(i.pk not in allowed for i in items):
        raise ValidationError(
            {"evidence": "Choose evidence of the request's control that you may see."}
        )
    request.evidence.add(*items)
    _record(actor, request, "attach", evidence=sorted(i.title for i in items))
    return request


def request_upload(
    *,
    actor: User,
    request: AuditRequest,
    title: str,
    kind: str,
    effective_date: dt.date,
    upload: Any = None,
    url: str = "",
    note: str = "",
) -> EvidenceItem:
    """New evidence of the request's control (evidence.services stores and hashes it), attached
    to the request; all or nothing."""
    from evidence.services import evidence_create

    with transaction.atomic():
        request = _locked(request)
        _require(may_answer(actor, request), "Only the request's assignee or an admin answers it.")
        if request.control is None:
            raise ValidationError(
                {"file": "This request names no control: attach existing evidence instead."}
            )
        item = evidence_create(
            actor=actor,
            organization=request.audit.organization,
            title=title,
            kind=kind,
            effective_date=effective_date,
            controls=[request.control],
            upload=upload,
            url=url,
            note=note,
        )
        try:
            request.evidence.add(item)
            _record(actor, request, "attach", evidence=[item.title], uploaded=True)
        except BaseException:
            # The rows roll back with this transaction; the stored file goes with them.
            from evidence.services import _discard_file

            revision = item.latest_revision
            if revision is not None and revision.storage_key:
                _discard_file(revision.storage_key)
            raise
        return item


@transaction.atomic
def request_detach(*, actor: User, request: AuditRequest, item: EvidenceItem) -> AuditRequest:
    request = _locked(request)
    _require(may_answer(actor, request), "Only the request's assignee or an admin answers it.")
    if not request.evidence.filter(pk=item.pk).exists():
        raise ValidationError({"evidence": "This evidence is not attached to the request."})
    request.evidence.remove(item)
    _record(actor, request, "detach", evidence=[item.title])
    return request


@transaction.atomic
def request_submit(*, actor: User, request: AuditRequest, body: str = "") -> AuditRequest:
    """The answer goes to the auditor (with at least one piece of evidence)."""
    request = _locked(request)
    _require(may_answer(actor, request), "Only the request's assignee or an admin answers it.")
    body = _comment_body(body, required=False)
    if not request.evidence.exists():
        raise ValidationError({"evidence": "Attach the evidence that answers the request first."})
    _move(actor, request, RequestStatus.SUBMITTED, body)
    _record(actor, request, "submit", evidence=request.evidence.count())
    _email(actor, request, "submit", request.requested_by, body)
    return request


def _auditor_decision(
    actor: User, request: AuditRequest, new: str, body: str, *, required: bool
) -> AuditRequest:
    request = _locked(request)
    _require(is_engagement_auditor(actor, request.audit), "Only the engagement's auditors decide.")
    body = _comment_body(body, required=required)
    if request.status != RequestStatus.SUBMITTED:
        raise ValidationError(
            f"Only a submitted request is accepted or returned; this one is "
            f"{request.get_status_display().lower()}."
        )
    _move(actor, request, new, body)
    _record(actor, request, "accept" if new == RequestStatus.ACCEPTED else "return", comment=body)
    if new == RequestStatus.OPEN:
        _email(actor, request, "return", request.assignee, body)
    return request


@transaction.atomic
def request_accept(*, actor: User, request: AuditRequest, body: str = "") -> AuditRequest:
    return _auditor_decision(actor, request, RequestStatus.ACCEPTED, body, required=False)


@transaction.atomic
def request_return(*, actor: User, request: AuditRequest, body: str) -> AuditRequest:
    """Back to open with the auditor's reason (the assignee stays, and answers again)."""
    return _auditor_decision(actor, request, RequestStatus.OPEN, body, required=True)


@transaction.atomic
def request_close(*, actor: User, request: AuditRequest, body: str = "") -> AuditRequest:
    """The auditor withdraws the request (it is no longer needed)."""
    request = _locked(request)
    _require(
        is_engagement_auditor(actor, request.audit),
        "Only the engagement's auditors close requests.",
    )
    body = _comment_body(body, required=False)
    if request.status in (RequestStatus.CLOSED, RequestStatus.ACCEPTED):
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    _move(actor, request, RequestStatus.CLOSED, body)
    _record(actor, request, "close", comment=body)
    return request


@transaction.atomic
def request_comment(*, actor: User, request: AuditRequest, body: str) -> AuditRequestComment:
    request = _locked(request)
    _require(
        may_comment(actor, request),
        "Only the engagement's auditors, admins and the request's assignee comment.",
    )
    comment = AuditRequestComment.objects.create(
        request=request, author=actor, body=_comment_body(body, required=True)
    )
    AuditRequest.objects.filter(pk=request.pk).update(updated_at=timezone.now())
    _record(actor, request, "comment", comment=comment.body[:200])
    return comment


# --- findings --------------------------------------------------------------------------------

FINDING_FIELDS = ("title", "description", "severity")


def _finding_values(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title, description = _text(values.get("title")), _text(values.get("description"))
    severity = values.get("severity")
    if not title:
        errors["title"] = "Name the exception, e.g. “Access review not performed in Q2”."
    elif len(title) > 200:
        errors["title"] = "At most 200 characters."
    if len(description) > MAX_TEXT:
        errors["description"] = f"At most {MAX_TEXT:,} characters."
    if severity not in FindingSeverity.values:
        errors["severity"] = "Choose low, moderate or high."
    if errors:
        raise ValidationError(errors)
    return {"title": title, "description": description, "severity": severity}


def _finding_controls(audit: Audit, controls: Sequence[Control]) -> None:
    for control in controls:
        _control_in_scope(audit, control, "controls")


def _finding_record(actor: User, finding: AuditFinding, action: str, **after: Any) -> None:
    audit_record(
        actor=actor,
        organization=finding.audit.organization,
        action=f"audit.finding_{action}",
        obj=finding,
        after={"audit": finding.audit_id, "finding": finding.label, **after},
    )


@transaction.atomic
def finding_create(
    *,
    actor: User,
    audit: Audit,
    title: str,
    severity: str,
    description: str = "",
    controls: Sequence[Control] = (),
) -> AuditFinding:
    _require(is_engagement_auditor(actor, audit), "Only the engagement's auditors raise findings.")
    values = _finding_values({"title": title, "description": description, "severity": severity})
    controls = list(controls)
    _finding_controls(audit, controls)
    finding = AuditFinding.objects.create(
        audit=audit, number=_next_number(AuditFinding, audit), raised_by=actor, **values
    )
    finding.controls.set(controls)
    _finding_record(actor, finding, "create", **values, controls=sorted(c.ref_id for c in controls))
    return finding


def _locked_finding(finding: AuditFinding) -> AuditFinding:
    return (
        AuditFinding.objects.select_for_update(no_key=True, of=("self",))
        .select_related("audit__organization")
        .get(pk=finding.pk)
    )


def may_edit_finding(user: Any, finding: AuditFinding) -> bool:
    return (
        finding.status != FindingStatus.CLOSED
        and finding.raised_by_id == getattr(user, "pk", None)
        and is_engagement_auditor(user, finding.audit)
    )


@transaction.atomic
def finding_update(
    *,
    actor: User,
    finding: AuditFinding,
    title: str,
    severity: str,
    description: str = "",
    controls: Sequence[Control] = (),
) -> AuditFinding:
    """The auditor who raised it edits it while it is not closed."""
    finding = _locked_finding(finding)
    _require(may_edit_finding(actor, finding), "Only the auditor who raised it edits a finding.")
    values = _finding_values({"title": title, "description": description, "severity": severity})
    controls = list(controls)
    _finding_controls(finding.audit, controls)
    before = {f: getattr(finding, f) for f in FINDING_FIELDS}
    before["controls"] = sorted(finding.controls.values_list("ref_id", flat=True))
    for field, value in values.items():
        setattr(finding, field, value)
    finding.save()
    finding.controls.set(controls)
    audit_record(
        actor=actor,
        organization=finding.audit.organization,
        action="audit.finding_update",
        obj=finding,
        before=before,
        after={**values, "controls": sorted(c.ref_id for c in controls)},
    )
    return finding


@transaction.atomic
def finding_respond(*, actor: User, finding: AuditFinding, response: str) -> AuditFinding:
    """Management's response (admins): what caused it and what is done about it."""
    finding = _locked_finding(finding)
    _require(is_audit_manager(actor, finding.audit), "Only admins write management's response.")
    response = _text(response)
    if not response:
        raise ValidationError({"management_response": "Write management's response."})
    if len(response) > MAX_TEXT:
        raise ValidationError({"management_response": f"At most {MAX_TEXT:,} characters."})
    if finding.status == FindingStatus.CLOSED:
        raise ValidationError({"management_response": "This finding is closed."})
    finding.management_response = response
    finding.responded_by = actor
    finding.responded_at = timezone.now()
    finding.status = FindingStatus.RESPONDED
    finding.save()
    _finding_record(actor, finding, "respond", management_response=response[:500])
    return finding


@transaction.atomic
def finding_close(*, actor: User, finding: AuditFinding) -> AuditFinding:
    finding = _locked_finding(finding)
    _require(
        is_engagement_auditor(actor, finding.audit),
        "Only the engagement's auditors close findings.",
    )
    if finding.status == FindingStatus.CLOSED:
        raise ValidationError("This finding is already closed.")
    finding.status = FindingStatus.CLOSED
    finding.save(update_fields=["status", "updated_at"])
    _finding_record(actor, finding, "close")
    return finding
