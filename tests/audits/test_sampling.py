"""Populations and samples (issue 12, item 7): built from the engagement's window and scope
only (boundary days, another organization's rows never), frozen, drawn reproducibly with the
seed stored, sized by the table and capped; only the engagement's auditors create them, readers
see them; pages and API, with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from audits import services as audit_services
from audits.models import Audit, Population, PopulationKind, Sample
from audits.sampling import services
from compliance.models import AuditEvent, Role
from controls.models import TestResult
from evidence.models import EvidenceItem, EvidenceRequest, RequestOccurrence
from people.models import PersonnelRecord
from tests.audits.conftest import PERIOD
from tests.audits.sampling_fixtures import add_personas, fresh, make_test, person, run, utc
from tests.conftest import World
from tests.factories import ControlFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas(world: World, engagement: Audit, make_audit: Callable[..., Audit]) -> World:
    return add_personas(world, engagement, make_audit)


DAY_BEFORE = PERIOD[0] - dt.timedelta(days=1)
DAY_AFTER = PERIOD[1] + dt.timedelta(days=1)


def create(world: World, audit: Audit, kind: str, **kw: Any) -> Population:
    return services.population_create(
        actor=fresh(world.users["auditor"]),
        audit=audit,
        name=kw.pop("name", f"Population of {kind}"),
        kind=kind,
        **kw,
    )


def labels(population: Population) -> list[str]:
    return [i.label.split(" (")[0] for i in population.items.order_by("position")]


# --- building from the window and scope ----------------------------------------------------------


def test_new_hires_from_the_first_to_the_last_day_of_the_period(
    world: World, engagement: Audit
) -> None:
    person(world, "First Day", PERIOD[0])
    person(world, "Last Day", PERIOD[1])
    person(world, "Day Before", DAY_BEFORE)
    person(world, "Day After", DAY_AFTER)
    person(world, "Globex Hire", dt.date(2026, 3, 1), organization=world.other_org)
    population = create(world, engagement, PopulationKind.NEW_HIRES)
    assert labels(population) == ["First Day", "Last Day"]
    assert population.item_count == 2
    assert [i.occurred_on for i in population.items.all()] == [PERIOD[0], PERIOD[1]]
    event = AuditEvent.objects.filter(action="audit.population_create").get()
    assert event.after["items"] == 2 and event.actor_id == world.users["auditor"].pk


def test_terminations_from_the_window_only(world: World, engagement: Audit) -> None:
    person(world, "Left First Day", dt.date(2024, 1, 1), PERIOD[0])
    person(world, "Left Last Day", dt.date(2024, 1, 1), PERIOD[1])
    person(world, "Left Before", dt.date(2024, 1, 1), DAY_BEFORE)
    person(world, "Still Here", dt.date(2024, 1, 1))
    population = create(world, engagement, PopulationKind.TERMINATIONS)
    assert labels(population) == ["Left First Day", "Left Last Day"]


def test_a_population_is_frozen_when_created(world: World, engagement: Audit) -> None:
    hire = person(world, "Ada", dt.date(2026, 2, 1))
    population = create(world, engagement, PopulationKind.NEW_HIRES)
    person(world, "Later Entry", dt.date(2026, 2, 2))
    hire.full_name = "Renamed"
    hire.save()
    population.refresh_from_db()
    assert population.item_count == 1
    assert labels(population) == ["Ada"]


@pytest.fixture
def quarterly(world: World) -> EvidenceRequest:
    request = EvidenceRequest.objects.create(
        organization=world.org, title="Quarterly access review", cadence="quarterly",
        first_due_date=dt.date(2025, 12, 31),
    )  # fmt: skip
    request.controls.set([world.control])
    return request


def occurrence(request: EvidenceRequest, sequence: int, due: dt.date, **kw: Any) -> Any:
    return RequestOccurrence.objects.create(request=request, sequence=sequence, due_date=due, **kw)


def test_occurrences_of_the_period_with_their_evidence(
    world: World,
    engagement: Audit,
    quarterly: EvidenceRequest,
    make_evidence: Callable[..., EvidenceItem],
) -> None:
    occurrence(quarterly, 1, DAY_BEFORE)
    first = occurrence(quarterly, 2, PERIOD[0], status="accepted")
    occurrence(quarterly, 3, PERIOD[1])
    occurrence(quarterly, 4, DAY_AFTER)
    item = make_evidence(PERIOD[0], occurrence=first)
    population = create(world, engagement, PopulationKind.OCCURRENCES, control=world.control)
    items = list(population.items.order_by("position"))
    assert [i.occurred_on for i in items] == [PERIOD[0], PERIOD[1]]
    assert items[0].evidence_id == item.pk
    assert items[0].evidence_revision_id == item.latest_revision_id
    assert items[1].evidence_id is None


def test_occurrences_of_requests_out_of_scope_are_left_out(world: World, engagement: Audit) -> None:
    outside = ControlFactory(organization=world.org, ref_id="BCK-01", name="Backups")
    request = EvidenceRequest.objects.create(
        organization=world.org, title="Backups", cadence="monthly",
        first_due_date=dt.date(2026, 1, 31),
    )  # fmt: skip
    request.controls.set([outside])
    occurrence(request, 1, dt.date(2026, 1, 31))
    assert create(world, engagement, PopulationKind.OCCURRENCES).item_count == 0


def test_merged_pull_requests_from_the_github_checks_results(
    world: World, engagement: Audit
) -> None:
    test = make_test(world, "PRs reference a ticket", check_key=services.PR_CHECK_KEY)
    foreign = make_test(
        world, "Globex PRs", check_key=services.PR_CHECK_KEY,
        organization=world.other_org, control=world.foreign_control,
    )  # fmt: skip

    def result(r: Any, number: int, merged: dt.datetime) -> None:
        TestResult.objects.create(
            run=r, resource_id=f"acme/app#{number}", resource_name=f"acme/app#{number} Fix",
            status="pass", raw={"merged_at": merged.isoformat(), "author": "dev"},
        )  # fmt: skip

    early = run(test, utc(PERIOD[0], 6))
    result(early, 1, utc(DAY_BEFORE, 23))  # merged the day before: out
    result(early, 2, utc(PERIOD[0], 1))  # merged on the first day
    late = run(test, utc(PERIOD[1], 23))
    result(late, 2, utc(PERIOD[0], 1))  # the same pull request seen again: once
    result(late, 3, utc(PERIOD[1], 22))  # merged on the last day
    outside = run(test, utc(DAY_AFTER, 6))
    result(outside, 4, utc(DAY_AFTER, 1))
    result(run(foreign, utc(dt.date(2026, 3, 1))), 5, utc(dt.date(2026, 3, 1), 1))
    population = create(world, engagement, PopulationKind.MERGED_PULL_REQUESTS)
    assert labels(population) == ["acme/app#2 Fix", "acme/app#3 Fix"]
    assert [i.occurred_on for i in population.items.all()] == [PERIOD[0], PERIOD[1]]


def test_test_runs_of_one_control(world: World, engagement: Audit) -> None:
    test = make_test(world)
    other = make_test(world, "Reviews", control=world.unowned_control)
    run(test, utc(PERIOD[0], 0, 0))
    run(test, utc(DAY_BEFORE, 23, 59))
    run(other, utc(dt.date(2026, 3, 1)))
    population = create(world, engagement, PopulationKind.TEST_RUNS, control=world.control)
    assert population.item_count == 1
    assert create(world, engagement, PopulationKind.TEST_RUNS).item_count == 2


def test_a_runs_item_keeps_the_runs_frozen_outcome_as_its_evidence(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    snapshot = make_evidence(dt.date(2026, 3, 1), title="Run snapshot")
    run(make_test(world), utc(dt.date(2026, 3, 1)), evidence_revision=snapshot.latest_revision)
    (item,) = create(world, engagement, PopulationKind.TEST_RUNS).items.all()
    assert (item.evidence_id, item.evidence_revision_id) == (
        snapshot.pk,
        snapshot.latest_revision_id,
    )


def test_a_population_above_the_maximum_is_refused(
    world: World, engagement: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "MAX_POPULATION_ITEMS", 2)
    test = make_test(world)
    for hour in range(3):
        run(test, utc(dt.date(2026, 3, 1), hour))
    with pytest.raises(ValidationError) as caught:
        create(world, engagement, PopulationKind.TEST_RUNS)
    assert "more than 2" in caught.value.message_dict["kind"][0]
    for n in range(3):
        person(world, f"Hire {n}", dt.date(2026, 3, 1))
    with pytest.raises(ValidationError):
        create(world, engagement, PopulationKind.NEW_HIRES)
    assert not Population.objects.exists()


def test_a_control_out_of_scope_is_refused(world: World, engagement: Audit) -> None:
    with pytest.raises(ValidationError) as caught:
        create(world, engagement, PopulationKind.TEST_RUNS, control=world.foreign_control)
    assert "control" in caught.value.message_dict
    assert not Population.objects.exists()


# --- drawing -------------------------------------------------------------------------------------


@pytest.fixture
def hires(world: World, engagement: Audit) -> Population:
    for n in range(30):
        person(world, f"Hire {n:02}", PERIOD[0] + dt.timedelta(days=n))
    return create(world, engagement, PopulationKind.NEW_HIRES)


def drawn(sample: Sample) -> list[int]:
    return list(sample.items.order_by("position").values_list("item_id", flat=True))


def test_the_same_seed_draws_the_same_sample(world: World, hires: Population) -> None:
    auditor = fresh(world.users["auditor"])
    one = services.sample_draw(actor=auditor, population=hires, size=5, seed=12345)
    two = services.sample_draw(actor=auditor, population=hires, size=5, seed=12345)
    other = services.sample_draw(actor=auditor, population=hires, size=5, seed=54321)
    assert one.seed == 12345 and len(drawn(one)) == 5
    assert drawn(one) == drawn(two)
    assert drawn(one) != drawn(other)
    ids = list(hires.items.order_by("position").values_list("pk", flat=True))
    assert drawn(one) == services.draw(ids, 5, 12345)


def test_a_new_seed_is_chosen_and_stored_when_none_is_given(
    world: World, hires: Population
) -> None:
    auditor = fresh(world.users["auditor"])
    first = services.sample_draw(actor=auditor, population=hires, size=5)
    again = services.sample_draw(actor=auditor, population=hires, size=5, seed=first.seed)
    assert Sample.objects.get(pk=first.pk).seed == first.seed
    assert drawn(first) == drawn(again)
    event = AuditEvent.objects.filter(action="audit.sample_draw").first()
    assert event is not None and event.after["seed"] in (first.seed, again.seed)


def test_the_size_table_and_its_cap(settings: Any) -> None:
    assert services.suggested_size("annual", 12) == 1
    assert services.suggested_size("quarterly", 4) == 2
    assert services.suggested_size("monthly", 12) == 2
    assert services.suggested_size("weekly", 52) == 5
    assert services.suggested_size("daily", 365) == 25
    assert services.suggested_size("continuous", 100) == 25
    assert services.suggested_size("continuous", 400) == 40
    assert services.suggested_size("continuous", 5000) == 60
    assert services.suggested_size("daily", 10) == 10  # never above the population
    assert services.suggested_size("annual", 0) == 0
    settings.AUDIT_SAMPLE_SIZES = {"quarterly": 3, "continuous": [10, 20]}
    assert services.suggested_size("quarterly", 4) == 3
    assert services.suggested_size("continuous", 5000) == 20


def test_the_suggested_size_follows_the_controls_frequency(world: World, engagement: Audit) -> None:
    world.control.frequency = "weekly"
    world.control.save()
    for n in range(8):
        run(make_test(world, f"Test {n}"), utc(dt.date(2026, 2, 1), n))
    population = create(world, engagement, PopulationKind.TEST_RUNS, control=world.control)
    sample = services.sample_draw(actor=fresh(world.users["auditor"]), population=population)
    assert sample.size == 5
    unbound = create(world, engagement, PopulationKind.TEST_RUNS)
    assert services.frequency_of(unbound) == "continuous"


@pytest.mark.parametrize(
    ("size", "seed", "field"),
    [(0, None, "size"), (31, None, "size"), ("many", None, "size"), (2, -1, "seed"),
     (2, "x", "seed"), (2, 2**63, "seed")],
)  # fmt: skip
def test_bad_sizes_and_seeds_are_refused_and_nothing_is_drawn(
    world: World, hires: Population, size: Any, seed: Any, field: str
) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.sample_draw(
            actor=fresh(world.users["auditor"]), population=hires, size=size, seed=seed
        )
    assert field in caught.value.message_dict
    assert not Sample.objects.exists() and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "persona", ["admin", "owner", "viewer", "other_auditor", "revoked_auditor"]
)
def test_only_the_engagements_auditors_create_populations_and_samples(
    world: World, personas: World, engagement: Audit, hires: Population, persona: str
) -> None:
    actor = fresh(world.users[persona])
    with pytest.raises(PermissionDenied):
        services.population_create(
            actor=actor, audit=engagement, name="x", kind=PopulationKind.NEW_HIRES
        )
    with pytest.raises(PermissionDenied):
        services.sample_draw(actor=actor, population=hires, size=1)
    assert Population.objects.count() == 1 and not Sample.objects.exists()


# --- pages ---------------------------------------------------------------------------------------

READERS = {"admin": 200, "owner": 200, "member": 200, "viewer": 200, "auditor": 200}
HIDDEN = {
    "other_auditor": 404, "revoked_auditor": 404, "expired_auditor": 404, "outsider": 404,
    "anonymous": 302,
}  # fmt: skip


def client_of(world: World, persona: str) -> Client:
    return Client() if persona == "anonymous" else world.client(persona)


@pytest.fixture
def sampled(world: World, hires: Population) -> Sample:
    return services.sample_draw(
        actor=fresh(world.users["auditor"]), population=hires, size=3, seed=7
    )


def page_urls(audit: Audit, sample: Sample) -> list[str]:
    population = sample.population
    return [
        reverse("audit_samples", args=["acme", audit.pk]),
        reverse("audit_population", args=["acme", audit.pk, population.pk]),
        reverse("audit_sample", args=["acme", audit.pk, population.pk, sample.pk]),
    ]


def test_who_sees_the_sampling_pages(
    world: World, personas: World, engagement: Audit, sampled: Sample
) -> None:
    expected = {**READERS, **HIDDEN}
    for url in page_urls(engagement, sampled):
        got = {p: client_of(world, p).get(url).status_code for p in expected}
        assert got == expected, url


def test_a_population_of_another_engagement_is_not_found(
    world: World, engagement: Audit, make_audit: Callable[..., Audit], sampled: Sample
) -> None:
    other = make_audit(name="Other")
    population = sampled.population
    client = world.client("admin")
    assert (
        client.get(reverse("audit_population", args=["acme", other.pk, population.pk])).status_code
        == 404
    )
    url = reverse("audit_sample", args=["acme", other.pk, population.pk, sampled.pk])
    assert client.get(url).status_code == 404


def test_only_the_auditor_is_offered_the_forms(
    world: World, engagement: Audit, sampled: Sample
) -> None:
    samples, population, _ = page_urls(engagement, sampled)
    for persona in ("admin", "owner", "viewer"):
        client = world.client(persona)
        assert 'data-testid="population-form"' not in client.get(samples).content.decode()
        assert 'data-testid="sample-form"' not in client.get(population).content.decode()
    client = world.client("auditor")
    page = client.get(samples).content.decode()
    assert 'data-testid="population-form"' in page and ">Samples</a>" in page
    assert 'data-testid="sample-form"' in client.get(population).content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("auditor", 302), ("admin", 403), ("owner", 403), ("viewer", 403), ("other_auditor", 404),
     ("revoked_auditor", 404), ("expired_auditor", 404), ("outsider", 404), ("anonymous", 302)],
)  # fmt: skip
def test_who_may_post_a_population_and_a_sample(
    world: World, personas: World, engagement: Audit, hires: Population, persona: str, status: int
) -> None:
    client = client_of(world, persona)
    person(world, "Extra", dt.date(2026, 5, 5))
    response = client.post(
        reverse("audit_samples", args=["acme", engagement.pk]),
        {"name": "Hires", "kind": "new_hires"},
    )
    assert response.status_code == status
    response = client.post(
        reverse("audit_population", args=["acme", engagement.pk, hires.pk]), {"size": "2"}
    )
    assert response.status_code == status
    created = persona == "auditor"
    assert Population.objects.count() == (2 if created else 1)
    assert Sample.objects.count() == (1 if created else 0)
    if persona == "anonymous":
        assert "/login/" in response["Location"]


def test_a_bad_form_names_the_field_and_changes_nothing(
    world: World, engagement: Audit, hires: Population
) -> None:
    client = world.client("auditor")
    response = client.post(
        reverse("audit_samples", args=["acme", engagement.pk]), {"name": "", "kind": "nope"}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"name", "kind"}
    response = client.post(
        reverse("audit_population", args=["acme", engagement.pk, hires.pk]), {"size": "999"}
    )
    assert response.status_code == 400
    assert "size" in response.context["form"].errors
    assert Population.objects.count() == 1 and not Sample.objects.exists()


def test_sampled_evidence_links_to_the_logged_download(
    world: World,
    engagement: Audit,
    quarterly: EvidenceRequest,
    make_evidence: Callable[..., EvidenceItem],
) -> None:
    due = occurrence(quarterly, 2, dt.date(2026, 3, 31), status="accepted")
    item = make_evidence(dt.date(2026, 3, 31), occurrence=due, title="Q1 review")
    outside = occurrence(quarterly, 3, dt.date(2026, 6, 30))
    make_evidence(dt.date(2025, 1, 5), occurrence=outside, title="Old file")
    population = create(world, engagement, PopulationKind.OCCURRENCES)
    sample = services.sample_draw(
        actor=fresh(world.users["auditor"]), population=population, size=2, seed=1
    )
    download = reverse(
        "audit_evidence_download", args=["acme", engagement.pk, item.latest_revision_id]
    )
    url = reverse("audit_sample", args=["acme", engagement.pk, population.pk, sample.pk])
    page = world.client("auditor").get(url).content.decode()
    assert download in page and "Q1 review" in page
    assert "Old file" in page  # named, but not a link: outside the window
    assert page.count("/evidence/revisions/") == 1
    assert world.client("auditor").get(download).status_code == 200


# --- API -----------------------------------------------------------------------------------------


def api_url(audit: Audit, population: Population | None = None, what: str = "") -> str:
    base = f"/api/organizations/acme/audits/{audit.pk}/populations/"
    return base if population is None else f"{base}{population.pk}/{what}"


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [("auditor", 200, 201), ("admin", 200, 403), ("owner", 200, 403), ("viewer", 200, 403),
     ("other_auditor", 404, 404), ("revoked_auditor", 404, 404),
     ("expired_auditor", 404, 404), ("outsider", 404, 404)],
)  # fmt: skip
def test_the_api_permission_matrix(
    world: World, personas: World, engagement: Audit, sampled: Sample, persona: str, read: int,
    write: int,
) -> None:  # fmt: skip
    client = world.api(persona)
    population = sampled.population
    for url in (
        api_url(engagement),
        api_url(engagement, population),
        api_url(engagement, population, "items/"),
        api_url(engagement, population, "samples/"),
        api_url(engagement, population, f"samples/{sampled.pk}/"),
    ):
        assert client.get(url).status_code == read, url
    body = {"name": "Hires", "kind": "new_hires"}
    assert client.post(api_url(engagement), body, format="json").status_code == write
    response = client.post(api_url(engagement, population, "samples/"), {"size": 2}, format="json")
    assert response.status_code == write
    assert Sample.objects.count() == (2 if write == 201 else 1)


def test_the_api_refuses_anonymous_requests(engagement: Audit, sampled: Sample) -> None:
    assert APIClient().get(api_url(engagement)).status_code in (401, 403)
    response = APIClient().post(
        api_url(engagement), {"name": "x", "kind": "new_hires"}, format="json"
    )
    assert response.status_code in (401, 403)


def test_the_api_creates_and_draws_with_the_seed(
    world: World, engagement: Audit, hires: Population
) -> None:
    client = world.api("auditor")
    response = client.post(
        api_url(engagement), {"name": "Hires", "kind": "new_hires"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["item_count"] == 30
    assert response.json()["kind_label"] == "New hires"
    population = Population.objects.get(pk=response.json()["id"])
    one = client.post(
        api_url(engagement, population, "samples/"), {"size": 4, "seed": 99}, format="json"
    )
    two = client.post(
        api_url(engagement, population, "samples/"), {"size": 4, "seed": 99}, format="json"
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["seed"] == 99
    assert [i["label"] for i in one.json()["items"]] == [i["label"] for i in two.json()["items"]]
    suggested = client.post(api_url(engagement, population, "samples/"), {}, format="json")
    assert suggested.json()["size"] == 25  # new hires: event-driven, 25 (of 30)
    items = client.get(api_url(engagement, population, "items/")).json()
    assert items["count"] == 30 and items["results"][0]["position"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": "", "kind": "new_hires"}, "name"), ({"name": "x", "kind": "nope"}, "kind"),
     ({"name": "x", "kind": "test_runs", "control": 999999}, "control"),
     ({"name": "x", "kind": "new_hires", "surprise": 1}, "surprise"),
     ({"name": "x", "kind": "new_hires", "item_count": 4}, "item_count")],
)  # fmt: skip
def test_api_errors_name_the_field(
    world: World, engagement: Audit, body: dict[str, Any], field: str
) -> None:
    response = world.api("auditor").post(api_url(engagement), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Population.objects.exists()


def test_api_sample_errors_name_the_field(
    world: World, engagement: Audit, hires: Population
) -> None:
    client = world.api("auditor")
    for body, field in (({"size": 0}, "size"), ({"size": 31}, "size"), ({"seed": -5}, "seed"),
                        ({"size": "2"}, "size")):  # fmt: skip
        response = client.post(api_url(engagement, hires, "samples/"), body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), body
    assert not Sample.objects.exists()


# --- queries -------------------------------------------------------------------------------------


def queries(client: Any, url: str) -> int:
    client.get(url)  # warm: sessions, content types
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_pages_and_api_in_a_fixed_number_of_queries(
    world: World, engagement: Audit, quarterly: EvidenceRequest,
    make_evidence: Callable[..., EvidenceItem],
) -> None:  # fmt: skip
    auditor = fresh(world.users["auditor"])

    def grow(start: int, count: int) -> None:
        for n in range(start, start + count):
            due = occurrence(quarterly, n, dt.date(2026, 1, 1) + dt.timedelta(days=n))
            make_evidence(due.due_date, occurrence=due, title=f"Review {n}")

    def measure() -> list[int]:
        population = services.population_create(
            actor=auditor, audit=engagement, name="All", kind=PopulationKind.OCCURRENCES
        )
        sample = services.sample_draw(
            actor=auditor, population=population, size=population.item_count
        )
        client, api = world.client("auditor"), world.api("auditor")
        urls = page_urls(engagement, sample)
        counts = [queries(client, url) for url in urls]
        for url in (api_url(engagement), api_url(engagement, population, "items/"),
                    api_url(engagement, population, "samples/"),
                    api_url(engagement, population, f"samples/{sample.pk}/")):  # fmt: skip
            counts.append(queries(api, url))
        return counts

    grow(1, 2)
    small = measure()
    grow(3, 12)
    assert measure() == small


def test_an_auditor_without_two_factor_sees_nothing(
    world: World, engagement: Audit, sampled: Sample
) -> None:
    user = UserFactory(email="no2fa@acme.test", full_name="No Two Factor")
    MembershipFactory(user=user, organization=world.org, role=Role.AUDITOR)
    audit_services.auditor_invite(
        actor=world.users["admin"], audit=engagement, email="no2fa@acme.test"
    )
    client = Client()
    client.force_login(user)
    response = client.get(reverse("audit_samples", args=["acme", engagement.pk]))
    assert response.status_code == 302 and "two" in response["Location"]
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(api_url(engagement)).status_code == 403
    body = {"name": "x", "kind": "new_hires"}
    assert api.post(api_url(engagement), body, format="json").status_code == 403
    assert Population.objects.count() == 1


def test_a_new_hires_item_keeps_the_background_checks_evidence(
    world: World, engagement: Audit, make_evidence: Callable[..., EvidenceItem]
) -> None:
    hire = person(world, "Checked", dt.date(2026, 2, 1))
    person(world, "Unchecked", dt.date(2026, 2, 2))
    older = make_evidence(dt.date(2026, 1, 20), title="First check")
    latest = make_evidence(dt.date(2026, 1, 25), title="Second check")
    for item, day in ((older, dt.date(2026, 1, 20)), (latest, dt.date(2026, 1, 25))):
        PersonnelRecord.objects.create(
            person=hire, kind="background_check", completed_on=day, result="clear", evidence=item
        )
    checked, unchecked = create(world, engagement, PopulationKind.NEW_HIRES).items.all()
    assert checked.evidence_id == latest.pk
    assert unchecked.evidence_id is None
