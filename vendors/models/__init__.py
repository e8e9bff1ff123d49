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
    "DEFAULT_REVIEW_MONTHS",
    "TIER_ORDER",
    "AnswerKind",
    "Category",
    "DataAccess",
    "QuestionnaireAnswer",
    "QuestionnaireAttachment",
    "QuestionnaireStatus",
    "QuestionnaireTemplate",
    "ReviewOutcome",
    "RiskTier",
    "SentQuestionnaire",
    "TemplateQuestion",
    "Vendor",
    "VendorReview",
    "VendorStatus",
]
