"""The shared CSV/XLSX reader: cells by position, formulas apart, and errors people can act on."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from compliance.tabular import (
    TableError,
    cell_name,
    looks_like_formula,
    neutralise,
    read_table,
)


def xlsx(sheets: dict[str, list[list[object]]]) -> io.BytesIO:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_a_csv_keeps_its_delimiter_its_bom_and_the_position_of_every_row() -> None:
    data = "\ufeffQuestion;Answer\n\nDo you encrypt data at rest?;\n".encode()
    table = read_table(io.BytesIO(data), filename="q.csv")
    assert table.format == "csv"
    assert table.delimiter == ";"
    assert table.encoding == "utf-8-sig"
    sheet = table.sheet("CSV")
    assert sheet.rows == [["Question", "Answer"], [], ["Do you encrypt data at rest?"]]
    assert sheet.cell(2, 0) == "Do you encrypt data at rest?"
    assert sheet.cell(2, 1) == ""
    assert sheet.cell(9, 9) == ""


def test_an_xlsx_gives_every_sheet_with_values_as_text() -> None:
    table = read_table(
        xlsx({"Intro": [["Vendor questionnaire"]], "Security": [["ID", "Q"], [1.0, "MFA?"]]}),
        filename="q.xlsx",
    )
    assert table.format == "xlsx"
    assert table.sheet_names == ["Intro", "Security"]
    assert table.sheet("Security").rows == [["ID", "Q"], ["1", "MFA?"]]
    with pytest.raises(TableError, match="no sheet named 'Other'"):
        table.sheet("Other")


def test_formulas_are_reported_by_cell_in_both_formats() -> None:
    table = read_table(
        xlsx({"S": [["Q", "A"], ['=HYPERLINK("http://x.test","click")', "yes"]]}), filename="q.xlsx"
    )
    sheet = table.sheet("S")
    assert sheet.formulas_in([0]) == ["A2"]
    assert sheet.formulas_in([1]) == []
    csv_table = read_table(io.BytesIO(b"Q,A\n@SUM(1),-5\n+cmd,=1+1\n"), filename="q.csv")
    assert csv_table.sheets[0].formulas_in([0, 1]) == ["A2", "A3", "B3"]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "q.csv", "The file is empty"),
        (b"  \n\n", "q.csv", "The file is empty"),
        ("Question\nCaf\u00e9\n".encode("latin-1"), "q.csv", "not UTF-8 text .byte 0xe9"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "q.xls", "old Excel"),
        (b"PK\x03\x04 not really a zip", "q.xlsx", "not a valid .xlsx"),
        (b"Question\nplain text", "q.xlsx", "not a valid .xlsx"),
        (b"\x00\x01\x02binary", "q.csv", "neither CSV text nor"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(TableError, match=message):
        read_table(io.BytesIO(data), filename=filename)


def test_too_many_rows_or_bytes_are_refused() -> None:
    with pytest.raises(TableError, match="more than 3 rows"):
        read_table(io.BytesIO(b"a\nb\nc\nd\n"), filename="q.csv", max_rows=3)
    with pytest.raises(TableError, match="more than 2 rows"):
        read_table(xlsx({"S": [["a"], ["b"], ["c"]]}), filename="q.xlsx", max_rows=2)
    with pytest.raises(TableError, match="larger than 1 MB"):
        read_table(io.BytesIO(b"a," * 600_000), filename="q.csv", max_bytes=1024 * 1024)


def test_an_empty_workbook_is_refused() -> None:
    with pytest.raises(TableError, match="no rows"):
        read_table(xlsx({"Empty": []}), filename="q.xlsx")


def test_neutralise_quotes_formulas_and_leaves_numbers_and_text() -> None:
    assert neutralise('=HYPERLINK("http://x.test")') == '\'=HYPERLINK("http://x.test")'
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("+1 555 0100 call us") == "'+1 555 0100 call us"
    assert neutralise("-5") == "-5"
    assert neutralise("Yes, with AES-256") == "Yes, with AES-256"
    assert not looks_like_formula("")
    assert cell_name(0, 27) == "AB1"
