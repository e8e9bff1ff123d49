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
from audits.models.sampling import Population, PopulationItem, PopulationKind, Sample, SampleItem

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
    "Population",
    "PopulationItem",
    "PopulationKind",
    "RequestStatus",
    "Sample",
    "SampleItem",
    "SigningKey",
]
