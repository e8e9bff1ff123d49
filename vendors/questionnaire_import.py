"""Questions of a vendor questionnaire template read from a CSV or XLSX file
(compliance.tabular): one sheet, a question column, optionally a section column. The first
row holds the column headings; a column is named by its heading or its letter."""

from __future__ import annotations

from typing import IO, Any

from compliance.tabular import TableError, column_letter, read_table
from vendors.models import AnswerKind

MAX_ROWS = 1000


def _column(headings: list[str], wanted: str, *, what: str) -> int:
    wanted = (wanted or "").strip()
    if not wanted:
        raise TableError(f"Name the {what} column.")
    for index, heading in enumerate(headings):
        if heading.strip().lower() == wanted.lower():
            return index
    if wanted.isalpha() and len(wanted) <= 2:
        letters = [column_letter(i) for i in range(max(len(headings), 1))]
        if wanted.upper() in letters:
            return letters.index(wanted.upper())
    shown = ", ".join(f"{column_letter(i)} “{h}”" for i, h in enumerate(headings) if h)
    raise TableError(f"No {what} column {wanted!r}. The first row has: {shown or 'nothing'}.")


def read_questions(
    source: IO[bytes],
    *,
    filename: str,
    sheet: str = "",
    question_column: str,
    section_column: str = "",
    kind: str = AnswerKind.YES_NO_NA,
) -> list[dict[str, Any]]:
    """The questions of the file, in order (empty question cells skipped); TableError says
    what is wrong: the file (empty, not UTF-8, not CSV/XLSX), a missing sheet or column, a
    formula in a column read, no question at all."""
    table = read_table(source, filename=filename, max_rows=MAX_ROWS + 1)
    chosen = table.sheet(sheet.strip()) if sheet.strip() else table.sheets[0]
    if not chosen.rows:
        raise TableError(f"The sheet {chosen.name!r} is empty.")
    headings = chosen.rows[0]
    columns = [_column(headings, question_column, what="question")]
    if section_column.strip():
        columns.append(_column(headings, section_column, what="section"))
    formulas = chosen.formulas_in(columns, first_row=1)
    if formulas:
        first = formulas[0]
        more = f" (and {len(formulas) - 1} more)" if len(formulas) > 1 else ""
        raise TableError(
            f"{first}{more} holds a formula; Attest imports text only. Replace formulas with "
            "their text and upload again."
        )
    questions = []
    for row in range(1, len(chosen.rows)):
        text = chosen.cell(row, columns[0]).strip()
        if not text:
            continue
        section = chosen.cell(row, columns[1]).strip() if len(columns) > 1 else ""
        if len(text) > 2000:
            raise TableError(f"The question in row {row + 1} is longer than 2000 characters.")
        questions.append(
            {
                "section": section[:120],
                "text": text,
                "kind": kind,
                "weight": 1,
                "scoring_answer": "" if kind == AnswerKind.TEXT else "yes",
            }
        )
    if not questions:
        raise TableError(f"The question column of {chosen.name!r} has no question below row 1.")
    if len(questions) > MAX_ROWS:
        raise TableError(f"At most {MAX_ROWS} questions.")
    return questions
