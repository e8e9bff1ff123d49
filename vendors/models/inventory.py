"""The vendor inventory and its due-diligence reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from compliance.models import Organization


class RiskTier(models.TextChoices):
    """How much harm the vendor could do: set from the data it touches and how much the service
    depends on it. The tier sets how often the vendor is reviewed."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


# Highest first: "critical and above" is the first entry, "medium and above" the first three.
TIER_ORDER = [RiskTier.CRITICAL, RiskTier.HIGH, RiskTier.MEDIUM, RiskTier.LOW]

# Months between due-diligence reviews by tier; 0 = reviewed once, before onboarding.
DEFAULT_REVIEW_MONTHS: dict[str, int] = {
    RiskTier.CRITICAL: 12,
    RiskTier.HIGH: 12,
    RiskTier.MEDIUM: 24,
    RiskTier.LOW: 0,
}


class Category(models.TextChoices):
    INFRASTRUCTURE = "infrastructure", "Cloud infrastructure"
    SOFTWARE = "software", "Software (SaaS)"
    SECURITY = "security", "Security"
    PAYMENTS = "payments", "Payments"
    COMMUNICATION = "communication", "Communication"
    PROFESSIONAL_SERVICES = "professional_services", "Professional services"
    OTHER = "other", "Other"


class DataAccess(models.TextChoices):
    """What of ours the vendor stores, processes or can reach."""

    CUSTOMER_DATA = "customer_data", "Customer data"
    PERSONAL_DATA = "personal_data", "Personal data"
    EMPLOYEE_DATA = "employee_data", "Employee data"
    FINANCIAL_DATA = "financial_data", "Financial data"
    SOURCE_CODE = "source_code", "Source code"
    PRODUCTION_ACCESS = "production_access", "Production access"


class VendorStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    OFFBOARDED = "offboarded", "Offboarded"


class Vendor(models.Model):
    """A third party the organization relies on or shares data with."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="vendors")
    name = models.CharField(max_length=150)
    website = models.URLField(blank=True)
    description = models.TextField(
        "what they do for us", blank=True, max_length=2000, help_text="The service they provide."
    )
    category = models.CharField(max_length=30, choices=Category.choices, default=Category.SOFTWARE)
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, default=RiskTier.MEDIUM)
    # DataAccess values; a list so one vendor can touch several kinds of data.
    data_access = models.JSONField(default=list, blank=True)
    is_subprocessor = models.BooleanField(
        "subprocessor",
        default=False,
        help_text="Processes customer personal data on our behalf (listed on the trust page).",
    )
    location = models.CharField(
        "data location",
        max_length=100,
        blank=True,
        help_text="Where it processes data, e.g. US, EU.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vendors_owned",
        help_text="Who manages the relationship and its reviews.",
    )
    status = models.CharField(
        max_length=12, choices=VendorStatus.choices, default=VendorStatus.ACTIVE
    )
    onboarded_on = models.DateField(help_text="When the vendor started (or starts) to serve us.")
    offboarded_on = models.DateField(null=True, blank=True)
    review_every_months = models.PositiveSmallIntegerField(
        "review every (months)",
        null=True,
        blank=True,
        help_text="Leave empty to use the tier's cadence. 0: reviewed once, before onboarding.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(F("organization"), Lower("name"), name="vendor_name_unique"),
            models.CheckConstraint(
                condition=Q(status="active", offboarded_on__isnull=True)
                | Q(status="offboarded", offboarded_on__isnull=False),
                name="vendor_offboarded_has_date",
            ),
            models.CheckConstraint(
                condition=Q(review_every_months__isnull=True) | Q(review_every_months__lte=60),
                name="vendor_review_cadence_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == VendorStatus.ACTIVE

    @property
    def cadence_months(self) -> int:
        """Months between reviews: the vendor's own setting, else its tier's."""
        if self.review_every_months is not None:
            return self.review_every_months
        return DEFAULT_REVIEW_MONTHS[self.risk_tier]

    @property
    def uses_tier_cadence(self) -> bool:
        return self.review_every_months is None

    def get_data_access_display(self) -> list[str]:
        labels = dict(DataAccess.choices)
        return [labels.get(value, value) for value in self.data_access or []]


class ReviewOutcome(models.TextChoices):
    APPROVED = "approved", "Approved"
    CONDITIONS = "approved_with_conditions", "Approved with conditions"
    REJECTED = "rejected", "Rejected"


class VendorReview(models.Model):
    """One due-diligence review of a vendor (onboarding or periodic). Reviews are records: a
    correction is a new review, and the latest (by review date) counts."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    outcome = models.CharField(max_length=30, choices=ReviewOutcome.choices)
    summary = models.TextField(
        max_length=5000,
        help_text="What was reviewed (SOC 2 report, questionnaire, DPA), exceptions found, and "
        "the complementary controls we operate.",
    )
    # The review memo or the vendor's report, kept as evidence.
    evidence = models.ForeignKey(
        "evidence.EvidenceItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vendor_reviews",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [
            # The latest review per vendor (inventory, the vendor-review check, My work).
            models.Index(fields=["vendor", "-reviewed_on", "-id"], name="vendor_review_latest"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.vendor_id} on {self.reviewed_on}"
