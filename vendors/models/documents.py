"""A vendor's assurance documents (SOC 2 reports, bridge letters, certificates, DPAs ...), the
exceptions its auditor noted, and the complementary user entity controls (CUECs) we must run.

The file of a document is stored like evidence (``evidence.storage``: a key never derived from
the uploader's filename, hashed in chunks) and never replaced: a new version is a new document.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from vendors.models.inventory import Vendor


class DocumentType(models.TextChoices):
    SOC2_TYPE1 = "soc2_type1", "SOC 2 Type I report"
    SOC2_TYPE2 = "soc2_type2", "SOC 2 Type II report"
    BRIDGE_LETTER = "bridge_letter", "Bridge letter"
    ISO27001 = "iso27001", "ISO 27001 certificate"
    PENTEST = "pentest", "Penetration test summary"
    DPA = "dpa", "Data processing agreement"
    INSURANCE = "insurance", "Insurance certificate"


SOC2_TYPES = (DocumentType.SOC2_TYPE1, DocumentType.SOC2_TYPE2)


class AuditOpinion(models.TextChoices):
    UNQUALIFIED = "unqualified", "Unqualified"
    QUALIFIED = "qualified", "Qualified"
    ADVERSE = "adverse", "Adverse"
    DISCLAIMER = "disclaimer", "Disclaimer of opinion"


class VendorDocument(models.Model):
    """One document a vendor gave us. Type I reports have an as-of date, Type II reports a
    period; a bridge letter covers the gap from its report's period end to ``period_end``."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.CharField(max_length=20, choices=DocumentType.choices)
    title = models.CharField(max_length=200, blank=True)
    opinion = models.CharField(max_length=12, choices=AuditOpinion.choices, blank=True)
    as_of = models.DateField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    # The stored file (evidence.storage), immutable once written.
    storage_key = models.CharField(max_length=300, editable=False)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor", "-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["storage_key"], name="vendor_document_file_unique"),
        ]
        indexes = [models.Index(fields=["valid_until"], name="vendor_document_valid_until")]

    def __str__(self) -> str:
        return f"{self.vendor} — {self.get_doc_type_display()}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.doc_type == DocumentType.SOC2_TYPE1 and not self.as_of:
            errors["as_of"] = "A SOC 2 Type I report needs its as-of date."
        if self.doc_type in (DocumentType.SOC2_TYPE2, DocumentType.BRIDGE_LETTER):
            if not self.period_start:
                errors["period_start"] = "Give the start of the period covered."
            if not self.period_end:
                errors["period_end"] = "Give the end of the period covered."
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = "The period cannot end before it starts."
        if self.doc_type in SOC2_TYPES and not self.opinion:
            errors["opinion"] = "Give the auditor's opinion for a SOC 2 report."
        if self.opinion and self.doc_type not in SOC2_TYPES:
            errors["opinion"] = "Only SOC 2 reports carry an auditor's opinion."
        if self.issued_on and self.valid_until and self.valid_until < self.issued_on:
            errors["valid_until"] = "A document cannot expire before it was issued."
        if errors:
            raise ValidationError(errors)


class ExceptionAssessment(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed yet"
    NO_IMPACT = "no_impact", "No impact on us"
    MITIGATED = "mitigated", "Mitigated by our controls"
    RISK = "risk", "Risk to follow up"


class ReportException(models.Model):
    """A deviation the vendor's auditor noted in a report."""

    document = models.ForeignKey(
        VendorDocument, on_delete=models.CASCADE, related_name="report_exceptions"
    )
    description = models.TextField(max_length=4000)
    criterion = models.CharField(max_length=100, blank=True)
    assessment = models.CharField(
        max_length=14, choices=ExceptionAssessment.choices, default=ExceptionAssessment.NOT_ASSESSED
    )
    assessment_note = models.TextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "id"]

    def __str__(self) -> str:
        return self.description[:60]


class UserEntityControl(models.Model):
    """A complementary user entity control (CUEC): what the vendor's report says its customers
    must do; linked to the controls of ours that do it (unlinked ones are flagged)."""

    document = models.ForeignKey(VendorDocument, on_delete=models.CASCADE, related_name="cuecs")
    description = models.TextField(max_length=4000)
    reference = models.CharField(max_length=100, blank=True)
    controls = models.ManyToManyField("controls.Control", blank=True, related_name="vendor_cuecs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "id"]

    def __str__(self) -> str:
        return self.description[:60]


class ExpiryReminder(models.Model):
    """One reminder sent about a document ("30 days before" or "expired"), so a re-run of the
    daily task sends nothing twice."""

    class Kind(models.TextChoices):
        SOON = "soon", "Expires in 30 days"
        EXPIRED = "expired", "Expired"

    document = models.ForeignKey(VendorDocument, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    valid_until = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "kind", "valid_until"], name="vendor_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document}: {self.get_kind_display()}"
