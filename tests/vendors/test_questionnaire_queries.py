"""The questionnaire pages take a fixed number of queries whatever the number of
questionnaires, answers and files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import World
from tests.vendors.conftest import Vendors
from tests.vendors.questionnaire_helpers import make_template
from vendors import questionnaire_services as services
from vendors.models import SentQuestionnaire

pytestmark = pytest.mark.django_db


def queries(client: object, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200  # type: ignore[attr-defined]
    return len(ctx)


def test_vendor_page_with_questionnaires(world: World, vendors: Vendors) -> None:
    template = make_template(world)
    client = world.client("viewer")
    url = reverse("vendor_detail", args=["acme", vendors.owned.pk])

    def send(n: int) -> None:
        for i in range(n):
            services.questionnaire_send(
                actor=world.users["admin"], vendor=vendors.owned, template=template,
                contact_name="C", contact_email=f"c{SentQuestionnaire.objects.count()}-{i}@x.test",
                expires_in_days=3,
            )  # fmt: skip

    send(2)
    queries(client, url)
    small = queries(client, url)
    send(15)
    assert queries(client, url) == small


def test_answers_page(world: World, vendors: Vendors) -> None:
    template = make_template(world)
    sent, _ = services.questionnaire_send(
        actor=world.users["admin"], vendor=vendors.owned, template=template, contact_name="C",
        contact_email="c@x.test", expires_in_days=3,
    )  # fmt: skip
    client = world.client("viewer")
    url = reverse("vendor_questionnaire_detail", args=["acme", vendors.owned.pk, sent.pk])

    def attach(n: int) -> None:
        for i in range(n):
            services.questionnaire_attach(
                questionnaire=sent, upload=SimpleUploadedFile(f"f{i}.pdf", b"%PDF-1.4 f"),
                question_key=f"q{1 + i % 5}",
            )  # fmt: skip

    services.questionnaire_save(questionnaire=sent, answers={"q1": ("yes", "")})
    attach(1)
    queries(client, url)
    small = queries(client, url)
    services.questionnaire_save(
        questionnaire=sent, answers={f"q{i}": ("yes", "c") for i in (1, 2, 3)}
    )
    attach(10)
    assert queries(client, url) == small
