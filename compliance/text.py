"""Small helpers for the English that Attest writes into pages, messages and demo data."""

from __future__ import annotations

import re

# Words spelt with a vowel that start with a consonant sound ("a university", "a one-off") and
# words spelt with a consonant that start with a vowel sound ("an hour", "an honest").
_CONSONANT_SOUND = re.compile(r"^(uni|use|usu|uti|ure|euro|eu|one|once|ubi|uk\b|u\.)", re.I)
_VOWEL_SOUND = re.compile(r"^(hour|honest|honou?r|heir)", re.I)
# Letters whose name starts with a vowel sound, for words read letter by letter ("an SSO", "an
# HR", "a SOC", "an AWS").
_VOWEL_SOUND_LETTERS = frozenset("AEFHILMNORSX")
# Acronyms said as words, not letter by letter ("a SOC 2 report", "a RACI chart").
_SAID_AS_WORDS = frozenset({"SOC", "RACI", "SAML", "SCIM", "SIEM", "SAST", "DAST", "NIST", "FIDO"})


def article(word: str) -> str:
    """ "a" or "an" for ``word``, by its sound rather than its spelling."""
    word = word.strip().lstrip("“\"'(")
    if not word:
        return "a"
    first = word.split()[0]
    letters = re.sub(r"[^A-Za-z]", "", first)
    if letters in _SAID_AS_WORDS:
        return "a"
    if len(letters) > 1 and letters.isupper():  # an acronym, read letter by letter
        return "an" if letters[0] in _VOWEL_SOUND_LETTERS else "a"
    if first[0].isdigit():
        # "an 8-hour", "an 80-day", "an 11-step", "an 18-month"; "a 1-day", "a 110-page".
        return "an" if re.match(r"^(8|1[18](\D|$))", first) else "a"
    if _VOWEL_SOUND.match(first):
        return "an"
    if _CONSONANT_SOUND.match(first):
        return "a"
    return "an" if first[0].lower() in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """``phrase`` preceded by "a" or "an" ("an annual review", "a weekly check")."""
    return f"{article(phrase)} {phrase}"


# "a"/"an" and the word after it, in running text.
_ARTICLE_PHRASE = re.compile(r"\b(a|an)\s+[“\"'(]?([A-Za-z0-9][\w.+-]*)", re.IGNORECASE)
# Where "a" is not an article: "Annex A of", "A and B".
_NOT_A_NOUN = frozenset({"of", "and", "or", "to", "in", "is", "was", "the"})


def article_mistakes(text: str) -> list[str]:
    """Every "a"/"an" in ``text`` that does not match the sound of the next word ("a annual")."""
    mistakes = []
    for match in _ARTICLE_PHRASE.finditer(text):
        found, word = match.group(1), match.group(2)
        if word.lower() in _NOT_A_NOUN:
            continue
        if found.lower() != article(word):
            mistakes.append(f"{found} {word}")
    return mistakes
