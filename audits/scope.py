"""What an engagement lets its auditors see: the rows of each model within its scope (the
adopted framework's categories chosen for the audit) and its window (the Type II period, or the
Type I date), as conditions on the model. ``audits.policies`` hands them to the permission
choke point (compliance.permissions) for auditor memberships; the portal's pages narrow further
to one engagement with the same functions.

Windows (all dates in the organization's time zone):

- **Type II**: the period, first and last day included.
- **Type I** (as of a date D): evidence effective in the 13 months up to D (the longest freshness
  of any frequency, a year plus its grace: what can be current on D), automated test runs of the
  7 days up to D, policy versions in force on D, people employed on D, vendors serving on D and
  their reviews of the year up to D.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from audits.models import Audit, AuditType

TYPE_1_EVIDENCE_DAYS = 395
TYPE_1_RUN_DAYS = 7
TYPE_1_REVIEW_DAYS = 366


@dataclass(frozen=True)
class Window:
    """An engagement's window as dates, and as the aware datetimes bounding them."""

    audit_id: int
    kind: str
    start: dt.date  # the first day (Type I: the as-of date)
    end: dt.date  # the last day
    categories: tuple[int, ...]
    zone: str

    def _instant(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(self.zone))

    @property
    def is_type_1(self) -> bool:
        return self.kind == AuditType.TYPE_1

    def days(self, type_1_days: int) -> tuple[dt.date, dt.date]:
        """The window's dates; for Type I the ``type_1_days`` up to the as-of date."""
        if self.is_type_1:
            return self.end - dt.timedelta(days=type_1_days - 1), self.end
        return self.start, self.end

    def instants(self, type_1_days: int) -> tuple[dt.datetime, dt.datetime]:
        """[from, until): the first instant of the first day, the first of the day after."""
        first, last = self.days(type_1_days)
        return self._instant(first), self._instant(last + dt.timedelta(days=1))


def window_of(audit: Audit) -> Window:
    start, end = audit.window
    return Window(
        audit.pk,
        audit.kind,
        start,
        end,
        tuple(c.pk for c in audit.scope.all()),
        audit.organization.time_zone,
    )


# --- conditions per model (each on the model named, for one window) -----------------------------


def controls_q(w: Window) -> Q:
    return Q(pk__in=control_ids(w))


def control_ids(w: Window) -> QuerySet[Any]:
    """Ids of the controls mapped to a requirement of the scope (a subquery)."""
    from controls.models import ControlRequirement

    return ControlRequirement.objects.filter(requirement__category_id__in=w.categories).values(
        "control_id"
    )


def evidence_q(w: Window) -> Q:
    """People's evidence of the scope's controls effective in the window (or covering a period
    that overlaps it). The runs of automated tests are reached as test runs."""
    first, last = w.days(TYPE_1_EVIDENCE_DAYS)
    effective = Q(effective_date__gte=first, effective_date__lte=last)
    covering = Q(covers_from__isnull=False, covers_until__isnull=False) & Q(
        covers_from__lte=last, covers_until__gte=first
    )
    return Q(system_key="", controls__in=control_ids(w)) & (effective | covering)


def revisions_q(w: Window) -> Q:
    """Revisions of those items that were effective in the window (their own effective date;
    the item's for revisions recorded before revisions kept one)."""
    from evidence.models import EvidenceItem

    first, last = w.days(TYPE_1_EVIDENCE_DAYS)
    items = EvidenceItem.objects.filter(evidence_q(w)).values("pk")
    own = Q(effective_date__gte=first, effective_date__lte=last)
    legacy = Q(effective_date__isnull=True)
    return Q(item__in=items) & (own | legacy)


def control_tests_q(w: Window) -> Q:
    return Q(control__in=control_ids(w))


def test_runs_q(w: Window) -> Q:
    since, until = w.instants(TYPE_1_RUN_DAYS)
    return Q(
        control_test__control__in=control_ids(w), finished_at__gte=since, finished_at__lt=until
    )


def evidence_requests_q(w: Window) -> Q:
    return Q(controls__in=control_ids(w))


def occurrences_q(w: Window) -> Q:
    from evidence.models import EvidenceRequest

    first, last = w.days(TYPE_1_REVIEW_DAYS)
    requests = EvidenceRequest.objects.filter(evidence_requests_q(w)).values("pk")
    return Q(request__in=requests, due_date__gte=first, due_date__lte=last)


def policy_versions_q(w: Window) -> Q:
    """Versions in force at some time in the window: approved (or since retired), effective on
    or before its last day, and not retired before its first."""
    since, until = w.instants(1)
    return (
        Q(status__in=["approved", "retired"], effective_date__lte=w.end)
        & (Q(retired_at__isnull=True) | Q(retired_at__gte=since))
        & Q(approved_at__lt=until)
    )


def policies_q(w: Window) -> Q:
    from policies.models import PolicyVersion

    return Q(pk__in=PolicyVersion.objects.filter(policy_versions_q(w)).values("policy_id"))


def acknowledgements_q(w: Window) -> Q:
    from policies.models import PolicyVersion

    _, until = w.instants(1)
    versions = PolicyVersion.objects.filter(policy_versions_q(w)).values("pk")
    return Q(version__in=versions, acknowledged_at__lt=until)


def people_q(w: Window) -> Q:
    """People employed at some time in the window."""
    return Q(start_date__lte=w.end) & (Q(end_date__isnull=True) | Q(end_date__gte=w.start))


def vendors_q(w: Window) -> Q:
    """Vendors serving at some time in the window."""
    return Q(onboarded_on__lte=w.end) & (
        Q(offboarded_on__isnull=True) | Q(offboarded_on__gte=w.start)
    )


def vendor_reviews_q(w: Window) -> Q:
    first, last = w.days(TYPE_1_REVIEW_DAYS)
    return Q(reviewed_on__gte=first, reviewed_on__lte=last)
