"""The vendor pages: inventory filters, sorting, tiles and export; the vendor page and its forms."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.fields import display_date
from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from people.completion import add_months
from tests.conftest import World
from tests.factories import MembershipFactory, UserFactory
from tests.vendors.conftest import Vendors
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import (
    Category,
    ReviewOutcome,
    RiskTier,
    Vendor,
    VendorReview,
    VendorStatus,
)

LIST = reverse("vendor_list", args=["acme"])
EXPORT = reverse("vendor_export", args=["acme"])
CREATE = reverse("vendor_create", args=["acme"])


def names(html: str) -> list[str]:
    """The vendors listed in an inventory page, in order."""
    return re.findall(r'href="/o/acme/vendors/\d+/">([^<]+)</a>', html)


def detail(v: Vendor) -> str:
    return reverse("vendor_detail", args=["acme", v.pk])


def edit(v: Vendor) -> str:
    return reverse("vendor_edit", args=["acme", v.pk])


def form_data(v: Vendor, **changes: Any) -> dict[str, Any]:
    """The edit form as the browser sends it for ``v``, with ``changes``."""
    data: dict[str, Any] = {
        "name": v.name,
        "website": v.website,
        "description": v.description,
        "category": v.category,
        "risk_tier": v.risk_tier,
        "data_access": v.data_access,
        "location": v.location,
        "owner": v.owner_id or "",
        "onboarded_on": v.onboarded_on.isoformat(),
        "review_every_months": "" if v.review_every_months is None else v.review_every_months,
    }
    if v.is_subprocessor:
        data["is_subprocessor"] = "on"
    data.update(changes)
    return {k: val for k, val in data.items() if val is not None}


@pytest.fixture
def inventory(world: World, vendors: Vendors, today: dt.date) -> dict[str, Vendor]:
    """The fixture's Cloudhost (current) and Snackbox (never reviewed), and one vendor in every
    other state; Globex's vendor must never show."""
    days = dt.timedelta
    paystream = VendorFactory(
        organization=world.org, name="Paystream", category=Category.PAYMENTS,
        risk_tier=RiskTier.HIGH, owner=world.users["admin"], data_access=["financial_data"],
        description="Card payments for the web shop", onboarded_on=today - days(700),
    )  # fmt: skip
    ReviewFactory(vendor=paystream, reviewed_on=add_months(today, -12) + days(15))  # due soon
    legacy = VendorFactory(
        organization=world.org, name="Legacy Mail", category=Category.COMMUNICATION,
        risk_tier=RiskTier.MEDIUM, owner=world.users["member"], onboarded_on=today - days(1500),
    )  # fmt: skip
    ReviewFactory(vendor=legacy, reviewed_on=today - days(800))  # 24 months: overdue
    shady = VendorFactory(
        organization=world.org, name="Shady Analytics", risk_tier=RiskTier.HIGH,
        is_subprocessor=True, onboarded_on=today - days(60),
    )  # fmt: skip
    ReviewFactory(
        vendor=shady, reviewed_on=today - days(10), outcome=ReviewOutcome.REJECTED,
        summary="No SOC 2 report; refuses a DPA.",
    )  # fmt: skip
    newcomer = VendorFactory(
        organization=world.org, name="Newcomer", risk_tier=RiskTier.MEDIUM,
        onboarded_on=today + days(10),
    )  # fmt: skip
    oldco = VendorFactory(
        organization=world.org, name="Oldco", category=Category.INFRASTRUCTURE,
        risk_tier=RiskTier.CRITICAL, onboarded_on=dt.date(2021, 1, 4),
        status=VendorStatus.OFFBOARDED, offboarded_on=today - days(30),
    )  # fmt: skip
    return {
        "cloudhost": vendors.owned, "snackbox": vendors.unowned, "paystream": paystream,
        "legacy": legacy, "shady": shady, "newcomer": newcomer, "oldco": oldco,
    }  # fmt: skip


ACTIVE = ["Cloudhost", "Legacy Mail", "Newcomer", "Paystream", "Shady Analytics", "Snackbox"]


# --- the inventory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ACTIVE),  # active vendors by default
        ("?status=offboarded", ["Oldco"]),
        ("?status=all", sorted([*ACTIVE, "Oldco"])),
        ("?risk_tier=critical", ["Cloudhost"]),  # Oldco is critical too, but offboarded
        ("?risk_tier=critical&status=all", ["Cloudhost", "Oldco"]),
        ("?category=payments", ["Paystream"]),
        ("?subprocessor=true", ["Cloudhost", "Shady Analytics"]),
        ("?subprocessor=false", ["Legacy Mail", "Newcomer", "Paystream", "Snackbox"]),
        ("?owner=me", ["Paystream"]),  # the admin's own
        ("?owner=none", ["Newcomer", "Shady Analytics", "Snackbox"]),
        ("?review=attention", ["Legacy Mail", "Shady Analytics", "Snackbox"]),
        ("?review=overdue", ["Legacy Mail"]),
        ("?review=never", ["Snackbox"]),
        ("?review=rejected", ["Shady Analytics"]),
        ("?review=due_soon", ["Newcomer", "Paystream"]),
        ("?review=current", ["Cloudhost"]),
        ("?q=card+payments", ["Paystream"]),  # the description
        ("?q=CLOUDHOST.test", ["Cloudhost"]),  # the website
        ("?review=attention&subprocessor=true", ["Shady Analytics"]),
        ("?sort=tier", ["Cloudhost", "Paystream", "Shady Analytics", "Legacy Mail", "Newcomer",
                        "Snackbox"]),
        ("?sort=-tier", ["Snackbox", "Newcomer", "Legacy Mail", "Shady Analytics", "Paystream",
                         "Cloudhost"]),
        ("?sort=category", ["Legacy Mail", "Paystream", "Cloudhost", "Newcomer",
                            "Shady Analytics", "Snackbox"]),
        ("?sort=owner", ["Paystream", "Legacy Mail", "Cloudhost", "Newcomer", "Shady Analytics",
                         "Snackbox"]),  # Admin, Member, Owner, then nobody
        ("?sort=last_review", ["Legacy Mail", "Paystream", "Cloudhost", "Shady Analytics",
                               "Newcomer", "Snackbox"]),  # never reviewed last
        ("?sort=next_due", ["Legacy Mail", "Snackbox", "Newcomer", "Paystream", "Cloudhost",
                            "Shady Analytics"]),
        ("?sort=owner_id", ACTIVE),  # not a sortable column: by name
        ("?risk_tier=extreme", []),
    ],
)  # fmt: skip
def test_the_inventory_filters_and_sorts(
    world: World, inventory: dict, query: str, expected: list[str]
) -> None:
    response = world.client("admin").get(LIST + query)
    assert response.status_code == 200
    assert names(response.content.decode()) == expected


def test_an_unknown_filter_value_is_shown_not_ignored(world: World, inventory: dict) -> None:
    html = world.client("viewer").get(LIST + "?risk_tier=extreme").content.decode()
    assert "Select a valid choice" in html
    assert "No vendor matches these filters" in html


def test_the_inventory_shows_each_vendors_review_at_a_glance(
    world: World, inventory: dict, today: dt.date
) -> None:
    html = world.client("viewer").get(LIST).content.decode()
    row = re.search(
        r"<tr>\s*<td><a href=\"/o/acme/vendors/\d+/\">Cloudhost</a>.*?</tr>", html, re.S
    )
    assert row is not None
    cells = row.group(0)
    assert "cloudhost.test" in cells  # the website's host
    assert 'badge-bad">Critical' in cells
    assert "Customer data, Personal data" in cells
    assert "Subprocessor" in cells and "Owner" in cells
    reviewed = today - dt.timedelta(days=90)
    assert f"{reviewed.day} {reviewed:%b %Y}" in cells and "Approved" in cells
    due = add_months(reviewed, 12)
    assert f"{due.day} {due:%b %Y}" in cells
    assert 'badge-ok">Current' in cells


def test_every_tile_links_to_a_list_of_as_many_vendors(world: World, inventory: dict) -> None:
    client = world.client("viewer")
    html = client.get(LIST).content.decode()
    tiles = re.findall(
        r'<a class="card stat" href="([^"]+)" data-testid="tile-(\w+)">.*?'
        r'<div class="stat-value"[^>]*>(\d+)</div>',
        html,
    )
    counts = {name: int(value) for _, name, value in tiles}
    assert counts == {"active": 6, "critical": 1, "attention": 3, "due_soon": 2, "subprocessors": 2}
    for url, name, value in tiles:
        listed = names(client.get(url.replace("&amp;", "&")).content.decode())
        assert len(listed) == int(value), name


def test_the_tiles_count_the_whole_inventory_whatever_the_filters(
    world: World, inventory: dict
) -> None:
    response = world.client("viewer").get(LIST + "?review=current&risk_tier=low")
    assert response.context["summary"].active == 6
    assert names(response.content.decode()) == []


def test_the_inventory_answers_htmx_with_the_table_only(world: World, inventory: dict) -> None:
    response = world.client("member").get(LIST + "?review=attention", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<table" in html and "<html" not in html and "stat-value" not in html
    assert names(html) == ["Legacy Mail", "Shady Analytics", "Snackbox"]
    # The export button outside the table follows the filters (an out-of-band swap).
    assert re.search(r'id="vendor-export" hx-swap-oob="true" href="[^"]*\?review=attention"', html)


def test_sorting_keeps_the_filters(world: World, inventory: dict) -> None:
    html = world.client("viewer").get(LIST + "?review=attention&page=1").content.decode()
    assert 'href="?review=attention&amp;sort=tier"' in html


def test_the_inventory_paginates_by_fifty(world: World) -> None:
    VendorFactory.create_batch(55, organization=world.org)
    first = world.client("viewer").get(LIST).content.decode()
    second = world.client("viewer").get(LIST + "?page=2").content.decode()
    assert (len(names(first)), len(names(second))) == (50, 5)
    assert "1\u201350 of 55" in first


def test_only_admins_see_the_add_button(world: World, inventory: dict) -> None:
    assert "Add vendor" in world.client("admin").get(LIST).content.decode()
    for persona in ("owner", "viewer"):
        page = world.client(persona).get(LIST).content.decode()
        assert "Add vendor" not in page and "Export CSV" in page


def test_an_empty_inventory_invites_admins_to_add_the_first_vendor(world: World) -> None:
    assert "Add the first one" in world.client("admin").get(LIST).content.decode()
    assert "No vendors in the inventory yet." in world.client("viewer").get(LIST).content.decode()


def test_the_inventory_costs_a_fixed_number_of_queries(
    world: World, inventory: dict, today: dt.date, django_assert_max_num_queries: Any
) -> None:
    client = world.client("admin")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    cloudhost = inventory["cloudhost"]
    urls = (LIST, LIST + "?review=attention&sort=owner", EXPORT, detail(cloudhost))
    count(LIST)  # the first request of a session may do some one-off work
    few = {url: count(url) for url in urls}
    owners = [UserFactory() for _ in range(3)]
    for owner in owners:
        MembershipFactory(user=owner, organization=world.org)
    evidence = EvidenceItem.objects.create(
        organization=world.org, title="SOC 2 report", kind="note", effective_date=today
    )
    for i in range(30):
        v = VendorFactory(
            organization=world.org, owner=owners[i % 3], risk_tier=RiskTier.values[i % 4],
            onboarded_on=today - dt.timedelta(days=900),
        )  # fmt: skip
        for days in (800, 400, 20 + i):
            ReviewFactory(vendor=v, reviewed_on=today - dt.timedelta(days=days), evidence=evidence,
                          recorded_by=world.users["admin"])  # fmt: skip
    for days in range(10):
        ReviewFactory(
            vendor=cloudhost,
            reviewed_on=today - dt.timedelta(days=days),
            evidence=evidence,
            recorded_by=owners[days % 3],
        )
    for url, queries in few.items():
        with django_assert_max_num_queries(queries):
            response = client.get(url)
        assert response.status_code == 200
    assert few[LIST] <= 20, f"the inventory needs {few[LIST]} queries"


# --- the export ---------------------------------------------------------------------------------


def export_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="acme-vendors-')
    assert response.streaming  # written as the rows are produced, never whole in memory
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_lists_what_an_auditor_asks_for(
    world: World, inventory: dict, today: dt.date
) -> None:
    cloudhost = inventory["cloudhost"]
    cloudhost.location = "EU"
    cloudhost.save()
    rows = export_rows(world.client("viewer").get(EXPORT))
    header, *body = rows
    assert header == [
        "Name", "Website", "Category", "Risk tier", "Review cadence", "Owner", "Owner email",
        "Data access", "Subprocessor", "Data location", "Status", "Onboarded on",
        "Offboarded on", "Last review", "Last review outcome", "Next review due", "Review state",
    ]  # fmt: skip
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert list(by_name) == ACTIVE  # active by default, like the page
    reviewed = today - dt.timedelta(days=90)
    assert by_name["Cloudhost"] == {
        "Name": "Cloudhost",
        "Website": "https://cloudhost.test",
        "Category": "Software (SaaS)",
        "Risk tier": "Critical",
        "Review cadence": "every 12 months (tier default)",
        "Owner": "Owner",
        "Owner email": "owner@acme.test",
        "Data access": "Customer data; Personal data",
        "Subprocessor": "yes",
        "Data location": "EU",
        "Status": "Active",
        "Onboarded on": (today - dt.timedelta(days=800)).isoformat(),
        "Offboarded on": "",
        "Last review": reviewed.isoformat(),
        "Last review outcome": "Approved",
        "Next review due": add_months(reviewed, 12).isoformat(),
        "Review state": "Current",
    }
    snackbox = by_name["Snackbox"]
    assert (snackbox["Last review"], snackbox["Review state"]) == ("", "Never reviewed")
    assert snackbox["Review cadence"] == "once, before onboarding (tier default)"
    assert by_name["Shady Analytics"]["Last review outcome"] == "Rejected"


def test_the_export_follows_the_filters_and_sort_and_stays_in_the_organization(
    world: World, inventory: dict
) -> None:
    rows = export_rows(world.client("member").get(EXPORT + "?review=attention&sort=-tier"))
    assert [row[0] for row in rows[1:]] == ["Snackbox", "Legacy Mail", "Shady Analytics"]
    everything = export_rows(world.client("member").get(EXPORT + "?status=all"))
    content = "\n".join(",".join(row) for row in everything)
    assert "Oldco" in content and "Globex Secret Supplier" not in content


def test_the_export_never_hands_a_spreadsheet_a_formula(world: World) -> None:
    VendorFactory(organization=world.org, name='=HYPERLINK("http://evil.test")', website="")
    rows = export_rows(world.client("viewer").get(EXPORT))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.test")'


# --- the vendor page ----------------------------------------------------------------------------


def test_the_vendor_page_shows_facts_status_and_history(
    world: World, inventory: dict, today: dt.date
) -> None:
    cloudhost = inventory["cloudhost"]
    report = EvidenceItem.objects.create(
        organization=world.org, title="Cloudhost SOC 2 Type II 2025", kind="note",
        effective_date=today - dt.timedelta(days=95),
    )  # fmt: skip
    ReviewFactory(
        vendor=cloudhost, reviewed_on=today - dt.timedelta(days=400), evidence=report,
        recorded_by=world.users["admin"], summary="First review, before the contract.",
    )  # fmt: skip
    html = world.client("viewer").get(detail(cloudhost)).content.decode()
    assert "every 12 months (tier default)" in html
    assert "Customer data" in html and "Personal data" in html
    assert "Current" in html
    history = html[html.index('data-testid="review-history"') :]
    assert history.index("Read the SOC 2 Type II report") < history.index("First review")
    evidence_url = reverse("evidence_detail", args=["acme", report.pk])
    assert f'href="{evidence_url}">Cloudhost SOC 2 Type II 2025</a>' in history
    assert "Admin" in history  # recorded by
    # Viewers read only.
    assert "Record a review" not in html and "Offboard" not in html and "/edit/" not in html


def test_the_cadence_reads_as_the_vendor_is_reviewed(world: World, inventory: dict) -> None:
    client = world.client("viewer")
    assert (
        "once, before onboarding (tier default)"
        in client.get(detail(inventory["snackbox"])).content.decode()
    )
    legacy = inventory["legacy"]
    legacy.review_every_months = 6
    legacy.save()
    assert "every 6 months (set for this vendor)" in client.get(detail(legacy)).content.decode()


def test_the_owner_records_reviews_but_only_admins_offboard(world: World, inventory: dict) -> None:
    page = world.client("owner").get(detail(inventory["cloudhost"])).content.decode()
    assert "Record a review" in page and "Edit" in page and "Offboard" not in page
    admin_page = world.client("admin").get(detail(inventory["cloudhost"])).content.decode()
    assert "Record a review" in admin_page and "Offboard Cloudhost" in admin_page
    other = world.client("member").get(detail(inventory["cloudhost"])).content.decode()
    assert "Record a review" not in other and "Offboard" not in other


def test_recording_a_review_makes_the_vendor_current(
    world: World, inventory: dict, today: dt.date
) -> None:
    snackbox = inventory["snackbox"]
    memo = EvidenceItem.objects.create(
        organization=world.org, title="Snackbox questionnaire", kind="note", effective_date=today
    )
    client = world.client("admin")
    page = client.get(detail(snackbox)).content.decode()
    assert f'value="{display_date(today)}"' in page  # reviewed on defaults to today
    assert "Snackbox questionnaire" in page  # the evidence dropdown
    response = client.post(
        reverse("vendor_review_create", args=["acme", snackbox.pk]),
        {"reviewed_on": today.isoformat(), "outcome": "approved", "evidence": memo.pk,
         "summary": "Questionnaire answered; no access to our data."},
    )  # fmt: skip
    assert response.status_code == 302
    review = VendorReview.objects.get(vendor=snackbox)
    assert (review.evidence, review.recorded_by) == (memo, world.users["admin"])
    page = client.get(detail(snackbox)).content.decode()
    assert "Review of Snackbox recorded." in page
    assert "Reviewed once, before onboarding; no periodic review is required." in page
    assert names(client.get(LIST + "?review=never").content.decode()) == []


def test_a_review_with_evidence_of_another_organization_is_refused(
    world: World, inventory: dict, today: dt.date
) -> None:
    theirs = EvidenceItem.objects.create(
        organization=world.other_org, title="Globex memo", kind="note", effective_date=today
    )
    response = world.client("admin").post(
        reverse("vendor_review_create", args=["acme", inventory["snackbox"].pk]),
        {"reviewed_on": today.isoformat(), "outcome": "approved", "summary": "x",
         "evidence": theirs.pk},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["review_form"].errors["evidence"]
    assert not VendorReview.objects.filter(vendor=inventory["snackbox"]).exists()


def test_offboarding_and_reinstating(world: World, inventory: dict, today: dt.date) -> None:
    client = world.client("admin")
    paystream = inventory["paystream"]
    response = client.post(
        reverse("vendor_offboard", args=["acme", paystream.pk]),
        {"offboarded_on": today.isoformat(), "reason": "Replaced by Stripe."},
    )
    assert response.status_code == 302
    paystream.refresh_from_db()
    assert (paystream.status, paystream.offboarded_on) == (VendorStatus.OFFBOARDED, today)
    event = AuditEvent.objects.filter(action="vendor.offboard").latest("pk")
    assert event.after["reason"] == "Replaced by Stripe."
    assert "Paystream" not in names(client.get(LIST).content.decode())
    page = client.get(detail(paystream)).content.decode()
    assert "Offboarded" in page and "Reinstate" in page and "Record a review" not in page

    response = client.post(reverse("vendor_reinstate", args=["acme", paystream.pk]))
    assert response.status_code == 302
    paystream.refresh_from_db()
    assert paystream.status == VendorStatus.ACTIVE
    assert "Paystream" in names(client.get(LIST).content.decode())


# --- bad input: a clear error, status 400, nothing written --------------------------------------


def assert_nothing_written(before_events: int, before: Any, after: Any) -> None:
    assert AuditEvent.objects.count() == before_events, "a refused form wrote an audit event"
    assert after == before, "a refused form changed the data"


def inventory_state() -> Any:
    return list(
        Vendor.objects.order_by("pk").values_list(
            "name", "website", "risk_tier", "review_every_months", "status"
        )
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"website": "not a website"}, "website", "Enter a valid URL."),
        ({"name": "CLOUDHOST"}, "name", "CLOUDHOST is already in the inventory."),
        ({"name": "  "}, "name", "This field is required."),
        ({"review_every_months": "99"}, "review_every_months", "Use 0 (reviewed once) to 60"),
        ({"review_every_months": "-1"}, "review_every_months", "greater than or equal to 0"),
        ({"data_access": ["telepathy"]}, "data_access", "Select a valid choice."),
        ({"risk_tier": "extreme"}, "risk_tier", "Select a valid choice."),
        ({"onboarded_on": "2025-02-30"}, "onboarded_on", "Enter a date like 2 Apr 2027"),
    ],
)
def test_a_bad_new_vendor_is_refused_with_the_reason(
    world: World, inventory: dict, changes: dict, field: str, message: str
) -> None:
    data = {
        "name": "Paperclip Co", "website": "https://paperclip.test", "category": "other",
        "risk_tier": "low", "onboarded_on": "2025-01-06", **changes,
    }  # fmt: skip
    before, events = inventory_state(), AuditEvent.objects.count()
    response = world.client("admin").post(CREATE, data)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert_nothing_written(events, before, inventory_state())


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"website": "ftp:/broken"}, "website", "Enter a valid URL."),
        ({"name": "paystream"}, "name", "paystream is already in the inventory."),
        ({"review_every_months": "99"}, "review_every_months", "Use 0 (reviewed once) to 60"),
    ],
)
def test_a_bad_edit_is_refused_with_the_reason(
    world: World, inventory: dict, changes: dict, field: str, message: str
) -> None:
    cloudhost = inventory["cloudhost"]
    before, events = inventory_state(), AuditEvent.objects.count()
    response = world.client("admin").post(edit(cloudhost), form_data(cloudhost, **changes))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert "Edit Cloudhost" in response.content.decode()  # the stored name in the heading
    assert_nothing_written(events, before, inventory_state())


def test_an_admin_changes_the_tier_and_cadence(world: World, inventory: dict) -> None:
    legacy = inventory["legacy"]
    response = world.client("admin").post(
        edit(legacy),
        form_data(legacy, risk_tier="high", review_every_months="6", data_access=["source_code"]),
    )
    assert response.status_code == 302
    legacy.refresh_from_db()
    assert (legacy.risk_tier, legacy.review_every_months, legacy.data_access) == (
        "high", 6, ["source_code"],
    )  # fmt: skip
    event = AuditEvent.objects.filter(action="vendor.update").latest("pk")
    assert event.before["risk_tier"] == "medium" and event.after["risk_tier"] == "high"


def test_the_owning_member_sees_the_manager_fields_disabled(world: World, inventory: dict) -> None:
    html = world.client("owner").get(edit(inventory["cloudhost"])).content.decode()
    for name in ("name", "risk_tier", "owner", "is_subprocessor", "review_every_months",
                 "onboarded_on"):  # fmt: skip
        tag = re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', html)
        assert tag is not None and "disabled" in tag.group(0), name
    for name in ("website", "description", "category", "location"):
        tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
        assert tag is not None and "disabled" not in tag.group(0), name
    assert "Only admins change this." in html
    admin_html = world.client("admin").get(edit(inventory["cloudhost"])).content.decode()
    assert "disabled" not in re.search(r'<select[^>]*name="risk_tier"[^>]*>', admin_html).group(0)  # type: ignore[union-attr]


def test_the_owning_member_cannot_change_manager_fields_with_a_crafted_post(
    world: World, inventory: dict
) -> None:
    cloudhost = inventory["cloudhost"]
    crafted = form_data(
        cloudhost, name="Cheaphost", risk_tier="low", owner=world.users["member"].pk,
        review_every_months="60", onboarded_on="2020-01-01", is_subprocessor=None,
        location="EU (Frankfurt)",
    )  # fmt: skip
    response = world.client("owner").post(edit(cloudhost), crafted)
    assert response.status_code == 302
    cloudhost.refresh_from_db()
    assert (cloudhost.name, cloudhost.risk_tier, cloudhost.owner, cloudhost.review_every_months,
            cloudhost.is_subprocessor) == (
        "Cloudhost", "critical", world.users["owner"], None, True,
    )  # fmt: skip
    assert cloudhost.location == "EU (Frankfurt)"  # what the owner may change, changed
    event = AuditEvent.objects.filter(action="vendor.update").latest("pk")
    assert set(event.after) == {"location"}


def test_the_owner_dropdown_lists_only_who_may_own_a_vendor(world: World, inventory: dict) -> None:
    html = world.client("admin").get(CREATE).content.decode()
    select = re.search(r'<select name="owner".*?</select>', html, re.S)
    assert select is not None
    options = select.group(0)
    for persona in ("admin", "owner", "member", "granted"):
        assert f"{persona}@acme.test" in options
    for persona in ("viewer", "auditor", "outsider"):
        assert persona not in options
    response = world.client("admin").post(
        CREATE, {"name": "Viewerco", "category": "other", "risk_tier": "low",
                 "onboarded_on": "2025-01-06", "owner": world.users["viewer"].pk},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["owner"]


def test_an_admin_adds_a_vendor(world: World, today: dt.date) -> None:
    client = world.client("admin")
    assert f'value="{display_date(today)}"' in client.get(CREATE).content.decode()
    response = client.post(
        CREATE,
        {"name": " Paystream ", "website": "paystream.test", "category": "payments",
         "risk_tier": "critical", "data_access": ["personal_data", "financial_data"],
         "is_subprocessor": "on", "location": "US", "owner": world.users["owner"].pk,
         "onboarded_on": today.isoformat(), "review_every_months": ""},
    )  # fmt: skip
    assert response.status_code == 302
    vendor = Vendor.objects.get(organization=world.org)
    assert response["Location"] == detail(vendor)
    assert (vendor.name, vendor.website, vendor.data_access, vendor.review_every_months) == (
        "Paystream", "https://paystream.test", ["personal_data", "financial_data"], None,
    )  # fmt: skip
    assert names(client.get(LIST + "?review=never").content.decode()) == ["Paystream"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reviewed_on": "FUTURE"}, "reviewed_on", "A review cannot be dated in the future."),
        ({"summary": ""}, "summary", "This field is required."),
        ({"outcome": "fine"}, "outcome", "Select a valid choice."),
        ({"reviewed_on": ""}, "reviewed_on", "This field is required."),
    ],
)
def test_a_bad_review_is_refused_with_the_reason(
    world: World, inventory: dict, today: dt.date, data: dict, field: str, message: str
) -> None:
    if data.get("reviewed_on") == "FUTURE":
        data = {**data, "reviewed_on": (today + dt.timedelta(days=1)).isoformat()}
    cloudhost = inventory["cloudhost"]
    before, events = VendorReview.objects.count(), AuditEvent.objects.count()
    response = world.client("owner").post(
        reverse("vendor_review_create", args=["acme", cloudhost.pk]),
        {"reviewed_on": today.isoformat(), "outcome": "approved", "summary": "Fine.", **data},
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["review_form"].errors[field])
    assert message in response.content.decode()
    assert_nothing_written(events, before, VendorReview.objects.count())


def test_a_review_of_an_offboarded_vendor_is_refused(
    world: World, inventory: dict, today: dt.date
) -> None:
    response = world.client("admin").post(
        reverse("vendor_review_create", args=["acme", inventory["oldco"].pk]),
        {"reviewed_on": today.isoformat(), "outcome": "approved", "summary": "Fine."},
    )
    assert response.status_code == 400
    assert "Oldco is offboarded; reinstate it before recording a review." in (
        response.content.decode()
    )
    assert not VendorReview.objects.filter(vendor=inventory["oldco"]).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "This field is required."),
        ({"reason": "   "}, "reason", "This field is required."),
        ({"offboarded_on": "2000-01-01"}, "offboarded_on", "cannot be before the onboarding"),
    ],
)
def test_a_bad_offboarding_is_refused_with_the_reason(
    world: World, inventory: dict, today: dt.date, data: dict, field: str, message: str
) -> None:
    cloudhost = inventory["cloudhost"]
    before, events = inventory_state(), AuditEvent.objects.count()
    response = world.client("admin").post(
        reverse("vendor_offboard", args=["acme", cloudhost.pk]),
        {"offboarded_on": today.isoformat(), "reason": "Contract ended.", **data},
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["offboard_form"].errors[field])
    assert_nothing_written(events, before, inventory_state())


def test_reinstating_an_active_vendor_is_refused(world: World, inventory: dict) -> None:
    before, events = inventory_state(), AuditEvent.objects.count()
    response = world.client("admin").post(
        reverse("vendor_reinstate", args=["acme", inventory["cloudhost"].pk])
    )
    assert response.status_code == 400
    assert "Cloudhost is active." in response.content.decode()
    assert_nothing_written(events, before, inventory_state())
