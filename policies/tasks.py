from __future__ import annotations

import logging

from celery import shared_task

from compliance.models import Organization
from policies.services import acknowledgement_rounds_send

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=1800, time_limit=1900)
def policies_tick() -> dict[str, int]:
    """Daily: yearly re-acknowledgement rounds, new joiners of sent policies, and review-due
    reminders to owners. Idempotent: nobody is asked twice in a round, and an owner is reminded
    once per due date."""
    totals = {"organizations": 0, "sent": 0, "reminded_owners": 0}
    for organization_id in Organization.objects.order_by("pk").values_list("pk", flat=True):
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            continue
        result = acknowledgement_rounds_send(organization=organization)
        totals["organizations"] += 1
        totals["sent"] += result.sent
        totals["reminded_owners"] += result.reminded_owners
    if totals["sent"] or totals["reminded_owners"]:
        logger.info(
            "policies_tick: %s acknowledgement requests, %s review reminders",
            totals["sent"],
            totals["reminded_owners"],
        )
    return totals
