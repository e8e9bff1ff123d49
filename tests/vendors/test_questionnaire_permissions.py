"""Every questionnaire page and form post against every persona.

Program readers (admins, members, viewers) see a vendor's questionnaires, answers and files;
admins and the vendor's owner send, revoke and record reviews from them (others who can see
the vendor: 403); admins copy starter templates. Auditors get 403 as on every vendor page;
another organization's vendor is a 404. Denied writes change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from people.completion import organization_today
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, READ_PROGRAM, Case, check_page_case
from tests.vendors.conftest import Vendors
from tests.vendors.questionnaire_helpers import make_template
from vendors import questionnaire_services as services
from vendors.models import (
    QuestionnaireAttachment,
    QuestionnaireTemplate,
    SentQuestionnaire,
    VendorReview,
)


def u(name: str, *args: object) -> str:
    return reverse(name, args=args)


def open_q(w: World) -> SentQuestionnaire:
    return SentQuestionnaire.objects.get(contact_email="open@cloudhost.test")


def done_q(w: World) -> SentQuestionnaire:
    return SentQuestionnaire.objects.get(contact_email="done@cloudhost.test")


def foreign_q(w: World) -> SentQuestionnaire:
    return SentQuestionnaire.objects.get(contact_email="secret@globex.test")


def attachment(w: World) -> QuestionnaireAttachment:
    return QuestionnaireAttachment.objects.get(questionnaire__contact_email="done@cloudhost.test")


@pytest.fixture
def questionnaires(world: World, vendors: Vendors) -> None:
    template = make_template(world)
    admin = world.users["admin"]
    for email in ("open@cloudhost.test", "done@cloudhost.test"):
        services.questionnaire_send(
            actor=admin, vendor=vendors.owned, template=template, contact_name="C",
            contact_email=email, expires_in_days=10,
        )  # fmt: skip
    done = SentQuestionnaire.objects.get(contact_email="done@cloudhost.test")
    services.questionnaire_attach(
        questionnaire=done, upload=SimpleUploadedFile("r.pdf", b"%PDF-1.4 r"), question_key="q3"
    )
    services.questionnaire_submit(questionnaire=done, answers={"q1": ("yes", "")})
    foreign_template = services.template_create(
        actor=None, organization=world.other_org, name="Theirs",
        questions=[{"text": "Secret?", "kind": "yes_no"}],
    )  # fmt: skip
    services.questionnaire_send(
        actor=world.users["outsider"], vendor=vendors.foreign, template=foreign_template,
        contact_name="S", contact_email="secret@globex.test", expires_in_days=10,
    )  # fmt: skip


def writers(success: int = 302) -> dict[str, Any]:
    return {**ADMIN_ONLY_READ, "admin": success, "owner": success}


def send_data(w: World) -> dict[str, Any]:
    return {
        "template": QuestionnaireTemplate.objects.get(organization=w.org).pk,
        "contact_name": "New Contact",
        "contact_email": "new@cloudhost.test",
        "expires_in_days": 7,
    }


def review_data(w: World) -> dict[str, Any]:
    return {
        "reviewed_on": organization_today(w.org).isoformat(),
        "outcome": "approved",
        "summary": "Answers read; MFA everywhere.",
    }


def sent_state(w: World) -> Any:
    return sorted(SentQuestionnaire.objects.values_list("pk", "status", "review_id"))


def template_state(w: World) -> Any:
    return QuestionnaireTemplate.objects.count()


def owned_pk(w: World) -> int:
    return open_q(w).vendor_id


FOREIGN = {**HIDDEN_FROM_ALL, "auditor": 403}
BACK = {**READ_PROGRAM, **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 302)}

CASES = [
    Case("templates", "get", lambda w: u("vendor_questionnaire_templates", "acme"), READ_PROGRAM),
    Case(
        "template page",
        "get",
        lambda w: u(
            "vendor_questionnaire_template",
            "acme",
            QuestionnaireTemplate.objects.get(organization=w.org).pk,
        ),
        READ_PROGRAM,
    ),
    Case(
        "foreign template page",
        "get",
        lambda w: u(
            "vendor_questionnaire_template",
            "acme",
            QuestionnaireTemplate.objects.get(organization=w.other_org).pk,
        ),
        {**READ_PROGRAM, **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 404)},
    ),
    Case(
        "use a starter template",
        "post",
        lambda w: u("vendor_questionnaire_template_use", "acme"),
        {**ADMIN_ONLY_READ, "admin": 302},
        data=lambda w: {"key": "data-protection"},
        state=template_state,
    ),
    Case(
        "new template page",
        "get",
        lambda w: u("vendor_questionnaire_template_create", "acme"),
        {**ADMIN_ONLY_READ, "admin": 200},
    ),
    Case(
        "create a template",
        "post",
        lambda w: u("vendor_questionnaire_template_create", "acme"),
        {**ADMIN_ONLY_READ, "admin": 302},
        data=lambda w: {"name": "Typed", "questions": "Access | MFA? | yes/no | 2"},
        state=template_state,
    ),
    Case(
        "edit a template",
        "post",
        lambda w: u(
            "vendor_questionnaire_template_edit",
            "acme",
            QuestionnaireTemplate.objects.get(organization=w.org).pk,
        ),
        {**ADMIN_ONLY_READ, "admin": 302},
        data=lambda w: {"name": "Security basics v2", "questions": "MFA?\nBackups?"},
        state=lambda w: list(QuestionnaireTemplate.objects.values_list("name", flat=True)),
    ),
    Case(
        "edit another organization's template",
        "get",
        lambda w: u(
            "vendor_questionnaire_template_edit",
            "acme",
            QuestionnaireTemplate.objects.get(organization=w.other_org).pk,
        ),
        {**ADMIN_ONLY_READ, "admin": 404},
    ),
    Case(
        "send form page",
        "get",
        lambda w: u("vendor_questionnaire_send", "acme", owned_pk(w)),
        writers(200),
    ),
    Case(
        "send",
        "post",
        lambda w: u("vendor_questionnaire_send", "acme", owned_pk(w)),
        writers(),
        data=send_data,
        state=sent_state,
    ),
    Case(
        "send to a foreign vendor",
        "post",
        lambda w: u("vendor_questionnaire_send", "acme", foreign_q(w).vendor_id),
        FOREIGN,
        data=send_data,
        state=sent_state,
    ),
    Case(
        "answers page",
        "get",
        lambda w: u("vendor_questionnaire_detail", "acme", owned_pk(w), done_q(w).pk),
        READ_PROGRAM,
    ),
    Case(
        "foreign answers page",
        "get",
        lambda w: u("vendor_questionnaire_detail", "acme", foreign_q(w).vendor_id, foreign_q(w).pk),
        FOREIGN,
    ),
    Case(
        "foreign questionnaire under our vendor",
        "get",
        lambda w: u("vendor_questionnaire_detail", "acme", owned_pk(w), foreign_q(w).pk),
        {**READ_PROGRAM, **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 404)},
    ),
    Case(
        "record a review from the answers",
        "post",
        lambda w: u("vendor_questionnaire_detail", "acme", owned_pk(w), done_q(w).pk),
        writers(),
        data=review_data,
        state=sent_state,
    ),
    Case(
        "revoke",
        "post",
        lambda w: u("vendor_questionnaire_revoke", "acme", owned_pk(w), open_q(w).pk),
        writers(),
        state=sent_state,
    ),
    Case(
        "revoke opened in the browser",
        "get",
        lambda w: u("vendor_questionnaire_revoke", "acme", owned_pk(w), open_q(w).pk),
        BACK,
    ),
    Case(
        "download an attachment",
        "get",
        lambda w: u(
            "vendor_questionnaire_file", "acme", owned_pk(w), done_q(w).pk, attachment(w).pk
        ),
        READ_PROGRAM,
    ),
]
PARAMS = [p for case in CASES for p in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_page_permissions(world: World, questionnaires: None, case: Case, persona: str) -> None:
    check_page_case(world, case, persona)


def test_every_persona_has_an_expectation() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name


def test_the_vendor_page_offers_only_what_is_allowed(world: World, questionnaires: None) -> None:
    vendor_url = u("vendor_detail", "acme", open_q(world).vendor_id)
    for persona, allowed in [("admin", True), ("owner", True), ("member", False),
                             ("viewer", False)]:  # fmt: skip
        page = world.client(persona).get(vendor_url).content.decode()
        assert "Questionnaires" in page and "Security basics" in page
        assert ("Send questionnaire" in page) is allowed, persona
        assert (">Revoke<" in page) is allowed, persona


def test_download_is_the_stored_file(world: World, questionnaires: None) -> None:
    file = attachment(world)
    response = world.client("viewer").get(
        u("vendor_questionnaire_file", "acme", owned_pk(world), done_q(world).pk, file.pk)
    )
    assert b"".join(response.streaming_content) == b"%PDF-1.4 r"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_review_from_the_answers_links_them(world: World, questionnaires: None) -> None:
    client = world.client("owner")
    url = u("vendor_questionnaire_detail", "acme", owned_pk(world), done_q(world).pk)
    assert client.post(url, review_data(world)).status_code == 302
    review = VendorReview.objects.filter(questionnaires__isnull=False).get()
    assert done_q(world).review_id == review.pk
    page = client.get(url).content.decode()
    assert "Recorded from these answers" in page and 'data-testid="score-overall"' in page
    vendor_page = client.get(u("vendor_detail", "acme", owned_pk(world))).content.decode()
    assert url in vendor_page
    # Twice: refused.
    assert client.post(url, review_data(world)).status_code == 400
    assert VendorReview.objects.filter(questionnaires__isnull=False).count() == 1


def test_sending_refuses_bad_input_and_writes_nothing(world: World, questionnaires: None) -> None:
    before = sent_state(world)
    url = u("vendor_questionnaire_send", "acme", owned_pk(world))
    response = world.client("admin").post(
        url, {**send_data(world), "contact_email": "not-an-email", "expires_in_days": 400}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address" in body
    assert "less than or equal to 90" in body
    assert sent_state(world) == before


def test_templates_typed_in_the_ui(world: World, questionnaires: None) -> None:
    from vendors.models import TemplateQuestion

    client = world.client("admin")
    url = u("vendor_questionnaire_template_create", "acme")
    lines = (
        "Access | MFA for all staff? | yes/no | 3\n"
        "\n"
        "Data | Where is data kept? | text\n"
        "Incidents | Notice? | choice: 24 hours / 72 hours | 2 | 24 hours | file\n"
        "Backups tested?"
    )
    assert client.post(url, {"name": "Typed", "questions": lines}).status_code == 302
    template = QuestionnaireTemplate.objects.get(name="Typed")
    rows = list(
        TemplateQuestion.objects.filter(template=template).values_list(
            "section", "text", "kind", "choices", "weight", "scoring_answer", "file_expected"
        )
    )
    assert rows == [
        ("Access", "MFA for all staff?", "yes_no", [], 3, "yes", False),
        ("Data", "Where is data kept?", "text", [], 1, "", False),
        ("Incidents", "Notice?", "choice", ["24 hours", "72 hours"], 2, "24 hours", True),
        ("", "Backups tested?", "yes_no_na", [], 1, "yes", False),
    ]
    # The edit form shows the same lines back; saving them unchanged keeps the questions.
    edit = u("vendor_questionnaire_template_edit", "acme", template.pk)
    shown = client.get(edit).context["form"].initial["questions"]
    assert client.post(edit, {"name": "Typed", "questions": shown}).status_code == 302
    assert (
        list(
            TemplateQuestion.objects.filter(template=template).values_list(
                "section", "text", "kind", "choices", "weight", "scoring_answer", "file_expected"
            )
        )
        == rows
    )
    # Sent questionnaires keep their frozen questions when the template changes.
    sent = open_q(world)
    frozen = list(sent.questions)
    basics = QuestionnaireTemplate.objects.get(name="Security basics")
    edit_basics = u("vendor_questionnaire_template_edit", "acme", basics.pk)
    assert (
        client.post(edit_basics, {"name": "Security basics", "questions": "Only one?"}).status_code
        == 302
    )
    sent.refresh_from_db()
    assert sent.questions == frozen


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("A | | yes/no", "Line 1: the question is missing"),
        ("A | Q | maybe", "Line 1: answers"),
        ("A | Q | yes/no | heavy", "the weight must be a whole number"),
        ("A | Q | choice: only", "a choice question needs two choices"),
        ("A | Q | yes/no | 1 | perhaps", "is not one of its answers"),
        ("", "This field is required"),
    ],
)
def test_typed_templates_refuse_bad_lines(world: World, lines: str, message: str) -> None:
    response = world.client("admin").post(
        u("vendor_questionnaire_template_create", "acme"), {"name": "Bad", "questions": lines}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not QuestionnaireTemplate.objects.exists()
