"""Each item names its latest revision and that revision's review status (what the review
queue, its counts and My work read). After every kind of write both equal what the revisions
themselves say, recomputed from scratch: the revision of each item with no newer one."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef
from django.urls import reverse

from compliance import demo
from controls.large_organization import Size, generate_large_organization
from controls.models import ControlTest, TestRun, Trigger
from controls.monitoring import runner
from controls.monitoring.services import control_test_create
from evidence import services
from evidence.models import EvidenceItem, EvidenceRevision, ReviewStatus
from tests.conftest import World
from tests.evidence import generate
from tests.evidence.conftest import add_evidence, pdf_upload
from tests.evidence.test_api import scan_report, token_client

API = "/api/organizations/acme/evidence/"
ACCEPTED, REJECTED, PENDING = ReviewStatus.ACCEPTED, ReviewStatus.REJECTED, ReviewStatus.PENDING


def recomputed() -> dict[int, tuple[int | None, str]]:
    """Every item's latest revision and its status, from the revisions alone (the anti-join
    the readers used before: no revision of the same item with a higher number)."""
    newer = EvidenceRevision.objects.filter(item=OuterRef("item"), number__gt=OuterRef("number"))
    latest = {
        item_id: (pk, status)
        for item_id, pk, status in EvidenceRevision.objects.exclude(Exists(newer)).values_list(
            "item_id", "pk", "review_status"
        )
    }
    return {
        pk: latest.get(pk, (None, "")) for pk in EvidenceItem.objects.values_list("pk", flat=True)
    }


def stored() -> dict[int, tuple[int | None, str]]:
    return {
        pk: (latest, status)
        for pk, latest, status in EvidenceItem.objects.values_list(
            "pk", "latest_revision_id", "review_status"
        )
    }


def assert_in_step() -> dict[int, tuple[int | None, str]]:
    expected = recomputed()
    assert expected, "no evidence to compare"
    assert stored() == expected
    return expected


def item_state(item: EvidenceItem) -> tuple[int | None, str]:
    item.refresh_from_db()
    latest = item.latest_revision
    return (latest.number if latest else None, item.review_status)


def review(world: World, revision: EvidenceRevision, decision: str, reason: str = "") -> None:
    response = world.client("admin").post(
        reverse("evidence_review", args=["acme", revision.pk]),
        {"decision": decision, "reason": reason},
    )
    assert response.status_code == 302


def add_revision_on_the_page(world: World, item: EvidenceItem) -> None:
    response = world.client("owner").post(
        reverse("evidence_detail", args=["acme", item.pk]), {"file": pdf_upload("v2.pdf")}
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_an_upload_names_its_first_revision_waiting_for_review(world: World) -> None:
    response = world.client("owner").post(
        reverse("evidence_create", args=["acme"]),
        {
            "title": "Q3 access review",
            "kind": "file",
            "file": pdf_upload(),
            "controls": [world.control.pk],
            "effective_date": "2026-09-30",
        },
    )
    assert response.status_code == 302
    item = EvidenceItem.objects.get()
    assert item_state(item) == (1, PENDING)
    assert item.latest_revision == item.revisions.get()
    assert_in_step()


def test_a_new_revision_becomes_the_latest_and_waits_for_review(world: World) -> None:
    item = add_evidence(world, world.control, accept=True)
    assert item_state(item) == (1, ACCEPTED)
    add_revision_on_the_page(world, item)
    assert item_state(item) == (2, PENDING)
    assert_in_step()


def test_accepting_and_rejecting_the_latest_revision_show_on_the_item(world: World) -> None:
    accepted = add_evidence(world, world.control, title="Kept")
    rejected = add_evidence(world, world.control, title="Sent back")
    review(world, accepted.revisions.get(), ACCEPTED)
    review(world, rejected.revisions.get(), REJECTED, "Unreadable")
    assert item_state(accepted) == (1, ACCEPTED)
    assert item_state(rejected) == (1, REJECTED)
    assert_in_step()
    # Fixed by a new revision: waiting again.
    add_revision_on_the_page(world, rejected)
    assert item_state(rejected) == (2, PENDING)
    assert_in_step()


def test_reviewing_an_older_revision_leaves_the_newer_one_in_charge(world: World) -> None:
    """Any pending revision may be reviewed (the item's page offers each of them); only the
    latest one's decision is the item's."""
    item = add_evidence(world, world.control)
    add_revision_on_the_page(world, item)
    first, second = item.revisions.order_by("number")
    review(world, first, ACCEPTED)
    assert item_state(item) == (2, PENDING)
    assert_in_step()
    review(world, second, REJECTED, "Wrong quarter")
    assert item_state(item) == (2, REJECTED)
    assert_in_step()


def test_an_older_revisions_review_after_a_newer_upload_keeps_the_newer_status(
    world: World,
) -> None:
    """The reviewer opened the page before the owner uploaded revision 2: the decision on
    revision 1 lands, and the item still shows revision 2 waiting."""
    item = add_evidence(world, world.control)
    first = item.revisions.get()  # as the reviewer's page loaded it
    services.evidence_add_revision(actor=world.users["owner"], item=item, upload=pdf_upload())
    services.revision_review(actor=world.users["admin"], revision=first, decision=REJECTED,
                             reason="Old")  # fmt: skip
    assert item_state(item) == (2, PENDING)
    assert_in_step()


def test_a_refused_review_changes_nothing(world: World) -> None:
    item = add_evidence(world, world.control, accept=True)
    before = assert_in_step()
    with pytest.raises(ValidationError, match="already reviewed"):
        services.revision_review(
            actor=world.users["admin"], revision=item.revisions.get(), decision=REJECTED,
            reason="Too late",
        )  # fmt: skip
    assert item_state(item) == (1, ACCEPTED)
    assert assert_in_step() == before


def test_test_runs_record_accepted_revisions_of_their_evidence(world: World) -> None:
    test = control_test_create(
        actor=world.users["admin"],
        control=world.control,
        name="Background checks",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "background_check"},
    )

    def run(test: ControlTest) -> None:
        queued = TestRun.objects.create(
            control_test=test, organization=test.organization, trigger=Trigger.MANUAL
        )
        runner.execute_run(queued.pk, worker="pytest")

    add_evidence(world, world.control)  # a pending upload next to them
    run(test)
    run(test)
    item = EvidenceItem.objects.get(system_key=f"control-test:{test.pk}")
    assert item_state(item) == (2, ACCEPTED)
    assert item.latest_revision == TestRun.objects.latest("pk").evidence_revision
    assert_in_step()


def test_api_uploads_revisions_reviews_and_a_replay_keep_the_items_in_step(
    world: World, evidence_dir: Path
) -> None:
    client = token_client(world)
    first = client.post(
        API, scan_report(control=world.control.pk), format="multipart", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    replay = client.post(
        API, scan_report(control=world.control.pk), format="multipart", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    item = EvidenceItem.objects.get()
    assert item_state(item) == (1, PENDING)
    assert_in_step()

    revised = client.post(f"{API}{item.pk}/revisions/", {"note": ""}, format="multipart")
    assert revised.status_code == 400  # a file item needs a file: nothing written
    assert item_state(item) == (1, PENDING)
    revised = client.post(
        f"{API}{item.pk}/revisions/", {"file": pdf_upload("scan-2.pdf")}, format="multipart"
    )
    assert revised.status_code == 201, revised.json()
    assert item_state(item) == (2, PENDING)
    assert_in_step()

    reviewed = world.api("admin").post(
        f"/api/organizations/acme/evidence-revisions/{revised.json()['id']}/review/",
        {"decision": REJECTED, "reason": "Wrong repository"},
        format="json",
    )
    assert reviewed.status_code == 200, reviewed.json()
    assert item_state(item) == (2, REJECTED)
    row = client.get(f"{API}{item.pk}/").json()
    assert (row["latest_revision"]["number"], row["latest_revision"]["review_status"]) == (
        2,
        REJECTED,
    )
    assert_in_step()


def test_generated_evidence_names_its_latest_revision(world: World) -> None:
    made = generate.items(
        world.org, 4, controls=[world.control], revisions=3, statuses=[ACCEPTED, PENDING]
    )
    generate.add_revisions(made[:2], 2, statuses=[REJECTED])
    expected = assert_in_step()
    assert {expected[item.pk][1] for item in made} == {REJECTED, ACCEPTED}


def test_a_generated_large_organization_names_every_latest_revision(world: World) -> None:
    generate_large_organization(
        slug="big",
        size=Size(controls=8, evidence_per_control=4, tests=2, runs_per_test=3,
                  resources_per_run=2, audit_events_per_control=1, snapshot_weeks=0),
    )  # fmt: skip
    statuses = {status for _, status in assert_in_step().values()}
    assert statuses == {ACCEPTED, PENDING, REJECTED}


def test_the_demo_company_names_every_latest_revision(db: None) -> None:
    """The demo evidence goes through the services: uploads, reviews, test runs."""
    demo.seed_demo()
    statuses = {status for _, status in assert_in_step().values()}
    assert statuses == {ACCEPTED, PENDING, REJECTED}


def test_the_data_migration_fills_items_from_their_revisions(world: World) -> None:
    made = generate.items(world.org, 3, controls=[world.control], revisions=2,
                          statuses=[ACCEPTED, PENDING])  # fmt: skip
    generate.add_revisions(made[:1], 1, statuses=[REJECTED])
    bare = EvidenceItem.objects.create(
        organization=world.org, title="No revision", kind="note", effective_date=dt.date.today()
    )
    expected = recomputed()
    EvidenceItem.objects.update(latest_revision=None, review_status="")  # as 0007 leaves them
    fill = importlib.import_module("evidence.migrations.0008_fill_latest_revision").FILL
    with connection.cursor() as cursor:
        cursor.execute(fill)
    assert stored() == expected
    assert expected[bare.pk] == (None, "")
    assert expected[made[0].pk][1] == REJECTED
