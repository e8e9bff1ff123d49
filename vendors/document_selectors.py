"""Reads of vendor documents, their report exceptions and CUECs, through the permission choke
point; and how a document's validity and a vendor's SOC 2 coverage read to a person.

"Expired" for a vendor's SOC 2 coverage is the automated check's definition
(``controls.checks.vendors.soc2_expired``), so the inventory filter, the vendor page and the
check never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.formats import date_format

from compliance.models import Organization, User
from compliance.permissions import restrict
from controls.checks.vendors import BRIDGE_FRESH_DAYS, TYPE2_FRESH_DAYS, soc2_expired
from controls.models import Control
from vendors.models import (
    SOC2_TYPES,
    DocumentType,
    ReportException,
    UserEntityControl,
    Vendor,
    VendorDocument,
)

# Within this many days of its end, a document's validity is shown as a warning.
EXPIRES_SOON_DAYS = 30

SOC2_EXPIRED, SOC2_MISSING, SOC2_CURRENT = "expired", "missing", "current"
SOC2_FILTERS = {
    SOC2_EXPIRED: "Expired",
    SOC2_MISSING: "Missing",
    SOC2_CURRENT: "Current",
}


def vendor_documents(*, user: User, vendor: Vendor) -> QuerySet[VendorDocument]:
    """The vendor's documents the user may see, newest first."""
    return (
        restrict(VendorDocument.objects.all(), user, organization=vendor.organization)
        .filter(vendor=vendor)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def vendor_document_get(*, user: User, vendor: Vendor, pk: Any) -> VendorDocument:
    """One of the vendor's documents; hidden, another vendor's or missing → 404."""
    document = vendor_documents(user=user, vendor=vendor).filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    document.vendor = vendor  # the caller loaded it through the choke point already
    return document


def report_exceptions(document: VendorDocument) -> QuerySet[ReportException]:
    return document.report_exceptions.order_by("id")


def document_cuecs(*, user: User, document: VendorDocument) -> QuerySet[UserEntityControl]:
    """The document's CUECs with the linked controls the user can see (one more query for any
    number of CUECs)."""
    visible = restrict(Control.objects.all(), user, organization=document.vendor.organization)
    return document.cuecs.order_by("id").prefetch_related(
        Prefetch("controls", queryset=visible.order_by("ref_id"))
    )


def cuec_control_choices(*, user: User, organization: Organization) -> QuerySet[Control]:
    """Controls a CUEC may be linked to: this organization's, as far as the user sees them."""
    return (
        restrict(Control.objects.all(), user, organization=organization)
        .filter(organization=organization, archived_at__isnull=True)
        .order_by("ref_id", "name")
    )


# --- validity -----------------------------------------------------------------------------------


def valid_through(document: VendorDocument) -> tuple[dt.date | None, bool]:
    """The last day the document speaks for the vendor, and whether that day comes from its
    period rather than a valid-until date: a SOC 2 Type II report 12 months after its period
    ends, a bridge letter 3 months after the period it covers (the check's rule)."""
    if document.valid_until:
        return document.valid_until, False
    if document.period_end and document.doc_type == DocumentType.SOC2_TYPE2:
        return document.period_end + dt.timedelta(days=TYPE2_FRESH_DAYS), True
    if document.period_end and document.doc_type == DocumentType.BRIDGE_LETTER:
        return document.period_end + dt.timedelta(days=BRIDGE_FRESH_DAYS), True
    return None, False


@dataclass(frozen=True)
class Validity:
    label: str
    tone: str  # a badge tone: ok, warn, bad, muted
    until: dt.date | None
    from_period: bool  # ``until`` follows from the period covered (no valid-until date given)

    @property
    def is_expired(self) -> bool:
        return self.tone == "bad"


def _day(value: dt.date) -> str:
    return date_format(value, "j M Y")


def validity(document: VendorDocument, today: dt.date) -> Validity:
    until, from_period = valid_through(document)
    if until is None:
        return Validity("No expiry", "muted", None, False)
    days = (until - today).days
    if days < 0:
        return Validity(f"Expired {_day(until)}", "bad", until, from_period)
    if days == 0:
        return Validity("Expires today", "warn", until, from_period)
    if days <= EXPIRES_SOON_DAYS:
        unit = "day" if days == 1 else "days"
        return Validity(f"Expires in {days} {unit}", "warn", until, from_period)
    return Validity(f"Valid until {_day(until)}", "ok", until, from_period)


def covered_period(document: VendorDocument) -> str:
    """The period or the as-of date, in words ("" when the type has neither)."""
    if document.as_of:
        return f"As of {_day(document.as_of)}"
    if document.period_start and document.period_end:
        return f"{_day(document.period_start)} to {_day(document.period_end)}"
    return ""


@dataclass(frozen=True)
class DocumentRow:
    document: VendorDocument
    validity: Validity
    period: str


def document_rows(documents: Iterable[VendorDocument], today: dt.date) -> list[DocumentRow]:
    return [DocumentRow(d, validity(d, today), covered_period(d)) for d in documents]


# --- SOC 2 coverage of vendors ------------------------------------------------------------------

SOC2_DOCUMENT_TYPES = (*SOC2_TYPES, DocumentType.BRIDGE_LETTER)


def soc2_states(vendor_ids: Iterable[int] | QuerySet[Any], today: dt.date) -> dict[int, str]:
    """``expired`` or ``current`` for each of the vendors that has a SOC 2 report, in one
    query (``vendor_ids`` may be a subquery); a vendor without one is absent: missing."""
    documents: dict[int, list[VendorDocument]] = {}
    fields = ("id", "vendor_id", "doc_type", "period_start", "period_end", "issued_on",
              "valid_until", "uploaded_at")  # fmt: skip
    rows = (
        VendorDocument.objects.filter(vendor_id__in=vendor_ids, doc_type__in=SOC2_DOCUMENT_TYPES)
        .only(*fields)
        .order_by("pk")
    )
    for document in rows:
        documents.setdefault(document.vendor_id, []).append(document)
    states = {}
    for vendor_id, found in documents.items():
        if not any(d.doc_type in SOC2_TYPES for d in found):
            continue  # bridge letters alone are no report
        states[vendor_id] = SOC2_EXPIRED if soc2_expired(found, today) else SOC2_CURRENT
    return states


def filter_by_soc2(queryset: QuerySet[Vendor], state: str, today: dt.date) -> QuerySet[Vendor]:
    if state not in SOC2_FILTERS:
        return queryset
    states = soc2_states(queryset.values("pk"), today)
    if state == SOC2_MISSING:
        return queryset.exclude(pk__in=list(states))
    return queryset.filter(pk__in=[pk for pk, found in states.items() if found == state])
