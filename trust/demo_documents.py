"""The demo's trust page documents: a public security overview (a PDF made here), a gated
report (the SOC 2 Type I report when the demo's audit has a report dated in the past, else a
penetration test summary), NDA version 1, an auto-approve domain, and access requests
approved (with downloads), pending and denied, all dated in the program's past."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.demo_files import demo_pdf
from compliance.demo_timeline import WEEKS, Timeline
from compliance.models import Organization, User
from trust.documents import services
from trust.models import AccessGrant, AccessRequest, DocumentDownload, TrustDocument, TrustNda
from trust.selectors import page_for

NDA_TEXT = """Mutual non-disclosure agreement (click-through)

1. The documents shared with you describe {name}'s security program. They are confidential.
2. Use them only to evaluate {name} as a supplier, and share them only with colleagues and
   advisers who need them for that purpose and are bound by confidentiality.
3. Do not publish, forward or upload them elsewhere. Delete them when the evaluation ends.
4. This agreement lasts three years from your acceptance."""

OVERVIEW_LINES = [
    "Encryption in transit (TLS 1.2+) and at rest (AES-256).",
    "Single sign-on with enforced MFA for every employee.",
    "Quarterly access reviews; annual penetration tests.",
]
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"


def _gated_document(organization: Organization, today: dt.date) -> tuple[str, str, str, bytes]:
    from audits.models import Audit

    reported = (
        Audit.objects.filter(organization=organization, report_date__lt=today)
        .order_by("-report_date")
        .first()
    )
    name = organization.name
    if reported is not None:
        title = "SOC 2 Type I report"
        lines = [f"{name}: independent service auditor's report (summary copy).",
                 f"Report dated {reported.report_date:%d %B %Y}."]  # fmt: skip
        return (
            title,
            "The auditor's report on our controls.",
            "soc2-type1-report.pdf",
            demo_pdf(title, lines),
        )
    title = "Penetration test summary"
    lines = [f"{name}: external penetration test, executive summary.",
             "Scope: the production web application and its public API.",
             "Findings: no critical or high; two medium, remediated and retested."]  # fmt: skip
    return (
        title,
        "Executive summary of the latest external test.",
        "pentest-summary.pdf",
        demo_pdf(title, lines),
    )


def seed(*, organization: Organization, users: dict[str, User], timeline: Timeline) -> None:
    dana = users["dana"]
    today = timeline.today
    page = page_for(organization)
    overview = services.document_upload(
        actor=dana,
        organization=organization,
        title="Security overview",
        description="How we protect customer data, in four pages.",
        access="public",
        is_published=True,
        upload=SimpleUploadedFile(
            "security-overview.pdf",
            demo_pdf(f"{organization.name} security overview", OVERVIEW_LINES),
            content_type="application/pdf",
        ),
    )
    title, description, filename, content = _gated_document(organization, today)
    gated = services.document_upload(
        actor=dana,
        organization=organization,
        title=title,
        description=description,
        access="gated",
        is_published=True,
        upload=SimpleUploadedFile(filename, content, content_type="application/pdf"),
    )
    nda = services.nda_publish(
        actor=dana, organization=organization, text=NDA_TEXT.format(name=organization.name)
    )
    rule = services.auto_approve_add(actor=dana, organization=organization, domain="fabrikam.test")

    set_up = timeline.at(WEEKS - 4, 1, 11)
    TrustDocument.objects.filter(pk__in=[overview.pk, gated.pk]).update(
        uploaded_at=set_up, updated_at=set_up
    )
    TrustNda.objects.filter(pk=nda.pk).update(created_at=set_up)
    type(rule).objects.filter(pk=rule.pk).update(created_at=set_up)

    def request(name: str, email: str, company: str, reason: str, at: dt.datetime) -> AccessRequest:
        made = services.access_request_submit(
            page=page, name=name, email=email, company=company, reason=reason,
            documents=[gated], nda=nda, ip="198.51.100.23", user_agent=BROWSER,
        )  # fmt: skip
        AccessRequest.objects.filter(pk=made.pk).update(created_at=at, nda_accepted_at=at)
        if made.decided_at is not None:
            AccessRequest.objects.filter(pk=made.pk).update(decided_at=at)
        return made

    def downloaded(grant: AccessGrant, at: dt.datetime) -> None:
        row = DocumentDownload.objects.create(
            document=gated, grant=grant, ip="198.51.100.23", user_agent=BROWSER
        )
        DocumentDownload.objects.filter(pk=row.pk).update(at=at)

    def granted_at(made: AccessRequest, at: dt.datetime) -> AccessGrant:
        grant = made.grants.get()
        AccessGrant.objects.filter(pk=grant.pk).update(
            created_at=at, expires_at=at + dt.timedelta(days=30)
        )
        return AccessGrant.objects.get(pk=grant.pk)

    # Manually approved the next morning, downloaded that afternoon.
    asked = timeline.at(WEEKS - 3, 1, 15, 20)
    approved = request("Lena Fischer", "lena.fischer@globalretail.test", "Global Retail",
                       "Annual supplier security review.", asked)  # fmt: skip
    services.access_request_approve(actor=dana, access_request=approved, note="Existing customer")
    decided = timeline.at(WEEKS - 3, 2, 9, 5)
    AccessRequest.objects.filter(pk=approved.pk).update(decided_at=decided)
    downloaded(granted_at(approved, decided), timeline.at(WEEKS - 3, 2, 14, 40))

    # Approved at once: an auto-approved domain.
    auto_at = timeline.at(WEEKS - 2, 3, 10, 12)
    auto = request("Sam Okafor", "sam@fabrikam.test", "Fabrikam",
                   "Procurement due diligence.", auto_at)  # fmt: skip
    downloaded(granted_at(auto, auto_at), timeline.at(WEEKS - 2, 3, 10, 30))

    # Denied: a competitor.
    denied = request(
        "Alex Rivera", "alex@rivalcloud.test", "Rival Cloud", "", timeline.at(WEEKS - 2, 0, 16)
    )
    services.access_request_deny(
        actor=dana, access_request=denied, note="Not a customer or prospect"
    )
    AccessRequest.objects.filter(pk=denied.pk).update(decided_at=timeline.at(WEEKS - 2, 1, 9))

    # Waiting for Dana.
    waiting_since = timeline.at(WEEKS - 1, 3, 11)
    request("Priya Natarajan", "priya.n@harborbank.test", "Harbor Bank",
            "Our vendor onboarding asks for it.", waiting_since)  # fmt: skip
