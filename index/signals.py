"""Signals about a question and a text that mean the same whatever the corpus holds.

A word's weight here is its rarity in *English* (wordfreq's Zipf scale), not in the corpus: with one story
indexed or a hundred thousand, "humberside" is rare and "police" is common, so a share of the question's
words found in a story means the same in both. Corpus-relative IDF does not: with one story every word
of that story is "common" and obvious questions looked uncovered.
"""

import functools
import re

from wordfreq import zipf_frequency

from .lexical import STOPWORDS, WORD, stem_words

# Words that shape a question but say nothing about what it is about.
QUESTION_WORDS = frozenset(
    "what whats when where who whom whose why which how does did do is are was were will would could should can "
    "tell me about any anything something someone please thanks thx pls hey hi yo so actually really just like "
    "know think mean gonna wanna got get gets getting u ur r ya yeah ok okay lol tho though rn tbh many much have has had".split()
)
RARITY_CEILING = 7.0  # Zipf 7 is "the", "and": weight 0; a word wordfreq has never seen weighs 7

NUMBER = re.compile(r"\d")
MONTHS = "january february march april may june july august september october november december"
DATE = re.compile(rf"\b(?:{'|'.join(MONTHS.split())}|(?:19|20)\d\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                  r"next (?:week|month|year)|this (?:week|month|year)|spring|summer|autumn|winter)\b", re.I)
PERSON_OR_BODY = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
ASKS_NUMBER = re.compile(r"\b(?:how (?:many|much|long|far|big|old|often|high|low)|what (?:percentage|share|proportion|number|amount|age|fine)|"
                         r"cost|price|percent|%)", re.I)
ASKS_DATE = re.compile(r"\b(?:when|what (?:date|day|year|month|time)|how soon|since when|until when|start(?:s|ing)? date)\b", re.I)
ASKS_PERSON = re.compile(r"\b(?:who|whom|whose|which (?:minister|judge|company|firm|official|union|group|body|team|club))\b", re.I)


@functools.lru_cache(maxsize=200_000)
def rarity(word: str) -> float:
    return max(0.0, RARITY_CEILING - zipf_frequency(word, "en"))


def content_words(text: str) -> list[tuple[str, float]]:
    """The words a question is about, as (stem, English rarity), question and stop words left out."""
    words = [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in QUESTION_WORDS]
    return list(zip(stem_words(words), (rarity(w) for w in words), strict=True))


def stem_set(text: str) -> frozenset[str]:
    return frozenset(stem_words(WORD.findall(text.lower())))


def coverage(words: list[tuple[str, float]], stems: frozenset[str]) -> float:
    """Rarity-weighted share of `words` whose stem occurs in `stems`; 0 when there are no words."""
    total = sum(weight for _, weight in words)
    return sum(weight for stem, weight in words if stem in stems) / total if total else 0.0


def rarity_missing(words: list[tuple[str, float]], stems: frozenset[str]) -> float:
    """The English rarity of `words` whose stem is *not* in `stems`, summed: how much a question names that a text
    lacks. "and the other side?" lacks little of any story (1.5 of the seed); "…pineapple on pizza?" lacks two rare
    words of a story about the police (10.0). Unlike `coverage`, a share, it grows with what is missing."""
    return sum(weight for stem, weight in words if stem not in stems)


def asked_type(question: str) -> str | None:
    """What kind of thing the question asks for: a number, a date, a person or body, or None."""
    if ASKS_NUMBER.search(question):
        return "number"
    if ASKS_DATE.search(question):
        return "date"
    if ASKS_PERSON.search(question):
        return "person"
    return None


def holds_type(text: str, kind: str | None) -> bool:
    """Whether a bullet holds something of the asked kind."""
    if kind == "number":
        return bool(NUMBER.search(text))
    if kind == "date":
        return bool(DATE.search(text))
    if kind == "person":
        return bool(PERSON_OR_BODY.search(text))
    return False
