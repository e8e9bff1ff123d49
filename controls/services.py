"""Writes of the catalog library, framework adoption, controls and mappings."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from compliance import permissions
from compliance.audit import audit_record, changed, snapshot
from compliance.models import Membership, Organization, Role, User
from compliance.readiness import (
    bulk_load,
    controls_changed,
    recompute_readiness,
    requirements_changed,
)
from controls import library_files
from controls.library_files import CatalogData, ControlSetData, LibraryFileError
from controls.models import (
    AdoptedFramework,
    Control,
    ControlFrequencyChange,
    ControlRequirement,
    ControlStatus,
    ControlStatusChange,
    Framework,
    FrameworkCategory,
    RecomputationTrigger,
    Requirement,
)

# --- catalogs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogLoadResult:
    key: str
    path: str
    outcome: str  # created | updated | unchanged | skipped
    detail: str = ""


def catalog_files() -> list[Path]:
    return sorted(library_files.CATALOG_DIR.glob("*.yaml"))


def catalog_load(*, paths: Sequence[Path] | None = None) -> list[CatalogLoadResult]:
    """Load framework catalogs; all files are validated before anything is written.

    Version-aware and idempotent: the same version is left alone, a newer version updates the
    framework in place (requirement keys are stable), an older one is skipped. Changing a file's
    content without raising its ``version`` is an error.
    """
    catalogs = [library_files.parse_catalog(Path(path)) for path in (paths or catalog_files())]
    keys: dict[str, str] = {}
    for catalog in catalogs:
        if catalog.key in keys:
            raise LibraryFileError(catalog.path, "header", f"key also used by {keys[catalog.key]}")
        keys[catalog.key] = catalog.path
    with transaction.atomic():
        results = [_catalog_apply(catalog) for catalog in catalogs]
        # Requirements added, withdrawn or removed: the adopting organizations' stored readiness
        # is recomputed (a bulk change ends with a full recomputation).
        changed_keys = [r.key for r in results if r.outcome in ("created", "updated")]
        for organization in Organization.objects.filter(
            adopted_frameworks__framework__key__in=changed_keys
        ).distinct():
            recompute_readiness(organization=organization, trigger=RecomputationTrigger.IMPORT)
        return results


def _catalog_apply(catalog: CatalogData) -> CatalogLoadResult:
    framework = Framework.objects.select_for_update(no_key=True).filter(key=catalog.key).first()
    clash = Framework.objects.filter(slug=catalog.slug).exclude(key=catalog.key).first()
    if clash is not None:
        raise LibraryFileError(
            catalog.path, "header", f"slug {catalog.slug!r} already belongs to {clash.key}"
        )
    if framework is not None:
        if catalog.version < framework.version:
            return CatalogLoadResult(
                catalog.key,
                catalog.path,
                "skipped",
                f"the database holds version {framework.version}, newer than the file's "
                f"{catalog.version}",
            )
        if catalog.version == framework.version:
            if catalog.sha256 != framework.content_sha256:
                raise LibraryFileError(
                    catalog.path,
                    "header",
                    f"content differs from the loaded version {framework.version}; raise "
                    "'version' when changing a catalog",
                )
            return CatalogLoadResult(catalog.key, catalog.path, "unchanged")

    created = framework is None
    if framework is None:
        framework = Framework(key=catalog.key)
    previous_version = framework.version if not created else None
    for name in ("slug", "name", "short_name", "edition", "publisher", "description", "version"):
        setattr(framework, name, getattr(catalog, name))
    framework.content_sha256 = catalog.sha256
    framework.save()

    categories = {c.code: c for c in FrameworkCategory.objects.filter(framework=framework)}
    for order, category_data in enumerate(catalog.categories):
        category = categories.get(category_data.code) or FrameworkCategory(
            framework=framework, code=category_data.code
        )
        category.name = category_data.name
        category.description = category_data.description
        category.mandatory = category_data.mandatory
        category.order = order
        category.save()
        categories[category.code] = category

    existing = {r.key: r for r in Requirement.objects.filter(framework=framework)}
    by_ref: dict[str, Requirement] = {}
    for order, data in enumerate(catalog.requirements):
        key = catalog.requirement_key(data.ref_id)
        requirement = existing.pop(key, None) or Requirement(framework=framework, key=key)
        requirement.ref_id = data.ref_id
        requirement.title = data.title
        requirement.description = data.description
        requirement.category = categories[data.category]
        requirement.parent = by_ref[data.parent] if data.parent else None
        requirement.assessable = data.assessable
        requirement.order = order
        requirement.withdrawn = False
        requirement.save()
        by_ref[data.ref_id] = requirement

    withdrawn = []
    dropped = list(existing.values())  # no longer in the file
    # Unused leaves go first, repeatedly, so a group dropped with its unused children goes too.
    while unused := [r for r in dropped if not (r.mappings.exists() or r.children.exists())]:
        for requirement in unused:
            requirement.delete()
            dropped.remove(requirement)
    for requirement in dropped:  # still mapped, or the parent of one that is
        requirement.withdrawn = True
        requirement.save(update_fields=["withdrawn"])
        withdrawn.append(requirement.ref_id)
    wanted_codes = {c.code for c in catalog.categories}
    FrameworkCategory.objects.filter(framework=framework).exclude(code__in=wanted_codes).filter(
        requirements__isnull=True
    ).delete()

    audit_record(
        actor=None,
        organization=None,
        action="framework.load" if created else "framework.update",
        obj=framework,
        before=None if created else {"version": previous_version},
        after={
            "version": framework.version,
            "sha256": framework.content_sha256,
            "requirements": len(catalog.requirements),
            "withdrawn": withdrawn,
        },
    )
    detail = f"{len(catalog.requirements)} requirements"
    if withdrawn:
        detail += f"; withdrawn (still mapped): {', '.join(withdrawn)}"
    return CatalogLoadResult(catalog.key, catalog.path, "created" if created else "updated", detail)


def control_sets_parse() -> list[ControlSetData]:
    """Every control set in the library, validated against the library's catalog files."""
    return library_files.parse_control_sets()


# --- adoption -----------------------------------------------------------------------------------


def _scope_categories(framework: Framework, scope_codes: Iterable[str]) -> list[FrameworkCategory]:
    categories = {c.code: c for c in framework.categories.all()}
    codes = set(scope_codes)
    unknown = sorted(codes - set(categories))
    if unknown:
        raise ValidationError(
            {"scope": f"Not categories of {framework.short_name}: {', '.join(unknown)}."}
        )
    missing = [c.name for c in categories.values() if c.mandatory and c.code not in codes]
    if missing:
        raise ValidationError(
            {"scope": f"{', '.join(missing)} is required for {framework.short_name}."}
        )
    return [categories[code] for code in categories if code in codes]


@transaction.atomic
def framework_adopt(
    *,
    actor: User,
    organization: Organization,
    framework: Framework,
    scope_codes: Iterable[str],
    target_audit_date: dt.date | None = None,
) -> AdoptedFramework:
    if AdoptedFramework.objects.filter(organization=organization, framework=framework).exists():
        raise ValidationError(
            {"framework": f"{framework.short_name} is already adopted; change its scope instead."}
        )
    scope = _scope_categories(framework, scope_codes)
    _check_target_audit_date(target_audit_date)
    adoption = AdoptedFramework.objects.create(
        organization=organization,
        framework=framework,
        adopted_by=actor,
        target_audit_date=target_audit_date,
    )
    adoption.scope.set(scope)
    # The adopted framework's requirements get their stored readiness rows (scope is applied
    # when reading, so a scope change needs nothing).
    requirements_changed(organization=organization)
    audit_record(
        actor=actor,
        organization=organization,
        action="framework.adopt",
        obj=adoption,
        after={
            "framework": framework.key,
            "scope": [c.code for c in scope],
            "target_audit_date": target_audit_date.isoformat() if target_audit_date else None,
        },
    )
    return adoption


# The planned audit is within this many years (a later date is a typo, e.g. 2206 for 2026).
TARGET_AUDIT_YEARS = 10


def _check_target_audit_date(day: dt.date | None) -> None:
    if day is None:
        return
    latest = dt.date(timezone.now().year + TARGET_AUDIT_YEARS, 12, 31)
    if not dt.date(2000, 1, 1) <= day <= latest:
        raise ValidationError({"target_audit_date": f"Choose a date from 2000 to {latest.year}."})


@transaction.atomic
def framework_set_target_audit_date(
    *, actor: User, adoption: AdoptedFramework, target_audit_date: dt.date | None
) -> AdoptedFramework:
    """Set (or clear, with None) the date the adoption's audit is planned for: what the
    forecast compares the ready date with."""
    _check_target_audit_date(target_audit_date)
    adoption = AdoptedFramework.objects.select_for_update(no_key=True).get(pk=adoption.pk)
    before = adoption.target_audit_date
    if before == target_audit_date:
        return adoption
    adoption.target_audit_date = target_audit_date
    adoption.save(update_fields=["target_audit_date"])
    audit_record(
        actor=actor,
        organization=adoption.organization,
        action="framework.target_audit_date",
        obj=adoption,
        before={"target_audit_date": before.isoformat() if before else None},
        after={"target_audit_date": target_audit_date.isoformat() if target_audit_date else None},
    )
    return adoption


@transaction.atomic
def framework_change_scope(
    *, actor: User, adoption: AdoptedFramework, scope_codes: Iterable[str]
) -> AdoptedFramework:
    scope = _scope_categories(adoption.framework, scope_codes)
    before = sorted(adoption.scope.values_list("code", flat=True))
    after = sorted(c.code for c in scope)
    if before != after:
        adoption.scope.set(scope)
        audit_record(
            actor=actor,
            organization=adoption.organization,
            action="framework.scope_change",
            obj=adoption,
            before={"scope": before},
            after={"scope": after},
        )
    return adoption


# --- controls -----------------------------------------------------------------------------------

REF_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
CONTROL_FIELDS = (
    "ref_id", "name", "description", "category", "owner", "backup_owner", "status",
    "na_justification", "frequency", "narrative", "guidance", "long_lead", "target_date",
    "archived_at",
)  # fmt: skip
OWNER_ROLES = (Role.ADMIN, Role.MEMBER)


class ControlChanges(TypedDict, total=False):
    ref_id: str
    name: str
    description: str
    category: str
    owner: User | None
    backup_owner: User | None
    status: str
    na_justification: str
    frequency: str
    narrative: str
    guidance: str
    long_lead: bool
    target_date: dt.date | None
    requirements: list[Requirement]


EDITABLE_FIELDS = frozenset(ControlChanges.__annotations__)


def assignable_owners(organization: Organization) -> Any:
    """Users who can own a control: active admins and members of the organization."""
    return User.objects.filter(
        is_active=True,
        memberships__in=Membership.objects.active().filter(
            organization=organization, role__in=OWNER_ROLES
        ),
    ).order_by("full_name", "email")


def mappable_requirements(organization: Organization) -> Any:
    """Requirements a control of this organization may map to: those of adopted frameworks."""
    return Requirement.objects.filter(
        framework__adoptions__organization=organization, assessable=True, withdrawn=False
    ).select_related("framework", "category")


def refs_outside(allowed: Any, objects: Sequence[Any]) -> list[str]:
    """The ``ref_id`` of each of ``objects`` that the queryset ``allowed`` does not hold, in one
    query: what a form or an API call named that it may not (another organization's, archived,
    of a framework not adopted)."""
    inside = set(allowed.filter(pk__in=[o.pk for o in objects]).values_list("pk", flat=True))
    return [o.ref_id for o in objects if o.pk not in inside]


def _validate_control(control: Control, requirements: list[Requirement] | None) -> None:
    errors: dict[str, list[str]] = {}
    try:
        control.full_clean(exclude=["organization"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if control.ref_id and not REF_ID_PATTERN.match(control.ref_id):
        errors.setdefault("ref_id", []).append(
            "Use letters, digits, '.', '-' or '_' (at most 20), e.g. IAM-04."
        )
    elif (
        Control.objects.filter(
            organization_id=control.organization_id, ref_id__iexact=control.ref_id
        )
        .exclude(pk=control.pk)
        .exists()
    ):
        errors.setdefault("ref_id", []).append(f"{control.ref_id} is already used by a control.")
    owners = assignable_owners(control.organization)
    for name in ("owner", "backup_owner"):
        user_id = getattr(control, f"{name}_id")
        if user_id is not None and not owners.filter(pk=user_id).exists():
            errors.setdefault(name, []).append("Choose an admin or member of this organization.")
    if control.owner_id is not None and control.owner_id == control.backup_owner_id:
        errors.setdefault("backup_owner", []).append("The backup owner must be someone else.")
    if control.status == ControlStatus.NOT_APPLICABLE and not control.na_justification.strip():
        errors.setdefault("na_justification", []).append("Explain why this control does not apply.")
    if requirements is not None:
        bad = refs_outside(mappable_requirements(control.organization), requirements)
        if bad:
            errors.setdefault("requirements", []).append(
                "Not requirements of a framework this organization adopted: " + ", ".join(bad)
            )
    if errors:
        raise ValidationError(errors)


def _control_snapshot(control: Control) -> dict[str, Any]:
    """The audited fields; owners by email so the trail reads without a lookup."""
    data = snapshot(control, CONTROL_FIELDS)
    for name in ("owner", "backup_owner"):
        user = getattr(control, name)
        data[name] = user.email if user is not None else None
    return data


def _record_status_change(
    *, actor: User | None, control: Control, from_status: str, reason: str
) -> ControlStatusChange:
    return ControlStatusChange.objects.create(
        control=control,
        from_status=from_status,
        to_status=control.status,
        actor=actor,
        reason=reason.strip(),
    )


def _set_mappings(
    *, actor: User | None, control: Control, requirements: list[Requirement]
) -> tuple[list[str], list[str]]:
    """Make the control map exactly to ``requirements``; returns the keys added and removed.
    The caller brings readiness up to date (see :func:`_readiness_changed`)."""
    current = {m.requirement_id: m for m in control.mappings.select_related("requirement")}
    wanted = {r.pk: r for r in requirements}
    removed = [current[pk] for pk in current if pk not in wanted]
    added = [wanted[pk] for pk in wanted if pk not in current]
    if removed:
        ControlRequirement.objects.filter(pk__in=[m.pk for m in removed]).delete()
    ControlRequirement.objects.bulk_create(
        [ControlRequirement(control=control, requirement=r, created_by=actor) for r in added]
    )
    return [r.key for r in added], [m.requirement.key for m in removed]


def _readiness_changed(control: Control, unmapped: Sequence[int] = ()) -> None:
    """The control's stored readiness, and its requirements' (``unmapped``: the requirements it
    stopped mapping to), in the transaction of the change."""
    controls_changed(
        organization=control.organization, control_ids=[control.pk], requirement_ids=unmapped
    )


@transaction.atomic
def control_create(
    *,
    actor: User | None,
    organization: Organization,
    ref_id: str,
    name: str,
    category: str,
    frequency: str,
    description: str = "",
    owner: User | None = None,
    backup_owner: User | None = None,
    status: str = ControlStatus.NOT_STARTED,
    na_justification: str = "",
    narrative: str = "",
    guidance: str = "",
    long_lead: bool = False,
    target_date: dt.date | None = None,
    requirements: Sequence[Requirement] = (),
    source_key: str = "",
    reason: str = "",
) -> Control:
    control = Control(
        organization=organization,
        ref_id=ref_id.strip(),
        name=name.strip(),
        description=description,
        category=category,
        owner=owner,
        backup_owner=backup_owner,
        status=status,
        na_justification=na_justification if status == ControlStatus.NOT_APPLICABLE else "",
        frequency=frequency,
        narrative=narrative,
        guidance=guidance,
        long_lead=long_lead,
        target_date=target_date,
        source_key=source_key,
    )
    requirement_list = list(requirements)
    _validate_control(control, requirement_list)
    control.save()
    added, _ = _set_mappings(actor=actor, control=control, requirements=requirement_list)
    _record_status_change(actor=actor, control=control, from_status="", reason=reason or "Created")
    _readiness_changed(control)
    after = _control_snapshot(control)
    after["requirements"] = sorted(added)
    audit_record(
        actor=actor, organization=organization, action="control.create", obj=control, after=after
    )
    return control


@transaction.atomic
def control_update(
    *, actor: User, control: Control, changes: ControlChanges, reason: str = ""
) -> Control:
    """Apply field changes; a status change is kept as a row and written conditionally."""
    changes = ControlChanges(**changes)  # a copy: the caller's dict is left alone
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    control = Control.objects.select_for_update(no_key=True).get(pk=control.pk)
    if control.is_archived:
        raise ValidationError("An archived control cannot be edited; restore it first.")
    before = _control_snapshot(control)
    old_status, old_justification = control.status, control.na_justification
    old_frequency = control.frequency
    requirements = changes.pop("requirements", None)
    for name, value in changes.items():
        if name in ("ref_id", "name") and isinstance(value, str):
            value = value.strip()
        setattr(control, name, value)
    if control.status != ControlStatus.NOT_APPLICABLE:
        control.na_justification = ""
    _validate_control(control, requirements)

    new_status, new_justification = control.status, control.na_justification
    if new_status != old_status:
        # The justification moves with the status, so the saved row always passes the
        # not-applicable check (leaving not_applicable clears it).
        control.status, control.na_justification = old_status, old_justification
    control.save()
    if new_status != old_status:
        updated = Control.objects.filter(pk=control.pk, status=old_status).update(
            status=new_status, na_justification=new_justification, updated_at=timezone.now()
        )
        if updated != 1:
            raise ValidationError({"status": "The status changed meanwhile; reload the control."})
        control.status, control.na_justification = new_status, new_justification
        _record_status_change(actor=actor, control=control, from_status=old_status, reason=reason)
    if control.frequency != old_frequency:
        ControlFrequencyChange.objects.create(
            control=control,
            from_frequency=old_frequency,
            to_frequency=control.frequency,
            actor=actor,
            reason=reason.strip(),
        )

    old, new = changed(before, _control_snapshot(control))
    mapped_before = set(control.mappings.values_list("requirement_id", flat=True))
    if requirements is not None:
        added, removed = _set_mappings(actor=actor, control=control, requirements=requirements)
        if added or removed:
            old["requirements_removed"] = removed
            new["requirements_added"] = added
    if old or new:  # status, frequency or mappings: what readiness reads
        _readiness_changed(control, sorted(mapped_before))
    if new or old:
        if new_status != old_status and reason:
            new["reason"] = reason
        audit_record(
            actor=actor,
            organization=control.organization,
            action="control.update",
            obj=control,
            before=old,
            after=new,
        )
    return control


@transaction.atomic
def control_archive(*, actor: User, control: Control, reason: str = "") -> Control:
    control = Control.objects.select_for_update(no_key=True).get(pk=control.pk)
    if control.is_archived:
        return control
    control.archived_at = timezone.now()
    control.save(update_fields=["archived_at", "updated_at"])
    _readiness_changed(control)
    audit_record(
        actor=actor,
        organization=control.organization,
        action="control.archive",
        obj=control,
        after={"archived_at": control.archived_at, "reason": reason},
    )
    return control


@transaction.atomic
def control_restore(*, actor: User, control: Control) -> Control:
    control = Control.objects.select_for_update(no_key=True).get(pk=control.pk)
    if not control.is_archived:
        return control
    before = {"archived_at": control.archived_at}
    control.archived_at = None
    control.save(update_fields=["archived_at", "updated_at"])
    _readiness_changed(control)
    audit_record(
        actor=actor,
        organization=control.organization,
        action="control.restore",
        obj=control,
        before=before,
        after={"archived_at": None},
    )
    return control


@transaction.atomic
def control_map(*, actor: User, control: Control, requirement: Requirement) -> ControlRequirement:
    if control.is_archived:
        raise ValidationError(
            {"control": "An archived control cannot be mapped; restore it first."}
        )
    _validate_control(control, [requirement])
    mapping, created = ControlRequirement.objects.get_or_create(
        control=control, requirement=requirement, defaults={"created_by": actor}
    )
    if not created:
        raise ValidationError(
            {"requirement": f"{control.ref_id} already maps to {requirement.ref_id}."}
        )
    _readiness_changed(control)
    audit_record(
        actor=actor,
        organization=control.organization,
        action="control.map",
        obj=control,
        after={"requirement": requirement.key},
    )
    return mapping


@transaction.atomic
def control_unmap(*, actor: User, mapping: ControlRequirement) -> None:
    control = mapping.control
    if control.is_archived:
        raise ValidationError(
            {"control": "An archived control cannot be changed; restore it first."}
        )
    key = mapping.requirement.key
    requirement_id = mapping.requirement_id
    mapping.delete()
    _readiness_changed(control, [requirement_id])
    audit_record(
        actor=actor,
        organization=control.organization,
        action="control.unmap",
        obj=control,
        before={"requirement": key},
    )


@transaction.atomic
def control_grant_change(*, actor: User, control: Control, user: User) -> None:
    """Let a member edit a control they do not own (django-guardian object grant)."""
    membership = permissions.membership_for(user, control.organization_id)
    if membership is None:
        membership = (
            Membership.objects.active().filter(user=user, organization=control.organization).first()
        )
    if membership is None or membership.role != Role.MEMBER:
        raise ValidationError({"user": "Grants are for members of this organization."})
    permissions.grant_object_permission(user, "change_control", control)
    audit_record(
        actor=actor,
        organization=control.organization,
        action="control.grant",
        obj=control,
        after={"user": user.email, "permission": "change_control"},
    )


@transaction.atomic
def control_revoke_change(*, actor: User, control: Control, user: User) -> None:
    if (
        not permissions.granted_ids(user.pk, Control, "change_control")
        .filter(content_object_id=control.pk)
        .exists()
    ):
        return  # nothing to revoke, nothing to record
    permissions.revoke_object_permission(user, "change_control", control)
    audit_record(
        actor=actor,
        organization=control.organization,
        action="control.ungrant",
        obj=control,
        before={"user": user.email, "permission": "change_control"},
    )


# --- starter control sets -----------------------------------------------------------------------


@dataclass
class ControlSetImportResult:
    created: list[str] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def control_set_get(key: str) -> ControlSetData:
    for control_set in control_sets_parse():
        if control_set.key == key:
            return control_set
    raise ValidationError({"control_set": f"No control set {key!r}."})


def control_set_plan(
    *, organization: Organization, control_set: ControlSetData
) -> tuple[list[library_files.ControlTemplate], dict[str, dict[str, Requirement]]]:
    """Templates of the set that touch a requirement in the organization's scope, and the
    adopted requirements by framework slug and ref_id."""
    adoptions = AdoptedFramework.objects.filter(organization=organization).select_related(
        "framework"
    )
    in_scope: dict[str, set[str]] = {}
    adopted: dict[str, dict[str, Requirement]] = {}
    for requirement in Requirement.objects.filter(
        framework__adoptions__in=adoptions, assessable=True, withdrawn=False
    ).select_related("framework"):
        adopted.setdefault(requirement.framework.slug, {})[requirement.ref_id] = requirement
    for slug, ref_id in Requirement.objects.filter(
        Q(framework__adoptions__in=adoptions)
        & Q(
            category__in=AdoptedFramework.scope.through.objects.filter(
                adoptedframework__in=adoptions
            ).values("frameworkcategory")
        ),
        assessable=True,
        withdrawn=False,
    ).values_list("framework__slug", "ref_id"):
        in_scope.setdefault(slug, set()).add(ref_id)
    templates = [
        template
        for template in control_set.controls
        if any(
            ref in in_scope.get(slug, ())
            for slug, refs in template.mappings.items()
            for ref in refs
        )
    ]
    return templates, adopted


@transaction.atomic
@bulk_load(trigger=RecomputationTrigger.IMPORT)  # one full recomputation, not one per control
def control_set_import(
    *, actor: User | None, organization: Organization, control_set_key: str
) -> ControlSetImportResult:
    """Create the set's controls that apply to the organization's scope (idempotent).

    Controls imported before are not duplicated; they gain mappings to frameworks adopted since
    (a framework they have no mapping to yet), and nothing a user changed is overwritten.
    """
    control_set = control_set_get(control_set_key)
    templates, adopted = control_set_plan(organization=organization, control_set=control_set)
    result = ControlSetImportResult()
    existing = {
        c.source_key: c
        for c in Control.objects.filter(organization=organization).exclude(source_key="")
    }
    taken_refs = {
        ref.lower()
        for ref in Control.objects.filter(organization=organization).values_list(
            "ref_id", flat=True
        )
    }
    adopted_at = dict(
        AdoptedFramework.objects.filter(organization=organization).values_list(
            "framework_id", "adopted_at"
        )
    )
    for template in templates:
        wanted = [
            adopted[slug][ref]
            for slug, refs in template.mappings.items()
            for ref in refs
            if ref in adopted.get(slug, {})
        ]
        source_key = control_set.source_key(template)
        control = existing.get(source_key)
        if control is None:
            if template.ref_id.lower() in taken_refs:
                result.skipped.append(f"{template.ref_id} (ID already used by another control)")
                continue
            control_create(
                actor=actor,
                organization=organization,
                ref_id=template.ref_id,
                name=template.name,
                category=template.category,
                frequency=template.frequency,
                description=template.description,
                guidance=template.guidance,
                long_lead=template.long_lead,
                requirements=wanted,
                source_key=source_key,
                reason=f"Imported from {control_set.name}",
            )
            result.created.append(template.ref_id)
            continue
        if control.is_archived:
            result.skipped.append(f"{template.ref_id} (archived)")
            continue
        # Only frameworks adopted after the control was imported: a mapping a user removed
        # from a framework that existed at import time stays removed.
        mapped = set(control.mappings.values_list("requirement_id", flat=True))
        new = [
            r
            for r in wanted
            if adopted_at[r.framework_id] > control.created_at and r.pk not in mapped
        ]
        if new:
            ControlRequirement.objects.bulk_create(
                [ControlRequirement(control=control, requirement=r, created_by=actor) for r in new],
                ignore_conflicts=True,
            )
            _readiness_changed(control)
            audit_record(
                actor=actor,
                organization=organization,
                action="control.map",
                obj=control,
                after={"requirements": [r.key for r in new], "via": control_set.key},
            )
            result.mapped.append(template.ref_id)
        else:
            result.skipped.append(f"{template.ref_id} (already imported)")
    audit_record(
        actor=actor,
        organization=organization,
        action="control_set.import",
        object_type="controls.controlset",
        object_id=control_set.key,
        object_repr=control_set.name,
        after={
            "version": control_set.version,
            "created": result.created,
            "mapped": result.mapped,
            "skipped": len(result.skipped),
        },
    )
    return result
