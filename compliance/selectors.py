"""Reads of the weekly readiness snapshots, for the weekly page, the API and the digest.

Each applies the permission choke point (``compliance.permissions.restrict``: viewers, members
and admins read snapshots; auditors and strangers get nothing) and costs a fixed number of
queries. The weekly page calls:

- :func:`snapshot_list` — snapshots, newest week first, optionally of one framework and a range
  of weeks (the API's list);
- :func:`snapshot_trend` — one framework's last weeks, oldest first (the trend chart);
- :func:`framework_forecast` — the forecast ready date, its range and status against the
  adoption's target audit date (``compliance.forecast``);
- :func:`long_lead_items` — a framework's long-lead controls not in place yet, against their
  target dates and the target audit date;
- :func:`long_lead_after_audit` — long-lead controls of a framework, not in place yet, whose
  target date falls after its target audit date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, QuerySet

from compliance.forecast import WINDOW, Forecast, WeekPercent, forecast
from compliance.models import Organization, ReadinessSnapshot
from compliance.permissions import UserLike, restrict
from compliance.readiness import READY_CONTROL_STATUSES, organization_local_date
from controls.models import AdoptedFramework, Control

# The most weeks a trend reads (two years): a page never grows with the history.
TREND_LIMIT = 104
# The most long-lead controls listed (the list page has the rest).
LONG_LEAD_LIMIT = 50


def snapshot_list(
    *,
    user: UserLike,
    organization: Organization,
    framework_id: int | None = None,
    first_week: dt.date | None = None,
    last_week: dt.date | None = None,
) -> QuerySet[ReadinessSnapshot]:
    """Snapshots the user may read, newest week first (framework by name within a week).
    ``first_week`` / ``last_week`` are Mondays, both included."""
    rows = ReadinessSnapshot.objects.filter(organization=organization)
    if framework_id is not None:
        rows = rows.filter(framework_id=framework_id)
    if first_week is not None:
        rows = rows.filter(week__gte=first_week)
    if last_week is not None:
        rows = rows.filter(week__lte=last_week)
    rows = restrict(rows, user, organization=organization)
    # Per-control states are what compliance.changes reads, one week at a time; a trend or
    # a page of the API never needs them (2,000 controls: ~70 KB a row).
    return (
        rows.select_related("framework")
        .defer("control_states", "gap_requirements")
        .order_by("-week", "framework__short_name", "pk")
    )


def snapshot_trend(
    *,
    user: UserLike,
    adoption: AdoptedFramework,
    weeks: int = TREND_LIMIT,
    until: dt.date | None = None,
) -> list[ReadinessSnapshot]:
    """The adoption's framework's last ``weeks`` snapshots (at most :data:`TREND_LIMIT`) up to
    the week of Monday ``until`` (all of them by default), oldest first: one query."""
    weeks = max(1, min(weeks, TREND_LIMIT))
    rows = snapshot_list(
        user=user,
        organization=adoption.organization,
        framework_id=adoption.framework_id,
        last_week=until,
    )
    return list(reversed(rows.order_by("-week")[:weeks]))


def adoptions_of(organization: Organization) -> list[AdoptedFramework]:
    """The organization's adopted frameworks with their scope, by name: one query and a
    prefetch."""
    return list(
        AdoptedFramework.objects.filter(organization=organization)
        .select_related("framework", "organization")
        .prefetch_related("scope")
        .order_by("framework__name")
    )


def forecast_of(
    snapshots: list[ReadinessSnapshot], adoption: AdoptedFramework, today: dt.date
) -> Forecast:
    """The forecast from snapshots already read (e.g. the trend's), oldest first."""
    return forecast(
        [WeekPercent(s.week + dt.timedelta(days=6), s.percent) for s in snapshots],
        target=adoption.target_audit_date,
        today=today,
    )


def framework_forecast(*, user: UserLike, adoption: AdoptedFramework) -> Forecast:
    """The forecast of the adoption's framework from its last weekly snapshots: one query."""
    snapshots = snapshot_trend(user=user, adoption=adoption, weeks=WINDOW)
    return forecast_of(snapshots, adoption, organization_local_date(adoption.organization))


@dataclass(frozen=True)
class LongLeadItem:
    """A long-lead control not in place yet, and what is wrong with its plan, in words."""

    control: Control
    after_audit: bool  # its target date falls after the framework's target audit date
    late: bool  # its target date has passed
    undated: bool  # it has no target date

    @property
    def flag(self) -> str:
        if self.undated:
            return "No target date"
        if self.late:
            return "Past its target date"
        if self.after_audit:
            return "Planned after the audit date"
        return ""


def _long_lead_not_in_place(user: UserLike, adoption: AdoptedFramework) -> QuerySet[Control]:
    """Long-lead controls mapped to the adoption's in-scope requirements, neither implemented
    nor not applicable, that the user may see (one query for the scope)."""
    scope = [c.pk for c in adoption.scope.all()]
    controls = (
        Control.objects.filter(
            organization=adoption.organization,
            archived_at__isnull=True,
            long_lead=True,
            requirements__framework_id=adoption.framework_id,
            requirements__category_id__in=scope,
        )
        .exclude(status__in=READY_CONTROL_STATUSES)
        .distinct()
    )
    return restrict(controls, user, organization=adoption.organization)


def long_lead_items(
    *, user: UserLike, adoption: AdoptedFramework, today: dt.date, limit: int = LONG_LEAD_LIMIT
) -> list[LongLeadItem]:
    """Every long-lead control mapped to the adoption's in-scope requirements and not in place
    yet (neither implemented nor not applicable), soonest target first (undated last), at most
    ``limit``, each against its target date and the target audit date. One query (two with the
    scope)."""
    controls = _long_lead_not_in_place(user, adoption)
    audit = adoption.target_audit_date
    return [
        LongLeadItem(
            control,
            after_audit=bool(audit and control.target_date and control.target_date > audit),
            late=bool(control.target_date and control.target_date < today),
            undated=control.target_date is None,
        )
        for control in controls.select_related("owner").order_by(
            F("target_date").asc(nulls_last=True), "ref_id"
        )[:limit]
    ]


def long_lead_after_audit(
    *, user: UserLike, adoption: AdoptedFramework, limit: int = LONG_LEAD_LIMIT
) -> list[Control]:
    """Long-lead controls mapped to the adoption's in-scope requirements, not in place yet
    (neither implemented nor not applicable), whose target date falls after its target audit
    date; latest target first, at most ``limit``. None without a target audit date. One query
    (two with the scope)."""
    if adoption.target_audit_date is None:
        return []
    controls = _long_lead_not_in_place(user, adoption).filter(
        target_date__gt=adoption.target_audit_date
    )
    return list(controls.select_related("owner").order_by("-target_date", "ref_id")[:limit])
