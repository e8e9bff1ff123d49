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
    "SOC2_TYPES",
    "TIER_ORDER",
    "AnswerKind",
    "AuditOpinion",
    "Category",
    "DataAccess",
    "DocumentType",
    "ExceptionAssessment",
    "ExpiryReminder",
    "QuestionnaireAnswer",
    "QuestionnaireAttachment",
    "QuestionnaireStatus",
    "QuestionnaireTemplate",
    "ReportException",
    "ReviewOutcome",
    "RiskTier",
    "SentQuestionnaire",
    "TemplateQuestion",
    "UserEntityControl",
    "Vendor",
    "VendorDocument",
    "VendorReview",
    "VendorStatus",
]
