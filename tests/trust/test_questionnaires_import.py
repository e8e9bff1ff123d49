"""Importing questionnaires: the file, the mapping, each malformed case, the export round trips."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from evidence import storage
from tests.conftest import World
from tests.trust.library_helpers import (
    LIBRARY,
    make_library,
    questionnaire_xlsx,
    upload,
    xlsx_bytes,
)
from trust.library import exports, services
from trust.models import Questionnaire, QuestionnaireRow, QuestionnaireStatus, RowDecision

pytestmark = pytest.mark.django_db


def _imported(world: World, data: bytes | None = None, name: str = "q.xlsx") -> Questionnaire:
    admin = world.users["admin"]
    make_library(world.org, admin)
    questionnaire = services.questionnaire_upload(
        actor=admin,
        organization=world.org,
        name="Initech review",
        upload=upload(name, data or questionnaire_xlsx()),
    )
    return questionnaire


def test_upload_keeps_the_file_hashed(world: World) -> None:
    questionnaire = _imported(world)
    assert questionnaire.format == "xlsx"
    assert questionnaire.status == QuestionnaireStatus.MAPPING
    assert questionnaire.storage_key.startswith(".questionnaires/")
    assert storage.hash_file(questionnaire.storage_key) == (
        questionnaire.size,
        questionnaire.sha256,
    )


def test_mapping_suggests_from_the_library_and_flags_no_match(world: World) -> None:
    questionnaire = _imported(world)
    questionnaire = services.questionnaire_map(
        actor=world.users["member"],
        questionnaire=questionnaire,
        sheet="Questions",
        question_column=1,
        answer_column=2,
    )
    rows = list(QuestionnaireRow.objects.filter(questionnaire=questionnaire))
    assert [r.row_number for r in rows] == [2, 3, 4, 5]
    assert rows[0].suggested_entry is not None
    assert rows[0].suggested_entry.question == LIBRARY[0][0]
    assert rows[0].suggested_answer == LIBRARY[0][1]
    assert rows[2].decision == RowDecision.NO_MATCH and rows[2].suggested_entry is None
    assert rows[2].suggested_answer == ""


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("latin.csv", "Question;Réponse\n".encode("latin-1"), "not UTF-8"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        ("broken.xlsx", b"PK\x03\x04garbage", "not a valid .xlsx"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    world: World, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.questionnaire_upload(
            actor=world.users["admin"], organization=world.org, name="x", upload=upload(name, data)
        )
    assert message in caught.value.message_dict["file"][0]
    assert not Questionnaire.objects.exists()
    assert not list(storage.all_keys())


def test_too_many_rows_are_refused(world: World) -> None:
    data = ("Question,Answer\n" + "Q?,\n" * (services.MAX_ROWS + 1)).encode()
    with pytest.raises(ValidationError) as caught:
        services.questionnaire_upload(
            actor=world.users["admin"],
            organization=world.org,
            name="x",
            upload=upload("a.csv", data),
        )
    assert "5,000" in caught.value.message_dict["file"][0]


def test_a_formula_in_the_question_column_is_refused(world: World) -> None:
    data = xlsx_bytes(
        {"Q": [["Question", "Answer"], ["Plain?", None], ['=HYPERLINK("http://x","click")', None]]}
    )
    questionnaire = _imported(world, data)
    with pytest.raises(ValidationError) as caught:
        services.questionnaire_map(
            actor=world.users["admin"],
            questionnaire=questionnaire,
            sheet="Q",
            question_column=0,
            answer_column=1,
        )
    assert "A3 holds a formula" in caught.value.message_dict["question_column"][0]
    assert not QuestionnaireRow.objects.exists()
    questionnaire.refresh_from_db()
    assert questionnaire.status == QuestionnaireStatus.MAPPING


def test_a_missing_column_or_sheet_is_a_clear_error(world: World) -> None:
    questionnaire = _imported(world)
    with pytest.raises(ValidationError) as caught:
        services.questionnaire_map(
            actor=world.users["admin"],
            questionnaire=questionnaire,
            sheet="Nope",
            question_column=1,
            answer_column=2,
        )
    assert "no sheet named 'Nope'" in caught.value.message_dict["sheet"][0]
    with pytest.raises(ValidationError) as caught:
        services.questionnaire_map(
            actor=world.users["admin"],
            questionnaire=questionnaire,
            sheet="Questions",
            question_column=40,
            answer_column=2,
        )
    assert "no column AO" in caught.value.message_dict["question_column"][0]
    with pytest.raises(ValidationError) as caught:
        services.questionnaire_map(
            actor=world.users["admin"],
            questionnaire=questionnaire,
            sheet="Cover",
            question_column=0,
            answer_column=1,
            header_row=2,
        )
    assert "has no questions" in caught.value.message_dict["question_column"][0]


def test_viewer_cannot_import(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.questionnaire_upload(
            actor=world.users["viewer"],
            organization=world.org,
            name="x",
            upload=upload("q.xlsx", questionnaire_xlsx()),
        )


def _review(world: World, questionnaire: Questionnaire) -> list[QuestionnaireRow]:
    reviewer = world.users["member"]
    rows = list(QuestionnaireRow.objects.filter(questionnaire=questionnaire))
    services.questionnaire_row_decide(actor=reviewer, row=rows[0], decision=RowDecision.ACCEPTED)
    services.questionnaire_row_decide(
        actor=reviewer, row=rows[1], decision=RowDecision.EDITED, answer="=cmd|' /C calc'!A0"
    )
    services.questionnaire_row_decide(actor=reviewer, row=rows[3], decision=RowDecision.REJECTED)
    return rows


def test_xlsx_export_changes_only_the_answer_cells(world: World) -> None:
    original = questionnaire_xlsx()
    questionnaire = _imported(world, original)
    questionnaire = services.questionnaire_map(
        actor=world.users["admin"],
        questionnaire=questionnaire,
        sheet="Questions",
        question_column=1,
        answer_column=2,
    )
    _review(world, questionnaire)
    exported = load_workbook(io.BytesIO(exports.export_questionnaire(questionnaire)))
    before = load_workbook(io.BytesIO(original))
    assert exported.sheetnames == before.sheetnames == ["Cover", "Questions"]
    assert [[c.value for c in r] for r in exported["Cover"].iter_rows()] == [
        [c.value for c in r] for r in before["Cover"].iter_rows()
    ]
    after_rows = [[c.value for c in r] for r in exported["Questions"].iter_rows()]
    before_rows = [[c.value for c in r] for r in before["Questions"].iter_rows()]
    for index, (old, new) in enumerate(zip(before_rows, after_rows, strict=True)):
        assert old[:2] == new[:2] and old[3:] == new[3:], f"row {index + 1} changed elsewhere"
    assert after_rows[1][2] == LIBRARY[0][1]
    assert after_rows[2][2] == "'=cmd|' /C calc'!A0"  # neutralised
    assert after_rows[3][2] is None  # no match, untouched
    assert after_rows[4][2] is None  # rejected


def test_csv_export_keeps_delimiter_bom_columns_and_order(world: World) -> None:
    text = (
        "Id;Question;Answer;Notes\r\n"
        "1;Is customer data encrypted at rest?;;a\r\n"
        "2;Do employees use multi-factor authentication?;;b\r\n"
    )
    original = b"\xef\xbb\xbf" + text.encode()
    questionnaire = _imported(world, original, name="q.csv")
    assert (questionnaire.delimiter, questionnaire.encoding) == (";", "utf-8-sig")
    questionnaire = services.questionnaire_map(
        actor=world.users["admin"],
        questionnaire=questionnaire,
        sheet="CSV",
        question_column=1,
        answer_column=2,
    )
    rows = list(QuestionnaireRow.objects.filter(questionnaire=questionnaire))
    services.questionnaire_row_decide(
        actor=world.users["admin"], row=rows[0], decision=RowDecision.ACCEPTED
    )
    services.questionnaire_row_decide(
        actor=world.users["admin"], row=rows[1], decision=RowDecision.EDITED, answer="@SUM(1)"
    )
    data = exports.export_questionnaire(questionnaire)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert parsed == [
        ["Id", "Question", "Answer", "Notes"],
        ["1", "Is customer data encrypted at rest?", LIBRARY[0][1], "a"],
        ["2", "Do employees use multi-factor authentication?", "'@SUM(1)", "b"],
    ]


def test_accepted_answers_go_back_to_the_library(world: World) -> None:
    questionnaire = _imported(world)
    questionnaire = services.questionnaire_map(
        actor=world.users["admin"],
        questionnaire=questionnaire,
        sheet="Questions",
        question_column=1,
        answer_column=2,
    )
    rows = _review(world, questionnaire)
    rows[1].refresh_from_db()
    updated = services.questionnaire_row_save_to_library(
        actor=world.users["admin"], row=rows[1], update_source=True
    )
    assert updated.answer == "=cmd|' /C calc'!A0"
    assert rows[1].question in updated.aliases
    rows[0].refresh_from_db()
    created = services.questionnaire_row_save_to_library(
        actor=world.users["admin"], row=rows[0], update_source=False
    )
    assert created.question == rows[0].question
    rows[3].refresh_from_db()
    with pytest.raises(ValidationError):
        services.questionnaire_row_save_to_library(
            actor=world.users["admin"], row=rows[3], update_source=False
        )


def test_accepting_a_row_without_suggestion_is_refused(world: World) -> None:
    questionnaire = _imported(world)
    questionnaire = services.questionnaire_map(
        actor=world.users["admin"],
        questionnaire=questionnaire,
        sheet="Questions",
        question_column=1,
        answer_column=2,
    )
    row = QuestionnaireRow.objects.get(questionnaire=questionnaire, row_number=4)
    with pytest.raises(ValidationError):
        services.questionnaire_row_decide(
            actor=world.users["admin"], row=row, decision=RowDecision.ACCEPTED
        )
    with pytest.raises(PermissionDenied):
        services.questionnaire_row_decide(
            actor=world.users["viewer"], row=row, decision=RowDecision.REJECTED
        )
