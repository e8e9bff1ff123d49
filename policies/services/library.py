"""Importing Attest's starter policies into an organization (idempotent, by library key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from compliance.audit import audit_record
from compliance.models import Organization, User
from controls.models import Control, Requirement
from controls.services import mappable_requirements
from policies import library_files
from policies.library_files import PolicyTemplate
from policies.models import Policy
from policies.services.workflow import policy_create


@dataclass
class LibraryImportResult:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def library_templates() -> list[PolicyTemplate]:
    return library_files.parse_library()


def library_plan(
    *, organization: Organization, template: PolicyTemplate
) -> tuple[list[Control], list[Requirement]]:
    """The organization's controls and adopted requirements a library policy maps to."""
    starter = {f"{library_files.STARTER_CONTROL_SET}#{ref}": ref for ref in template.controls}
    controls = list(
        Control.objects.filter(
            organization=organization, archived_at__isnull=True, source_key__in=list(starter)
        ).order_by("ref_id")
    )
    requirements = list(
        mappable_requirements(organization)
        .filter(framework__slug=library_files.SOC2_SLUG, ref_id__in=template.soc2)
        .order_by("order")
    )
    return controls, requirements


@transaction.atomic
def library_import(
    *, actor: User | None, organization: Organization, keys: Sequence[str] | None = None
) -> LibraryImportResult:
    """Create the chosen library policies (all when ``keys`` is None), each with a draft
    version 1. A policy imported before is left alone, whatever was changed since."""
    templates = library_templates()
    if keys is not None:
        wanted = list(dict.fromkeys(keys))
        known = {t.key for t in templates}
        unknown = [k for k in wanted if k not in known]
        if unknown:
            raise ValidationError({"keys": f"Not in the policy library: {', '.join(unknown)}."})
        if not wanted:
            raise ValidationError({"keys": "Choose at least one policy to import."})
        templates = [t for t in templates if t.key in wanted]
    existing_keys = set(
        Policy.objects.filter(organization=organization)
        .exclude(library_key="")
        .values_list("library_key", flat=True)
    )
    titles = {
        t.lower()
        for t in Policy.objects.filter(organization=organization).values_list("title", flat=True)
    }
    result = LibraryImportResult()
    for template in templates:
        if template.key in existing_keys:
            result.skipped.append(f"{template.title} (already imported)")
            continue
        if template.title.lower() in titles:
            result.skipped.append(f"{template.title} (a policy with this title exists)")
            continue
        controls, requirements = library_plan(organization=organization, template=template)
        policy_create(
            actor=actor,
            organization=organization,
            title=template.title,
            category=template.category,
            review_months=template.review_months,
            description=template.summary,
            body=template.body_for(organization.name),
            controls=controls,
            requirements=requirements,
            library_key=template.key,
            reason="Imported from the Attest policy library",
        )
        result.created.append(template.title)
    if result.created:
        audit_record(
            actor=actor,
            organization=organization,
            action="policy.library_import",
            object_type="policies.library",
            object_id="attest-policy-library",
            object_repr="Attest policy library",
            after={"created": result.created, "skipped": len(result.skipped)},
        )
    return result
