"""Object policies of the vendor inventory (see compliance.permissions).

Program readers see every vendor. Admins change any vendor; a member changes the vendors they
own (edit the facts, record reviews), as control owners do their controls. Adding vendors,
changing owners and offboarding need Capability.MANAGE_VENDORS. Reviews are records: nobody
edits one. Auditors see nothing until the audits app grants them an engagement.
"""

from __future__ import annotations

from django.db.models import Q

from compliance.models import Membership, Role
from compliance.permissions import PROGRAM_READERS, ObjectPolicy, register_policy, roles
from vendors.models import (
    QuestionnaireTemplate,
    SentQuestionnaire,
    Vendor,
    VendorDocument,
    VendorReview,
)


def _vendor_change(membership: Membership) -> Q | None:
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        return Q(owner_id=membership.user_id)
    return None


def _vendor_change_sq(membership: Membership) -> Q | None:
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        return Q(vendor__owner_id=membership.user_id)
    return None


register_policy(ObjectPolicy(model=Vendor, view=roles(*PROGRAM_READERS), change=_vendor_change))
register_policy(
    ObjectPolicy(
        model=VendorReview,
        view=roles(*PROGRAM_READERS),
        change=roles(),
        organization_field="vendor__organization_id",
    )
)
# Questionnaires follow their vendor: program readers see them; sending and revoking is for
# those who change the vendor (checked on the vendor). Templates: admins change them.
register_policy(
    ObjectPolicy(model=SentQuestionnaire, view=roles(*PROGRAM_READERS), change=_vendor_change_sq)
)
register_policy(
    ObjectPolicy(
        model=QuestionnaireTemplate, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN)
    )
)
# Documents follow their vendor: program readers see (and download) them; vendor managers
# (admins, Capability.MANAGE_VENDORS) upload them and add their exceptions and CUECs. Auditors
# get nothing: no auditor scope is registered, as for the vendor pages (docs/vendors.md).
register_policy(
    ObjectPolicy(
        model=VendorDocument,
        view=roles(*PROGRAM_READERS),
        change=roles(Role.ADMIN),
        organization_field="vendor__organization_id",
    )
)
