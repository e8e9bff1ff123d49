""" "My work" is grouped and bounded: each group shows its first items, its total and a link to
the list filtered to exactly those items; the page costs the same queries and about the same
bytes for a handful of items or for hundreds."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import User
from compliance.work import GROUP_LIMIT, work_groups
from controls.models import Control, ControlStatus, Frequency
from evidence.models import (
    Cadence,
    EvidenceItem,
    EvidenceKind,
    EvidenceRequest,
    EvidenceRevision,
    OccurrenceStatus,
    RequestOccurrence,
    ReviewStatus,
)
from evidence.services import evidence_refresh_latest
from tests.conftest import World
from tests.factories import ControlFactory

URL = "/o/acme/my-work/"


def note(world: World, title: str, *, uploader: User, review: str, control: Control) -> None:
    item = EvidenceItem.objects.create(
        organization=world.org,
        title=title,
        kind=EvidenceKind.NOTE,
        effective_date=timezone.localdate(),
        created_by=uploader,
    )
    item.controls.add(control)
    EvidenceRevision.objects.create(
        item=item,
        number=1,
        note="What we did.",
        uploaded_by=uploader,
        review_status=review,
        review_reason="Unreadable" if review == ReviewStatus.REJECTED else "",
        reviewed_at=timezone.now() if review != ReviewStatus.PENDING else None,
    )
    evidence_refresh_latest(items=EvidenceItem.objects.filter(pk=item.pk))


def add_work(world: World, user: User, count: int) -> None:
    """``count`` of everything My work lists for ``user``: requests waiting, rejected and
    pending evidence, implemented controls without evidence, controls in progress and done."""
    today = timezone.localdate()
    for i in range(count):
        suffix = f"{EvidenceItem.objects.count():04d}"
        ControlFactory(
            organization=world.org,
            owner=user,
            ref_id=f"EV-{suffix}",
            status=ControlStatus.IMPLEMENTED,
            frequency=Frequency.QUARTERLY,
        )
        ControlFactory(
            organization=world.org,
            backup_owner=user,
            ref_id=f"WIP-{suffix}",
            status=ControlStatus.IN_PROGRESS,
        )
        ControlFactory(
            organization=world.org,
            owner=user,
            ref_id=f"DONE-{suffix}",
            status=ControlStatus.IMPLEMENTED,
            frequency=Frequency.EVENT_DRIVEN,  # asks for no evidence before the first event
        )
        note(world, f"Rejected {suffix}", uploader=user, review=ReviewStatus.REJECTED,
             control=world.unowned_control)  # fmt: skip
        note(world, f"Pending {suffix}", uploader=world.users["member"],
             review=ReviewStatus.PENDING, control=world.unowned_control)  # fmt: skip
        request = EvidenceRequest.objects.create(
            organization=world.org,
            title=f"Access review {suffix}",
            cadence=Cadence.QUARTERLY,
            first_due_date=today,
            owner=user,
        )
        RequestOccurrence.objects.create(
            request=request, sequence=1, due_date=today + dt.timedelta(days=i),
            status=OccurrenceStatus.OPEN,
        )  # fmt: skip


def page(world: World, persona: str) -> tuple[str, int, int]:
    client = world.client(persona)
    client.get(URL)  # the session and memberships settle
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries), len(response.content)


def groups(html: str) -> dict[str, tuple[int, int, str]]:
    """Each group on the page: (rows shown, total, its "All …" link)."""
    found = {}
    for section in re.findall(r'<section class="card"[^>]*data-group="[^"]+".*?</section>', html,
                              re.S):  # fmt: skip
        key = re.search(r'data-group="([^"]+)"', section).group(1)  # type: ignore[union-attr]
        total = re.search(r'data-testid="group-total">(\d+)<', section).group(1)  # type: ignore[union-attr]
        href = re.search(r'<a class="sub" href="([^"]+)" data-testid="group-all"', section)
        rows = len(re.findall(r"<tr>", section)) - ("<thead>" in section)
        found[key] = (rows, int(total), href.group(1).replace("&amp;", "&") if href else "")
    return found


EXPECTED = {
    "evidence_requests",
    "rejected_evidence",
    "evidence_needed",
    "evidence_to_review",
    "open_controls",
    "done_controls",
}


def test_each_group_shows_its_first_items_its_total_and_a_link_to_all_of_them(
    world: World,
) -> None:
    admin = world.users["admin"]
    add_work(world, admin, 3)
    few_html, few_queries, _ = page(world, "admin")
    add_work(world, admin, GROUP_LIMIT)
    full_html, full_queries, full_bytes = page(world, "admin")
    add_work(world, admin, 20)
    many_html, many_queries, many_bytes = page(world, "admin")

    few, many = groups(few_html), groups(many_html)
    assert set(few) >= EXPECTED
    total = 3 + GROUP_LIMIT + 20
    for key in EXPECTED:
        per_round = 2 if key == "done_controls" else 1  # those needing evidence are done too
        assert few[key][:2] == (3 * per_round, 3 * per_round), key
        assert many[key][:2] == (GROUP_LIMIT, total * per_round), key
    assert f"{GROUP_LIMIT} of {total} shown" in many_html
    assert few_queries == full_queries == many_queries, (few_queries, full_queries, many_queries)
    # Once every group is full the page stops growing: 20 more of everything adds a few digits.
    assert groups(full_html).keys() == many.keys()
    assert abs(many_bytes - full_bytes) < 500, (full_bytes, many_bytes)
    assert many_bytes < 100_000


@pytest.mark.parametrize("persona", ["admin", "owner"])
def test_every_all_link_opens_a_list_of_exactly_the_groups_items(
    world: World, persona: str
) -> None:
    user = world.users[persona]
    add_work(world, user, GROUP_LIMIT + 2)
    client = world.client(persona)

    found = groups(page(world, persona)[0])
    if persona == "owner":
        assert "evidence_to_review" not in found  # members do not review evidence
    for key, (_, total, link) in found.items():
        assert link, key
        response = client.get(link)
        assert response.status_code == 200, (key, link)
        count = re.search(r"\u2013\d+ of (\d+)</span>", response.content.decode())
        assert count is not None, (key, link)
        assert int(count.group(1)) == total, (key, link, total, count.group(1))


def test_the_sources_return_each_group_in_a_fixed_number_of_queries(world: World) -> None:
    admin = world.users["admin"]

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            work_groups(user=admin, organization=world.org)
        return len(captured.captured_queries)

    add_work(world, admin, 2)
    cost()  # memberships cached
    few = cost()
    add_work(world, admin, GROUP_LIMIT + 3)
    assert cost() == few


def test_evidence_needed_lists_missing_and_stale_not_fresh(world: World) -> None:
    owner = world.users["owner"]
    today = timezone.localdate()
    fresh, stale, _missing = (
        ControlFactory(organization=world.org, owner=owner, ref_id=ref,
                       status=ControlStatus.IMPLEMENTED, frequency=Frequency.QUARTERLY)
        for ref in ("A-1", "A-2", "A-3")
    )  # fmt: skip
    for control, effective in ((fresh, today - dt.timedelta(days=30)),
                               (stale, today - dt.timedelta(days=200))):  # fmt: skip
        item = EvidenceItem.objects.create(
            organization=world.org, title=f"For {control.ref_id}", kind=EvidenceKind.NOTE,
            effective_date=effective,
        )  # fmt: skip
        item.controls.add(control)
        EvidenceRevision.objects.create(item=item, number=1, note="x",
                                        review_status=ReviewStatus.ACCEPTED)  # fmt: skip
        evidence_refresh_latest(items=EvidenceItem.objects.filter(pk=item.pk))

    [group] = [g for g in work_groups(user=owner, organization=world.org)
               if g.key == "evidence_needed"]  # fmt: skip
    assert [(i.title.split()[0], i.status) for i in group.items] == [
        ("A-2", "Stale"),
        ("A-3", "Missing"),
    ]
    listed = world.client("owner").get(group.all_url).content.decode()
    assert "A-2" in listed and "A-3" in listed and "A-1" not in listed
