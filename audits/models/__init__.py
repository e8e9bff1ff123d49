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

__all__ = [
    "AccessAction",
    "AccessLogEntry",
    "Audit",
    "AuditGroupObjectPermission",
    "AuditPackage",
    "AuditStatus",
    "AuditType",
    "AuditUserObjectPermission",
    "AuditorAccess",
    "PackageStatus",
    "SigningKey",
]
