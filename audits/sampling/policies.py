"""Who sees populations and samples: the organization's readers every one of its engagements';
an auditor those of the engagements granted to them (an expired or revoked access: none).
Nobody changes them through the choke point: only the engagement's own auditors create them
(audits.sampling.services.may_sample)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q

from audits.models import Population, PopulationItem, Sample
from audits.policies import auditor_windows
from compliance.models import Membership
from compliance.permissions import (
    PROGRAM_READERS,
    ObjectPolicy,
    register_auditor_scope,
    register_policy,
    roles,
)


def _nobody(membership: Membership) -> Q | None:
    return None


def _engagements(field: str) -> Callable[[Membership], Q | None]:
    def auditor_scope(membership: Membership) -> Q | None:
        windows = auditor_windows(membership)
        if not windows:
            return None
        return Q(**{f"{field}__in": [w.audit_id for w in windows]})

    return auditor_scope


for _model, _field in (
    (Population, "audit_id"),
    (PopulationItem, "population__audit_id"),
    (Sample, "population__audit_id"),
):
    register_policy(
        ObjectPolicy(
            model=_model,
            view=roles(*PROGRAM_READERS),
            change=_nobody,
            organization_field=_field.replace("audit_id", "audit__organization_id"),
        )
    )
    register_auditor_scope(_model, _engagements(_field))
