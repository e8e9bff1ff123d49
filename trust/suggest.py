"""Suggesting library answers for incoming questions: TF-IDF retrieval (scikit-learn).

Each library entry is indexed by its question and its other wordings (one document each; an
entry scores as its best wording). Two TF-IDF spaces are blended: words and word pairs (what the
question is about: "encryption", "penetration test") and character 3-5-grams within words
(robust to inflection and spelling: "encrypt"/"encrypted", "pen-test"/"pentest"). The score is
the mean of the two cosine similarities, in [0, 1]; below the threshold
(``settings.ANSWER_SUGGESTION_THRESHOLD``) the question is flagged "no good match" and nothing
is suggested. Nothing is generated: a suggestion is always an entry's own answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

# scikit-learn (with SciPy) takes about a second to import: it is imported where an index is
# built, not here, so the web workers, Celery and every manage.py command that load the URLconf
# do not pay for it at start (the trust page's first request once waited two seconds for it).

DEFAULT_THRESHOLD = 0.3
WORD_WEIGHT = 0.5  # of the word space in the blend (benchmarks/test_bench_answers.py)
# Words that say nothing about the topic of a security question.
STOP_WORDS = sorted(
    {
        "a", "an", "and", "any", "are", "as", "at", "be", "by", "can", "describe", "do", "does",
        "for", "from", "have", "has", "how", "if", "in", "is", "it", "its", "of", "on", "or",
        "please", "provide", "that", "the", "their", "there", "this", "to", "what", "when",
        "which", "who", "will", "with", "you", "your", "yours", "our", "we", "us",
    }
)  # fmt: skip


def threshold() -> float:
    return float(getattr(settings, "ANSWER_SUGGESTION_THRESHOLD", DEFAULT_THRESHOLD))


@dataclass(frozen=True)
class Candidate:
    key: int  # the entry's id (or any key the caller gave)
    score: float


class Index:
    """A retrieval index over library entries: ``(key, [question, wording, ...])`` pairs."""

    def __init__(self, entries: Sequence[tuple[int, Sequence[str]]]) -> None:
        self.keys: list[int] = []
        documents: list[str] = []
        for key, texts in entries:
            for text in texts:
                if text and text.strip():
                    self.keys.append(key)
                    documents.append(text)
        self.empty = not documents
        if self.empty:
            return
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.words: TfidfVectorizer = TfidfVectorizer(
            lowercase=True,
            stop_words=STOP_WORDS,
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w\w+\b",  # noqa: S106  (a regex, not a password)
        )
        self.chars: TfidfVectorizer = TfidfVectorizer(
            lowercase=True, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True
        )
        self.word_matrix = self.words.fit_transform(documents)
        self.char_matrix = self.chars.fit_transform(documents)

    def rank(self, questions: Sequence[str], *, limit: int = 3) -> list[list[Candidate]]:
        """The best ``limit`` entries for each question, best first (an entry once)."""
        if self.empty or not questions:
            return [[] for _ in questions]
        from sklearn.metrics.pairwise import linear_kernel

        word_scores = linear_kernel(self.words.transform(questions), self.word_matrix)
        char_scores = linear_kernel(self.chars.transform(questions), self.char_matrix)
        scores = WORD_WEIGHT * word_scores + (1 - WORD_WEIGHT) * char_scores
        ranked: list[list[Candidate]] = []
        for row in scores:
            best: dict[int, float] = {}
            for position in row.argsort()[::-1]:
                key = self.keys[position]
                if key not in best:
                    best[key] = float(row[position])
                    if len(best) == limit:
                        break
            ranked.append([Candidate(key, round(score, 4)) for key, score in best.items()])
        return ranked


def entry_texts(question: str, aliases: str) -> list[str]:
    return [question, *(line.strip() for line in aliases.splitlines() if line.strip())]
