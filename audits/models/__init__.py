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

__all__ = [
    "AccessAction",
    "AccessLogEntry",
    "Audit",
    "AuditGroupObjectPermission",
    "AuditStatus",
    "AuditType",
    "AuditUserObjectPermission",
    "AuditorAccess",
]
