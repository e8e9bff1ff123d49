"""Every write on the trust page's documents and access requests: keyword-only, an explicit
``actor`` (None for the anonymous requester), atomic, validated, audited in the same
transaction, emails queued to leave after the commit."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from compliance.audit import audit_record
from compliance.emails import email_queue
from compliance.models import Membership, Organization, Role, User
from compliance.throttle import client_ip
from evidence import storage
from evidence.uploads import check_upload
from trust.documents import links
from trust.models import (
    AccessGrant,
    AccessRequest,
    AccessRequestStatus,
    AutoApproveRule,
    DocumentAccess,
    DocumentDownload,
    TrustDocument,
    TrustNda,
    TrustPage,
)
from trust.selectors import page_for

logger = logging.getLogger(__name__)

# Set by the services themselves, and empty until then (the model does not allow blank).
UNCHECKED = ["documents", "nda", "nda_accepted_at", "nda_ip", "decided_by", "auto_approved_by"]

STORAGE_FOLDER = ".trust"  # evidence's orphan check skips "." folders


def new_storage_key(organization_id: int) -> str:
    return f"{STORAGE_FOLDER}/{organization_id}/{uuid.uuid4().hex}"


# --- documents ----------------------------------------------------------------------------------


@transaction.atomic
def document_upload(
    *,
    actor: User,
    organization: Organization,
    title: str,
    upload: Any,
    description: str = "",
    access: str = DocumentAccess.GATED,
    is_published: bool = False,
) -> TrustDocument:
    """Validate, hash (in chunks) and store a file, and create its document row."""
    if upload is None:
        raise ValidationError({"file": "Choose a file to upload."})
    checked = check_upload(upload)
    page = page_for(organization)
    document = TrustDocument(
        page=page,
        title=(title or "").strip(),
        description=(description or "").strip(),
        access=access,
        storage_key=new_storage_key(organization.pk),
        original_name=checked.name,
        size=checked.size,
        content_type=checked.content_type,
        sha256=checked.sha256,
        is_published=is_published,
        uploaded_by=actor,
        position=(page.documents.aggregate(m=Max("position"))["m"] or 0) + 1,
    )
    document.full_clean()
    storage.store(document.storage_key, upload)
    key = document.storage_key
    try:
        document.save()
        audit_record(
            actor=actor,
            organization=organization,
            action="trust.document_upload",
            obj=document,
            after={
                "title": document.title,
                "access": document.access,
                "is_published": document.is_published,
                "sha256": document.sha256,
                "size": document.size,
            },
        )
    except BaseException:
        storage.delete(key)
        raise
    return document


@transaction.atomic
def document_update(
    *,
    actor: User,
    document: TrustDocument,
    title: str | None = None,
    description: str | None = None,
    access: str | None = None,
    is_published: bool | None = None,
) -> TrustDocument:
    """Change what is shown of a document (never its file: a new file is a new document)."""
    document = TrustDocument.objects.select_for_update().select_related("page").get(pk=document.pk)
    fields = ("title", "description", "access", "is_published")
    before = {f: getattr(document, f) for f in fields}
    if title is not None:
        document.title = title.strip()
    if description is not None:
        document.description = description.strip()
    if access is not None:
        document.access = access
    if is_published is not None:
        document.is_published = is_published
    document.full_clean()
    after = {f: getattr(document, f) for f in fields}
    changed = {f for f in fields if before[f] != after[f]}
    if not changed:
        return document
    document.save()
    audit_record(
        actor=actor,
        organization=document.page.organization,
        action="trust.document_update",
        obj=document,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
    )
    return document


# --- NDA and auto-approve rules -----------------------------------------------------------------


@transaction.atomic
def nda_publish(*, actor: User, organization: Organization, text: str) -> TrustNda:
    """A new NDA version (editing the text is a new version; old ones stay as records)."""
    page = TrustPage.objects.select_for_update().get(pk=page_for(organization).pk)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the NDA's text."})
    current = page.ndas.order_by("-version").first()
    if current is not None and current.text == text:
        raise ValidationError({"text": "The text is the same as the current version."})
    nda = TrustNda(
        page=page, version=(current.version + 1) if current else 1, text=text, created_by=actor
    )
    nda.full_clean()
    nda.save()
    audit_record(
        actor=actor,
        organization=organization,
        action="trust.nda_publish",
        obj=nda,
        after={"version": nda.version, "length": len(text)},
    )
    return nda


def normalize_domain(value: str) -> str:
    domain = (value or "").strip().lower().rstrip(".")
    if domain.startswith("@"):
        domain = domain[1:]
    labels = domain.split(".")
    if (
        len(labels) < 2
        or len(domain) > 253
        or any(not label or len(label) > 63 for label in labels)
        or any(not all(c.isalnum() or c == "-" for c in label) for label in labels)
        or any(label.startswith("-") or label.endswith("-") for label in labels)
    ):
        raise ValidationError({"domain": "Enter a domain such as example.com."})
    return domain


@transaction.atomic
def auto_approve_add(*, actor: User, organization: Organization, domain: str) -> AutoApproveRule:
    page = page_for(organization)
    domain = normalize_domain(domain)
    if page.auto_approve_rules.filter(domain=domain).exists():
        raise ValidationError({"domain": f"{domain} is already approved automatically."})
    rule = AutoApproveRule(page=page, domain=domain, created_by=actor)
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        organization=organization,
        action="trust.auto_approve_add",
        obj=rule,
        after={"domain": domain},
    )
    return rule


@transaction.atomic
def auto_approve_remove(*, actor: User, rule: AutoApproveRule) -> None:
    organization = rule.page.organization
    audit_record(
        actor=actor,
        organization=organization,
        action="trust.auto_approve_remove",
        obj=rule,
        before={"domain": rule.domain},
    )
    rule.delete()


def matching_rule(page: TrustPage, email: str) -> AutoApproveRule | None:
    """The rule whose domain is the email's domain or a parent of it (``eu.example.com``
    matches ``example.com``; ``example.com.evil.test`` and ``badexample.com`` do not)."""
    domain = email.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    for rule in page.auto_approve_rules.all():
        if domain == rule.domain or domain.endswith("." + rule.domain):
            return rule
    return None


# --- access requests ----------------------------------------------------------------------------


def _request_facts(access_request: AccessRequest) -> dict[str, Any]:
    return {
        "email": access_request.email,
        "company": access_request.company,
        "status": access_request.status,
    }


def _grant_create(access_request: AccessRequest) -> tuple[AccessGrant, str]:
    token, digest = links.new_token()
    grant = AccessGrant.objects.create(
        request=access_request,
        token_hash=digest,
        expires_at=timezone.now() + links.access_lifetime(),
    )
    return grant, token


def _email_link(access_request: AccessRequest, grant: AccessGrant, token: str) -> None:
    page = access_request.page
    organization = page.organization
    email_queue(
        template="trust_access_granted",
        to=[access_request.email],
        context={
            "organization_name": organization.name,
            "name": access_request.name,
            "link": links.access_url(slug=organization.slug, token=token),
            "expires_at": grant.expires_at,
            "documents": [d.title for d in access_request.documents.all()],
        },
    )


def _email_admins(access_request: AccessRequest) -> None:
    organization = access_request.page.organization
    admins = list(
        Membership.objects.active()
        .filter(organization=organization, role=Role.ADMIN)
        .values_list("user__email", flat=True)
    )
    if not admins:
        return
    email_queue(
        template="trust_access_request",
        to=admins,
        context={
            "organization_name": organization.name,
            "request": access_request,
            "documents": [d.title for d in access_request.documents.all()],
            "queue_url": reverse(
                "trust_request_detail", args=[organization.slug, access_request.pk]
            ),
        },
    )


@transaction.atomic
def access_request_submit(
    *,
    page: TrustPage,
    name: str,
    email: str,
    company: str,
    reason: str,
    documents: list[TrustDocument],
    nda: TrustNda | None,
    ip: str | None,
    user_agent: str,
) -> AccessRequest:
    """An anonymous requester's request, with the NDA version they accepted, the time, their
    address and browser. Approved at once when an auto-approve rule matches their email's
    domain (the link is emailed); otherwise pending, and the organization's admins are told."""
    organization = page.organization
    if not documents:
        raise ValidationError({"documents": "Choose at least one document."})
    if any(d.page_id != page.pk or not d.is_gated or not d.is_published for d in documents):
        raise ValidationError({"documents": "Choose among the documents listed."})
    current = page.ndas.order_by("-version").first()
    if current is not None and (nda is None or nda.pk != current.pk):
        raise ValidationError({"accept_nda": "The NDA changed while you were reading it."})
    now = timezone.now()
    access_request = AccessRequest(
        page=page,
        name=name.strip(),
        email=email.strip().lower(),
        company=company.strip(),
        reason=reason.strip(),
        nda=current,
        nda_accepted_at=now if current else None,
        nda_ip=ip or None,
        nda_user_agent=(user_agent or "")[:500],
    )
    access_request.full_clean(exclude=UNCHECKED)
    rule = matching_rule(page, access_request.email)
    if rule is not None:
        access_request.status = AccessRequestStatus.APPROVED
        access_request.auto_approved_by = rule
        access_request.decided_at = now
        access_request.decision_note = f"Approved automatically: {rule.domain}"
    access_request.save()
    access_request.documents.set(documents)
    audit_record(
        actor=None,
        organization=organization,
        action="trust.access_request_submit",
        obj=access_request,
        after={
            **_request_facts(access_request),
            "documents": sorted(d.pk for d in documents),
            "nda_version": current.version if current else None,
            "nda_accepted_at": access_request.nda_accepted_at,
            "ip": access_request.nda_ip,
            "user_agent": access_request.nda_user_agent,
        },
    )
    if rule is not None:
        grant, token = _grant_create(access_request)
        audit_record(
            actor=None,
            organization=organization,
            action="trust.access_request_approve",
            obj=access_request,
            after={"auto_approved_by": rule.domain, "expires_at": grant.expires_at},
        )
        _email_link(access_request, grant, token)
    else:
        _email_admins(access_request)
    return access_request


def _locked(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("page__organization")
        .get(pk=access_request.pk)
    )


def _decide(
    actor: User, access_request: AccessRequest, status: AccessRequestStatus, note: str
) -> AccessRequest:
    """Record the decision on a pending request (locked; a decided one is refused)."""
    access_request = _locked(access_request)
    if access_request.status != AccessRequestStatus.PENDING:
        raise ValidationError(
            f"This request is already {access_request.get_status_display().lower()}."
        )
    access_request.status = status
    access_request.decided_by = actor
    access_request.decided_at = timezone.now()
    access_request.decision_note = (note or "").strip()
    access_request.full_clean(exclude=UNCHECKED)
    access_request.save()
    return access_request


def _audit_decision(actor: User, access_request: AccessRequest, action: str, **after: Any) -> None:
    audit_record(
        actor=actor,
        organization=access_request.page.organization,
        action=action,
        obj=access_request,
        before={"status": AccessRequestStatus.PENDING},
        after={"status": access_request.status, "note": access_request.decision_note, **after},
    )


@transaction.atomic
def access_request_approve(
    *, actor: User, access_request: AccessRequest, note: str = ""
) -> AccessGrant:
    """Approve a pending request: a grant with a new link, emailed to the requester."""
    access_request = _decide(actor, access_request, AccessRequestStatus.APPROVED, note)
    grant, token = _grant_create(access_request)
    _audit_decision(
        actor, access_request, "trust.access_request_approve", expires_at=grant.expires_at
    )
    _email_link(access_request, grant, token)
    return grant


@transaction.atomic
def access_request_deny(
    *, actor: User, access_request: AccessRequest, note: str = ""
) -> AccessRequest:
    access_request = _decide(actor, access_request, AccessRequestStatus.DENIED, note)
    _audit_decision(actor, access_request, "trust.access_request_deny")
    return access_request


@transaction.atomic
def grant_revoke(*, actor: User, grant: AccessGrant) -> AccessGrant:
    grant = (
        AccessGrant.objects.select_for_update(of=("self",))
        .select_related("request__page__organization")
        .get(pk=grant.pk)
    )
    if grant.revoked_at is not None:
        raise ValidationError("This link is already revoked.")
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        organization=grant.request.page.organization,
        action="trust.grant_revoke",
        obj=grant.request,
        after={"grant": grant.pk, "revoked_at": grant.revoked_at},
    )
    return grant


@transaction.atomic
def grant_resend(*, actor: User, access_request: AccessRequest) -> AccessGrant:
    """A new link for an approved request (the secret of the old one is not kept, so it cannot
    be sent again): the live links are revoked and a fresh one, with a fresh expiry, is emailed."""
    access_request = _locked(access_request)
    if access_request.status != AccessRequestStatus.APPROVED:
        raise ValidationError("Only an approved request has a link to send.")
    now = timezone.now()
    revoked = access_request.grants.filter(revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    grant, token = _grant_create(access_request)
    audit_record(
        actor=actor,
        organization=access_request.page.organization,
        action="trust.grant_resend",
        obj=access_request,
        after={"grant": grant.pk, "expires_at": grant.expires_at, "revoked_previous": revoked},
    )
    _email_link(access_request, grant, token)
    return grant


# --- downloads ----------------------------------------------------------------------------------


def download_record(
    *, document: TrustDocument, grant: AccessGrant | None, request: HttpRequest
) -> DocumentDownload:
    ip = client_ip(request) or None
    return DocumentDownload.objects.create(
        document=document,
        grant=grant,
        ip=ip,
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:500],
    )


def grant_is_live(grant: AccessGrant, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        grant.revoked_at is None
        and grant.expires_at > now
        and grant.request.status == AccessRequestStatus.APPROVED
    )
