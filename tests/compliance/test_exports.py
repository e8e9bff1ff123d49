"""The CSV download helper every export uses."""

from __future__ import annotations

import csv
import io

import pytest

from compliance.exports import csv_download, csv_safe


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_quoted(cell: str) -> None:
    assert csv_safe([cell]) == ["'" + cell]


@pytest.mark.parametrize("cell", ["", "Cloudhost", "1-2", "a=b", "'=already quoted"])
def test_ordinary_cells_pass_through(cell: str) -> None:
    assert csv_safe([cell]) == [cell]


def test_the_download_is_produced_lazily_row_by_row() -> None:
    produced: list[int] = []

    def rows():  # type: ignore[no-untyped-def]
        for n in range(3):
            produced.append(n)
            yield [f"row {n}", "=cmd", 'say "hi", then']

    response = csv_download(rows(), filename="acme-things.csv")
    assert produced == []  # nothing built until the server writes the body
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acme-things.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    chunks = list(response.streaming_content)
    assert len(chunks) == 3 and produced == [0, 1, 2]
    body = b"".join(chunks).decode()
    assert list(csv.reader(io.StringIO(body))) == [
        [f"row {n}", "'=cmd", 'say "hi", then'] for n in range(3)
    ]
