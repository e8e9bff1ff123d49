"""An organization's public trust page: off until an admin publishes it, and then showing only
the sections and rows an admin turned on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from compliance.models import Organization


class TrustPage(models.Model):
    """One per organization; created on first edit. Nothing of it is public until
    ``published_at`` is set, and only the sections an admin turned on are shown then."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="trust_page"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    headline = models.CharField(max_length=150, blank=True)
    overview = models.TextField(
        blank=True, max_length=4000, help_text="Plain text; blank lines separate paragraphs."
    )
    # Sections shown on the public page.
    show_certifications = models.BooleanField("show certifications and audits", default=True)
    show_controls = models.BooleanField("show control status", default=True)
    show_subprocessors = models.BooleanField(default=True)
    show_documents = models.BooleanField(default=True)
    show_faq = models.BooleanField("show FAQ", default=True)
    # The security contact, on the page and in security.txt (RFC 9116).
    security_email = models.EmailField("security contact email", blank=True)
    security_policy_url = models.URLField(
        "vulnerability disclosure policy", blank=True, help_text="security.txt Policy field."
    )
    security_txt_expires = models.DateField(
        "security.txt expires",
        null=True,
        blank=True,
        help_text="RFC 9116 asks for a date less than a year ahead; empty: one year after the "
        "last change.",
    )
    preferred_languages = models.CharField(max_length=50, default="en")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Trust page of {self.organization_id}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class CertificationStatus(models.TextChoices):
    ACHIEVED = "achieved", "Achieved"
    IN_PROGRESS = "in_progress", "In progress"
    PLANNED = "planned", "Planned"


class TrustCertification(models.Model):
    """A certification or audit shown on the page: fed by an audit engagement (its type, dates
    and status come from it) or entered by hand."""

    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="certifications")
    audit = models.OneToOneField(
        "audits.Audit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="trust_certification",
    )
    name = models.CharField(max_length=150, help_text="e.g. SOC 2 Type II, ISO/IEC 27001:2022")
    status = models.CharField(
        max_length=12, choices=CertificationStatus.choices, default=CertificationStatus.ACHIEVED
    )
    description = models.CharField(max_length=500, blank=True)
    report_date = models.DateField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gt=models.F("period_start")),
                name="trust_certification_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TrustControlCategory(models.Model):
    """A group of controls shown with one live status ("Access control: passing, last
    verified 2 hours ago"); the controls themselves are never named on the page."""

    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="categories")
    title = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    controls = models.ManyToManyField("controls.Control", related_name="trust_categories")
    is_published = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "title"], name="trust_category_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class TrustFaq(models.Model):
    page = models.ForeignKey(TrustPage, on_delete=models.CASCADE, related_name="faqs")
    question = models.CharField(max_length=300)
    answer = models.TextField(max_length=4000)
    is_published = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "position", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question
