"""The snapshots API (filters, errors, pages, cost), the target audit date (page and API), and the
selectors the weekly page calls: the trend, the forecast and the long-lead controls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.forecast import ForecastStatus
from compliance.models import AuditEvent, ReadinessSnapshot
from compliance.selectors import (
    framework_forecast,
    long_lead_after_audit,
    long_lead_items,
    snapshot_trend,
)
from compliance.snapshots import week_label, week_monday
from controls import services as controls
from controls.models import AdoptedFramework, ControlStatus
from tests.conftest import World
from tests.factories import CategoryFactory, FrameworkFactory, RequirementFactory, adopt

pytestmark = pytest.mark.django_db

URL = "/api/organizations/acme/readiness/snapshots/"
LAST = week_monday(timezone.localdate()) - dt.timedelta(weeks=1)


def make_snapshots(world: World, percents: list[int], *, framework: Any = None) -> None:
    """Snapshots of the last weeks, oldest first, with these percents (as the tick writes them)."""
    framework = framework or world.framework
    for n, percent in enumerate(reversed(percents)):
        week = LAST - dt.timedelta(weeks=n)
        ReadinessSnapshot.objects.create(
            organization=world.org,
            framework=framework,
            week=week,
            as_of=timezone.now(),
            computed_at=timezone.now(),
            requirements_total=100,
            requirements_ready=percent,
            requirements_gaps=0,
            percent=percent,
        )


def second_framework(world: World) -> Any:
    framework = FrameworkFactory(slug="iso", short_name="ISO", name="Information Security")
    annex = CategoryFactory(framework=framework, code="A5", mandatory=True)
    RequirementFactory(category=annex, ref_id="A.5.1")
    adopt(world.org, framework, annex)
    return framework


# --- The list -----------------------------------------------------------------------------------


def test_viewers_read_the_snapshots_newest_week_first(world: World) -> None:
    make_snapshots(world, [10, 20, 30])
    body = world.api("viewer").get(URL).json()
    assert body["count"] == 3
    first = body["results"][0]
    assert (first["framework"], first["week"], first["iso_week"], first["percent"]) == (
        "tsc",
        LAST.isoformat(),
        week_label(LAST),
        30,
    )
    assert [r["percent"] for r in body["results"]] == [30, 20, 10]
    # Keys a snapshot does not hold (written before a count existed) read 0.
    assert first["counts"]["vendors_overdue"] == 0
    assert first["controls_by_blocker"]["evidence_stale"] == 0


def test_the_list_filters_by_framework_and_weeks(world: World) -> None:
    make_snapshots(world, [10, 20, 30, 40])
    iso = second_framework(world)
    make_snapshots(world, [50], framework=iso)
    api = world.api("member")

    only_iso = api.get(URL, {"framework": "iso"}).json()
    assert [(r["framework"], r["percent"]) for r in only_iso["results"]] == [("iso", 50)]
    # from/to as weeks or as dates inside the weeks; both ends included.
    two_weeks_ago = LAST - dt.timedelta(weeks=2)
    by_week = api.get(
        URL, {"framework": "tsc", "from": week_label(two_weeks_ago), "to": week_label(LAST)}
    ).json()
    assert [r["percent"] for r in by_week["results"]] == [40, 30, 20]
    by_date = api.get(
        URL,
        {
            "framework": "tsc",
            "from": (two_weeks_ago + dt.timedelta(days=6)).isoformat(),  # its Sunday
            "to": (LAST - dt.timedelta(weeks=1, days=-2)).isoformat(),  # a Wednesday
        },
    ).json()
    assert [r["percent"] for r in by_date["results"]] == [30, 20]
    ordered = api.get(URL, {"framework": "tsc", "ordering": "percent"}).json()
    assert [r["percent"] for r in ordered["results"]] == [10, 20, 30, 40]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"framework": "nope"}, "framework"),
        ({"framework": "tsc-globex"}, "framework"),
        ({"from": "last week"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "2026-W60"}, "to"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-W10", "to": "2026-W09"}, "to"),
        ({"page_size": "0"}, "page_size"),
        ({"ordering": "organization"}, "ordering"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(
    world: World, params: dict[str, str], field: str
) -> None:
    make_snapshots(world, [10])
    response = world.api("viewer").get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_framework_only_another_organization_adopted_is_refused(world: World) -> None:
    framework = FrameworkFactory(slug="globex-only", short_name="G", name="Globex only")
    category = CategoryFactory(framework=framework, code="G1", mandatory=True)
    adopt(world.other_org, framework, category)
    response = world.api("viewer").get(URL, {"framework": "globex-only"})
    assert response.status_code == 400
    assert response.json()["framework"] == [
        "'globex-only' is not a framework this organization adopted."
    ]


def test_the_list_is_paginated_and_its_queries_do_not_grow(world: World) -> None:
    api = world.api("admin")
    make_snapshots(world, list(range(5)))
    api.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert api.get(URL).status_code == 200
    ReadinessSnapshot.objects.all().delete()
    make_snapshots(world, list(range(90)))
    with CaptureQueriesContext(connection) as many:
        body = api.get(URL).json()
    assert len(few) == len(many) <= 10
    assert body["count"] == 90 and len(body["results"]) == 50 and body["next"]


def test_another_organizations_snapshots_never_show(world: World) -> None:
    make_snapshots(world, [10])
    body = world.api("outsider").get("/api/organizations/globex/readiness/snapshots/").json()
    assert body["count"] == 0


def test_the_schema_documents_the_operation_and_its_filters(world: World) -> None:
    schema = world.api("viewer").get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/organizations/{org}/readiness/snapshots/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"framework", "from", "to", "page", "page_size", "ordering"} <= names
    assert operation["tags"] == ["readiness"]
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])


# --- The target audit date ----------------------------------------------------------------------


def test_an_admin_sets_the_target_audit_date_through_the_api(world: World) -> None:
    url = f"/api/organizations/acme/adopted-frameworks/{world.adoption.pk}/"
    response = world.api("admin").patch(url, {"target_audit_date": "2027-03-31"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["target_audit_date"] == "2027-03-31"
    world.adoption.refresh_from_db()
    assert world.adoption.target_audit_date == dt.date(2027, 3, 31)
    event = AuditEvent.objects.get(action="framework.target_audit_date")
    assert (event.before, event.after) == (
        {"target_audit_date": None},
        {"target_audit_date": "2027-03-31"},
    )


@pytest.mark.parametrize("value", ["3027-01-01", "1999-12-31", "soon"])
def test_an_unlikely_target_audit_date_is_refused(world: World, value: str) -> None:
    url = f"/api/organizations/acme/adopted-frameworks/{world.adoption.pk}/"
    response = world.api("admin").patch(url, {"target_audit_date": value}, format="json")
    assert response.status_code == 400
    assert "target_audit_date" in response.json()
    world.adoption.refresh_from_db()
    assert world.adoption.target_audit_date is None


def test_members_cannot_set_the_target_audit_date(world: World) -> None:
    url = f"/api/organizations/acme/adopted-frameworks/{world.adoption.pk}/"
    response = world.api("member").patch(url, {"target_audit_date": "2027-03-31"}, format="json")
    assert response.status_code == 403
    world.adoption.refresh_from_db()
    assert world.adoption.target_audit_date is None


def test_an_admin_sets_it_on_the_framework_page(world: World) -> None:
    client = world.client("admin")
    page = client.get(reverse("framework_detail", args=["acme", "tsc"])).content.decode()
    assert 'name="target_audit_date"' in page
    response = client.post(
        reverse("framework_adopt", args=["acme", "tsc"]),
        {"scope": ["SEC"], "target_audit_date": "2027-06-30"},
    )
    assert response.status_code == 302
    world.adoption.refresh_from_db()
    assert world.adoption.target_audit_date == dt.date(2027, 6, 30)
    # A viewer sees it, without the form.
    viewer_page = world.client("viewer").get(reverse("framework_detail", args=["acme", "tsc"]))
    text = viewer_page.content.decode()
    assert "Target audit date: June 30, 2027" in text or "Target audit date: 30 June 2027" in text
    assert 'name="target_audit_date"' not in text


def test_a_bad_date_on_the_page_changes_nothing(world: World) -> None:
    response = world.client("admin").post(
        reverse("framework_adopt", args=["acme", "tsc"]),
        {"scope": ["SEC"], "target_audit_date": "not a date"},
        follow=True,
    )
    assert "Target audit date:" in response.content.decode()
    world.adoption.refresh_from_db()
    assert world.adoption.target_audit_date is None


# --- Selectors for the weekly page --------------------------------------------------------------


def test_the_trend_is_oldest_first_and_capped(world: World) -> None:
    make_snapshots(world, [10, 20, 30, 40])
    trend = snapshot_trend(user=world.users["viewer"], adoption=world.adoption, weeks=3)
    assert [s.percent for s in trend] == [20, 30, 40]
    assert snapshot_trend(user=world.users["auditor"], adoption=world.adoption) == []


def test_the_forecast_reads_the_last_snapshots_and_the_target(world: World) -> None:
    world.adoption.target_audit_date = LAST + dt.timedelta(weeks=20)
    world.adoption.save()
    make_snapshots(world, [10, 20, 30, 40])
    with CaptureQueriesContext(connection) as captured:
        result = framework_forecast(user=world.users["viewer"], adoption=world.adoption)
    assert len(captured) <= 2  # the snapshots (and the viewer's memberships, once)
    assert result.status is ForecastStatus.ON_TRACK
    assert result.ready_on == LAST + dt.timedelta(days=6, weeks=6)
    nothing = framework_forecast(user=world.users["auditor"], adoption=world.adoption)
    assert nothing.status is ForecastStatus.NOT_ENOUGH_DATA


def test_long_lead_controls_due_after_the_audit_are_listed(world: World) -> None:
    admin = world.users["admin"]
    audit = dt.date(2027, 3, 31)
    AdoptedFramework.objects.filter(pk=world.adoption.pk).update(target_audit_date=audit)
    adoption = AdoptedFramework.objects.get(pk=world.adoption.pk)

    def long_lead(control: Any, target: dt.date, **changes: Any) -> None:
        controls.control_update(
            actor=admin,
            control=control,
            changes={"long_lead": True, "target_date": target, **changes},
        )

    long_lead(world.control, audit + dt.timedelta(days=30))  # flagged
    long_lead(world.unowned_control, audit - dt.timedelta(days=30))  # in time
    late_but_done = controls.control_create(
        actor=admin,
        organization=world.org,
        ref_id="DONE-01",
        name="Done already",
        category="access",
        frequency="event_driven",
        requirements=[world.req_gap],
    )
    long_lead(late_but_done, audit + dt.timedelta(days=60), status=ControlStatus.IMPLEMENTED)
    out_of_scope = controls.control_create(
        actor=admin,
        organization=world.org,
        ref_id="AV-01",
        name="Backups",
        category="access",
        frequency="event_driven",
        requirements=[world.req_optional],
    )
    long_lead(out_of_scope, audit + dt.timedelta(days=90))

    flagged = long_lead_after_audit(user=world.users["viewer"], adoption=adoption)
    # Every long-lead control not in place, soonest target first, each against its plan.
    today = dt.date(2027, 3, 15)
    items = long_lead_items(user=world.users["viewer"], adoption=adoption, today=today)
    assert [(i.control.ref_id, i.flag) for i in items] == [
        ("CHG-01", "Past its target date"),  # 1 March
        ("IAM-01", "Planned after the audit date"),
    ]
    assert long_lead_items(user=world.users["auditor"], adoption=adoption, today=today) == []

    assert [c.ref_id for c in flagged] == ["IAM-01"]
    assert long_lead_after_audit(user=world.users["auditor"], adoption=adoption) == []
    adoption.target_audit_date = None
    assert long_lead_after_audit(user=world.users["viewer"], adoption=adoption) == []
