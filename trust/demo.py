"""Northwind's public trust page: published last week, certifications read from its audit
engagements, five control categories, an FAQ and a security contact."""

from __future__ import annotations

import datetime as dt

from audits.models import Audit
from compliance.demo_timeline import WEEKS, Timeline
from compliance.models import Organization, User
from controls.models import Control
from trust import services
from trust.models import TrustPage

CATEGORIES = [
    ("Access control", "Who can reach production and customer data, and how it is reviewed.",
     ["access"]),
    ("Change management", "Code review, approvals and deployment safeguards.", ["change"]),
    ("Logging and monitoring", "Security events are collected, alerted on and kept.",
     ["monitoring"]),
    ("Incident response", "How we detect, handle and report security incidents.", ["incident"]),
    ("Data protection", "Encryption, backups and retention of customer data.",
     ["crypto", "data", "continuity"]),
]  # fmt: skip

FAQ = [
    ("Do you encrypt customer data?",
     "Yes. Customer data is encrypted in transit with TLS 1.2 or later and at rest with AES-256."),
    ("Where is customer data hosted?",
     "In our cloud provider's United States regions; see the subprocessors listed on this page."),
    ("Do you have a SOC 2 report?",
     "Our SOC 2 engagement is listed above with its status. Request the report from the "
     "documents section once it is issued."),
    ("How do I report a vulnerability?",
     "Write to the security contact below; we answer within two business days."),
]  # fmt: skip


def seed(
    *,
    organization: Organization,
    users: dict[str, User],
    timeline: Timeline,
    audits: list[Audit],
) -> TrustPage:
    dana = users["dana"]
    services.trust_page_update(
        actor=dana,
        organization=organization,
        headline="Security and compliance at Northwind Cloud",
        overview=(
            "Northwind Cloud runs its security program in the open: the status of our controls "
            "below is read live from automated tests and reviewed evidence.\n\n"
            "Questions our documents do not answer? Write to our security team."
        ),
        security_email="security@northwind.example",
        security_policy_url="https://northwind.example/security/disclosure",
        security_txt_expires=timeline.today + dt.timedelta(days=300),
        preferred_languages="en",
    )
    for audit in audits:
        services.trust_certification_from_audit(
            actor=dana, organization=organization, audit=audit, is_published=True
        )
    controls = Control.objects.filter(organization=organization, archived_at__isnull=True)
    for position, (title, description, kinds) in enumerate(CATEGORIES):
        services.trust_category_create(
            actor=dana,
            organization=organization,
            controls=list(controls.filter(category__in=kinds)),
            title=title,
            description=description,
            is_published=True,
            position=position,
        )
    for position, (question, answer) in enumerate(FAQ):
        services.trust_faq_create(
            actor=dana,
            organization=organization,
            question=question,
            answer=answer,
            is_published=True,
            position=position,
        )
    page = services.trust_page_publish(actor=dana, organization=organization)
    # Published in the last completed week of the story, never in the future.
    TrustPage.objects.filter(pk=page.pk).update(published_at=timeline.at(WEEKS - 1, 2, 15))
    page.refresh_from_db()
    return page
