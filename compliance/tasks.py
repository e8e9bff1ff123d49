from __future__ import annotations

import logging
import smtplib
from typing import Any

from celery import shared_task
from django.core.mail import mail_admins

from compliance import audit, emails

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def email_send(email_id: int) -> None:
    emails.email_deliver(email_id)


@shared_task(soft_time_limit=120, time_limit=150)
def email_flush_outbox() -> int:
    """Re-queue emails that were never handed to a worker (e.g. the broker was down)."""
    ids = emails.email_unsent_ids(older_than_seconds=120)
    for email_id in ids:
        email_send.delay(email_id)
    return len(ids)


@shared_task(soft_time_limit=3000, time_limit=3300)
def audit_trail_verify() -> list[str]:
    """Walk every audit chain; a broken chain is an alert to the operators, never repaired."""
    problems = [str(report.problem) for report in audit.verify_all() if report.problem]
    if problems:
        logger.error("Audit trail verification failed: %s", "; ".join(problems))
        mail_admins(
            "Attest audit trail verification FAILED",
            "The audit trail no longer matches its hash chain:\n\n" + "\n".join(problems),
        )
    return problems


@shared_task(soft_time_limit=300, time_limit=330)
def readiness_tick() -> int:
    """Hourly: a full readiness recomputation for each organization whose last one was for an
    earlier local date, so each runs once after its local midnight (evidence going stale,
    reviews coming due and exceptions expiring are date changes no service sees), one task per
    organization."""
    from compliance.readiness import organizations_due_for_recomputation

    due = organizations_due_for_recomputation()
    for organization_id in due:
        readiness_recompute.delay(organization_id)
    return len(due)


@shared_task(soft_time_limit=1800, time_limit=1900, acks_late=True)
def readiness_recompute(organization_id: int, trigger: str = "nightly") -> int | None:
    """The full recomputation of one organization (idempotent: a re-run repairs nothing more)."""
    from compliance.models import Organization
    from compliance.readiness import organization_local_date, recompute_readiness
    from controls.models import ReadinessRecomputation

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    today = organization_local_date(organization)
    if (
        trigger == "nightly"
        and ReadinessRecomputation.objects.filter(
            organization=organization, trigger=trigger, computed_on=today
        ).exists()
    ):
        return None  # a second delivery, or two beats: today's run is done
    run = recompute_readiness(organization=organization, trigger=trigger)
    return run.drifted


@shared_task(soft_time_limit=300, time_limit=330)
def snapshot_tick() -> int:
    """Hourly: one ``readiness_snapshots`` task per organization missing a snapshot of its
    newest due week (its snapshot weekday and hour have come, in its time zone) or of one of
    the weeks before it that the fill covers (the worker was down), or whose newest week's
    weekly emails were not queued yet."""
    from compliance.digest import organizations_due_for_weekly_emails
    from compliance.snapshots import organizations_due_for_snapshot

    due = sorted(set(organizations_due_for_snapshot()) | set(organizations_due_for_weekly_emails()))
    for organization_id in due:
        readiness_snapshots.delay(organization_id)
    return len(due)


@shared_task(soft_time_limit=1200, time_limit=1300, acks_late=True)
def readiness_snapshots(organization_id: int) -> int | None:
    """The missing snapshots of one organization: its newest due week and the weeks before it
    that were missed (idempotent: a second delivery, or two at once, creates nothing more)."""
    from compliance.models import Organization
    from compliance.snapshots import snapshot_due

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("Snapshots: organization %s is gone", organization_id)
        return None
    result = snapshot_due(organization=organization)
    weekly_emails(organization)
    return result.created


def weekly_emails(organization: Any) -> None:
    """Once the newest due week's snapshots are there, its weekly emails (queued once)."""
    from compliance.digest import weekly_emails_queue
    from compliance.models import ReadinessSnapshot
    from compliance.snapshots import latest_due_week

    week = latest_due_week(organization)
    if ReadinessSnapshot.objects.filter(organization=organization, week=week).exists():
        queued = weekly_emails_queue(organization=organization, week=week)
        if queued is not None:
            logger.info(
                "Weekly emails of %s, week of %s: %d digest(s), %d your-week",
                organization.slug, week, queued.digests, queued.your_week,
            )  # fmt: skip
