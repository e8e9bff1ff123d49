"""Vendors' scheduled work (the beat schedule is in compliance.settings)."""

from __future__ import annotations

import logging

from celery import shared_task

from compliance.models import Organization
from people.completion import organization_today
from vendors import expiry

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=900, time_limit=960)
def vendor_documents_tick() -> int:
    """Daily: remind owners of vendor documents that expire within the reminder window or have
    expired. Idempotent: each reminder (document, kind, valid-until date) is sent once, so a
    re-run or a redelivered message sends nothing new. Returns how many documents were sent."""
    sent, failed = 0, []
    for organization_id in expiry.organizations_to_remind():
        try:
            sent += vendor_documents_remind(organization_id)
        except Exception:  # one organization's problem must not stop the others' reminders
            logger.exception("vendor_documents_tick failed for organization %s", organization_id)
            failed.append(organization_id)
    if failed:
        raise RuntimeError(f"vendor_documents_tick failed for organizations {failed}; see the log.")
    return sent


def vendor_documents_remind(organization_id: int) -> int:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("Organization %s no longer exists; nothing to remind.", organization_id)
        return 0
    reminders = expiry.vendor_document_reminders_send(
        organization=organization, today=organization_today(organization)
    )
    return len(reminders)
