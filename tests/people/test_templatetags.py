"""The completion badges: state, date and the note in the tooltip."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from people.completion import Cell, CellState
from people.templatetags.people_tags import cell_badge


def test_a_compact_badge_drops_the_year_only_for_this_year() -> None:
    this_year = timezone.localdate().replace(month=3, day=6)
    last_year = this_year.replace(year=this_year.year - 1)

    assert ">Overdue 6 Mar<" in cell_badge(Cell(CellState.OVERDUE, due=this_year), compact=True)
    assert f">Overdue 6 Mar {last_year.year}<" in cell_badge(
        Cell(CellState.OVERDUE, due=last_year), compact=True
    )


def test_the_full_badge_has_the_year_and_the_note_in_its_title() -> None:
    badge = cell_badge(
        Cell(CellState.DUE, due=dt.date(2031, 1, 9), note="2 policies to acknowledge")
    )

    assert ">Due 9 Jan 2031<" in badge
    assert 'title="Due 9 Jan 2031 — 2 policies to acknowledge"' in badge


def test_not_required_is_a_dash() -> None:
    assert "—" in cell_badge(Cell(CellState.NOT_REQUIRED))
