from __future__ import annotations

import logging

from celery import shared_task

from compliance.models import Organization
from evidence import services
from evidence.models import EvidenceRequest

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=600, time_limit=660)
def requests_tick() -> dict[str, int]:
    """Hourly: create occurrences whose period began, mark overdue ones, send reminders.

    Every step is idempotent (one occurrence per sequence, conditional status updates, reminders
    claimed with a conditional update), so a re-run or a second beat changes nothing.
    """
    totals = {"created": 0, "overdue": 0, "reminded": 0}
    organizations = Organization.objects.filter(evidence_requests__active=True).distinct()
    for organization in organizations:
        for request in EvidenceRequest.objects.filter(organization=organization, active=True):
            totals["created"] += len(services.request_schedule(request))
        totals["overdue"] += services.occurrences_mark_overdue(organization)
        totals["reminded"] += services.occurrences_remind(organization)
    return totals


@shared_task(soft_time_limit=60, time_limit=90)
def request_schedule(request_id: int) -> int:
    """Right after a request is created: its first occurrences, without waiting for the tick."""
    request = EvidenceRequest.objects.select_related("organization").filter(pk=request_id).first()
    if request is None:
        logger.info("Evidence request %s is gone; nothing to schedule.", request_id)
        return 0
    return len(services.request_schedule(request))


@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def integrity_sweep() -> dict[str, int]:
    run = services.integrity_sweep()
    return {
        "checked": run.checked,
        "missing": run.missing,
        "altered": run.altered,
        "orphaned": run.orphaned,
        "stale_uploads": run.stale_uploads,
    }


@shared_task(soft_time_limit=600, time_limit=660)
def incoming_sweep() -> dict[str, int]:
    """Hourly: delete partial uploads that killed web workers left in the incoming folder."""
    swept = services.incoming_sweep()
    return {"removed": swept.removed, "freed_bytes": swept.freed_bytes}
