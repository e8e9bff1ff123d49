"""The completed questionnaire, in the format, sheets and column layout it came in.

XLSX: the original workbook is opened with openpyxl and only the answer cells of the reviewed
rows are written; every other sheet and cell stays as it was. CSV: the original rows are
rewritten with the same delimiter, encoding (byte-order mark kept), columns and row order, the
answer cells filled. Every written cell goes through ``compliance.tabular.neutralise``.
"""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from compliance.tabular import neutralise
from evidence import storage
from trust.library.services import questionnaire_table
from trust.models import Questionnaire, QuestionnaireFormat, RowDecision

CONTENT_TYPES = {
    QuestionnaireFormat.CSV: "text/csv",
    QuestionnaireFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def answers_by_row(questionnaire: Questionnaire) -> dict[int, str]:
    """File row number → the answer to write (accepted or edited rows only)."""
    return dict(
        questionnaire.rows.filter(
            decision__in=[RowDecision.ACCEPTED, RowDecision.EDITED]
        ).values_list("row_number", "final_answer")
    )


def export_questionnaire(questionnaire: Questionnaire) -> bytes:
    answers = answers_by_row(questionnaire)
    column = questionnaire.answer_column
    assert column is not None
    if questionnaire.format == QuestionnaireFormat.XLSX:
        with storage.open_file(questionnaire.storage_key) as handle:
            workbook = load_workbook(io.BytesIO(handle.read()))
        worksheet = workbook[questionnaire.sheet]
        for row_number, answer in answers.items():
            worksheet.cell(row=row_number, column=column + 1).value = neutralise(answer)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    table = questionnaire_table(questionnaire)
    rows = [list(row) for row in table.sheets[0].rows]
    for row_number, answer in answers.items():
        row = rows[row_number - 1]
        if len(row) <= column:
            row.extend([""] * (column + 1 - len(row)))
        row[column] = neutralise(answer)
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=questionnaire.delimiter or ",", lineterminator="\r\n")
    writer.writerows(rows)
    return text.getvalue().encode(questionnaire.encoding or "utf-8")


def export_filename(questionnaire: Questionnaire) -> str:
    stem, dot, extension = questionnaire.filename.rpartition(".")
    if not dot:
        stem, extension = questionnaire.filename, questionnaire.format
    return f"{stem} (answered).{extension}"
