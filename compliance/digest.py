"""The weekly emails, sent once the week's snapshot is taken: the program's **digest** to each
admin (the weekly page's numbers, the trend chart, what changed, what is at risk) and a short
**your week** to everyone with open items (their *My work*, at most a few of each kind).

Both go through the outbox (``compliance.emails``), one email per person, each with its own
``List-Unsubscribe`` link (RFC 2369, one-click by RFC 8058) that turns that email off for that
organization; Account → Email turns either back on (``Membership.email_weekly_digest`` and
``email_your_week``). A week's emails are queued once (``WeeklyDigest``): the hourly tick and
a retried task can both run, even at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance import charts
from compliance.changes import week_changes
from compliance.emails import email_queue
from compliance.models import (
    ActionItem,
    ActionItemStatus,
    Membership,
    Organization,
    Role,
    User,
    WeeklyDigest,
)
from compliance.readiness import organization_local_date
from compliance.selectors import adoptions_of, forecast_of, long_lead_items, snapshot_trend
from compliance.snapshots import week_label
from compliance.work import work_groups

SALT = "attest.email.unsubscribe"
TREND_WEEKS = 12
ITEMS_PER_KIND = 5  # rows of each list an email shows; the page has the rest


@dataclass(frozen=True)
class EmailKind:
    key: str
    field: str  # the Membership flag
    label: str


KINDS = {
    "digest": EmailKind("digest", "email_weekly_digest", "the weekly digest"),
    "your_week": EmailKind("your_week", "email_your_week", "“Your week”"),
}


# --- Unsubscribing ------------------------------------------------------------------------------


def unsubscribe_token(membership: Membership, kind: str) -> str:
    """A signed token naming the membership and the email; no expiry (an old email's link
    still works), nothing secret in it, and it can only turn an email off."""
    return signing.dumps([membership.pk, kind], salt=SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[Membership, EmailKind] | None:
    try:
        membership_id, kind = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if kind not in KINDS or not isinstance(membership_id, int):
        return None
    membership = (
        Membership.objects.filter(pk=membership_id).select_related("organization", "user").first()
    )
    return (membership, KINDS[kind]) if membership is not None else None


def unsubscribe_url(membership: Membership, kind: str) -> str:
    path = reverse("email_unsubscribe", args=[unsubscribe_token(membership, kind)])
    return f"{settings.SITE_URL}{path}"


def email_preference_set(*, membership: Membership, kind: str, on: bool) -> None:
    field = KINDS[kind].field
    Membership.objects.filter(pk=membership.pk).update(**{field: on})
    setattr(membership, field, on)


def _list_headers(membership: Membership, kind: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(membership, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<{kind.replace('_', '-')}.{membership.organization.slug}.attest>",
    }


# --- What the digest says -----------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def digest_context(*, organization: Organization, week: dt.date, user: User) -> dict[str, Any]:
    """The digest of the week starting Monday ``week``, as ``user`` (an admin) may read it:
    per framework its figure, the change from the week before, the forecast and the long-lead
    controls at risk; what changed; open action items past due; the chart (PNG)."""
    today = organization_local_date(organization)
    adoptions = adoptions_of(organization)
    frameworks: list[dict[str, Any]] = []
    series = []
    for adoption in adoptions:
        trend = snapshot_trend(user=user, adoption=adoption, weeks=TREND_WEEKS, until=week)
        latest = trend[-1] if trend and trend[-1].week == week else None
        previous = trend[-2] if latest is not None and len(trend) > 1 else None
        at_risk = [
            item for item in long_lead_items(user=user, adoption=adoption, today=today) if item.flag
        ]
        frameworks.append(
            {
                "adoption": adoption,
                "name": adoption.framework.name,
                "latest": latest,
                "delta": latest.percent - previous.percent if latest and previous else None,
                "forecast": forecast_of(trend, adoption, today),
                "long_lead": at_risk[:ITEMS_PER_KIND],
                "long_lead_more": max(len(at_risk) - ITEMS_PER_KIND, 0),
            }
        )
        series.append(
            charts.TrendSeries(adoption.framework.name, [(s.week, s.percent) for s in trend])
        )
    single = frameworks[0] if len(frameworks) == 1 else None
    forecast = single["forecast"] if single else None
    line = (
        charts.ForecastLine(forecast.ready_on, forecast.optimistic, forecast.pessimistic)
        if forecast is not None and forecast.ready_on and single and single["latest"]
        and single["latest"].percent < 100
        else None
    )  # fmt: skip
    target = single["adoption"].target_audit_date if single else None
    overdue = ActionItem.objects.filter(
        organization=organization, status=ActionItemStatus.OPEN, due_on__lt=today
    ).select_related("owner")
    changes = week_changes(
        organization=organization, user=user, adoptions=adoptions, week=week, current=False
    )
    weekly = reverse("weekly", args=[organization.slug])
    return {
        "organization": organization,
        "week": week,
        "week_label": week_label(week),
        "frameworks": frameworks,
        "changes": changes,
        "change_kinds": [
            {
                "heading": heading,
                "rows": listed.rows[:ITEMS_PER_KIND],
                "count": listed.count,
                "more": listed.count - len(listed.rows[:ITEMS_PER_KIND]),
            }
            for _, heading, listed in changes.kinds
            if listed.count
        ],
        "overdue_items": list(overdue.order_by("due_on", "pk")[:ITEMS_PER_KIND]),
        "overdue_count": overdue.count(),
        "chart_png": charts.readiness_trend_png(
            series, target=target, forecast=line, width_px=1120, height_px=440, dpi=200
        )
        if series
        else None,
        "chart_text": charts.describe(series, target=target) if series else "",
        "weekly_url": _absolute(f"{weekly}?week={week_label(week)}"),
        "dashboard_url": _absolute(reverse("dashboard", args=[organization.slug])),
    }


def digest_subject_figures(frameworks: list[dict[str, Any]]) -> str:
    parts = []
    for framework in frameworks:
        latest = framework["latest"]
        if latest is None:
            continue
        delta = framework["delta"]
        change = f" ({delta:+d})" if delta else ""
        parts.append(f"{framework['adoption'].framework.short_name} {latest.percent}%{change}")
    return ", ".join(parts)


# --- Queueing the week's emails -----------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    digests: int
    your_week: int


def weekly_emails_queue(
    *, organization: Organization, week: dt.date, now: dt.datetime | None = None
) -> Queued | None:
    """Queue the week's emails unless they were queued already (then None)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            record = WeeklyDigest.objects.create(
                organization=organization, week=week, queued_at=now
            )
            queued = _queue(organization, week)
            record.digests, record.your_week = queued.digests, queued.your_week
            record.save(update_fields=["digests", "your_week"])
    except IntegrityError:
        return None  # another run queued them
    return queued


def _queue(organization: Organization, week: dt.date) -> Queued:
    members = list(
        Membership.objects.active()
        .filter(organization=organization, user__is_active=True)
        .exclude(role=Role.AUDITOR)
        .select_related("user", "organization")
        .order_by("pk")
    )
    digests = 0
    admins = [m for m in members if m.role == Role.ADMIN and m.email_weekly_digest]
    if admins:
        context = digest_context(organization=organization, week=week, user=admins[0].user)
        chart = context.pop("chart_png")
        images = {"trend": chart} if chart else None
        figures = digest_subject_figures(context["frameworks"])
        for membership in admins:
            email_queue(
                template="weekly_digest",
                to=[membership.user.email],
                context={
                    **context,
                    "has_chart": bool(chart),
                    "figures": figures,
                    "recipient": membership.user,
                    "unsubscribe_url": unsubscribe_url(membership, "digest"),
                    "settings_url": _absolute(reverse("email_settings")),
                },
                headers=_list_headers(membership, "digest"),
                images=images,
            )
            digests += 1
    your_week = 0
    for membership in members:
        if not membership.email_your_week:
            continue
        groups = work_groups(user=membership.user, organization=organization, limit=ITEMS_PER_KIND)
        if not groups:
            continue
        email_queue(
            template="your_week",
            to=[membership.user.email],
            context={
                "organization": organization,
                "week_label": week_label(week),
                "recipient": membership.user,
                "groups": groups,
                "total": sum(g.total for g in groups),
                "my_work_url": _absolute(reverse("my_work", args=[organization.slug])),
                "unsubscribe_url": unsubscribe_url(membership, "your_week"),
                "settings_url": _absolute(reverse("email_settings")),
            },
            headers=_list_headers(membership, "your_week"),
        )
        your_week += 1
    return Queued(digests, your_week)


def organizations_due_for_weekly_emails(now: dt.datetime | None = None) -> list[int]:
    """Organizations whose newest due week has its snapshots but not its weekly emails yet
    (a task that died between the two): three queries, whatever the number of organizations."""
    from compliance.models import ReadinessSnapshot
    from compliance.snapshots import latest_due_week

    organizations = list(
        Organization.objects.filter(adopted_frameworks__isnull=False)
        .distinct()
        .only("pk", "time_zone", "snapshot_weekday", "snapshot_hour")
    )
    weeks = {o.pk: latest_due_week(o, now) for o in organizations}
    if not weeks:
        return []
    snapped = set(
        ReadinessSnapshot.objects.filter(
            organization_id__in=list(weeks), week__gte=min(weeks.values())
        ).values_list("organization_id", "week")
    )
    sent = set(
        WeeklyDigest.objects.filter(
            organization_id__in=list(weeks), week__gte=min(weeks.values())
        ).values_list("organization_id", "week")
    )
    return [pk for pk, week in weeks.items() if (pk, week) in snapped and (pk, week) not in sent]
