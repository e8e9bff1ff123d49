"""People's scheduled work (the beat schedule is in compliance.settings)."""

from __future__ import annotations

import logging

from celery import shared_task

from compliance.models import Organization
from people import completion, services

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=600, time_limit=660)
def people_tick() -> int:
    """Daily: email each organization's admins about offboardings past their SLA and onboarding
    items that became overdue. Idempotent: every item is emailed once (PersonnelNotice), so a
    re-run or a redelivered message sends nothing new. Returns how many items were sent."""
    sent, failed = 0, []
    for organization_id in services.people_for_tick().values_list("pk", flat=True):
        try:
            sent += people_notify(organization_id)
        except Exception:  # one organization's problem must not stop the others' emails
            logger.exception("people_tick failed for organization %s", organization_id)
            failed.append(organization_id)
    if failed:
        raise RuntimeError(f"people_tick failed for organizations {failed}; see the log.")
    return sent


def people_notify(organization_id: int) -> int:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("Organization %s no longer exists; nothing to notify.", organization_id)
        return 0
    notices = services.people_notify_overdue(
        organization=organization, today=completion.organization_today(organization)
    )
    return len(notices)
