"""Northwind's vendor documents for the demo, uploaded through the services and re-dated onto
the demo's timeline (uploaded after they were issued and after the vendor was entered, nothing
after now; validity dates may lie ahead, as real ones do).

- Amazon Web Services: a current SOC 2 Type II report with one exception (assessed) and two
  CUECs, one done by our quarterly access review (IAM-04), one not linked to any control yet.
- Okta (critical): its latest SOC 2 Type II report covers a period that ended over a year ago
  and no bridge letter followed, so the vendor-review check and the "SOC 2 report: expired"
  filter flag it.
- Stripe: a SOC 2 Type II report just over a year old, kept current by a bridge letter.
- Datadog: an ISO 27001 certificate that expires within weeks (shown as a warning).
- Zendesk: a data processing agreement (no expiry).
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.demo_files import demo_pdf
from compliance.demo_timeline import Timeline
from compliance.models import Organization, User
from controls.models import Control
from vendors import documents as services
from vendors.models import (
    AuditOpinion,
    DocumentType,
    ExceptionAssessment,
    ReportException,
    UserEntityControl,
    Vendor,
    VendorDocument,
)


def _file(name: str, title: str, lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, demo_pdf(title, lines), content_type="application/pdf")


def seed(*, organization: Organization, users: dict[str, User], timeline: Timeline) -> None:
    dana = users["dana"]
    today = timeline.today

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    def vendor(name: str) -> Vendor:
        return Vendor.objects.get(organization=organization, name=name)

    uploaded: list[tuple[VendorDocument, dt.date]] = []

    def upload(on: dt.date, **kwargs: object) -> VendorDocument:
        document = services.vendor_document_upload(actor=dana, **kwargs)  # type: ignore[arg-type]
        uploaded.append((document, on))
        return document

    aws = upload(
        ago(16),
        vendor=vendor("Amazon Web Services"),
        doc_type=DocumentType.SOC2_TYPE2,
        title="AWS SOC 2 Type II (Security, Availability)",
        opinion=AuditOpinion.UNQUALIFIED,
        period_start=ago(400),
        period_end=ago(35),
        issued_on=ago(20),
        upload=_file(
            "aws-soc2-type2.pdf",
            "Amazon Web Services: SOC 2 Type II report (demo copy)",
            [f"Period {ago(400):%d %B %Y} to {ago(35):%d %B %Y}.", "Opinion: unqualified."],
        ),
    )
    services.report_exception_add(
        actor=dana,
        document=aws,
        description="For 3 of 25 sampled leavers, console access was removed 4 to 9 days after "
        "the termination date rather than within 1 business day.",
        criterion="CC6.2",
        assessment=ExceptionAssessment.MITIGATED,
        assessment_note="Our own quarterly access review of the AWS console (IAM-04) catches "
        "leavers' IAM users; SSO-only login means a leaver's identity is disabled on day one.",
    )
    access_review = (
        Control.objects.filter(organization=organization, ref_id="IAM-04").first()
        or Control.objects.filter(organization=organization).order_by("ref_id").first()
    )
    services.cuec_add(
        actor=dana,
        document=aws,
        reference="CUEC 1",
        description="User entities review the access of their users to their AWS accounts "
        "and remove access that is no longer needed.",
        controls=[access_review] if access_review else [],
    )
    services.cuec_add(
        actor=dana,
        document=aws,
        reference="CUEC 4",
        description="User entities encrypt sensitive data they store in customer-managed "
        "services with keys they manage.",
    )

    upload(
        timeline.at(1, 2).date(),
        vendor=vendor("Okta"),
        doc_type=DocumentType.SOC2_TYPE2,
        title="Okta SOC 2 Type II",
        opinion=AuditOpinion.UNQUALIFIED,
        period_start=ago(800),
        period_end=ago(435),
        issued_on=ago(410),
        upload=_file(
            "okta-soc2-type2.pdf",
            "Okta: SOC 2 Type II report (demo copy)",
            [f"Period {ago(800):%d %B %Y} to {ago(435):%d %B %Y}.", "Opinion: unqualified."],
        ),
    )

    stripe = vendor("Stripe")
    upload(
        timeline.at(1, 3).date(),
        vendor=stripe,
        doc_type=DocumentType.SOC2_TYPE2,
        title="Stripe SOC 2 Type II",
        opinion=AuditOpinion.UNQUALIFIED,
        period_start=ago(760),
        period_end=ago(395),
        issued_on=ago(370),
        upload=_file(
            "stripe-soc2-type2.pdf",
            "Stripe: SOC 2 Type II report (demo copy)",
            [f"Period {ago(760):%d %B %Y} to {ago(395):%d %B %Y}.", "Opinion: unqualified."],
        ),
    )
    upload(
        ago(8),
        vendor=stripe,
        doc_type=DocumentType.BRIDGE_LETTER,
        title="Stripe bridge letter",
        period_start=ago(394),
        period_end=ago(30),
        issued_on=ago(10),
        valid_until=today + dt.timedelta(days=75),
        upload=_file(
            "stripe-bridge-letter.pdf",
            "Stripe: bridge letter (demo copy)",
            ["No material changes to the system or its controls since the report period."],
        ),
    )
    upload(
        timeline.at(2, 1).date(),
        vendor=vendor("Datadog"),
        doc_type=DocumentType.ISO27001,
        title="ISO/IEC 27001 certificate",
        issued_on=ago(1075),
        valid_until=today + dt.timedelta(days=20),
        upload=_file(
            "datadog-iso27001.pdf",
            "Datadog: ISO/IEC 27001 certificate (demo copy)",
            ["Certificate of registration, information security management system."],
        ),
    )
    upload(
        timeline.at(2, 2).date(),
        vendor=vendor("Zendesk"),
        doc_type=DocumentType.DPA,
        title="Data processing agreement",
        issued_on=ago(690),
        upload=_file(
            "zendesk-dpa.pdf",
            "Zendesk: data processing agreement (demo copy)",
            ["Signed by both parties; standard contractual clauses attached."],
        ),
    )
    _redate(uploaded, timeline)


def _redate(uploaded: list[tuple[VendorDocument, dt.date]], timeline: Timeline) -> None:
    """Each document uploaded on its day (never before its vendor was entered), its exceptions
    and CUECs recorded half an hour later."""
    for document, day in uploaded:
        entered = Vendor.objects.values_list("created_at", flat=True).get(pk=document.vendor_id)
        at = max(timeline.on(day, 11), entered + dt.timedelta(hours=1))
        at = min(at, timeline.now)
        VendorDocument.objects.filter(pk=document.pk).update(uploaded_at=at)
        later = min(at + dt.timedelta(minutes=30), timeline.now)
        ReportException.objects.filter(document=document).update(created_at=later)
        UserEntityControl.objects.filter(document=document).update(created_at=later)
