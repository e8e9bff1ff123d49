"""Every write of the policies app (see the modules for the rules each one keeps)."""

from policies.services.acknowledgements import (
    AcknowledgeResult,
    RoundResult,
    SendResult,
    acknowledgement_rounds_send,
    in_scope,
    policy_acknowledge,
    policy_send_for_acknowledgement,
    scope_q,
)
from policies.services.library import (
    LibraryImportResult,
    library_import,
    library_plan,
    library_templates,
)
from policies.services.workflow import (
    PolicyChanges,
    mappable_controls,
    policy_create,
    policy_mark_reviewed,
    policy_update,
    policy_version_approve,
    policy_version_create,
    policy_version_retire,
    policy_version_return,
    policy_version_submit,
    policy_version_update,
)

__all__ = [
    "AcknowledgeResult",
    "LibraryImportResult",
    "PolicyChanges",
    "RoundResult",
    "SendResult",
    "acknowledgement_rounds_send",
    "in_scope",
    "library_import",
    "library_plan",
    "library_templates",
    "mappable_controls",
    "policy_acknowledge",
    "policy_create",
    "policy_mark_reviewed",
    "policy_send_for_acknowledgement",
    "policy_update",
    "policy_version_approve",
    "policy_version_create",
    "policy_version_retire",
    "policy_version_return",
    "policy_version_submit",
    "policy_version_update",
    "scope_q",
]
