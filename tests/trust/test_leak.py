"""An organization full of private data publishes its trust page: nothing it did not publish
appears anywhere in any public trust response, headers included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from controls.models import RunStatus
from tests.conftest import World
from tests.controls.monitoring_helpers import make_run, make_test
from tests.evidence.conftest import add_evidence
from tests.factories import ControlFactory, UserFactory
from tests.trust.page_helpers import admin, own_cache, published
from tests.vendors.factories import VendorFactory
from trust import services
from trust.models import TrustDocument

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
__all__ = ["own_cache"]

SECRETS = [
    "Zebracorn key rotation",  # control name
    "CTL-ZBR-77",  # control ref
    "ophelia.private@acme.test",  # owner's email
    "Ophelia Quagmire",  # owner's name
    "Penumbra firewall export",  # evidence title
    "Nonflagged Widgets Ltd",  # vendor not a subprocessor
    "Formerly Flagged Hosting",  # subprocessor whose flag was removed
    "Draft PCI attestation",  # unpublished certification
    "Secret category Xylo",  # unpublished category
    "What about the Vortex incident?",  # unpublished FAQ
    "Unreleased pentest Q3",  # unpublished document
    "MFA test Quokka",  # automated test's name
]


def _private_org(world: World) -> None:
    owner = UserFactory(email="ophelia.private@acme.test", full_name="Ophelia Quagmire")
    world.org.memberships.create(user=owner, role="member")
    control = ControlFactory(
        organization=world.org,
        ref_id="CTL-ZBR-77",
        name="Zebracorn key rotation",
        owner=owner,
        status="implemented",
        frequency="quarterly",
    )
    add_evidence(world, control, title="Penumbra firewall export", accept=True)
    make_run(make_test(world, control, name="MFA test Quokka"))
    VendorFactory(organization=world.org, name="Nonflagged Widgets Ltd", is_subprocessor=False)
    flagged = VendorFactory(
        organization=world.org, name="Formerly Flagged Hosting", is_subprocessor=True
    )
    VendorFactory(
        organization=world.org,
        name="Public Cloud Co",
        is_subprocessor=True,
        description="Hosting",
        location="EU",
    )
    page = published(world, overview="We take security seriously.")
    a = admin(world)
    services.trust_category_create(
        actor=a, organization=world.org, controls=[control], title="Access", is_published=True
    )
    services.trust_category_create(
        actor=a, organization=world.org, controls=[control], title="Secret category Xylo"
    )
    services.trust_certification_create(
        actor=a, organization=world.org, name="Draft PCI attestation", is_published=False
    )
    services.trust_faq_create(
        actor=a, organization=world.org, question="What about the Vortex incident?", answer="x"
    )
    TrustDocument.objects.create(
        page=page,
        title="Unreleased pentest Q3",
        access="gated",
        storage_key=".trust/leak/unreleased",
        original_name="pentest.pdf",
        size=10,
        content_type="application/pdf",
        sha256="0" * 64,
        is_published=False,
    )
    # Seen on the page once, then unflagged: gone from the (cached) page.
    assert "Formerly Flagged Hosting" in Client().get("/trust/acme/").content.decode()
    flagged.is_subprocessor = False
    flagged.save()


def _everything(response: object) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())  # type: ignore[attr-defined]
    return headers + "\n" + response.content.decode(errors="replace")  # type: ignore[attr-defined]


def test_nothing_unpublished_leaks(world: World) -> None:
    _private_org(world)
    document = TrustDocument.objects.get()
    client = Client()
    urls = [
        "/trust/acme/",
        "/trust/acme/security.txt",
        reverse("trust_request_access", args=["acme"]),
        reverse("trust_public_download", args=["acme", document.pk]),
        "/trust/acme/access/forged-token/",
    ]
    seen = []
    for url in urls:
        for response in (client.get(url), client.head(url)):
            assert response.status_code in (200, 404, 410), (url, response.status_code)
            text = _everything(response)
            seen.append(text)
            for secret in SECRETS:
                assert secret.lower() not in text.lower(), (url, secret)
    page = client.get("/trust/acme/").content.decode()
    # The page did render the published things: the test looks at a real page.
    assert "Public Cloud Co" in page and "Access" in page and "We take security" in page
    assert "security@acme.test" in page
    assert len(seen) == 2 * len(urls)


def test_status_reads_but_never_names_tests_or_controls(world: World) -> None:
    _private_org(world)
    body = Client().get("/trust/acme/").content.decode()
    assert "Last verified" in body
    assert dt.date.today().strftime("%Y") in body
    assert RunStatus.PASSED.label not in body.replace("Passing", "")
