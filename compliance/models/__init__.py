from compliance.models.accounts import ApiToken, RecoveryCode, ThrottleCount, TotpDevice, User
from compliance.models.audit import AuditChainHead, AuditEvent, StatusChange
from compliance.models.emails import OutboundEmail, WeeklyDigest
from compliance.models.meetings import (
    ActionItem,
    ActionItemStatus,
    ActionItemStatusChange,
    WeeklyMeeting,
)
from compliance.models.organizations import Invitation, Membership, Organization, Role
from compliance.models.snapshots import ReadinessSnapshot

__all__ = [
    "ActionItem",
    "ActionItemStatus",
    "ActionItemStatusChange",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Invitation",
    "Membership",
    "Organization",
    "OutboundEmail",
    "ReadinessSnapshot",
    "RecoveryCode",
    "Role",
    "StatusChange",
    "ThrottleCount",
    "TotpDevice",
    "User",
    "WeeklyDigest",
    "WeeklyMeeting",
]
