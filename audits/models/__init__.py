"""Audit engagements and what auditors do within them (see docs/audits.md)."""

from audits.models.engagements import (
    AccessAction,
    AccessLogEntry,
    Audit,
    AuditGroupObjectPermission,
    AuditorAccess,
    AuditStatus,
    AuditType,
    AuditUserObjectPermission,
)
from audits.models.package import AuditPackage, PackageStatus, SigningKey
from audits.models.requests import (
    AuditFinding,
    AuditRequest,
    AuditRequestComment,
    FindingSeverity,
    FindingStatus,
    RequestStatus,
)

__all__ = [
    "AccessAction",
    "AccessLogEntry",
    "Audit",
    "AuditFinding",
    "AuditGroupObjectPermission",
    "AuditPackage",
    "AuditRequest",
    "AuditRequestComment",
    "AuditStatus",
    "AuditType",
    "AuditUserObjectPermission",
    "AuditorAccess",
    "FindingSeverity",
    "FindingStatus",
    "PackageStatus",
    "RequestStatus",
    "SigningKey",
]
