"""The public trust page, its gated documents, and the questionnaire answer library."""

from trust.models.documents import (
    AccessGrant,
    AccessRequest,
    AccessRequestStatus,
    AutoApproveRule,
    DocumentAccess,
    DocumentDownload,
    TrustDocument,
    TrustNda,
)
from trust.models.library import (
    AnswerEntry,
    Questionnaire,
    QuestionnaireFormat,
    QuestionnaireRow,
    QuestionnaireStatus,
    RowDecision,
)
from trust.models.page import (
    CertificationStatus,
    TrustCertification,
    TrustControlCategory,
    TrustFaq,
    TrustPage,
)

__all__ = [
    "AccessGrant",
    "AccessRequest",
    "AccessRequestStatus",
    "AnswerEntry",
    "AutoApproveRule",
    "CertificationStatus",
    "DocumentAccess",
    "DocumentDownload",
    "Questionnaire",
    "QuestionnaireFormat",
    "QuestionnaireRow",
    "QuestionnaireStatus",
    "RowDecision",
    "TrustCertification",
    "TrustControlCategory",
    "TrustDocument",
    "TrustFaq",
    "TrustNda",
    "TrustPage",
]
