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
from vendors.models.questionnaires import (
    AnswerKind,
    QuestionnaireAnswer,
    QuestionnaireAttachment,
    QuestionnaireStatus,
    QuestionnaireTemplate,
    SentQuestionnaire,
    TemplateQuestion,
)

__all__ = [
    "AnswerKind",
    "QuestionnaireAnswer",
    "QuestionnaireAttachment",
    "QuestionnaireStatus",
    "QuestionnaireTemplate",
    "SentQuestionnaire",
    "TemplateQuestion",
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
