"""Vendor documents that expire: which ones to renew, and the owners' reminders about them.

A document "to renew" belongs to an active vendor, has a valid-until date no more than
``VENDOR_DOCUMENT_REMINDER_DAYS`` away (or already past), and has not been replaced: no later
document of its kind exists for the vendor. "Later" is ``controls.checks.vendors.
document_recency`` (the rule the expired-report check uses), asked here in SQL. A SOC 2 report
of either type replaces an earlier one of either type; a bridge letter is replaced by a later
bridge letter or a later SOC 2 report; any other document by a later one of its own type.

``vendor_documents_tick`` (vendors.tasks, daily) records an ``ExpiryReminder`` per document,
kind and valid-until date and emails the vendor's owner (the organization's vendor managers
when it has none, or the owner no longer belongs to the organization). The organization's row
is locked while a batch is recorded, so a run started twice sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import DateField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from compliance.audit import audit_record
from compliance.emails import email_queue
from compliance.models import Membership, Organization, Role, User
from compliance.permissions import ROLE_CAPABILITIES, Capability
from vendors.models import (
    SOC2_TYPES,
    DocumentType,
    ExpiryReminder,
    VendorDocument,
    VendorStatus,
)

logger = logging.getLogger(__name__)

# Documents recorded per transaction (and per email at most) in one organization.
BATCH = 200


def reminder_days() -> int:
    return int(settings.VENDOR_DOCUMENT_REMINDER_DAYS)


def _recency() -> Coalesce:
    """``document_recency`` in SQL: the issue date, else the upload date (UTC)."""
    return Coalesce("issued_on", TruncDate("uploaded_at", tzinfo=dt.UTC), output_field=DateField())


def _later_exists(**match: object) -> Exists:
    later = (
        VendorDocument.objects.filter(vendor_id=OuterRef("vendor_id"), **match)
        .annotate(recency=_recency())
        .filter(
            Q(recency__gt=OuterRef("recency"))
            | Q(recency=OuterRef("recency"), pk__gt=OuterRef("pk"))
        )
    )
    return Exists(later)


def current_documents(documents: QuerySet[VendorDocument]) -> QuerySet[VendorDocument]:
    """``documents`` without those a later document of their kind replaced."""
    reports = [*SOC2_TYPES]
    replaced = (
        Q(doc_type__in=reports) & _later_exists(doc_type__in=reports)
        | Q(doc_type=DocumentType.BRIDGE_LETTER)
        & _later_exists(doc_type__in=[*reports, DocumentType.BRIDGE_LETTER])
        | _later_exists(doc_type=OuterRef("doc_type"))
    )
    return documents.annotate(recency=_recency()).exclude(replaced)


def documents_to_renew(*, organization: Organization, today: dt.date) -> QuerySet[VendorDocument]:
    """The organization's current documents of active vendors that expire within the reminder
    window or have expired, soonest first (read through the valid-until index)."""
    horizon = today + dt.timedelta(days=reminder_days())
    documents = VendorDocument.objects.filter(
        valid_until__lte=horizon,
        vendor__organization=organization,
        vendor__status=VendorStatus.ACTIVE,
    )
    return current_documents(documents).order_by("valid_until", "pk")


# --- words ---------------------------------------------------------------------------------------


def _day(value: dt.date) -> str:
    return date_format(value, "j M Y")


def expiry_words(valid_until: dt.date, today: dt.date) -> str:
    """ "expires on 3 Mar 2027 (in 30 days)", "expires today (3 Mar 2027)", "expired on …"."""
    days = (valid_until - today).days
    if days < 0:
        return f"expired on {_day(valid_until)}"
    if days == 0:
        return f"expires today ({_day(valid_until)})"
    if days == 1:
        return f"expires on {_day(valid_until)} (tomorrow)"
    return f"expires on {_day(valid_until)} (in {days} days)"


def expiry_status(valid_until: dt.date, today: dt.date) -> tuple[str, str]:
    """The short badge (words, tone) of a document to renew."""
    days = (valid_until - today).days
    if days < 0:
        return "Expired", "bad"
    if days == 0:
        return "Expires today", "warn"
    return f"Expires in {days} day{'s' if days != 1 else ''}", "warn"


def document_label(document: VendorDocument) -> str:
    """The type in words: "SOC 2 Type II report", "Data processing agreement"."""
    return str(document.get_doc_type_display())


def renew_title(document: VendorDocument) -> str:
    return f"Renew {document.vendor.name}'s {document_label(document)}"


def documents_url(slug: str, document: VendorDocument) -> str:
    """The documents section of the vendor's page."""
    return reverse("vendor_detail", args=[slug, document.vendor_id]) + "#documents"


# --- reminders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderLine:
    """One document in a reminder email, in words."""

    vendor: str
    label: str
    sentence: str  # "The SOC 2 Type II report of Stripe expires on 3 Mar 2027 (in 30 days)."
    expired: bool
    url: str  # path of the vendor's documents (the email prefixes the site's address)


def _managers(organization: Organization) -> list[str]:
    roles = [role for role, caps in ROLE_CAPABILITIES.items() if Capability.MANAGE_VENDORS in caps]
    return sorted(
        Membership.objects.active()
        .filter(organization=organization, role__in=roles, user__is_active=True)
        .values_list("user__email", flat=True)
    )


def _members(organization: Organization, users: set[int]) -> set[int]:
    """Of ``users``, those still active in the organization with a role other than auditor."""
    if not users:
        return set()
    return set(
        Membership.objects.active()
        .filter(organization=organization, user_id__in=users, user__is_active=True)
        .exclude(role=Role.AUDITOR)
        .values_list("user_id", flat=True)
    )


def _until(document: VendorDocument) -> dt.date:
    assert document.valid_until is not None  # documents_to_renew filters on it
    return document.valid_until


def _kind(document: VendorDocument, today: dt.date) -> str:
    if _until(document) < today:
        return ExpiryReminder.Kind.EXPIRED
    return ExpiryReminder.Kind.SOON


def _unreminded(documents: QuerySet[VendorDocument], today: dt.date) -> QuerySet[VendorDocument]:
    reminded = ExpiryReminder.objects.filter(
        document_id=OuterRef("pk"), valid_until=OuterRef("valid_until")
    )
    return documents.exclude(
        Q(valid_until__lt=today) & Exists(reminded.filter(kind=ExpiryReminder.Kind.EXPIRED))
    ).exclude(Q(valid_until__gte=today) & Exists(reminded.filter(kind=ExpiryReminder.Kind.SOON)))


def vendor_document_reminders_send(
    *, organization: Organization, today: dt.date
) -> list[ExpiryReminder]:
    """Remind owners of every document to renew that was not reminded of yet for its kind
    ("expires soon" or "expired") and valid-until date; one email per recipient and batch."""
    sent: list[ExpiryReminder] = []
    while True:
        batch = _remind_batch(organization=organization, today=today)
        sent += batch
        if len(batch) < BATCH:
            return sent


@transaction.atomic
def _remind_batch(*, organization: Organization, today: dt.date) -> list[ExpiryReminder]:
    # A second run of the same day waits here, then finds the reminders recorded.
    Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
    documents = list(
        _unreminded(
            documents_to_renew(organization=organization, today=today), today
        ).select_related("vendor__owner")[:BATCH]
    )
    if not documents:
        return []
    owners = _members(
        organization, {d.vendor.owner_id for d in documents if d.vendor.owner_id is not None}
    )
    managers: list[str] | None = None
    by_recipients: dict[tuple[str, ...], list[VendorDocument]] = defaultdict(list)
    greeting: dict[tuple[str, ...], User | None] = {}
    for document in documents:
        owner = document.vendor.owner
        if owner is not None and owner.pk in owners:
            to: tuple[str, ...] = (owner.email,)
            greeting[to] = owner
        else:
            if managers is None:
                managers = _managers(organization)
            to = tuple(managers)
            greeting[to] = None
        by_recipients[to].append(document)
    reminders = ExpiryReminder.objects.bulk_create(
        [ExpiryReminder(document=d, kind=_kind(d, today), valid_until=_until(d)) for d in documents]
    )
    for to, group in by_recipients.items():
        if not to:  # no owner and no manager left: recorded, nobody to tell
            logger.warning(
                "%s: nobody to remind of %s vendor document(s) to renew (no owner, no manager).",
                organization.slug,
                len(group),
            )
            continue
        lines = [
            ReminderLine(
                vendor=d.vendor.name,
                label=document_label(d),
                sentence=(
                    f"The {document_label(d)} of {d.vendor.name} {expiry_words(_until(d), today)}."
                ),
                expired=_kind(d, today) == ExpiryReminder.Kind.EXPIRED,
                url=documents_url(organization.slug, d),
            )
            for d in group
        ]
        email = email_queue(
            template="vendor_document_expiry",
            to=list(to),
            context={
                "organization": organization,
                "owner": greeting[to],
                "lines": lines,
                "days": reminder_days(),
            },
        )
        audit_record(
            actor=None,
            organization=organization,
            action="vendor.document.expiry_reminder",
            obj=email,
            after={
                "to": list(to),
                "documents": [
                    [d.pk, d.vendor.name, d.doc_type, _kind(d, today), str(d.valid_until)]
                    for d in group
                ],
            },
        )
    return reminders


def organizations_to_remind(*, now: dt.datetime | None = None) -> list[int]:
    """Organizations with an active vendor's document inside the window in some time zone
    (a day of margin either side of UTC); each one's own today decides the rest."""
    horizon = (now or timezone.now()).date() + dt.timedelta(days=reminder_days() + 1)
    return list(
        Organization.objects.filter(
            vendors__status=VendorStatus.ACTIVE, vendors__documents__valid_until__lte=horizon
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
