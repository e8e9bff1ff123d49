"""The questionnaire link's lifecycle: save, resume, attach, submit; a dead link (submitted,
expired, revoked, forged, altered) answers the same page and writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from compliance.models import AuditEvent, OutboundEmail
from compliance.tokens import secret_hash
from evidence import storage
from tests.conftest import World
from tests.vendors.conftest import Vendors
from tests.vendors.questionnaire_helpers import link_in_email, send
from vendors import questionnaire_services as services
from vendors.models import QuestionnaireAnswer, QuestionnaireAttachment, SentQuestionnaire

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit() -> None:
    cache.clear()


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def state(questionnaire: SentQuestionnaire) -> Any:
    questionnaire.refresh_from_db()
    return (
        questionnaire.status,
        sorted(questionnaire.answers.values_list("question_key", "value", "comment")),
        questionnaire.attachments.count(),
        AuditEvent.objects.count(),
        OutboundEmail.objects.count(),
    )


def test_send_stores_only_the_hash_and_emails_the_contact(world: World, vendors: Vendors) -> None:
    sent = send(world, vendors)
    q = sent.questionnaire
    assert q.token_hash == secret_hash(sent.token) and sent.token not in q.token_hash
    assert len(q.questions) == 5 and q.questions[0]["key"] == "q1"
    url = link_in_email("vera@cloudhost.test")
    assert url.endswith(f"/vq/{sent.token}/")
    event = AuditEvent.objects.filter(action="vendor_questionnaire.send").get()
    assert sent.token not in str(event.after)


def test_save_resume_attach_submit(world: World, vendors: Vendors, settings: Any) -> None:
    sent = send(world, vendors)
    client = Client(enforce_csrf_checks=False)
    url = f"/vq/{sent.token}/"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Cloudhost" in body and world.org.name in body
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cache-Control"] == "private, no-store"
    # Half the answers, saved.
    saved = client.post(url, {"action": "save", "a-q1": "yes", "c-q1": "Everyone, TOTP",
                              "a-q2": "n/a"})  # fmt: skip
    assert saved.status_code == 302
    sent.questionnaire.refresh_from_db()
    assert sent.questionnaire.status == "in_progress"
    # Coming back shows them.
    again = client.get(url).content.decode()
    assert 'value="yes" checked' in again and "Everyone, TOTP" in again
    # A file.
    upload = SimpleUploadedFile("soc2.pdf", b"%PDF-1.4 report", content_type="application/pdf")
    attached = client.post(url + "files/", {"file": upload, "question": "q3"})
    assert attached.status_code == 302
    attachment = QuestionnaireAttachment.objects.get()
    assert attachment.question_key == "q3" and attachment.size == len(b"%PDF-1.4 report")
    assert storage.hash_file(attachment.storage_key)[1] == attachment.sha256
    # The confirmation step saves and asks; submitting without the tick is refused.
    review = client.post(url, {"action": "review", "a-q3": "yes", "a-q5": "24 hours"})
    assert review.status_code == 200 and "Submit your answers?" in review.content.decode()
    assert client.post(url, {"action": "submit"}).status_code == 400
    assert SentQuestionnaire.objects.get().status == "in_progress"
    done = client.post(url, {"action": "submit", "confirm": "yes"})
    assert done.status_code == 200 and "submitted" in done.content.decode()
    q = SentQuestionnaire.objects.get()
    assert q.status == "submitted" and q.submitted_at is not None
    assert dict(q.answers.values_list("question_key", "value")) == {
        "q1": "yes", "q2": "n/a", "q3": "yes", "q5": "24 hours",
    }  # fmt: skip
    told = OutboundEmail.objects.filter(template="vendor_questionnaire_submitted").get()
    assert told.to == [world.users["owner"].email]  # the vendor's owner


def test_reuse_after_submission_is_denied_and_writes_nothing(
    world: World, vendors: Vendors
) -> None:
    sent = send(world, vendors)
    client = Client()
    url = f"/vq/{sent.token}/"
    services.questionnaire_submit(questionnaire=sent.questionnaire, answers={"q1": ("yes", "")})
    before = state(sent.questionnaire)
    assert client.get(url).status_code == 410
    assert client.post(url, {"action": "save", "a-q1": "no"}).status_code == 410
    assert client.post(url, {"action": "submit", "confirm": "yes"}).status_code == 410
    upload = SimpleUploadedFile("x.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    assert client.post(url + "files/", {"file": upload}).status_code == 410
    assert state(sent.questionnaire) == before
    with pytest.raises(services.LinkClosed):
        services.questionnaire_save(questionnaire=sent.questionnaire, answers={"q1": ("no", "")})


def test_expired_link_is_dead(world: World, vendors: Vendors) -> None:
    sent = send(world, vendors)
    SentQuestionnaire.objects.filter(pk=sent.questionnaire.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    before = state(sent.questionnaire)
    response = Client().post(f"/vq/{sent.token}/", {"action": "save", "a-q1": "yes"})
    assert response.status_code == 410
    assert "no longer works" in response.content.decode()
    assert state(sent.questionnaire) == before
    assert SentQuestionnaire.objects.get().current_status() == "expired"


def test_revoked_link_is_dead(world: World, vendors: Vendors) -> None:
    sent = send(world, vendors)
    services.questionnaire_revoke(actor=world.users["admin"], questionnaire=sent.questionnaire)
    before = state(sent.questionnaire)
    response = Client().post(f"/vq/{sent.token}/", {"action": "save", "a-q1": "yes"})
    assert response.status_code == 410
    assert state(sent.questionnaire) == before
    with pytest.raises(Exception, match="only an open one"):
        services.questionnaire_revoke(actor=world.users["admin"], questionnaire=sent.questionnaire)


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
        lambda t: t[:-5],  # truncated
        lambda t: "forged" + t[6:],
        lambda t: "x" * 200,
    ],
)
def test_forged_or_altered_token_gets_the_same_dead_page(
    world: World, vendors: Vendors, alter: Any
) -> None:
    sent = send(world, vendors)
    before = state(sent.questionnaire)
    response = Client().post(f"/vq/{alter(sent.token)}/", {"action": "save", "a-q1": "yes"})
    assert response.status_code == 404
    assert "no longer works" in response.content.decode()
    assert state(sent.questionnaire) == before


def test_invalid_answer_is_refused_and_nothing_saved(world: World, vendors: Vendors) -> None:
    sent = send(world, vendors)
    response = Client().post(f"/vq/{sent.token}/", {"action": "save", "a-q1": "maybe",
                                                    "a-q3": "yes"})  # fmt: skip
    assert response.status_code == 400
    assert "Choose one of the offered answers" in response.content.decode()
    assert not QuestionnaireAnswer.objects.exists()


def test_attachment_size_limit(world: World, vendors: Vendors, settings: Any) -> None:
    settings.VENDOR_QUESTIONNAIRE_MAX_FILE_BYTES = 1024 * 1024
    sent = send(world, vendors)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4" + b"0" * (1024 * 1024 + 1))
    response = Client().post(f"/vq/{sent.token}/files/", {"file": big})
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()
    assert not QuestionnaireAttachment.objects.exists()


def test_the_link_is_rate_limited(world: World, vendors: Vendors, settings: Any) -> None:
    settings.VENDOR_QUESTIONNAIRE_LINK_RATE = 3
    client = Client()
    codes = [client.get("/vq/nothing-here/").status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_csrf_is_checked_on_the_link(world: World, vendors: Vendors) -> None:
    sent = send(world, vendors)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/vq/{sent.token}/", {"action": "save", "a-q1": "yes"})
    assert response.status_code == 403
    assert not QuestionnaireAnswer.objects.exists()
