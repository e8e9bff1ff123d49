"""The evidence list, the evidence page and the API read an item by its latest revision: its
review status filters the list, its number is the count, and every other revision is a page
away (newest first)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evidence.models import EvidenceItem, EvidenceRevision, ReviewStatus
from tests.conftest import World
from tests.evidence import generate
from tests.factories import ControlFactory

ACCEPTED, REJECTED, PENDING = ReviewStatus.ACCEPTED, ReviewStatus.REJECTED, ReviewStatus.PENDING
API = "/api/organizations/acme/evidence/"


@pytest.fixture
def histories(world: World) -> dict[str, EvidenceItem]:
    """One item per kind of history, named by it (oldest revision first)."""
    made = {}
    for name, statuses in [
        ("accepted", [ACCEPTED]),
        ("rejected then accepted", [REJECTED, ACCEPTED]),
        ("accepted then pending", [ACCEPTED, PENDING]),
        ("pending twice", [PENDING, PENDING]),
        ("pending then rejected", [PENDING, REJECTED]),
    ]:
        [made[name]] = generate.items(
            world.org,
            1,
            controls=[world.control],
            revisions=len(statuses),
            statuses=statuses,
            title=name,
        )
    return made


def listed(world: World, query: str = "", persona: str = "admin") -> list[str]:
    response = world.client(persona).get(f"/o/acme/evidence/{query}")
    assert response.status_code == 200
    return [item.title for item in response.context["page"].object_list]


def test_the_review_filter_reads_each_items_latest_revision(
    world: World, histories: dict[str, EvidenceItem]
) -> None:
    assert sorted(listed(world, "?review=accepted")) == [
        "accepted 0",
        "rejected then accepted 0",
    ]
    assert sorted(listed(world, "?review=pending")) == [
        "accepted then pending 0",
        "pending twice 0",
    ]
    assert listed(world, "?review=rejected") == ["pending then rejected 0"]
    assert len(listed(world)) == 5


def test_the_review_queue_counts_items_waiting_not_revisions(
    world: World, histories: dict[str, EvidenceItem]
) -> None:
    response = world.client("admin").get("/o/acme/evidence/")
    assert response.context["pending_count"] == 2  # "pending twice" once; none superseded
    assert b"Review queue" in response.content


def test_the_dashboard_counts_the_items_its_link_lists(
    world: World, histories: dict[str, EvidenceItem]
) -> None:
    client = world.client("admin")
    dashboard = client.get(reverse("dashboard", args=["acme"]))
    listed = client.get("/o/acme/evidence/?review=pending")
    assert dashboard.context["evidence_pending"] == listed.context["page"].paginator.count == 2
    assert b"2 items</a>" in dashboard.content


def test_a_row_shows_its_latest_revision_and_an_earlier_acceptance(
    world: World, histories: dict[str, EvidenceItem]
) -> None:
    response = world.client("admin").get("/o/acme/evidence/?review=pending")
    rows = {item.title: item for item in response.context["page"].object_list}
    waiting = rows["accepted then pending 0"]
    assert (waiting.latest_revision.number, waiting.revision_count) == (2, 2)
    assert waiting.latest_revision.earlier_accepted
    assert not rows["pending twice 0"].latest_revision.earlier_accepted
    assert response.content.count(b"(an earlier one accepted)") == 1


def test_an_item_on_two_controls_is_listed_once(world: World) -> None:
    generate.items(world.org, 3, controls=[world.control, world.unowned_control])
    assert len(listed(world)) == 3
    assert len(listed(world, f"?control={world.control.pk}")) == 3
    api = world.api("admin").get(API, {"control": world.control.pk}).json()
    assert api["count"] == 3
    assert len({row["id"] for row in api["results"]}) == 3


def test_the_control_filter_lists_only_that_controls_evidence(world: World) -> None:
    generate.items(world.org, 2, controls=[world.control], title="Mine")
    generate.items(world.org, 1, controls=[world.unowned_control], title="Other")
    assert sorted(listed(world, f"?control={world.control.pk}")) == ["Mine 0", "Mine 1"]


def test_the_list_sorts_by_date_and_title_with_the_newest_first_by_default(world: World) -> None:
    generate.items(world.org, 3, title="Item")  # Item 0 is the newest
    assert listed(world) == ["Item 0", "Item 1", "Item 2"]
    assert listed(world, "?sort=effective_date") == ["Item 2", "Item 1", "Item 0"]
    assert listed(world, "?sort=-title") == ["Item 2", "Item 1", "Item 0"]
    assert listed(world, "?sort=uploaded") == ["Item 0", "Item 1", "Item 2"]  # unknown: default


def test_a_row_shows_five_controls_and_counts_the_rest(world: World) -> None:
    controls = ControlFactory.create_batch(8, organization=world.org)
    [item] = generate.items(world.org, 1, controls=controls)
    response = world.client("viewer").get("/o/acme/evidence/")
    [row] = response.context["page"].object_list
    assert [c.ref_id for c in row.shown_controls] == sorted(c.ref_id for c in controls)[:5]
    assert row.control_count == 8
    detail = reverse("evidence_detail", args=["acme", item.pk])
    assert f'href="{detail}?controls=all">+3 more</a>'.encode() in response.content


def test_the_evidence_page_shows_revisions_newest_first_a_page_at_a_time(world: World) -> None:
    [item] = generate.items(world.org, 1, revisions=45, statuses=[PENDING])
    url = reverse("evidence_detail", args=["acme", item.pk])
    client = world.client("admin")
    first = client.get(url)
    assert [r.number for r in first.context["revisions"].object_list] == list(range(45, 25, -1))
    assert "1\N{EN DASH}20 of 45".encode() in first.content
    assert b"Revisions <span" in first.content
    last = client.get(url, {"page": 3})
    assert [r.number for r in last.context["revisions"].object_list] == [5, 4, 3, 2, 1]
    # Every pending revision on the page can be reviewed from it.
    assert first.content.count(b'name="decision" value="accepted"') == 20


def test_the_evidence_page_caps_its_controls_and_lists_all_on_demand(world: World) -> None:
    controls = ControlFactory.create_batch(60, organization=world.org)
    [item] = generate.items(world.org, 1, controls=controls)
    url = reverse("evidence_detail", args=["acme", item.pk])
    client = world.client("viewer")
    capped = client.get(url)
    assert len(capped.context["item"].shown_controls) == 12
    assert b"All 60 controls" in capped.content
    assert capped.context["controls_page"] is None
    every = client.get(url, {"controls": "all", "controls_page": 2})
    page = every.context["controls_page"]
    assert (page.number, len(page.object_list), page.paginator.count) == (2, 10, 60)
    assert "51\N{EN DASH}60 of 60".encode() in every.content


def test_a_few_controls_show_without_an_all_link(world: World) -> None:
    [item] = generate.items(world.org, 1, controls=[world.control])
    response = world.client("viewer").get(
        reverse("evidence_detail", args=["acme", item.pk]), {"controls": "all"}
    )
    assert response.context["controls_page"] is None
    assert b"All 1 controls" not in response.content
    assert world.control.ref_id.encode() in response.content


# --- the API ------------------------------------------------------------------------------------


def test_the_api_gives_each_item_its_latest_revision_and_its_count(
    world: World, histories: dict[str, EvidenceItem]
) -> None:
    body = world.api("viewer").get(API).json()
    rows = {row["title"]: row for row in body["results"]}
    waiting = rows["accepted then pending 0"]
    assert "revisions" not in waiting
    assert waiting["revision_count"] == 2
    assert (waiting["latest_revision"]["number"], waiting["latest_revision"]["review_status"]) == (
        2,
        PENDING,
    )
    one = world.api("viewer").get(f"{API}{waiting['id']}/").json()
    assert one["latest_revision"] == waiting["latest_revision"]
    assert one["revision_count"] == 2


def test_the_count_is_the_number_of_revisions(world: World) -> None:
    [item] = generate.items(world.org, 1, revisions=7)
    row = world.api("admin").get(f"{API}{item.pk}/").json()
    assert row["revision_count"] == EvidenceRevision.objects.filter(item=item).count() == 7


def test_all_revisions_come_newest_first_a_page_at_a_time(world: World) -> None:
    [item] = generate.items(world.org, 1, revisions=7, statuses=[ACCEPTED, PENDING])
    client = world.api("viewer")
    url = f"{API}{item.pk}/revisions/"
    first = client.get(url, {"page_size": 3}).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 7
    assert [r["number"] for r in first["results"]] == [7, 6, 5]
    last = client.get(url, {"page_size": 3, "page": 3}).json()
    assert [r["number"] for r in last["results"]] == [1]
    assert client.get(url, {"page": 4, "page_size": 3}).status_code == 404
    assert client.get(url, {"page_size": "all"}).status_code == 400


def test_revisions_of_a_hidden_item_answer_404(world: World) -> None:
    [foreign] = generate.items(world.other_org, 1, controls=[world.foreign_control])
    [mine] = generate.items(world.org, 1, controls=[world.control])
    # Another organization's item under acme's URL, and acme's item for a stranger.
    assert world.api("admin").get(f"{API}{foreign.pk}/revisions/").status_code == 404
    assert world.api("outsider").get(f"{API}{mine.pk}/revisions/").status_code == 404
    assert world.api("anonymous").get(f"{API}{mine.pk}/revisions/").status_code in (401, 403)
    # Auditors see engagements, not the program.
    assert world.api("auditor").get(f"{API}{mine.pk}/revisions/").status_code == 403
    assert world.api("viewer").get(f"{API}{mine.pk}/revisions/").status_code == 200


def test_the_api_control_filter_takes_a_control_id_only(world: World) -> None:
    generate.items(world.org, 2, controls=[world.control])
    client = world.api("admin")
    assert client.get(API, {"control": world.unowned_control.pk}).json()["count"] == 0
    refused = client.get(API, {"control": "IAM-01"})
    assert refused.status_code == 400
    assert "control" in refused.json()
