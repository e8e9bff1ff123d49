"""Due dates of recurring requests: month ends, leap years, time zones."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence import schedule, services
from evidence.models import Cadence, OccurrenceStatus, RequestOccurrence
from tests.conftest import World

D = dt.date


@pytest.mark.parametrize(
    ("first", "cadence", "expected"),
    [
        # Month ends clamp, and come back: computed from the anchor, never from the last date.
        (
            D(2026, 1, 31),
            Cadence.MONTHLY,
            [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)],
        ),
        (D(2028, 1, 31), Cadence.MONTHLY, [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]),
        (
            D(2025, 11, 30),
            Cadence.QUARTERLY,
            [D(2025, 11, 30), D(2026, 2, 28), D(2026, 5, 30), D(2026, 8, 30)],
        ),
        (
            D(2024, 2, 29),
            Cadence.ANNUAL,
            [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2028, 2, 29)][:3],
        ),
        (D(2026, 8, 31), Cadence.SEMI_ANNUAL, [D(2026, 8, 31), D(2027, 2, 28), D(2027, 8, 31)]),
        (D(2026, 12, 28), Cadence.WEEKLY, [D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 11)]),
    ],
)
def test_due_dates_follow_the_anchor(first: dt.date, cadence: str, expected: list[dt.date]) -> None:
    assert [schedule.due_date(first, cadence, n) for n in range(1, len(expected) + 1)] == expected


def test_a_leap_day_anchor_returns_on_the_next_leap_year() -> None:
    assert schedule.due_date(D(2024, 2, 29), Cadence.ANNUAL, 5) == D(2028, 2, 29)


def test_a_period_runs_from_the_day_after_the_previous_due_date() -> None:
    assert schedule.period(D(2026, 1, 31), Cadence.MONTHLY, 2) == (D(2026, 2, 1), D(2026, 2, 28))
    assert schedule.period(D(2026, 1, 31), Cadence.MONTHLY, 3) == (D(2026, 3, 1), D(2026, 3, 31))
    assert schedule.period(D(2026, 3, 31), Cadence.QUARTERLY, 1) == (D(2026, 1, 1), D(2026, 3, 31))
    assert schedule.period(D(2026, 1, 4), Cadence.WEEKLY, 1) == (D(2025, 12, 29), D(2026, 1, 4))


def test_occurrences_exist_once_their_period_has_begun() -> None:
    # Quarterly, first due 31 March: the second period starts on 1 April.
    assert schedule.sequences_started(D(2026, 3, 31), Cadence.QUARTERLY, D(2026, 3, 31)) == [1]
    assert schedule.sequences_started(D(2026, 3, 31), Cadence.QUARTERLY, D(2026, 4, 1)) == [1, 2]
    assert schedule.sequences_started(D(2026, 3, 31), Cadence.ONE_OFF, D(2030, 1, 1)) == [1]
    assert schedule.sequences_started(D(2026, 3, 31), Cadence.EVENT_DRIVEN, D(2030, 1, 1)) == []


def test_event_driven_and_one_off_requests_have_no_series() -> None:
    with pytest.raises(ValueError, match="no 2th due date"):
        schedule.due_date(D(2026, 1, 1), Cadence.ONE_OFF, 2)


def test_scheduling_is_idempotent(world: World) -> None:
    request = services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Access review",
        cadence=Cadence.MONTHLY,
        first_due_date=D(2026, 1, 31),
        owner=world.users["owner"],
        controls=[world.control],
    )
    first = services.request_schedule(request, today=D(2026, 3, 15))
    again = services.request_schedule(request, today=D(2026, 3, 15))
    assert [o.due_date for o in first] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)]
    assert again == []
    assert request.occurrences.count() == 3


def test_overdue_follows_the_organizations_own_calendar(world: World) -> None:
    """Kiritimati (UTC+14) and Pago Pago (UTC-11) never share a date: the same due date is
    already past in one and not yet in the other, whatever the time of day of the test run."""
    early, late = world.org, world.other_org
    early.time_zone, late.time_zone = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    early.save()
    late.save()
    due = services.organization_today(late)  # still "today" in Pago Pago
    # 25 hours apart: one day ahead, or two between 10:00 and 11:00 UTC.
    assert services.organization_today(early) - due in (dt.timedelta(days=1), dt.timedelta(days=2))
    occurrences = {}
    for organization, control in ((early, world.control), (late, world.foreign_control)):
        request = services.request_create(
            actor=world.users["admin"] if organization == early else world.users["outsider"],
            organization=organization,
            title="Review",
            cadence=Cadence.ONE_OFF,
            first_due_date=due,
            controls=[control],
        )
        [occurrences[organization.slug]] = services.request_schedule(request)
        services.occurrences_mark_overdue(organization)
    statuses = {
        slug: RequestOccurrence.objects.get(pk=o.pk).status for slug, o in occurrences.items()
    }
    assert statuses == {early.slug: OccurrenceStatus.OVERDUE, late.slug: OccurrenceStatus.OPEN}
