"""Reads for the trust page: the admin side through the organization's membership (checked by
the views), the public side only ever through :func:`public_page_data`, which reads the
published rows and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils.formats import date_format

from audits.models import Audit, AuditStatus, AuditType
from compliance.models import Organization
from controls.models import Control, ControlStatus, ControlTest
from evidence.models import EvidenceItem, ReviewStatus
from trust.models import (
    CertificationStatus,
    TrustCertification,
    TrustControlCategory,
    TrustDocument,
    TrustFaq,
    TrustPage,
)
from vendors.models import Vendor, VendorStatus

# The public page lists at most this many rows of each kind (a page is not an inventory).
PUBLIC_LIST_LIMIT = 200


def page_for(organization: Organization) -> TrustPage:
    """The organization's trust page row (created unpublished on first use)."""
    page, _ = TrustPage.objects.get_or_create(organization=organization)
    return page


def published_page(slug: str) -> TrustPage:
    """The published page of ``slug``; unknown and unpublished are the same 404."""
    try:
        return TrustPage.objects.select_related("organization").get(
            organization__slug=slug, published_at__isnull=False
        )
    except TrustPage.DoesNotExist:
        raise Http404("No such trust page.") from None


def organization_controls(organization: Organization) -> QuerySet[Control]:
    """The controls a category may hold: the organization's own, not archived."""
    return Control.objects.filter(organization=organization, archived_at__isnull=True).order_by(
        "ref_id"
    )


def engagement_choices(organization: Organization) -> QuerySet[Audit]:
    return (
        Audit.objects.filter(organization=organization, trust_certification__isnull=True)
        .select_related("adoption__framework")
        .order_by("-created_at")
    )


# --- certifications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificationView:
    name: str
    status: str  # CertificationStatus value
    status_label: str
    detail: str  # "Type I as of 1 Mar 2026, report dated 20 Apr 2026"
    description: str


_ENGAGEMENT_STATUS = {
    AuditStatus.PLANNING: CertificationStatus.PLANNED,
    AuditStatus.FIELDWORK: CertificationStatus.IN_PROGRESS,
    AuditStatus.REPORTING: CertificationStatus.IN_PROGRESS,
    AuditStatus.CLOSED: CertificationStatus.ACHIEVED,
}


def _day(value: date | None) -> str:
    return date_format(value, "j M Y") if value else ""


def certification_view(cert: TrustCertification) -> CertificationView:
    """What the page says of a certification; an engagement's is read from it at render, so it
    follows the engagement's dates and status without a copy to keep in sync."""
    audit = cert.audit
    if audit is None:
        status = CertificationStatus(cert.status)
        parts = []
        if cert.period_start and cert.period_end:
            parts.append(f"period {_day(cert.period_start)} to {_day(cert.period_end)}")
        if cert.report_date:
            parts.append(f"report dated {_day(cert.report_date)}")
        detail = ", ".join(parts)
    else:
        status = _ENGAGEMENT_STATUS[AuditStatus(audit.status)]
        if status == CertificationStatus.ACHIEVED and not audit.report_date:
            status = CertificationStatus.IN_PROGRESS
        if audit.kind == AuditType.TYPE_1:
            detail = f"Type I as of {_day(audit.as_of)}" if audit.as_of else "Type I"
        else:
            detail = f"Type II, period {_day(audit.period_start)} to {_day(audit.period_end)}"
            if status != CertificationStatus.ACHIEVED:
                state = "planned" if status == CertificationStatus.PLANNED else "in progress"
                detail = f"Type II period {state} ({_day(audit.period_start)} to "
                detail += f"{_day(audit.period_end)})"
        if status == CertificationStatus.ACHIEVED and audit.report_date:
            detail += f", report dated {_day(audit.report_date)}"
    return CertificationView(
        name=cert.name,
        status=status.value,
        status_label=status.label,
        detail=detail,
        description=cert.description,
    )


# --- control categories: the live status --------------------------------------------------------


class LiveStatus:
    PASSING = "Passing"
    ATTENTION = "Needs attention"
    NOT_MONITORED = "Not monitored"


@dataclass
class CategoryStatus:
    category: TrustControlCategory
    controls: int = 0
    not_ready: int = 0
    tests: int = 0
    failing: int = 0
    evidence: int = 0
    last_pass: datetime | None = None
    last_evidence: datetime | None = None

    @property
    def status(self) -> str:
        """Not monitored: no control, or neither an automated test nor accepted evidence.
        Needs attention: a test's latest run failed or could not run, or a control is not
        ready (stored readiness: stale or missing evidence, overdue policy, test not run…).
        Passing: otherwise."""
        if not self.controls or (not self.tests and not self.evidence):
            return LiveStatus.NOT_MONITORED
        if self.failing or self.not_ready:
            return LiveStatus.ATTENTION
        return LiveStatus.PASSING

    @property
    def css(self) -> str:
        return {
            LiveStatus.PASSING: "pass",
            LiveStatus.ATTENTION: "attention",
            LiveStatus.NOT_MONITORED: "none",
        }[self.status]

    @property
    def last_verified(self) -> datetime | None:
        """The newest time a passing test run or accepted evidence confirmed one of its
        controls."""
        times = [t for t in (self.last_pass, self.last_evidence) if t is not None]
        return max(times) if times else None


def category_statuses(categories: list[TrustControlCategory]) -> list[CategoryStatus]:
    """The live status of each category: three aggregate queries, whatever the sizes."""
    rows = {c.pk: CategoryStatus(category=c) for c in categories}
    if not rows:
        return []
    ids = list(rows)
    countable = Q(archived_at__isnull=True) & ~Q(status=ControlStatus.NOT_APPLICABLE)
    for counts in (
        Control.objects.filter(countable, trust_categories__in=ids)
        .values("trust_categories")
        .annotate(
            n=Count("id", distinct=True),
            not_ready=Count("id", filter=Q(readiness__ready=False), distinct=True),
        )
    ):
        rows[counts["trust_categories"]].controls = counts["n"]
        rows[counts["trust_categories"]].not_ready = counts["not_ready"]
    for tested in (
        ControlTest.objects.filter(
            enabled=True,
            control__trust_categories__in=ids,
            control__archived_at__isnull=True,
        )
        .exclude(control__status=ControlStatus.NOT_APPLICABLE)
        .values("control__trust_categories")
        .annotate(
            n=Count("id", distinct=True),
            failing=Count("id", filter=Q(last_run__status__in=["failed", "error"]), distinct=True),
            last_pass=Max("last_run__finished_at", filter=Q(last_run__status="passed")),
        )
    ):
        status = rows[tested["control__trust_categories"]]
        status.tests, status.failing = tested["n"], tested["failing"]
        status.last_pass = tested["last_pass"]
    for evidenced in (
        EvidenceItem.objects.filter(
            controls__trust_categories__in=ids,
            controls__archived_at__isnull=True,
            review_status=ReviewStatus.ACCEPTED,
        )
        .values("controls__trust_categories")
        .annotate(n=Count("id", distinct=True), last=Max("latest_revision__reviewed_at"))
    ):
        status = rows[evidenced["controls__trust_categories"]]
        status.evidence, status.last_evidence = evidenced["n"], evidenced["last"]
    return [rows[c.pk] for c in categories]


# --- the public page ----------------------------------------------------------------------------


@dataclass
class PublicPage:
    page: TrustPage
    organization: Organization
    certifications: list[CertificationView] = field(default_factory=list)
    categories: list[CategoryStatus] = field(default_factory=list)
    subprocessors: list[Vendor] = field(default_factory=list)
    documents: list[TrustDocument] = field(default_factory=list)
    faqs: list[TrustFaq] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        return {
            "trust_page": self.page,
            "organization": self.organization,
            "certifications": self.certifications,
            "categories": self.categories,
            "subprocessors": self.subprocessors,
            "documents": self.documents,
            "faqs": self.faqs,
            "paragraphs": [p.strip() for p in self.page.overview.split("\n\n") if p.strip()],
        }


def public_page_data(page: TrustPage) -> PublicPage:
    """Exactly what the public sees: the sections turned on, and in them only published rows
    (subprocessors: active vendors flagged as such). The same for the public view and the
    admins' preview."""
    organization = page.organization
    data = PublicPage(page=page, organization=organization)
    if page.show_certifications:
        certs = (
            page.certifications.filter(is_published=True)
            .select_related("audit")
            .order_by("position", "id")[:PUBLIC_LIST_LIMIT]
        )
        data.certifications = [certification_view(c) for c in certs]
    if page.show_controls:
        categories = list(
            page.categories.filter(is_published=True).order_by("position", "id")[:PUBLIC_LIST_LIMIT]
        )
        data.categories = category_statuses(categories)
    if page.show_subprocessors:
        data.subprocessors = list(
            Vendor.objects.filter(
                organization=organization, is_subprocessor=True, status=VendorStatus.ACTIVE
            )
            .only("name", "description", "location")
            .order_by("name", "id")[:PUBLIC_LIST_LIMIT]
        )
    if page.show_documents:
        data.documents = list(
            page.documents.filter(is_published=True)
            .only("title", "description", "access", "page_id", "position")
            .order_by("position", "id")[:PUBLIC_LIST_LIMIT]
        )
    if page.show_faq:
        data.faqs = list(
            page.faqs.filter(is_published=True).order_by("position", "id")[:PUBLIC_LIST_LIMIT]
        )
    return data
