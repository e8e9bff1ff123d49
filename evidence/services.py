"""Writes of evidence: requests and their occurrences, items and revisions, reviews, integrity."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import mail_admins
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from compliance.audit import audit_record, changed, snapshot
from compliance.emails import email_queue
from compliance.models import Membership, Organization, Role, User
from compliance.readiness import controls_changed
from controls.models import Control
from evidence import schedule, storage
from evidence.models import (
    Cadence,
    EvidenceItem,
    EvidenceKind,
    EvidenceRequest,
    EvidenceRevision,
    IntegrityAlert,
    IntegrityRun,
    OccurrenceStatus,
    OccurrenceStatusChange,
    RequestOccurrence,
    ReviewStatus,
    RevisionReview,
)
from evidence.uploads import check_upload, stale_uploads

logger = logging.getLogger(__name__)

REQUEST_FIELDS = (
    "title", "instructions", "owner", "cadence", "first_due_date", "remind_days_before", "active",
)  # fmt: skip
ITEM_FIELDS = ("title", "kind", "effective_date", "covers_from", "covers_until", "occurrence")


def organization_today(organization: Organization) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()


def _readiness_changed(organization: Organization, control_ids: Any) -> None:
    """Readiness of the controls an item or request supports, in the transaction of the change
    (``control_ids``: ids, or a queryset of them, evaluated now)."""
    controls_changed(organization=organization, control_ids=list(control_ids))


def _item_controls(item: EvidenceItem) -> Any:
    return EvidenceItem.controls.through.objects.filter(evidenceitem_id=item.pk).values_list(
        "control_id", flat=True
    )


def _request_controls(request_id: int) -> Any:
    return EvidenceRequest.controls.through.objects.filter(
        evidencerequest_id=request_id
    ).values_list("control_id", flat=True)


# --- requests -----------------------------------------------------------------------------------


def _validate_request(request: EvidenceRequest, controls: Sequence[Control]) -> None:
    errors: dict[str, list[str]] = {}
    try:
        request.full_clean(exclude=["organization", "controls"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if (
        request.owner_id is not None
        and not Membership.objects.active()
        .filter(
            user_id=request.owner_id,
            organization_id=request.organization_id,
            role__in=[Role.ADMIN, Role.MEMBER],
        )
        .exists()
    ):
        errors.setdefault("owner", []).append("Choose an admin or member of this organization.")
    foreign = [c.ref_id for c in controls if c.organization_id != request.organization_id]
    if foreign:
        errors.setdefault("controls", []).append("Not controls of this organization.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def request_create(
    *,
    actor: User,
    organization: Organization,
    title: str,
    cadence: str,
    first_due_date: dt.date,
    owner: User | None = None,
    controls: Sequence[Control] = (),
    instructions: str = "",
    remind_days_before: int = 7,
    active: bool = True,
) -> EvidenceRequest:
    request = EvidenceRequest(
        organization=organization,
        title=title.strip(),
        cadence=cadence,
        first_due_date=first_due_date,
        owner=owner,
        instructions=instructions,
        remind_days_before=remind_days_before,
        active=active,
        created_by=actor,
    )
    _validate_request(request, controls)
    request.save()
    request.controls.set(controls)
    _readiness_changed(organization, [c.pk for c in controls])
    after = snapshot(request, REQUEST_FIELDS)
    after["controls"] = sorted(c.ref_id for c in controls)
    audit_record(
        actor=actor,
        organization=organization,
        action="evidence_request.create",
        obj=request,
        after=after,
    )
    transaction.on_commit(lambda: _schedule_soon(request.pk))
    return request


def _schedule_soon(request_id: int) -> None:
    from evidence.tasks import request_schedule

    with contextlib.suppress(Exception):  # the hourly tick catches up if the broker is down
        request_schedule.delay(request_id)


@transaction.atomic
def request_update(
    *, actor: User, request: EvidenceRequest, changes: dict[str, Any]
) -> EvidenceRequest:
    request = EvidenceRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
    before = snapshot(request, REQUEST_FIELDS)
    before["controls"] = sorted(request.controls.values_list("ref_id", flat=True))
    linked_before = list(_request_controls(request.pk))
    controls = changes.pop("controls", None)
    if request.occurrences.exists() and (
        changes.get("cadence", request.cadence) != request.cadence
        or changes.get("first_due_date", request.first_due_date) != request.first_due_date
    ):
        raise ValidationError(
            {
                "cadence": "The schedule of a request with occurrences cannot change; "
                "create a new request."
            }
        )
    for name, value in changes.items():
        if name not in REQUEST_FIELDS:
            raise ValidationError({name: "This field cannot be changed."})
        setattr(request, name, value)
    _validate_request(request, controls if controls is not None else list(request.controls.all()))
    request.save()
    if controls is not None:
        request.controls.set(controls)
    # Linked controls or "active" decide whose readiness an overdue occurrence blocks.
    _readiness_changed(request.organization, {*linked_before, *_request_controls(request.pk)})
    after = snapshot(request, REQUEST_FIELDS)
    after["controls"] = sorted(request.controls.values_list("ref_id", flat=True))
    old, new = changed(before, after)
    if new:
        audit_record(
            actor=actor,
            organization=request.organization,
            action="evidence_request.update",
            obj=request,
            before=old,
            after=new,
        )
    return request


def _set_occurrence_status(
    occurrence: RequestOccurrence, new: str, *, actor: User | None, reason: str = ""
) -> bool:
    """Conditional update of an occurrence's status, with its change row. False if it moved."""
    old = occurrence.status
    if old == new:
        return False
    updated = RequestOccurrence.objects.filter(pk=occurrence.pk, status=old).update(status=new)
    if not updated:
        return False
    occurrence.status = new
    OccurrenceStatusChange.objects.create(
        occurrence=occurrence, from_status=old, to_status=new, actor=actor, reason=reason
    )
    if OccurrenceStatus.OVERDUE in (old, new):  # an overdue occurrence blocks its controls
        request = occurrence.request
        _readiness_changed(request.organization, _request_controls(request.pk))
    return True


@transaction.atomic
def occurrence_log_event(
    *, actor: User, request: EvidenceRequest, due_date: dt.date, note: str = ""
) -> RequestOccurrence:
    """An event-driven request's occurrence, opened when the event happens."""
    if request.cadence != Cadence.EVENT_DRIVEN:
        raise ValidationError({"request": "Only event-driven requests take logged events."})
    last = request.occurrences.order_by("-sequence").values_list("sequence", flat=True).first()
    occurrence = RequestOccurrence.objects.create(
        request=request,
        sequence=(last or 0) + 1,
        period_start=organization_today(request.organization),
        period_end=due_date,
        due_date=due_date,
    )
    OccurrenceStatusChange.objects.create(
        occurrence=occurrence,
        from_status="",
        to_status=OccurrenceStatus.OPEN,
        actor=actor,
        reason=note,
    )
    audit_record(
        actor=actor,
        organization=request.organization,
        action="evidence_request.event",
        obj=occurrence,
        after={"request": request.title, "due_date": due_date, "note": note},
    )
    return occurrence


def request_schedule(
    request: EvidenceRequest, *, today: dt.date | None = None
) -> list[RequestOccurrence]:
    """Create the occurrences whose period has begun (idempotent: one per sequence)."""
    today = today or organization_today(request.organization)
    if not request.active:
        return []
    wanted = schedule.sequences_started(request.first_due_date, request.cadence, today)
    existing = set(request.occurrences.values_list("sequence", flat=True))
    created = []
    for sequence in wanted:
        if sequence in existing:
            continue
        start, end = schedule.period(request.first_due_date, request.cadence, sequence)
        try:
            with transaction.atomic():
                occurrence = RequestOccurrence.objects.create(
                    request=request,
                    sequence=sequence,
                    period_start=start,
                    period_end=end,
                    due_date=end,
                )
                OccurrenceStatusChange.objects.create(
                    occurrence=occurrence,
                    from_status="",
                    to_status=OccurrenceStatus.OPEN,
                    reason="Scheduled",
                )
                audit_record(
                    actor=None,
                    organization=request.organization,
                    action="evidence_request.occurrence",
                    obj=occurrence,
                    after={"request": request.title, "sequence": sequence, "due_date": end},
                )
        except IntegrityError:
            continue  # another tick created it first
        created.append(occurrence)
    return created


def occurrences_mark_overdue(organization: Organization, *, today: dt.date | None = None) -> int:
    """Open or rejected occurrences whose due day has ended become overdue."""
    today = today or organization_today(organization)
    marked = 0
    late = RequestOccurrence.objects.filter(
        request__organization=organization,
        request__active=True,
        status__in=[OccurrenceStatus.OPEN, OccurrenceStatus.REJECTED],
        due_date__lt=today,
    ).select_related("request")
    for occurrence in late:
        with transaction.atomic():
            if _set_occurrence_status(
                occurrence, OccurrenceStatus.OVERDUE, actor=None, reason="Past due"
            ):
                audit_record(
                    actor=None,
                    organization=organization,
                    action="evidence_request.overdue",
                    obj=occurrence,
                    after={"status": OccurrenceStatus.OVERDUE, "due_date": occurrence.due_date},
                )
                marked += 1
    return marked


def occurrences_remind(organization: Organization, *, today: dt.date | None = None) -> int:
    """Email owners before the due date and once when overdue; never twice for the same reason."""
    today = today or organization_today(organization)
    sent = 0
    candidates = RequestOccurrence.objects.filter(
        request__organization=organization, request__active=True, request__owner__isnull=False
    ).select_related("request", "request__owner")
    upcoming = candidates.filter(
        status=OccurrenceStatus.OPEN, reminded_at__isnull=True, due_date__gte=today
    )
    for occurrence in upcoming:
        if (occurrence.due_date - today).days > occurrence.request.remind_days_before:
            continue
        if _claim(occurrence, "reminded_at"):
            _email_owner(occurrence, "evidence_due")
            sent += 1
    overdue = candidates.filter(status=OccurrenceStatus.OVERDUE, overdue_notified_at__isnull=True)
    for occurrence in overdue:
        if _claim(occurrence, "overdue_notified_at"):
            _email_owner(occurrence, "evidence_overdue")
            sent += 1
    return sent


def _claim(occurrence: RequestOccurrence, field: str) -> bool:
    """Mark a reminder as sent; only the first of two concurrent ticks gets True."""
    return bool(
        RequestOccurrence.objects.filter(pk=occurrence.pk, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
    )


def _email_owner(occurrence: RequestOccurrence, template: str) -> None:
    request = occurrence.request
    owner = request.owner
    assert owner is not None
    with transaction.atomic():
        email_queue(
            template=template,
            to=[owner.email],
            context={
                "occurrence": occurrence,
                "request": request,
                "owner": owner,
                "organization": request.organization,
                "upload_url": settings.SITE_URL
                + reverse("evidence_create", args=[request.organization.slug])
                + f"?occurrence={occurrence.pk}",
            },
        )


# --- evidence items and revisions ---------------------------------------------------------------


def _clean_content(kind: str, upload: Any, url: str, note: str) -> dict[str, Any]:
    """Validate what a revision holds; returns the revision fields (file checked, not stored)."""
    if kind == EvidenceKind.FILE:
        if upload is None:
            raise ValidationError({"file": "Choose a file to upload."})
        checked = check_upload(upload)
        return {
            "original_name": checked.name,
            "size": checked.size,
            "content_type": checked.content_type,
            "sha256": checked.sha256,
        }
    if upload is not None:
        raise ValidationError({"file": f"A {kind} holds no file."})
    if kind == EvidenceKind.LINK:
        url = (url or "").strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationError({"url": "Enter a full http(s) address."}) from None
        if len(url) > 2000:
            raise ValidationError({"url": "At most 2000 characters."})
        return {"url": url}
    if kind == EvidenceKind.NOTE:
        note = (note or "").strip()
        if not note:
            raise ValidationError({"note": "Write the note."})
        if len(note) > 20000:
            raise ValidationError({"note": "At most 20,000 characters."})
        return {"note": note}
    raise ValidationError({"kind": f"{kind!r} is not a kind of evidence."})


def _validate_item(item: EvidenceItem, controls: Sequence[Control]) -> None:
    errors: dict[str, list[str]] = {}
    try:
        item.full_clean(exclude=["organization", "controls", "occurrence", "created_by"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    today = organization_today(item.organization)
    if item.effective_date and item.effective_date > today:
        errors.setdefault("effective_date", []).append("The effective date is in the future.")
    if item.covers_from and item.covers_until and item.covers_from > item.covers_until:
        errors.setdefault("covers_until", []).append("The period ends before it starts.")
    if any(c.organization_id != item.organization_id for c in controls):
        errors.setdefault("controls", []).append("Not controls of this organization.")
    if (
        item.occurrence is not None
        and item.occurrence.request.organization_id != item.organization_id
    ):
        errors.setdefault("occurrence", []).append("Not a request of this organization.")
    if not controls and item.occurrence is None:
        errors.setdefault("controls", []).append("Attach the evidence to at least one control.")
    if errors:
        raise ValidationError(errors)


def _store_and_create_revision(
    *, actor: User | None, item: EvidenceItem, number: int, content: dict[str, Any], upload: Any
) -> tuple[EvidenceRevision, str | None]:
    key = None
    if upload is not None:
        key = storage.new_key(item.organization_id)
        storage.store(key, upload)
    try:
        revision = EvidenceRevision.objects.create(
            item=item,
            number=number,
            storage_key=key or "",
            uploaded_by=actor,
            effective_date=item.effective_date,
            **content,
        )
        # The new revision is the item's latest (numbers only grow, under the item's lock).
        EvidenceItem.objects.filter(pk=item.pk).update(
            latest_revision=revision, review_status=revision.review_status
        )
        item.latest_revision, item.review_status = revision, revision.review_status
    except BaseException:
        if key is not None:  # the caller never learns the key: remove the file here
            _discard_file(key)
        raise
    return revision, key


def evidence_refresh_latest(*, items: QuerySet[EvidenceItem]) -> int:
    """Set ``latest_revision`` and ``review_status`` of ``items`` from their revisions, in one
    statement: for writers that insert revisions in bulk (generated organizations, tests),
    inside their transaction. The services keep both current themselves."""
    newest = EvidenceRevision.objects.filter(item=OuterRef("pk")).order_by("-number")
    return items.update(
        latest_revision=Subquery(newest.values("pk")[:1]),
        review_status=Coalesce(Subquery(newest.values("review_status")[:1]), Value("")),
    )


@transaction.atomic
def revision_download_record(*, actor: User, revision: EvidenceRevision, via: str) -> None:
    """A file downloaded, by anyone: an event of the audit trail (who, which file, through what:
    ``web``, ``api`` or an audit engagement's pages)."""
    audit_record(
        actor=actor,
        organization=revision.item.organization,
        action="evidence.download",
        obj=revision,
        after={"file": revision.original_name, "sha256": revision.sha256, "via": via},
    )


def _revision_facts(revision: EvidenceRevision) -> dict[str, Any]:
    facts: dict[str, Any] = {"revision": revision.number}
    if revision.storage_key:
        facts.update(
            file=revision.original_name,
            size=revision.size,
            sha256=revision.sha256,
            content_type=revision.content_type,
        )
    elif revision.url:
        facts["url"] = revision.url
    else:
        facts["note_chars"] = len(revision.note)
    return facts


def evidence_create(
    *,
    actor: User,
    organization: Organization,
    title: str,
    kind: str,
    effective_date: dt.date,
    controls: Sequence[Control] = (),
    occurrence: RequestOccurrence | None = None,
    covers_from: dt.date | None = None,
    covers_until: dt.date | None = None,
    upload: Any = None,
    url: str = "",
    note: str = "",
) -> EvidenceItem:
    """A new evidence item with its first revision. File and rows are stored together or not
    at all: a failure after the file was written removes it."""
    stored_key: str | None = None
    try:
        with transaction.atomic():
            if occurrence is not None and not controls:
                controls = list(occurrence.request.controls.all())
            item = EvidenceItem(
                organization=organization,
                title=(title or "").strip(),
                kind=kind,
                effective_date=effective_date,
                covers_from=covers_from,
                covers_until=covers_until,
                occurrence=occurrence,
                created_by=actor,
            )
            _validate_item(item, controls)
            content = _clean_content(kind, upload, url, note)
            item.save()
            item.controls.set(controls)
            revision, stored_key = _store_and_create_revision(
                actor=actor, item=item, number=1, content=content, upload=upload
            )
            _readiness_changed(organization, [c.pk for c in controls])
            after = snapshot(item, ITEM_FIELDS)
            after["controls"] = sorted(c.ref_id for c in controls)
            after.update(_revision_facts(revision))
            audit_record(
                actor=actor,
                organization=organization,
                action="evidence.create",
                obj=item,
                after=after,
            )
            if occurrence is not None:
                _occurrence_submitted(occurrence, actor)
            return item
    except BaseException:
        if stored_key is not None:
            _discard_file(stored_key)
        raise


def evidence_add_revision(
    *,
    actor: User,
    item: EvidenceItem,
    upload: Any = None,
    url: str = "",
    note: str = "",
    effective_date: dt.date | None = None,
) -> EvidenceRevision:
    """A new immutable revision; earlier ones stay stored and downloadable."""
    stored_key: str | None = None
    try:
        with transaction.atomic():
            item = EvidenceItem.objects.select_for_update(no_key=True).get(pk=item.pk)
            if item.system_key:
                raise ValidationError(
                    "Attest records this evidence itself (an automated test's runs); it cannot "
                    "be revised by hand."
                )
            before = snapshot(item, ("effective_date",))
            if effective_date is not None:
                item.effective_date = effective_date
                _validate_item(item, list(item.controls.all()))
            content = _clean_content(item.kind, upload, url, note)
            if effective_date is not None:
                item.save(update_fields=["effective_date"])
                _readiness_changed(item.organization, _item_controls(item))
            last = item.revisions.order_by("-number").values_list("number", flat=True).first() or 0
            revision, stored_key = _store_and_create_revision(
                actor=actor, item=item, number=last + 1, content=content, upload=upload
            )
            old, new = changed(before, snapshot(item, ("effective_date",)))
            audit_record(
                actor=actor,
                organization=item.organization,
                action="evidence.revise",
                obj=item,
                before=old or None,
                after={**new, **_revision_facts(revision)},
            )
            if item.occurrence is not None:
                _occurrence_submitted(item.occurrence, actor)
            return revision
    except BaseException:
        if stored_key is not None:
            _discard_file(stored_key)
        raise


def evidence_record_snapshot(
    *,
    organization: Organization,
    system_key: str,
    title: str,
    controls: Sequence[Control],
    effective_date: dt.date,
    filename: str,
    content: bytes,
    note: str,
) -> EvidenceRevision:
    """Evidence Attest records itself (an automated test run's outcome): a new revision of the
    item keyed by ``system_key``, created on first use, stored and hashed like any upload and
    accepted at once, since no person produced it.

    Meant to be the last step of the caller's transaction: the file is removed again if
    anything here fails; should the commit itself fail, the integrity sweep reports the orphan.
    """
    stored_key: str | None = None
    try:
        with transaction.atomic():
            item, created = EvidenceItem.objects.select_for_update(no_key=True).get_or_create(
                organization=organization,
                system_key=system_key,
                defaults={
                    "title": title[:200],
                    "kind": EvidenceKind.FILE,
                    "effective_date": effective_date,
                },
            )
            if created:
                item.controls.set(controls)
            elif effective_date > item.effective_date:
                item.effective_date = effective_date
                item.save(update_fields=["effective_date"])
            upload = SimpleUploadedFile(filename, content, content_type="application/json")
            checked = _clean_content(EvidenceKind.FILE, upload, "", "")
            accepted = {"review_status": ReviewStatus.ACCEPTED, "review_reason": note[:2000]}
            last = item.revisions.order_by("-number").values_list("number", flat=True).first()
            revision, stored_key = _store_and_create_revision(
                actor=None,
                item=item,
                number=(last or 0) + 1,
                content={**checked, **accepted},
                upload=upload,
            )
            # Accepted the moment it was stored: a review time taken before the row was written
            # would precede its upload time.
            revision.reviewed_at = revision.uploaded_at
            EvidenceRevision.objects.filter(pk=revision.pk).update(reviewed_at=revision.reviewed_at)
            _readiness_changed(organization, _item_controls(item))
            return revision
    except BaseException:
        if stored_key is not None:
            _discard_file(stored_key)
        raise


def _discard_file(key: str) -> None:
    try:
        storage.delete(key)
    except Exception:  # the sweep reports what could not be removed
        logger.exception(
            "Could not remove %s after a failed upload; the sweep will report it.", key
        )


def _occurrence_submitted(occurrence: RequestOccurrence, actor: User | None) -> None:
    occurrence = RequestOccurrence.objects.select_for_update(no_key=True).get(pk=occurrence.pk)
    if occurrence.status in (
        OccurrenceStatus.OPEN,
        OccurrenceStatus.REJECTED,
        OccurrenceStatus.OVERDUE,
    ):
        _set_occurrence_status(
            occurrence, OccurrenceStatus.SUBMITTED, actor=actor, reason="Evidence submitted"
        )


@transaction.atomic
def revision_review(
    *, actor: User, revision: EvidenceRevision, decision: str, reason: str = ""
) -> EvidenceRevision:
    """Accept or reject a pending revision; a rejection goes back to its uploader, with why."""
    if decision not in (ReviewStatus.ACCEPTED, ReviewStatus.REJECTED):
        raise ValidationError({"decision": "Choose accept or reject."})
    reason = (reason or "").strip()
    if decision == ReviewStatus.REJECTED and not reason:
        raise ValidationError({"reason": "Say what is wrong, so the owner can fix it."})
    if len(reason) > 2000:
        raise ValidationError({"reason": "At most 2000 characters."})
    now = timezone.now()
    updated = EvidenceRevision.objects.filter(
        pk=revision.pk, review_status=ReviewStatus.PENDING
    ).update(review_status=decision, reviewed_by=actor, reviewed_at=now, review_reason=reason)
    if not updated:
        raise ValidationError("This revision was already reviewed.")
    revision.refresh_from_db()
    # The item shows the decision if this is its latest revision. A newer one may have been
    # added meanwhile: the condition is read again on the item's current row, so an older
    # revision's review never overwrites the newer revision's status.
    is_latest = EvidenceItem.objects.filter(pk=revision.item_id, latest_revision=revision).update(
        review_status=decision
    )
    RevisionReview.objects.create(
        revision=revision,
        from_status=ReviewStatus.PENDING,
        to_status=decision,
        actor=actor,
        reason=reason,
    )
    item = revision.item
    _readiness_changed(item.organization, _item_controls(item))
    audit_record(
        actor=actor,
        organization=item.organization,
        action=f"evidence.{'accept' if decision == ReviewStatus.ACCEPTED else 'reject'}",
        obj=item,
        before={"revision": revision.number, "review": ReviewStatus.PENDING},
        after={"revision": revision.number, "review": decision, "reason": reason},
    )
    occurrence = item.occurrence
    if occurrence is not None and is_latest:
        target = (
            OccurrenceStatus.ACCEPTED
            if decision == ReviewStatus.ACCEPTED
            else OccurrenceStatus.REJECTED
        )
        occurrence = RequestOccurrence.objects.select_for_update(no_key=True).get(pk=occurrence.pk)
        _set_occurrence_status(occurrence, target, actor=actor, reason=reason)
    if decision == ReviewStatus.REJECTED and revision.uploaded_by is not None:
        email_queue(
            template="evidence_rejected",
            to=[revision.uploaded_by.email],
            context={
                "revision": revision,
                "item": item,
                "reviewer": actor,
                "organization": item.organization,
                "item_url": settings.SITE_URL
                + reverse("evidence_detail", args=[item.organization.slug, item.pk]),
            },
        )
    return revision


# --- integrity ----------------------------------------------------------------------------------

ORPHAN_MIN_AGE = dt.timedelta(hours=1)  # younger files may belong to an upload still committing


@dataclass(frozen=True)
class IncomingSweep:
    removed: int
    freed_bytes: int
    lines: list[str]


def incoming_sweep() -> IncomingSweep:
    """Delete the partial uploads that web workers killed mid-request left in the incoming
    folder (see :func:`evidence.uploads.stale_uploads`), and log each one."""
    now = timezone.now()
    removed, freed, lines = 0, 0, []
    for upload in stale_uploads(now):
        try:
            upload.path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:  # reported again by the next sweep and the integrity sweep
            logger.error("Could not remove the partial upload %s: %s", upload.path, exc)
            continue
        removed += 1
        freed += upload.size
        lines.append(f"REMOVED {upload.describe(now)}")
        logger.warning("Removed a partial upload: %s", upload.describe(now))
    return IncomingSweep(removed=removed, freed_bytes=freed, lines=lines)


def integrity_sweep() -> IntegrityRun:
    """Re-hash every stored revision and look for files no revision knows, and for partial
    uploads left in the incoming folder (the hourly incoming sweep should have removed them).

    A missing or altered file raises an alert for the operators and the organization's admins;
    nothing is repaired, moved or deleted.
    """
    run = IntegrityRun.objects.create()
    lines: list[str] = []
    known: set[str] = set()
    try:
        revisions = (
            EvidenceRevision.objects.exclude(storage_key="")
            .values_list("pk", "storage_key", "sha256", "size", "item__organization_id")
            .iterator(chunk_size=500)
        )
        for pk, key, sha256, size, organization_id in revisions:
            known.add(key)
            run.checked += 1
            if not storage.exists(key):
                run.missing += 1
                _alert(run, IntegrityAlert.Kind.MISSING, key, pk, organization_id, sha256, "")
                lines.append(f"MISSING  {key} (revision {pk})")
                continue
            found_size, found_sha = storage.hash_file(key)
            if found_sha != sha256 or found_size != size:
                run.altered += 1
                _alert(
                    run, IntegrityAlert.Kind.ALTERED, key, pk, organization_id, sha256, found_sha
                )
                lines.append(
                    f"ALTERED  {key} (revision {pk}): expected {sha256}, found {found_sha}"
                )
        now = timezone.now()
        for upload in stale_uploads(now):
            run.stale_uploads += 1
            lines.append(f"STALE UPLOAD {upload.describe(now)} in {upload.path.parent}")
        cutoff = now - ORPHAN_MIN_AGE
        backend = storage.evidence_storage()
        for key in storage.all_keys():
            if key in known:
                continue
            with contextlib.suppress(NotImplementedError, OSError):
                if backend.get_modified_time(key) > cutoff:
                    continue
            run.orphaned += 1
            _alert(run, IntegrityAlert.Kind.ORPHANED, key, None, _org_from_key(key), "", "")
            lines.append(f"ORPHANED {key}")
    except Exception as exc:
        run.status = IntegrityRun.Status.FAILED
        run.log = "\n".join([*lines, f"FAILED: {type(exc).__name__}: {exc}"])
        run.finished_at = timezone.now()
        run.save()
        raise
    run.status = IntegrityRun.Status.PROBLEMS if lines else IntegrityRun.Status.OK
    run.log = "\n".join(lines)
    run.finished_at = timezone.now()
    run.save()
    if lines:
        _notify_integrity(run, lines)
    return run


def _org_from_key(key: str) -> int | None:
    head = key.split("/", 1)[0]
    return (
        int(head) if head.isdigit() and Organization.objects.filter(pk=int(head)).exists() else None
    )


def _alert(
    run: IntegrityRun,
    kind: str,
    key: str,
    revision_id: int | None,
    organization_id: int | None,
    expected: str,
    found: str,
) -> None:
    IntegrityAlert.objects.create(
        run=run,
        kind=kind,
        storage_key=key,
        revision_id=revision_id,
        organization_id=organization_id,
        expected_sha256=expected,
        found_sha256=found,
    )


def _notify_integrity(run: IntegrityRun, lines: list[str]) -> None:
    logger.error("Evidence integrity problems: %s", "; ".join(lines))
    mail_admins(
        f"Attest evidence integrity: {len(lines)} problem(s)",
        "The evidence integrity sweep found stored files that are missing, altered or unknown, "
        "or partial uploads left in the incoming folder. Nothing was repaired.\n\n"
        + "\n".join(lines),
    )
    organizations = {a.organization_id for a in run.alerts.all() if a.organization_id}
    admins = (
        Membership.objects.active()
        .filter(organization_id__in=organizations, role=Role.ADMIN)
        .select_related("user", "organization")
    )
    with transaction.atomic():
        for membership in admins:
            email_queue(
                template="evidence_integrity",
                to=[membership.user.email],
                context={
                    "organization": membership.organization,
                    "run": run,
                    "alerts": [
                        a
                        for a in run.alerts.all()
                        if a.organization_id == membership.organization_id
                    ],
                    "page_url": settings.SITE_URL
                    + reverse("evidence_integrity", args=[membership.organization.slug]),
                },
            )


@transaction.atomic
def integrity_alert_acknowledge(
    *, actor: User, alert: IntegrityAlert, note: str = ""
) -> IntegrityAlert:
    """An admin notes that an alert was looked at. The file is left exactly as found."""
    if alert.acknowledged_at is not None:
        return alert
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    audit_record(
        actor=actor,
        organization=alert.organization,
        action="evidence.integrity_acknowledge",
        obj=alert,
        after={"kind": alert.kind, "storage_key": alert.storage_key, "note": note},
    )
    return alert
