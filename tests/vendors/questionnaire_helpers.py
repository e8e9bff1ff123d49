"""Shared set-up of the vendor questionnaire tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from compliance.models import OutboundEmail
from tests.conftest import World
from tests.vendors.conftest import Vendors
from vendors import questionnaire_services as services
from vendors.models import QuestionnaireTemplate, SentQuestionnaire

QUESTIONS = [
    {"section": "Access", "text": "MFA for everyone?", "kind": "yes_no", "weight": 3,
     "scoring_answer": "yes"},
    {"section": "Access", "text": "Quarterly access reviews?", "kind": "yes_no_na", "weight": 1,
     "scoring_answer": "yes"},
    {"section": "Data", "text": "Encrypted at rest?", "kind": "yes_no", "weight": 2,
     "scoring_answer": "yes", "file_expected": True},
    {"section": "Data", "text": "Where is data stored?", "kind": "text", "weight": 1},
    {"section": "Incidents", "text": "Notice of incidents?", "kind": "choice",
     "choices": ["24 hours", "72 hours", "None"], "weight": 2, "scoring_answer": "24 hours"},
]  # fmt: skip


@dataclass
class Sent:
    template: QuestionnaireTemplate
    questionnaire: SentQuestionnaire
    token: str


def make_template(world: World, name: str = "Security basics") -> QuestionnaireTemplate:
    return services.template_create(
        actor=world.users["admin"], organization=world.org, name=name, questions=QUESTIONS
    )


def send(world: World, vendors: Vendors, *, days: int = 14) -> Sent:
    template = make_template(world)
    questionnaire, token = services.questionnaire_send(
        actor=world.users["admin"],
        vendor=vendors.owned,
        template=template,
        contact_name="Vera Vendor",
        contact_email="vera@cloudhost.test",
        expires_in_days=days,
    )
    return Sent(template=template, questionnaire=questionnaire, token=token)


def link_in_email(to: str) -> str:
    email = OutboundEmail.objects.filter(to__contains=[to]).latest("pk")
    match = re.search(r"https?://\S+/vq/[^/\s]+/", email.text_body)
    assert match, email.text_body
    return match.group(0)
