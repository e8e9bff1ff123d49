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
from django.utils.formats import date_format

from compliance.models import User
from compliance.work import GROUP_LIMIT, work_groups
from controls.models import Control, ControlReadiness, ControlStatus, Frequency
from evidence.freshness import fresh_until
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
from tests.factories import ControlFactory, recompute

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
    recompute(world.org)  # built with factories: the stored readiness catches up


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


def accepted(world: World, control: Control, effective: dt.date) -> None:
    item = EvidenceItem.objects.create(
        organization=world.org, title=f"For {control.ref_id}", kind=EvidenceKind.NOTE,
        effective_date=effective,
    )  # fmt: skip
    item.controls.add(control)
    EvidenceRevision.objects.create(item=item, number=1, note="x",
                                    review_status=ReviewStatus.ACCEPTED)  # fmt: skip
    evidence_refresh_latest(items=EvidenceItem.objects.filter(pk=item.pk))


def test_evidence_needed_lists_missing_and_stale_not_fresh_longest_stale_first(
    world: World,
) -> None:
    owner = world.users["owner"]
    today = timezone.localdate()

    def control(ref: str, **fields: object) -> Control:
        values = {"owner": owner, "status": ControlStatus.IMPLEMENTED,
                  "frequency": Frequency.QUARTERLY, **fields}  # fmt: skip
        return ControlFactory(organization=world.org, ref_id=ref, **values)

    fresh, stale, staler = control("A-1"), control("A-2"), control("A-3")
    control("A-4")  # missing
    control("A-5", owner=world.users["member"], backup_owner=owner)  # missing, backed up
    control("B-1", status=ControlStatus.IN_PROGRESS)  # not implemented: nothing blocks it yet
    control("B-2", archived_at=timezone.now())
    control("B-3", owner=world.users["member"])  # someone else's
    control("B-4", frequency=Frequency.EVENT_DRIVEN)  # asks for no evidence
    accepted(world, fresh, today - dt.timedelta(days=30))
    accepted(world, stale, today - dt.timedelta(days=200))
    accepted(world, staler, today - dt.timedelta(days=400))
    recompute(world.org)

    [group] = [g for g in work_groups(user=owner, organization=world.org)
               if g.key == "evidence_needed"]  # fmt: skip
    assert [(i.title.split()[0], i.status) for i in group.items] == [
        ("A-3", "Stale"),
        ("A-2", "Stale"),
        ("A-4", "Missing"),
        ("A-5", "Missing"),
    ]
    # Each stale item is due the day its evidence went stale, as its blocker says.
    for item, control_ in zip(group.items[:2], (staler, stale), strict=True):
        assert item.due == fresh_until(control_.evidence_items.get().effective_date, "quarterly")
        assert (
            f"Evidence went stale on {date_format(item.due, 'j M Y')}."
            in (ControlReadiness.objects.get(control=control_).blockers[0]["reason"])
        )
    assert group.total == 4
    client = world.client("owner")
    for link in (group.all_url, "/o/acme/controls/?evidence=needed&owner=me"):
        listed = client.get(link).content.decode()
        assert re.search(r"\u2013\d+ of 4</span>", listed), link
        refs = set(re.findall(r"[AB]-\d", listed))
        assert refs == {"A-2", "A-3", "A-4", "A-5"}, link


def test_evidence_needed_reads_the_stored_readiness_not_the_evidence(world: World) -> None:
    """No subquery per control: the group is one read of the stored rows (and a count)."""
    owner = world.users["owner"]
    for i in range(3):
        ControlFactory(organization=world.org, owner=owner, ref_id=f"A-{i}",
                       status=ControlStatus.IMPLEMENTED, frequency=Frequency.MONTHLY)  # fmt: skip
    recompute(world.org)
    work_groups(user=owner, organization=world.org)  # memberships cached
    with CaptureQueriesContext(connection) as captured:
        [group] = [g for g in work_groups(user=owner, organization=world.org)
                   if g.key == "evidence_needed"]  # fmt: skip
    assert group.total == 3
    reads = [q["sql"] for q in captured.captured_queries if "controlreadiness" in q["sql"]]
    assert len(reads) == 2  # the first items, the total
    for sql in reads:
        # No evidence table (a column of the stored rows is fine:
        # "controls_controlreadiness"."evidence_due"), and no subquery, correlated or not.
        assert not re.search(r'(?<!\.)"evidence_\w+"', sql), sql
        assert sql.count("SELECT") == 1, sql
