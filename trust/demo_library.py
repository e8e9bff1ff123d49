# ruff: noqa: E501  (the demo answers are prose: one string per answer reads better unwrapped)
"""The demo's answer library: about twenty approved answers backed by the demo's controls and
policies (one past its review date), and one customer questionnaire imported and half reviewed."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from openpyxl import Workbook

from compliance.models import Organization, User
from controls.models import Control
from policies.models import Policy
from trust.library import services
from trust.models import RowDecision

# (question, answer, control name words, policy title words, owner key)
ENTRIES = [
    (
        "Do you encrypt customer data at rest?",
        "Yes. Databases, object storage and backups are encrypted with AES-256; keys live in the cloud provider's KMS and rotate yearly.",
        "encrypt",
        "encryption",
        "marcus",
    ),
    (
        "Is data encrypted in transit?",
        "Yes. Public endpoints accept TLS 1.2 or later only, with HSTS; internal service traffic is encrypted too.",
        "encrypt",
        "encryption",
        "marcus",
    ),
    (
        "Do you require multi-factor authentication for employees?",
        "Yes. Every employee signs in through SSO with a hardware security key or an authenticator app.",
        "MFA",
        "access",
        "marcus",
    ),
    (
        "How do you review user access?",
        "Access to production and critical SaaS is reviewed every quarter by each system owner; removals are tracked to completion.",
        "access review",
        "access",
        "priya",
    ),
    (
        "Is access removed when an employee leaves?",
        "Yes. Offboarding disables SSO on the last day, which removes access to every connected system.",
        "offboard",
        "access",
        "priya",
    ),
    (
        "Do you perform background checks?",
        "Yes, for every employee and contractor before they start, where local law allows.",
        "background",
        "",
        "alice",
    ),
    (
        "Do employees receive security awareness training?",
        "Yes, at hire and every year after, with phishing exercises.",
        "training",
        "",
        "alice",
    ),
    (
        "Do you have an incident response plan?",
        "Yes. The plan names roles and steps, is tested twice a year and is reviewed after every incident.",
        "incident",
        "incident",
        "dana",
    ),
    (
        "Will you notify us of a security breach affecting our data?",
        "Yes, without undue delay and within 72 hours of confirming a breach that affects your data.",
        "incident",
        "incident",
        "dana",
    ),
    (
        "Do you back up customer data, and are restores tested?",
        "Daily encrypted backups go to a second region and are kept 35 days; a restore is tested every quarter.",
        "backup",
        "",
        "marcus",
    ),
    (
        "Do you have a business continuity and disaster recovery plan?",
        "Yes, with a 4-hour recovery time objective and a 1-hour recovery point objective, exercised yearly.",
        "continuity",
        "continuity",
        "dana",
    ),
    (
        "Are third-party penetration tests performed?",
        "Yes. An independent firm tests the application and infrastructure every year; the summary is available under NDA.",
        "penetration",
        "",
        "tom",
    ),
    (
        "Do you scan for vulnerabilities?",
        "Hosts, container images and dependencies are scanned weekly and on every build; critical findings are fixed within 7 days.",
        "vulnerab",
        "",
        "tom",
    ),
    (
        "How are code changes reviewed and deployed?",
        "Every change is peer reviewed, passes automated tests in CI and is deployed by the pipeline; nobody deploys by hand.",
        "change",
        "change",
        "tom",
    ),
    (
        "Do you log and monitor security events?",
        "Logs from production, SSO and cloud accounts go to a central store kept for a year, with alerts paged to on-call.",
        "log",
        "",
        "marcus",
    ),
    (
        "How do you assess your vendors?",
        "Vendors are tiered by risk; critical and high vendors are reviewed before onboarding and every year, including their SOC 2 reports.",
        "vendor",
        "vendor",
        "dana",
    ),
    (
        "Are laptops encrypted and managed?",
        "Yes. Device management enforces disk encryption, screen lock, updates and endpoint protection on every laptop.",
        "endpoint",
        "",
        "marcus",
    ),
    (
        "Do you have an information security policy?",
        "Yes. It is approved by leadership, reviewed every year and acknowledged by every employee.",
        "policy",
        "security",
        "dana",
    ),
    (
        "Do you have a SOC 2 report?",
        "Yes. Our SOC 2 report covers Security and Availability and is shared under NDA on request.",
        "",
        "",
        "dana",
    ),
    (
        "Where is customer data hosted?",
        "In AWS data centers in the EU (Ireland and Frankfurt).",
        "",
        "",
        "marcus",
    ),
]

QUESTIONNAIRE = [
    ["Ref", "Question", "Response", "Comments"],
    ["1.1", "Is customer data encrypted at rest?", None, None],
    ["1.2", "Is multi-factor authentication enforced for all staff?", None, None],
    ["1.3", "Do you test restoring your backups?", None, None],
    ["1.4", "Does a third party perform penetration tests on your service?", None, None],
    ["2.1", "How quickly will you tell us about a data breach?", None, None],
    ["2.2", "Do you run background checks on new hires?", None, None],
    ["2.3", "Do you maintain a software bill of materials for every release?", None, None],
    ["2.4", "In which region is our data stored?", None, None],
]


def _workbook() -> bytes:
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Instructions"
    cover.append(["Contoso vendor security assessment"])
    cover.append(["Answer in column C. Do not change other columns."])
    sheet = workbook.create_sheet("Security")
    for row in QUESTIONNAIRE:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def seed(*, organization: Organization, users: dict[str, User], today: dt.date) -> None:
    dana = users["dana"]
    controls = Control.objects.filter(organization=organization, archived_at__isnull=True)
    policies = Policy.objects.filter(organization=organization)
    for number, (question, answer, control_words, policy_words, owner_key) in enumerate(ENTRIES):
        linked_controls = (
            list(controls.filter(Q(name__icontains=control_words)).order_by("ref_id")[:2])
            if control_words
            else []
        )
        linked_policies = (
            list(policies.filter(title__icontains=policy_words).order_by("title")[:1])
            if policy_words
            else []
        )
        # One answer is past its review date: the library shows it stale.
        review_by = (
            today - dt.timedelta(days=12)
            if number == 10
            else today + dt.timedelta(days=180 + 7 * number)
        )
        services.answer_entry_create(
            actor=dana,
            organization=organization,
            question=question,
            answer=answer,
            owner=users.get(owner_key, dana),
            review_by=review_by,
            controls=linked_controls,
            policies=linked_policies,
        )
    questionnaire = services.questionnaire_upload(
        actor=dana,
        organization=organization,
        name="Contoso vendor security assessment",
        customer="Contoso",
        upload=SimpleUploadedFile("contoso-assessment.xlsx", _workbook()),
    )
    questionnaire = services.questionnaire_map(
        actor=dana,
        questionnaire=questionnaire,
        sheet="Security",
        question_column=1,
        answer_column=2,
    )
    rows = list(questionnaire.rows.order_by("row_number"))
    # Half reviewed: the first four rows decided, the rest waiting.
    for row, decision in zip(rows[:4], ["accepted", "accepted", "edited", "accepted"], strict=True):
        if decision == "accepted" and row.suggested_entry_id:
            services.questionnaire_row_decide(actor=dana, row=row, decision=RowDecision.ACCEPTED)
        else:
            services.questionnaire_row_decide(
                actor=dana,
                row=row,
                decision=RowDecision.EDITED,
                answer="Yes. A restore is tested every quarter and the result kept as evidence.",
            )
