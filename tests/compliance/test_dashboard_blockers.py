"""The dashboard's Blockers card lists every kind of blocker the readiness definition knows, with
the number of controls each one blocks, and each number links to the controls list filtered to
exactly those controls (the list's `blocker` filter, on the same stored readiness)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from controls.models import BlockerKind, Control, ControlReadiness, ControlStatus, Frequency
from controls.monitoring import services as monitoring
from evidence.models import EvidenceItem, EvidenceKind, EvidenceRevision, ReviewStatus
from tests.conftest import World
from tests.factories import ControlFactory, recompute
from tests.policies.factories import make_policy

pytestmark = pytest.mark.django_db

DASHBOARD = "/o/acme/"


def implemented(world: World, ref: str, **fields: object) -> Control:
    values = {"status": ControlStatus.IMPLEMENTED, "frequency": Frequency.EVENT_DRIVEN, **fields}
    return ControlFactory(organization=world.org, ref_id=ref, **values)


def blocked(world: World) -> None:
    """Two controls without evidence, one with stale evidence, two under an unapproved policy
    (one of them also without evidence), one with a test that never ran; and what must not
    count: an archived control and another organization's."""
    admin = world.users["admin"]
    implemented(world, "EV-01", frequency=Frequency.MONTHLY)
    both = implemented(world, "EV-02", frequency=Frequency.MONTHLY)
    stale = implemented(world, "EV-03", frequency=Frequency.MONTHLY)
    item = EvidenceItem.objects.create(
        organization=world.org, title="Old report", kind=EvidenceKind.NOTE,
        effective_date=timezone.localdate() - dt.timedelta(days=200),
    )  # fmt: skip
    item.controls.add(stale)
    EvidenceRevision.objects.create(item=item, number=1, note="x",
                                    review_status=ReviewStatus.ACCEPTED)  # fmt: skip
    make_policy(world, controls=(both, implemented(world, "POL-01")))
    monitoring.control_test_create(
        actor=admin, control=implemented(world, "TST-01"), name="MFA enforced",
        check_key="attest.personnel_requirement", parameters={"requirement": "background_check"},
    )  # fmt: skip
    implemented(world, "OLD-01", frequency=Frequency.MONTHLY, archived_at=timezone.now())
    ControlFactory(organization=world.other_org, ref_id="GX-01",
                   status=ControlStatus.IMPLEMENTED, frequency=Frequency.MONTHLY)  # fmt: skip
    recompute(world.org, world.other_org)


def card(html: str) -> dict[str, tuple[str, int, str]]:
    """Each kind on the card: (its label, its count, its link or "" when it shows 0)."""
    section = html[html.index('data-testid="blocked-by"') :]
    section = section[: section.index("</dl>")]
    found = {}
    for label, body in re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", section):
        kind = re.search(r'data-testid="blocked-by-(\w+)"', body).group(1)  # type: ignore[union-attr]
        count = int(re.search(r">(\d+) controls?<", body).group(1))  # type: ignore[union-attr]
        href = re.search(r'href="([^"]+)"', body)
        found[kind] = (label, count, href.group(1).replace("&amp;", "&") if href else "")
    return found


def listed_refs(world: World, url: str) -> set[str]:
    html = world.client("admin").get(url).content.decode()
    table = html[html.index('id="control-table"') :]
    return set(re.findall(r'<td class="id"><a href="[^"]+">([A-Z]+-\d+)</a>', table))


def test_the_card_lists_every_kind_with_the_controls_it_blocks(world: World) -> None:
    blocked(world)

    html = world.client("admin").get(DASHBOARD).content.decode()
    shown = card(html)

    assert list(shown) == [kind.value for kind in BlockerKind]  # every kind, in its order
    for kind in BlockerKind:
        label, count, link = shown[kind.value]
        assert label == kind.label  # a label, never the raw key
        expected = set(
            ControlReadiness.objects.filter(
                organization=world.org, blocker_kinds__contains=f",{kind.value},"
            ).values_list("control__ref_id", flat=True)
        )
        assert count == len(expected), kind
        if count:
            assert link == reverse("control_list", args=["acme"]) + f"?blocker={kind.value}"
            assert listed_refs(world, link) == expected, kind
        else:
            assert link == ""
    assert {k: v[1] for k, v in shown.items() if v[1]} == {
        "evidence_missing": 2,  # EV-01, EV-02 (not the archived OLD-01, nor Globex's GX-01)
        "evidence_stale": 1,
        "policy_unapproved": 2,
        "test_not_run": 1,
    }
    # The lines the card had before stay.
    for line in ("Without an owner", "Evidence to review", "Overdue requests", "Long-lead, open"):
        assert f"<dt>{line}</dt>" in html


def test_the_card_counts_what_the_viewer_may_see_as_the_list_does(world: World) -> None:
    blocked(world)
    for persona in ("owner", "viewer"):
        client = world.client(persona)
        shown = card(client.get(DASHBOARD).content.decode())
        assert sum(count for _, count, _ in shown.values()) == 6, persona
        for kind, (_, count, link) in shown.items():
            if count:
                listed = client.get(link).content.decode()
                assert re.search(rf"\u2013\d+ of {count}</span>", listed), (persona, kind)


def test_the_auditor_landing_page_has_no_blockers_card(world: World) -> None:
    blocked(world)
    html = world.client("auditor").get(DASHBOARD).content.decode()
    assert 'data-testid="blocked-by"' not in html
    assert "?blocker=" not in html


def test_the_controls_list_refuses_an_unknown_blocker_and_lists_nothing(world: World) -> None:
    blocked(world)
    html = world.client("admin").get("/o/acme/controls/?blocker=bogus").content.decode()
    assert "Select a valid choice" in html
    assert listed_refs(world, "/o/acme/controls/?blocker=bogus") == set()
    response = world.api("admin").get("/api/organizations/acme/controls/?blocker=bogus")
    assert response.status_code == 400
    assert "blocker" in response.json()


def test_the_api_filters_controls_by_blocker_kind(world: World) -> None:
    blocked(world)
    response = world.api("admin").get("/api/organizations/acme/controls/?blocker=policy_unapproved")
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert sorted(r["ref_id"] for r in rows) == ["EV-02", "POL-01"]
