"""The vendor inventory and its due diligence, one module per family."""

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
    "TIER_ORDER",
    "Category",
    "DataAccess",
    "ReviewOutcome",
    "RiskTier",
    "Vendor",
    "VendorReview",
    "VendorStatus",
]
