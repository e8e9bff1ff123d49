"""Scoring: the weighted share of scored questions answered with their scoring answer."""

from __future__ import annotations

from vendors.questionnaires import score, starter_library

Q = [
    {"key": "q1", "section": "A", "weight": 3, "scoring_answer": "yes", "kind": "yes_no"},
    {"key": "q2", "section": "A", "weight": 1, "scoring_answer": "yes", "kind": "yes_no_na"},
    {"key": "q3", "section": "B", "weight": 2, "scoring_answer": "yes", "kind": "yes_no"},
    {"key": "q4", "section": "B", "weight": 5, "scoring_answer": "", "kind": "text"},
]


def test_weighted_share_per_section_and_overall() -> None:
    result = score(Q, {"q1": "yes", "q2": "no", "q3": "yes", "q4": "anything"})
    assert [(p.name, p.earned, p.possible, p.percent) for p in result.sections] == [
        ("A", 3, 4, 75),
        ("B", 2, 2, 100),
    ]
    assert (result.overall.earned, result.overall.possible, result.overall.percent) == (5, 6, 83)


def test_not_applicable_leaves_the_denominator_and_unanswered_counts_against() -> None:
    result = score(Q, {"q1": "yes", "q2": "n/a"})
    assert [(p.name, p.earned, p.possible) for p in result.sections] == [("A", 3, 3), ("B", 0, 2)]
    assert result.overall.percent == 60


def test_nothing_scored_has_no_percentage() -> None:
    result = score(Q, {"q2": "n/a"})
    assert result.overall.percent == 0  # q1 and q3 unanswered
    only_text = score([Q[3]], {"q4": "EU"})
    assert only_text.overall.percent is None
    assert only_text.sections == []


def test_the_starter_library_loads_with_valid_questions() -> None:
    library = starter_library()
    assert {"core-security-short", "data-protection"} <= set(library)
    for entry in library.values():
        assert entry.version >= 1 and entry.name and entry.questions
        for question in entry.questions:
            assert question["text"] and question["kind"] in {
                "yes_no",
                "yes_no_na",
                "text",
                "choice",
            }
