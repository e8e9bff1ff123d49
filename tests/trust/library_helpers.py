"""Files and a fixture library for the answer library's tests."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from compliance.models import Organization, User
from trust.library import services
from trust.models import AnswerEntry

LIBRARY = [
    (
        "Do you encrypt customer data at rest?",
        "Yes. Databases and backups are encrypted with AES-256 using keys held in a managed KMS.",
    ),
    (
        "Do you perform annual penetration tests by an independent firm?",
        "Yes, an external firm tests the application every year.",
    ),
    (
        "Is multi-factor authentication required for employees?",
        "Yes: SSO with hardware security keys for every employee.",
    ),
    (
        "Do you have a documented incident response plan?",
        "Yes, reviewed and exercised twice a year.",
    ),
]


def make_library(organization: Organization, actor: User) -> list[AnswerEntry]:
    return [
        services.answer_entry_create(
            actor=actor, organization=organization, question=question, answer=answer
        )
        for question, answer in LIBRARY
    ]


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        for row in rows:
            worksheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


QUESTIONS_SHEET = [
    ["#", "Question", "Answer", "Comments"],
    [1, "Is customer data encrypted at rest?", None, "keep me"],
    [2, "Are penetration tests performed annually by a third party?", None, None],
    [3, "What is the airspeed velocity of an unladen swallow?", None, "unrelated"],
    [4, "Do employees use multi-factor authentication?", None, None],
]


def questionnaire_xlsx() -> bytes:
    return xlsx_bytes(
        {
            "Cover": [["Vendor security review"], ["Customer", "Initech"]],
            "Questions": QUESTIONS_SHEET,
        }
    )


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)
