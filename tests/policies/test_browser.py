"""Policies in a real browser: the list, a policy with its acknowledgements, the version editor
with its diff, and the public acknowledgement page. Screenshots: test-results/screenshots/."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from compliance import services as core
from compliance.models import Membership, Role, User
from controls import services as controls
from controls.models import Framework
from people.models import Person
from policies import demo, links, services
from policies.models import Policy, PolicyVersion
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, UserFactory
from tests.policies.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = [
    ("Avery Brooks", "Engineering"), ("Bianca Flores", "Engineering"),
    ("Caleb Nguyen", "Sales"), ("Dmitri Volkov", "Engineering"),
    ("Elena Rossi", "Customer Success"), ("Farah Haddad", "Finance"),
    ("Gabriel Silva", "Engineering"), ("Hana Sato", "People"),
    ("Isaac Mensah", "Sales"), ("Julia Becker", "Marketing"),
    ("Kofi Boateng", "Engineering"), ("Lena Novak", "Customer Success"),
    ("Mateo Garcia", "Engineering"), ("Nora Lindqvist", "Security"),
    ("Omar Aziz", "Sales"), ("Paula Costa", "Finance"),
    ("Quinn Murphy", "Engineering"), ("Rosa Jimenez", "Marketing"),
]  # fmt: skip


@pytest.fixture
def company(live_server) -> str:  # type: ignore[no-untyped-def]
    cache.clear()
    controls.catalog_load()
    users = {
        key: UserFactory(email=f"{key}@northwind.test", full_name=name)
        for key, name in [
            ("dana", "Dana Whitfield"),
            ("marcus", "Marcus Lee"),
            ("priya", "Priya Raman"),
            ("tom", "Tom Becker"),
            ("alice", "Alice Moreno"),
        ]
    }
    org = core.organization_create(
        actor=users["dana"], name="Northwind Cloud", slug="northwind", time_zone="America/New_York"
    )
    for key in ("marcus", "priya", "tom", "alice"):
        Membership.objects.create(user=users[key], organization=org, role=Role.MEMBER)
    soc2 = Framework.objects.get(slug="soc2")
    controls.framework_adopt(
        actor=users["dana"], organization=org, framework=soc2, scope_codes=["CC", "A"]
    )
    controls.control_set_import(
        actor=users["dana"], organization=org, control_set_key="urn:attest:control-set:soc2-starter"
    )
    today = timezone.localdate()
    for index, (name, department) in enumerate(PEOPLE):
        PersonFactory(
            organization=org,
            full_name=name,
            email=f"{name.split()[0].lower()}@northwind.test",
            department=department,
            start_date=today.replace(year=today.year - 2 + index % 2),
            employment_type="contractor" if index % 7 == 6 else "employee",
        )
    for key in ("dana", "marcus", "priya"):
        PersonFactory(
            organization=org,
            full_name=users[key].full_name,
            email=users[key].email,
            user=users[key],
            department="Leadership" if key == "dana" else "Engineering",
            start_date=today.replace(year=today.year - 3),
        )
    demo.seed(organization=org, users=users, today=today)  # type: ignore[arg-type]
    return live_server.url


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Readiness")).to_be_visible()


def test_an_admin_follows_policies_from_the_list_to_the_public_acknowledgement(
    page: Page, company: str
) -> None:
    base = company
    sign_in(page, base, "dana@northwind.test")

    page.get_by_role("link", name="Policies").first.click()
    expect(page.get_by_role("heading", name="Policies", exact=True)).to_be_visible()
    expect(page.locator("table.table tbody tr")).to_have_count(12)
    screenshot(page, "policies-list")

    page.locator('a.stat-value[href="?status=in_review"]').click()
    expect(page).to_have_url(re.compile(r"status=in_review"))
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    expect(page.locator("table.table tbody tr")).to_contain_text("Vendor Management Policy")

    page.goto(f"{base}/o/northwind/policies/")
    page.get_by_role("link", name="Access Control and Password Policy").click()
    expect(page.get_by_role("heading", name="Acknowledgements")).to_be_visible()
    expect(page.get_by_text("Version 2, effective")).to_be_visible()
    screenshot(page, "policies-detail")
    page.locator("#acknowledgements").get_by_role(
        "link", name=re.compile("Outstanding")
    ).first.click()
    expect(page).to_have_url(re.compile(r"ack=outstanding"))
    expect(page.locator("#acknowledgements tbody tr").first).to_contain_text("Outstanding")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "policies-acknowledgements-outstanding")

    # A new version: the editor, then the diff against the approved text.
    page.get_by_role("button", name="New version").click()
    expect(page.get_by_role("heading", name="Edit version 3")).to_be_visible()
    editor = page.locator("textarea[name=body]")
    text = editor.input_value()
    editor.fill(
        text.replace(
            "rotated at least yearly",
            "rotated at least every six months",
        )
        + "\n## 13. Hardware keys for administrators\n\nEvery administrator carries two "
        "registered hardware security keys, one kept in a safe place as a backup.\n"
    )
    page.locator("#id_change_summary").fill("Six-monthly key rotation; hardware keys for admins")
    expect(page.locator("#preview")).to_contain_text("Hardware keys for administrators")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Version 3 saved.")).to_be_visible()
    expect(page.locator("tr.added").first).to_be_visible()
    screenshot(page, "policies-version-edit")

    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("heading", name="Approve version 3")).to_be_visible()
    screenshot(page, "policies-version-review")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text(re.compile("Version 3 approved"))).to_be_visible()

    # The public page behind an emailed link, for someone without a login.
    policy = Policy.objects.get(library_key="access-control")
    version = PolicyVersion.objects.get(policy=policy, status="approved")
    services.policy_send_for_acknowledgement(
        actor=User.objects.get(email="dana@northwind.test"), version=version, notify=False
    )
    person = Person.objects.get(full_name="Avery Brooks")
    token = links.make_token(version_id=version.pk, person_id=person.pk)
    visitor = page.context.browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[union-attr]
    public = visitor.new_page()
    public.goto(f"{base}/ack/{token}/")
    expect(
        public.get_by_role("heading", name="Access Control and Password Policy").first
    ).to_be_visible()
    screenshot(public, "policies-public-acknowledgement")
    public.get_by_label(re.compile("I have read")).check()
    public.get_by_role("button", name="Acknowledge").click()
    expect(public.get_by_text("Thank you.")).to_be_visible()
    screenshot(public, "policies-public-acknowledged")
    public.goto(f"{base}/ack/{token[:-3]}xyz/")
    expect(public.get_by_role("heading", name="This link is not valid")).to_be_visible()
    screenshot(public, "policies-public-invalid-link")
    visitor.close()
