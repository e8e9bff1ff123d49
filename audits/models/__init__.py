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
from audits.models.sampling import Population, PopulationItem, PopulationKind, Sample, SampleItem

__all__ = [
    "AccessAction",
    "AccessLogEntry",
    "Audit",
    "AuditGroupObjectPermission",
    "AuditStatus",
    "AuditType",
    "AuditUserObjectPermission",
    "AuditorAccess",
    "Population",
    "PopulationItem",
    "PopulationKind",
    "Sample",
    "SampleItem",
]
