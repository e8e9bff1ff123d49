"""Celery tasks of the audits app."""

from __future__ import annotations

from celery import shared_task

from audits.package import services


@shared_task(
    name="audits.tasks.build_audit_package",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 300,
)
def build_audit_package(package_id: int) -> str:
    """Build one audit package; safe to deliver twice (a finished one is left alone, a running
    one whose worker died is built again from nothing)."""
    return services.package_build(package_id)
