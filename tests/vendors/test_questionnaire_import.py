"""Importing a questionnaire template from CSV or XLSX: the good case, and each malformed case
answers a clear error and creates nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from compliance.models import AuditEvent
from tests.conftest import World
from vendors.models import QuestionnaireTemplate, TemplateQuestion

pytestmark = pytest.mark.django_db


def url() -> str:
    return reverse("vendor_questionnaire_template_import", args=["acme"])


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post(world: World, content: bytes, filename: str, **fields: str) -> Any:
    data = {"name": "Imported", "question_column": "Question", "section_column": "",
            "sheet": "", "kind": "yes_no_na", **fields}  # fmt: skip
    data["file"] = SimpleUploadedFile(filename, content)
    return world.client("admin").post(url(), data)


def test_csv_with_sections(world: World) -> None:
    content = b"Area;Question\nAccess;Is MFA required?\nData;Is data encrypted?\n;\n"
    response = post(world, content, "q.csv", section_column="Area")
    assert response.status_code == 302
    template = QuestionnaireTemplate.objects.get(name="Imported")
    assert list(template.questions.values_list("position", "section", "text", "kind")) == [
        (1, "Access", "Is MFA required?", "yes_no_na"),
        (2, "Data", "Is data encrypted?", "yes_no_na"),
    ]
    assert AuditEvent.objects.filter(action="vendor_questionnaire_template.create").exists()


def test_xlsx_picks_the_sheet_and_columns_by_letter(world: World) -> None:
    content = xlsx({"Intro": [["Read me"]], "Security": [["#", "Ask"], [1, "Backups tested?"]]})
    response = post(world, content, "q.xlsx", sheet="Security", question_column="B", kind="text")
    assert response.status_code == 302
    question = TemplateQuestion.objects.get()
    assert (question.text, question.kind, question.scoring_answer) == (
        "Backups tested?",
        "text",
        "",
    )


@pytest.mark.parametrize(
    ("content", "filename", "fields", "message"),
    [
        ("Question\nCafé ok?\n".encode("latin-1"), "q.csv", {}, "UTF-8"),
        (b"", "q.csv", {}, "The file is empty"),
        (b"Title\nSomething\n", "q.csv", {}, "No question column"),
        (b"Question,Area\nOk?,A\n", "q.csv", {"section_column": "Zone"}, "No section column"),
        (b"Question\n", "q.csv", {}, "has no question"),
        (
            b'Question\n=HYPERLINK("http://evil.test","x")\n',
            "q.csv",
            {},
            "A2 holds a formula",
        ),
        (xlsx({"S": [["Question"], ["=1+1"]]}), "q.xlsx", {}, "A2 holds a formula"),
        (xlsx({"S": [["Question"], ["Ok?"]]}), "q.xlsx", {"sheet": "Nope"}, "no sheet named"),
        (b"PK\x03\x04broken", "q.xlsx", {}, "not a valid .xlsx"),
    ],
    ids=[
        "wrong encoding",
        "empty",
        "missing column",
        "missing section column",
        "no rows",
        "formula csv",
        "formula xlsx",
        "missing sheet",
        "damaged xlsx",
    ],
)
def test_malformed_files_are_refused_clearly(
    world: World, content: bytes, filename: str, fields: dict[str, str], message: str
) -> None:
    before = AuditEvent.objects.count()
    response = post(world, content, filename, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not QuestionnaireTemplate.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("outsider", 404), ("expired_auditor", 404), ("auditor", 403),
     ("viewer", 403), ("member", 403), ("granted", 403), ("owner", 403), ("admin", 302)],
)  # fmt: skip
def test_only_admins_import(world: World, persona: str, status: int) -> None:
    data = {"name": "P", "question_column": "Question", "kind": "yes_no",
            "file": SimpleUploadedFile("q.csv", b"Question\nOk?\n")}  # fmt: skip
    response = world.client(persona).post(url(), data)
    assert response.status_code == status
    assert QuestionnaireTemplate.objects.exists() is (persona == "admin")
