"""The vendor inventory and its due diligence, one module per family."""

from vendors.models.documents import (
    SOC2_TYPES,
    AuditOpinion,
    DocumentType,
    ExceptionAssessment,
    ExpiryReminder,
    ReportException,
    UserEntityControl,
    VendorDocument,
)
from vendors.models.inventory import (
    DEFAULT_REVIEW_MONTHS,
    TIER_ORDER,
    Category,
    DataAccess,
    ReviewOutcome,
    RiskTier,
    Vendor,
    VendorReview,
    VendorStatus,
)

__all__ = [
    "DEFAULT_REVIEW_MONTHS",
    "SOC2_TYPES",
    "TIER_ORDER",
    "AuditOpinion",
    "Category",
    "DataAccess",
    "DocumentType",
    "ExceptionAssessment",
    "ExpiryReminder",
    "ReportException",
    "ReviewOutcome",
    "RiskTier",
    "UserEntityControl",
    "Vendor",
    "VendorDocument",
    "VendorReview",
    "VendorStatus",
]
