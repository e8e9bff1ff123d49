"""Northwind's vendor questionnaires for the demo: the starter templates copied at the
program's kick-off, one questionnaire Stripe answered (scored, and backing the review recorded
from it) and one sent to SendGrid, still awaiting answers. Built through the services, then
re-dated onto the demo's timeline (nothing after now)."""

from __future__ import annotations

import datetime as dt

from compliance.demo_timeline import Timeline
from compliance.models import Organization, User
from vendors import questionnaire_services as services
from vendors.models import (
    QuestionnaireAnswer,
    QuestionnaireTemplate,
    SentQuestionnaire,
    Vendor,
    VendorReview,
)
from vendors.questionnaires import score

STRIPE_ANSWERS = {
    "q1": ("yes", "A security team of six reports to the CTO."),
    "q2": ("yes", "SOC 2 Type II and PCI DSS Level 1; reports shared under NDA."),
    "q3": ("yes", ""),
    "q4": ("yes", "Access reviews run monthly."),
    "q5": ("yes", "AES-256 at rest, TLS 1.2+ in transit."),
    "q6": ("US and EU (customer's choice of region)", ""),
    "q7": ("yes", ""),
    "q8": ("yes", "Annual external test; summary letter available."),
    "q9": ("Within 72 hours", "Contractual commitment: 72 hours."),
    "q10": ("yes", ""),
}


def seed(*, organization: Organization, users: dict[str, User], timeline: Timeline) -> None:
    dana, marcus = users["dana"], users["marcus"]
    core = services.template_from_library(
        actor=dana, organization=organization, key="core-security-short"
    )
    services.template_from_library(actor=dana, organization=organization, key="data-protection")
    QuestionnaireTemplate.objects.filter(organization=organization).update(
        created_at=timeline.at(1, 1, 11), updated_at=timeline.at(1, 1, 11)
    )

    # Stripe: sent in week 6, answered that week, the review recorded from it in week 7.
    stripe = Vendor.objects.get(organization=organization, name="Stripe")
    answered, _ = services.questionnaire_send(
        actor=dana, vendor=stripe, template=core, contact_name="Jordan Lee",
        contact_email="security@stripe.example", expires_in_days=21,
    )  # fmt: skip
    services.questionnaire_save(
        questionnaire=answered, answers=dict(list(STRIPE_ANSWERS.items())[:5])
    )
    services.questionnaire_submit(questionnaire=answered, answers=STRIPE_ANSWERS)
    result = score(answered.questions, {k: v for k, (v, _) in STRIPE_ANSWERS.items()})
    review = services.questionnaire_review_record(
        actor=dana, questionnaire=answered, reviewed_on=timeline.day(7, 0),
        outcome="approved", today=timeline.today,
        summary=f"Core security questionnaire answered by Stripe (score {result.overall.percent}%"
        "): MFA, encryption and yearly penetration tests confirmed; incident notice is 72 "
        "hours, not 24 — acceptable for a PCI-certified processor.",
    )  # fmt: skip
    sent_at = timeline.at(6, 0, 10)
    SentQuestionnaire.objects.filter(pk=answered.pk).update(
        sent_at=sent_at,
        expires_at=sent_at + dt.timedelta(days=21),
        submitted_at=timeline.at(6, 3, 15),
    )
    QuestionnaireAnswer.objects.filter(questionnaire=answered).update(
        updated_at=timeline.at(6, 3, 15)
    )
    VendorReview.objects.filter(pk=review.pk).update(recorded_at=timeline.at(7, 0, 11))

    # SendGrid (new, never reviewed): sent last week, not answered yet.
    sendgrid = Vendor.objects.get(organization=organization, name="SendGrid")
    awaiting, _ = services.questionnaire_send(
        actor=marcus, vendor=sendgrid, template=core, contact_name="Sam Ortiz",
        contact_email="trust@sendgrid.example", expires_in_days=21,
    )  # fmt: skip
    sent_at = max(timeline.at(9, 2, 10), timeline.on(sendgrid.onboarded_on, 12))
    SentQuestionnaire.objects.filter(pk=awaiting.pk).update(
        sent_at=sent_at, expires_at=sent_at + dt.timedelta(days=21)
    )
