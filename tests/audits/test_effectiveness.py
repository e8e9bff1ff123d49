"""Operating effectiveness over the period (issue 12, item 4): expected against delivered
occurrences at the period's boundaries with the missing periods named in words, the automated
tests' scheduled runs, passes and failing intervals with their remediation; who sees the page;
a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.effectiveness import effectiveness, expected_slots, period_name
from audits.models import Audit
from controls.models import Finding, TestException
from evidence.models import EvidenceItem, EvidenceRequest, RequestOccurrence
from tests.audits.conftest import PERIOD
from tests.audits.sampling_fixtures import add_personas, fresh, make_test, run, utc
from tests.conftest import World
from tests.factories import ControlFactory, map_control

pytestmark = pytest.mark.django_db


def request(world: World, title: str, cadence: str, first_due: dt.date, **kw: Any) -> Any:
    made = EvidenceRequest.objects.create(
        organization=kw.pop("organization", world.org),
        title=title,
        cadence=cadence,
        first_due_date=first_due,
    )
    made.controls.set([kw.pop("control", world.control)])
    return made


def due(made: EvidenceRequest, sequence: int, day: dt.date, status: str = "open") -> Any:
    return RequestOccurrence.objects.create(
        request=made, sequence=sequence, due_date=day, status=status
    )


def figures(world: World, audit: Audit, persona: str = "auditor") -> Any:
    return effectiveness(user=fresh(world.users[persona]), audit=audit)


def test_periods_in_words() -> None:
    assert period_name(dt.date(2026, 4, 1), dt.date(2026, 6, 30)) == "Q2 2026"
    assert period_name(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == "March 2026"
    assert period_name(dt.date(2026, 2, 1), dt.date(2026, 2, 28)) == "February 2026"
    assert period_name(dt.date(2026, 7, 1), dt.date(2026, 12, 31)) == "H2 2026"
    assert period_name(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == "2026"
    assert period_name(dt.date(2026, 3, 2), dt.date(2026, 3, 8)) == "the week of 2 Mar 2026"
    assert period_name(dt.date(2026, 1, 16), dt.date(2026, 4, 15)) == "16 Jan to 15 Apr 2026"


def test_a_quarterly_review_expected_twice_delivered_once_q2_missing(
    world: World, engagement: Audit
) -> None:
    review = request(world, "Quarterly access review", "quarterly", dt.date(2026, 3, 31))
    due(review, 1, dt.date(2026, 3, 31), "accepted")
    due(review, 2, dt.date(2026, 6, 30), "overdue")
    (row,) = figures(world, engagement).requests
    assert (row.expected, row.delivered) == (2, 1)
    assert [d.name for d in row.missing] == ["Q2 2026"]
    assert row.missing[0].status == "overdue"
    assert [c.ref_id for c in row.controls] == ["IAM-01"]


def test_occurrences_due_on_the_first_and_last_day_count_a_day_outside_does_not(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    # Monthly, due on the last day of each month: 31 Dec (a day before) to 31 Jul (after).
    monthly = request(world, "Monthly vulnerability scan", "monthly", dt.date(2025, 12, 31))
    due(monthly, 1, dt.date(2025, 12, 31), "accepted")
    due(monthly, 2, dt.date(2026, 1, 31), "accepted")
    fulfilled = due(monthly, 5, dt.date(2026, 4, 30), "open")
    make_evidence(dt.date(2026, 4, 30), occurrence=fulfilled)
    due(monthly, 7, PERIOD[1], "submitted")
    due(monthly, 8, dt.date(2026, 7, 31), "accepted")
    # Quarterly from the first day of the period: 1 Jan and 1 Apr, not 1 Jul.
    first_day = request(world, "Backup restore test", "quarterly", PERIOD[0])
    due(first_day, 1, PERIOD[0], "accepted")
    rows = {r.request.title: r for r in figures(world, engagement).requests}
    scan = rows["Monthly vulnerability scan"]
    assert (scan.expected, scan.delivered) == (6, 3)
    assert [d.name for d in scan.missing] == ["February 2026", "March 2026", "May 2026"]
    assert scan.dues[0].end == dt.date(2026, 1, 31)
    assert scan.dues[-1].end == PERIOD[1]
    restore = rows["Backup restore test"]
    assert [d.end for d in restore.dues] == [PERIOD[0], dt.date(2026, 4, 1)]
    assert restore.delivered == 1


def test_requests_out_of_scope_or_of_another_organization_are_left_out(
    world: World, engagement: Audit
) -> None:
    outside = ControlFactory(organization=world.org, ref_id="BCK-01", name="Backups")
    request(world, "Out of scope", "monthly", dt.date(2026, 1, 31), control=outside)
    request(
        world, "Globex review", "monthly", dt.date(2026, 1, 31),
        organization=world.other_org, control=world.foreign_control,
    )  # fmt: skip
    request(world, "Event-driven", "event_driven", dt.date(2026, 1, 31))
    assert figures(world, engagement).requests == []
    assert figures(world, engagement, "admin").requests == []


def test_scheduled_runs_passes_and_failing_intervals_with_their_remediation(
    world: World, engagement: Audit
) -> None:
    test = make_test(world, interval_minutes=60)
    run(test, utc(PERIOD[0] - dt.timedelta(days=1), 23), "failed")  # before: ignored
    run(test, utc(PERIOD[0], 0), "passed")
    run(test, utc(dt.date(2026, 2, 1), 10), "failed")
    run(test, utc(dt.date(2026, 2, 1), 11), "failed")
    run(test, utc(dt.date(2026, 2, 1), 12), "error")
    run(test, utc(dt.date(2026, 2, 2), 9), "passed")
    run(test, utc(dt.date(2026, 3, 1), 9), "passed", trigger="manual")
    run(test, utc(PERIOD[1], 23), "failed")
    run(test, utc(PERIOD[1] + dt.timedelta(days=1), 0, 30), "passed")  # after: ignored
    finding = Finding.objects.create(
        control_test=test, resource_id="u-1", resource_name="alice", severity="high",
        opened_at=utc(dt.date(2026, 2, 1), 10), due_date=dt.date(2026, 2, 8),
        resolved_at=utc(dt.date(2026, 2, 2), 9),
    )  # fmt: skip
    exception = TestException.objects.create(
        control_test=test, resource_id="u-2", reason="Service account, reviewed",
        expires_on=dt.date(2026, 3, 1),
    )  # fmt: skip
    TestException.objects.filter(pk=exception.pk).update(created_at=utc(dt.date(2026, 2, 1), 12))
    (row,) = figures(world, engagement).tests
    assert row.expected == 181 * 24  # hourly, every hour of the period
    assert (row.finished, row.scheduled) == (7, 6)
    assert (row.passed, row.failed, row.errored) == (3, 3, 1)
    assert row.pass_share == pytest.approx(3 / 7)
    first, last = row.intervals
    assert (first.started, first.ended) == (
        utc(dt.date(2026, 2, 1), 10),
        utc(dt.date(2026, 2, 2), 9),
    )
    assert first.findings == [finding]
    assert [e.pk for e in first.exceptions] == [exception.pk]
    assert (last.started, last.ended) == (utc(PERIOD[1], 23), None)


def test_a_test_created_during_the_period_expects_slots_from_then() -> None:
    class Test:
        schedule_kind = "cron"
        cron = "0 9 * * 1"  # Mondays at 09:00
        interval_minutes = None
        created_at = utc(dt.date(2026, 3, 1), 0)

    # Mondays from 2 March to 29 June 2026.
    assert expected_slots(Test(), utc(PERIOD[0], 0), utc(dt.date(2026, 7, 1), 0), "UTC") == 18
    Test.schedule_kind = "push"
    assert expected_slots(Test(), utc(PERIOD[0], 0), utc(dt.date(2026, 7, 1), 0), "UTC") is None


READERS = {"admin": 200, "owner": 200, "member": 200, "viewer": 200, "auditor": 200}
HIDDEN = {
    "other_auditor": 404, "revoked_auditor": 404, "expired_auditor": 404, "outsider": 404,
    "anonymous": 302,
}  # fmt: skip


def test_who_sees_the_page(
    world: World, engagement: Audit, make_audit: Callable[..., Audit]
) -> None:
    add_personas(world, engagement, make_audit)
    url = reverse("audit_effectiveness", args=["acme", engagement.pk])
    expected = {**READERS, **HIDDEN}
    got = {
        p: (Client() if p == "anonymous" else world.client(p)).get(url).status_code
        for p in expected
    }
    assert got == expected
    page = world.client("auditor").get(url).content.decode()
    assert ">Operating effectiveness</a>" in page


def test_the_page_names_the_missing_quarter(world: World, engagement: Audit) -> None:
    review = request(world, "Quarterly access review", "quarterly", dt.date(2026, 3, 31))
    due(review, 1, dt.date(2026, 3, 31), "accepted")
    page = world.client("auditor").get(reverse("audit_effectiveness", args=["acme", engagement.pk]))
    text = page.content.decode()
    assert "1 of 2" in text and "Q2 2026" in text


def test_the_page_in_a_fixed_number_of_queries(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    url = reverse("audit_effectiveness", args=["acme", engagement.pk])
    client = world.client("auditor")

    def grow(start: int, count: int) -> None:
        for n in range(start, start + count):
            control = ControlFactory(
                organization=world.org, ref_id=f"OPS-{n:02}", name=f"Ops {n}", frequency="monthly"
            )
            map_control(control, world.req_b)
            make_evidence(dt.date(2026, 2, 1), control=control)
            made = request(world, f"Review {n}", "monthly", dt.date(2026, 1, 31))
            due(made, 1, dt.date(2026, 1, 31), "accepted")
            test = make_test(world, f"Test {n}")
            run(test, utc(dt.date(2026, 2, 1), 1), "failed")
            run(test, utc(dt.date(2026, 2, 1), 2), "passed")
            Finding.objects.create(
                control_test=test, resource_id="r", severity="low",
                opened_at=utc(dt.date(2026, 2, 1), 1), due_date=dt.date(2026, 3, 1),
            )  # fmt: skip

    def measure() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    grow(1, 1)
    small = measure()
    grow(2, 6)
    assert measure() == small
    result = figures(world, engagement)
    assert len(result.tests) == len(result.controls) == 7


def test_what_falls_due_after_today_is_not_expected_yet(
    world: World, make_audit: Callable[..., Audit]
) -> None:
    from audits import services as audit_services

    audit = make_audit(name="Ongoing", report_date=dt.date(2027, 6, 30))
    audit_services.auditor_invite(
        actor=world.users["admin"], audit=audit, email="auditor@acme.test"
    )
    review = request(world, "Quarterly access review", "quarterly", dt.date(2026, 3, 31))
    due(review, 1, dt.date(2026, 3, 31), "accepted")
    test = make_test(world, interval_minutes=60 * 24)
    run(test, utc(dt.date(2026, 1, 10), 0))
    now = utc(dt.date(2026, 5, 1), 0)
    result = effectiveness(user=fresh(world.users["auditor"]), audit=audit, now=now)
    (row,) = result.requests
    assert (row.expected, row.delivered, row.upcoming) == (1, 1, 1)
    assert result.ongoing
    assert result.tests[0].expected == 120  # 1 Jan to 30 Apr, daily


def test_a_recurring_control_without_a_request_by_calendar_period(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    request(world, "Quarterly access review", "quarterly", dt.date(2026, 3, 31))
    changes = world.unowned_control
    changes.frequency = "monthly"
    changes.save()
    make_evidence(PERIOD[0] - dt.timedelta(days=1), control=changes)
    make_evidence(PERIOD[0], control=changes)
    make_evidence(
        dt.date(2026, 3, 31), control=changes,
        covers_from=dt.date(2026, 3, 1), covers_until=dt.date(2026, 3, 31),
    )  # fmt: skip
    make_evidence(PERIOD[1], control=changes)
    make_evidence(dt.date(2026, 2, 10), control=world.foreign_control, organization=world.other_org)
    result = figures(world, engagement)
    (row,) = result.controls  # IAM-01 has its request; CHG-01 has none
    assert row.control == changes
    assert (row.expected, row.delivered) == (6, 3)
    assert [d.name for d in row.missing] == ["February 2026", "April 2026", "May 2026"]


def test_a_type_1_engagement_offers_no_effectiveness_tab_and_says_why(
    world: World, make_audit: Any
) -> None:
    from django.urls import reverse

    from audits import services

    type_1 = make_audit(name="Type I", kind="type1", as_of=dt.date(2026, 6, 30))
    services.auditor_invite(actor=world.users["admin"], audit=type_1, email="auditor@acme.test")
    client = world.client("auditor")
    overview = client.get(reverse("audit_detail", args=["acme", type_1.pk])).content.decode()
    assert "Operating effectiveness" not in overview
    page = client.get(reverse("audit_effectiveness", args=["acme", type_1.pk]))
    assert page.status_code == 200
    assert "measured over a Type II period" in page.content.decode()
