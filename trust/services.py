"""Writes on the trust page: its settings, publishing, certifications, control categories and
FAQ. Each one audits in its transaction; the cached public page is invalidated on commit by the
receivers in ``trust.apps`` (they also catch vendors' and engagements' changes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audits.models import Audit, AuditType
from compliance.audit import audit_record, snapshot
from compliance.models import Organization, User
from controls.models import Control
from trust.models import TrustCertification, TrustControlCategory, TrustFaq, TrustPage
from trust.selectors import page_for

PAGE_FIELDS = [
    "headline",
    "overview",
    "show_certifications",
    "show_controls",
    "show_subprocessors",
    "show_documents",
    "show_faq",
    "security_email",
    "security_policy_url",
    "security_txt_expires",
    "preferred_languages",
]
CERT_FIELDS = [
    "name",
    "status",
    "description",
    "report_date",
    "period_start",
    "period_end",
    "is_published",
    "position",
]
CATEGORY_FIELDS = ["title", "description", "is_published", "position"]
FAQ_FIELDS = ["question", "answer", "is_published", "position"]


def _locked_page(organization: Organization) -> TrustPage:
    page_for(organization)
    return TrustPage.objects.select_for_update().get(organization=organization)


def _update(obj: Any, fields: list[str], values: dict[str, Any]) -> tuple[dict, dict]:
    before = snapshot(obj, fields)
    for name in fields:
        if name in values:
            setattr(obj, name, values[name])
    obj.full_clean()
    obj.save()
    return before, snapshot(obj, fields)


# --- the page -----------------------------------------------------------------------------------


@transaction.atomic
def trust_page_update(*, actor: User, organization: Organization, **values: Any) -> TrustPage:
    page = _locked_page(organization)
    if "preferred_languages" in values:
        values["preferred_languages"] = ", ".join(
            part.strip().lower()
            for part in str(values["preferred_languages"]).split(",")
            if part.strip()
        )
    before, after = _update(page, PAGE_FIELDS, values)
    if before != after:
        audit_record(
            actor=actor,
            organization=organization,
            action="trust.page.update",
            obj=page,
            before=before,
            after=after,
        )
    return page


@transaction.atomic
def trust_page_publish(*, actor: User, organization: Organization) -> TrustPage:
    page = _locked_page(organization)
    if page.is_published:
        return page
    page.published_at, page.published_by = timezone.now(), actor
    page.save(update_fields=["published_at", "published_by", "updated_at"])
    audit_record(actor=actor, organization=organization, action="trust.page.publish", obj=page)
    return page


@transaction.atomic
def trust_page_unpublish(*, actor: User, organization: Organization) -> TrustPage:
    page = _locked_page(organization)
    if not page.is_published:
        return page
    page.published_at = None
    page.save(update_fields=["published_at", "updated_at"])
    audit_record(actor=actor, organization=organization, action="trust.page.unpublish", obj=page)
    return page


# --- rows of the page: certifications, control categories, FAQ ---------------------------------
# The three kinds are written the same way (validated, saved, audited with what changed); they
# differ in their model, their fields and the name of the action.

Row = TypeVar("Row", TrustCertification, TrustControlCategory, TrustFaq)


def _row_create(
    actor: User,
    organization: Organization,
    row: Row,
    fields: list[str],
    action: str,
    values: dict[str, Any],
    extra: Callable[[Row, dict[str, Any]], None] | None = None,
) -> Row:
    """Save the new ``row`` (on the organization's locked page) with ``values``; ``extra``
    writes what the fields do not (a category's controls) and adds it to what is audited."""
    row.page = _locked_page(organization)
    _, after = _update(row, fields, values)
    if extra is not None:
        extra(row, after)
    audit_record(actor=actor, organization=organization, action=action, obj=row, after=after)
    return row


def _row_update(
    actor: User,
    row: Row,
    fields: list[str],
    action: str,
    values: dict[str, Any],
    extra: Callable[[Row, dict[str, Any], dict[str, Any]], None] | None = None,
) -> Row:
    before, after = _update(row, fields, values)
    if extra is not None:
        extra(row, before, after)
    if before != after:
        audit_record(
            actor=actor,
            organization=row.page.organization,
            action=action,
            obj=row,
            before=before,
            after=after,
        )
    return row


def _row_delete(actor: User, row: Row, fields: list[str], action: str) -> None:
    audit_record(
        actor=actor,
        organization=row.page.organization,
        action=action,
        obj=row,
        before=snapshot(row, fields),
    )
    row.delete()


# --- certifications -----------------------------------------------------------------------------


@transaction.atomic
def trust_certification_create(
    *, actor: User, organization: Organization, **values: Any
) -> TrustCertification:
    return _row_create(
        actor,
        organization,
        TrustCertification(),
        CERT_FIELDS,
        "trust.certification.create",
        values,
    )


def engagement_certification_name(audit: Audit) -> str:
    kind = "Type I" if audit.kind == AuditType.TYPE_1 else "Type II"
    framework = audit.adoption.framework
    return f"{framework.short_name or framework.name} {kind}"


@transaction.atomic
def trust_certification_from_audit(
    *, actor: User, organization: Organization, audit: Audit, is_published: bool = False
) -> TrustCertification:
    """A certification fed by an engagement: its type, dates and status are read from the
    engagement when the page renders (trust.selectors.certification_view)."""
    if audit.organization_id != organization.pk:
        raise ValidationError({"audit": "Choose an engagement of this organization."})
    if TrustCertification.objects.filter(audit=audit).exists():
        raise ValidationError({"audit": "This engagement is already on the trust page."})
    page = _locked_page(organization)
    cert = TrustCertification(
        page=page,
        audit=audit,
        name=engagement_certification_name(audit)[:150],
        is_published=is_published,
    )
    cert.full_clean()
    cert.save()
    audit_record(
        actor=actor,
        organization=organization,
        action="trust.certification.create",
        obj=cert,
        after=snapshot(cert, ["name", "audit", "is_published"]),
    )
    return cert


@transaction.atomic
def trust_certification_update(
    *, actor: User, cert: TrustCertification, **values: Any
) -> TrustCertification:
    return _row_update(actor, cert, CERT_FIELDS, "trust.certification.update", values)


@transaction.atomic
def trust_certification_delete(*, actor: User, cert: TrustCertification) -> None:
    _row_delete(actor, cert, CERT_FIELDS, "trust.certification.delete")


# --- control categories -------------------------------------------------------------------------


def _check_controls(organization: Organization, controls: list[Control]) -> None:
    if any(c.organization_id != organization.pk for c in controls):
        raise ValidationError({"controls": "Choose controls of this organization."})


@transaction.atomic
def trust_category_create(
    *, actor: User, organization: Organization, controls: list[Control], **values: Any
) -> TrustControlCategory:
    _check_controls(organization, controls)

    def set_controls(category: TrustControlCategory, after: dict[str, Any]) -> None:
        category.controls.set(controls)
        after["controls"] = sorted(c.ref_id for c in controls)

    return _row_create(
        actor,
        organization,
        TrustControlCategory(),
        CATEGORY_FIELDS,
        "trust.category.create",
        values,
        set_controls,
    )


@transaction.atomic
def trust_category_update(
    *,
    actor: User,
    category: TrustControlCategory,
    controls: list[Control] | None = None,
    **values: Any,
) -> TrustControlCategory:
    if controls is not None:
        _check_controls(category.page.organization, controls)

    def set_controls(
        category: TrustControlCategory, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        if controls is not None:
            before["controls"] = sorted(category.controls.values_list("ref_id", flat=True))
            category.controls.set(controls)
            after["controls"] = sorted(c.ref_id for c in controls)

    return _row_update(
        actor, category, CATEGORY_FIELDS, "trust.category.update", values, set_controls
    )


@transaction.atomic
def trust_category_delete(*, actor: User, category: TrustControlCategory) -> None:
    _row_delete(actor, category, CATEGORY_FIELDS, "trust.category.delete")


# --- FAQ ----------------------------------------------------------------------------------------


@transaction.atomic
def trust_faq_create(*, actor: User, organization: Organization, **values: Any) -> TrustFaq:
    return _row_create(actor, organization, TrustFaq(), FAQ_FIELDS, "trust.faq.create", values)


@transaction.atomic
def trust_faq_update(*, actor: User, faq: TrustFaq, **values: Any) -> TrustFaq:
    return _row_update(actor, faq, FAQ_FIELDS, "trust.faq.update", values)


@transaction.atomic
def trust_faq_delete(*, actor: User, faq: TrustFaq) -> None:
    _row_delete(actor, faq, FAQ_FIELDS, "trust.faq.delete")
