"""Northwind Cloud's vendors for the demo, built only through the vendor services.

A SaaS company on AWS: its hosting, identity, payments, support and email vendors, a few
back-office tools and one vendor retired after a migration. Most reviews are current; the
identity provider's annual review is a month overdue (so the demo's vendor-review test fails
for it), the workspace suite's is due within weeks, and the transactional email service was
connected without a review. Vendor names are facts about the demo company, not endorsements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from compliance.demo_timeline import Timeline
from compliance.models import Organization, User
from evidence.models import EvidenceItem
from vendors import demo_documents, demo_questionnaires, services
from vendors.models import Category, ReviewOutcome, RiskTier, Vendor, VendorReview


@dataclass(frozen=True)
class DemoVendor:
    name: str
    website: str
    tier: str
    category: str
    owner: str
    onboarded: int  # days before today
    reviews: tuple[tuple[int, str], ...] = ()  # (days before today, outcome), oldest first
    data: tuple[str, ...] = ()
    subprocessor: bool = False
    location: str = "US"
    description: str = ""
    offboarded: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


OK, COND = ReviewOutcome.APPROVED, ReviewOutcome.CONDITIONS
CUSTOMER, PERSONAL, EMPLOYEE = "customer_data", "personal_data", "employee_data"
FINANCIAL, CODE, PROD = "financial_data", "source_code", "production_access"
V = DemoVendor
VENDORS = [
    V("Amazon Web Services", "https://aws.amazon.com", RiskTier.CRITICAL, Category.INFRASTRUCTURE,
      "marcus", 1500, ((560, COND), (200, COND)), (CUSTOMER, PERSONAL, PROD), True,
      "US (us-east-1)", "Hosts the production platform, its databases and backups."),
    V("Okta", "https://www.okta.com", RiskTier.CRITICAL, Category.SECURITY, "priya", 1200,
      ((760, OK), (395, OK)), (EMPLOYEE, PROD), False, "US",
      "Single sign-on and MFA for every workforce account."),
    V("Stripe", "https://stripe.com", RiskTier.CRITICAL, Category.PAYMENTS, "dana", 1100,
      ((480, OK), (120, OK)), (CUSTOMER, PERSONAL, FINANCIAL), True, "US, EU",
      "Card payments and subscription billing for customers."),
    V("Datadog", "https://www.datadoghq.com", RiskTier.HIGH, Category.INFRASTRUCTURE, "priya", 900,
      ((250, OK),), (CUSTOMER, PROD), True, "US",
      "Logs, metrics and alerting for production."),
    V("GitHub", "https://github.com", RiskTier.HIGH, Category.SOFTWARE, "marcus", 1800,
      ((300, OK),), (CODE,), False, "US", "Source code, pull requests and CI."),
    V("Google Workspace", "https://workspace.google.com", RiskTier.HIGH, Category.COMMUNICATION,
      "tom", 1800, ((710, OK), (345, OK)), (EMPLOYEE, PERSONAL), False, "US, EU",
      "Email, calendar and documents for staff."),
    V("Zendesk", "https://www.zendesk.com", RiskTier.HIGH, Category.SOFTWARE, "dana", 700,
      ((150, COND),), (CUSTOMER, PERSONAL), True, "US", "Customer support tickets and chat."),
    V("SendGrid", "https://sendgrid.com", RiskTier.HIGH, Category.COMMUNICATION, "marcus", 21,
      (), (PERSONAL,), True, "US", "Transactional email (sign-up, password reset, invoices)."),
    V("Gusto", "https://gusto.com", RiskTier.HIGH, Category.SOFTWARE, "alice", 1000,
      ((90, OK),), (EMPLOYEE, FINANCIAL), False, "US", "Payroll and benefits."),
    V("Checkr", "https://checkr.com", RiskTier.MEDIUM, Category.PROFESSIONAL_SERVICES, "alice",
      900, ((400, OK),), (EMPLOYEE, PERSONAL), False, "US", "Pre-employment background checks."),
    V("Slack", "https://slack.com", RiskTier.MEDIUM, Category.COMMUNICATION, "tom", 1700,
      ((500, OK),), (EMPLOYEE,), False, "US", "Internal chat."),
    V("Figma", "https://www.figma.com", RiskTier.LOW, Category.SOFTWARE, "marcus", 600,
      ((610, OK),), (), False, "US", "Product design files."),
    V("Example CPA LLP", "https://examplecpa.test", RiskTier.LOW,
      Category.PROFESSIONAL_SERVICES, "dana", 200, ((205, OK),), (), False, "US",
      "SOC 2 audit firm."),
    V("Heroku", "https://www.heroku.com", RiskTier.CRITICAL, Category.INFRASTRUCTURE, "marcus",
      2000, ((1100, OK), (740, OK)), (CUSTOMER, PERSONAL, PROD), True, "US",
      "Hosted the platform until the move to AWS.", offboarded=400),
]  # fmt: skip

SUMMARIES: dict[str, str] = {
    OK: "Read the vendor's SOC 2 Type II report for the last twelve months: no exceptions "
    "relevant to our use. Complementary user-entity controls mapped to our access and "
    "change controls.",
    COND: "Read the SOC 2 Type II report: one exception in the vendor's access reviews, "
    "remediated by the vendor during the period. Approved on condition that we keep our "
    "own quarterly access review of the console (IAM-04).",
}


def seed(
    *,
    organization: Organization,
    users: dict[str, User],
    today: dt.date,
    timeline: Timeline | None = None,
) -> None:
    dana = users["dana"]
    reports = EvidenceItem.objects.filter(organization=organization)
    for spec in VENDORS:
        vendor = services.vendor_create(
            actor=dana,
            organization=organization,
            name=spec.name,
            website=spec.website,
            description=spec.description,
            category=spec.category,
            risk_tier=spec.tier,
            data_access=list(spec.data),
            is_subprocessor=spec.subprocessor,
            location=spec.location,
            owner=users[spec.owner],
            onboarded_on=today - dt.timedelta(days=spec.onboarded),
        )
        for days, outcome in spec.reviews:
            services.vendor_review_record(
                actor=users[spec.owner],
                vendor=vendor,
                reviewed_on=today - dt.timedelta(days=days),
                outcome=outcome,
                summary=SUMMARIES[outcome],
                today=today,
                evidence=reports.filter(title__icontains=spec.name).first(),
            )
        if spec.offboarded is not None:
            services.vendor_offboard(
                actor=dana,
                vendor=vendor,
                offboarded_on=today - dt.timedelta(days=spec.offboarded),
                reason="Migrated the platform to AWS; Heroku apps and add-on data deleted.",
            )
    timeline = timeline or Timeline.of(organization)
    _redate(organization, timeline)
    demo_questionnaires.seed(organization=organization, users=users, timeline=timeline)
    demo_documents.seed(organization=organization, users=users, timeline=timeline)


def _redate(organization: Organization, timeline: Timeline) -> None:
    """The vendor register was built at the program's kick-off (a vendor onboarded since, on its
    onboarding day), each review recorded when it was done (or at the kick-off, for one done
    before): the one place this demo step re-dates the rows the services stamped "now"."""
    kickoff = timeline.at(0, 1, 14)
    for vendor in Vendor.objects.filter(organization=organization):
        assert vendor.onboarded_on is not None
        entered = max(kickoff, timeline.on(vendor.onboarded_on, 10))
        Vendor.objects.filter(pk=vendor.pk).update(created_at=entered)
        for review in VendorReview.objects.filter(vendor=vendor):
            recorded = max(entered, timeline.on(review.reviewed_on, 16))
            VendorReview.objects.filter(pk=review.pk).update(recorded_at=recorded)
