"""Suggestion quality of the answer library on a labelled set built from Google's VSAQ.

The library (44 entries written for Attest) and the labels are in benchmarks/answers_labelled.py;
the question texts are read from ../shared/data/questionnaires/vsaq at run time. The same code
path as an import: ``trust.library.services.suggest`` (TF-IDF, words + character n-grams).
Printed: top-1 and top-3 accuracy, coverage (share of answerable questions with a suggestion at
the threshold), precision of those suggestions, and the false-suggestion rate on questions the
library has no answer for.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from benchmarks.answers_labelled import ENTRIES, LABELS, UNANSWERED, VSAQ_DIR, vsaq_questions
from trust.models import AnswerEntry
from trust.suggest import Index, entry_texts, threshold


def _library() -> tuple[list[str], list[AnswerEntry]]:
    keys = list(ENTRIES)
    entries = [
        AnswerEntry(pk=number, question=question, answer=answer, aliases="")
        for number, (question, answer) in enumerate(ENTRIES.values(), start=1)
    ]
    return keys, entries


def test_suggestion_quality_on_vsaq() -> None:
    if not VSAQ_DIR.is_dir():
        pytest.fail(f"VSAQ not found at {VSAQ_DIR} (set BENCH_VSAQ_DIR).")
    questions = vsaq_questions()
    missing = [qid for qid in [*LABELS, *UNANSWERED] if qid not in questions]
    assert not missing, f"ids not in VSAQ: {missing}"
    keys, entries = _library()
    start = time.perf_counter()
    index = Index([(entry.pk, entry_texts(entry.question, entry.aliases)) for entry in entries])
    labelled = list(LABELS)
    ranked = index.rank([questions[qid] for qid in labelled], limit=3)
    unlabelled = index.rank([questions[qid] for qid in UNANSWERED], limit=1)
    elapsed = (time.perf_counter() - start) * 1000
    limit = threshold()

    def key(pk: int) -> str:
        return keys[pk - 1]

    top1 = sum(1 for qid, c in zip(labelled, ranked, strict=True) if key(c[0].key) == LABELS[qid])
    top3 = sum(
        1 for qid, c in zip(labelled, ranked, strict=True) if LABELS[qid] in [key(x.key) for x in c]
    )
    covered = [(qid, c[0]) for qid, c in zip(labelled, ranked, strict=True) if c[0].score >= limit]
    right = sum(1 for qid, best in covered if key(best.key) == LABELS[qid])
    false = sum(1 for c in unlabelled if c and c[0].score >= limit)
    n = len(labelled)
    print(
        f"\nanswer suggestions on VSAQ: {len(entries)} library entries, {n} labelled questions, "
        f"{len(UNANSWERED)} without an entry; threshold {limit:.2f} "
        f"(ANSWER_SUGGESTION_THRESHOLD={settings.ANSWER_SUGGESTION_THRESHOLD})"
    )
    print(f"  top-1 accuracy          {top1 / n:6.1%}  ({top1}/{n})")
    print(f"  top-3 accuracy          {top3 / n:6.1%}  ({top3}/{n})")
    print(
        f"  coverage at threshold   {len(covered) / n:6.1%}  ({len(covered)}/{n} get a suggestion)"
    )
    print(
        f"  right when suggested    {right / max(len(covered), 1):6.1%}  ({right}/{len(covered)})"
    )
    print(f"  correct answers overall {right / n:6.1%}  ({right}/{n})")
    print(
        f"  false suggestions       {false / len(UNANSWERED):6.1%}  "
        f"({false}/{len(UNANSWERED)} questions without an entry)"
    )
    print(f"  index + ranking time    {elapsed:6.1f} ms")
    # Correctness, not speed: the retrieval must beat chance by far and rank most answers first.
    assert top1 / n >= 0.6
    assert top3 >= top1
