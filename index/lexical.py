"""Lexical search with bm25s: names, numbers and rare words that a small embedding model blurs."""

import inspect
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer  # the library's own formulas (pinned version)
from bm25s.stopwords import STOPWORDS_EN

_stemmer = Stemmer.Stemmer("english")


COMMON_FLOOR = 10_000
COMMON_SHARE = 0.05
WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own splitter
STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize_query(text: str) -> list[str]:
    """Lower-cased, stopwords out, stemmed: the one tokenizer for items and questions alike.

    bm25s.tokenize does the same but builds progress bars on every call, which costs more than a
    short question's whole lexical search.
    """
    return _stemmer.stemWords([word for word in WORD.findall(text.lower()) if word not in STOPWORDS])


def stem_words(words: list[str]) -> list[str]:
    return _stemmer.stemWords(words)


def stems(text: str) -> list[str]:
    """Word stems without dropping stopwords: for comparing a question to a title."""
    return _stemmer.stemWords(WORD.findall(text.lower()))


@dataclass
class TermCounts:
    """How often each word occurs in each item: what BM25 is computed from, kept with a generation so that a
    build can carry unchanged items' words over instead of reading and tokenizing their stories again.

    One entry per (item row, word) pair, grouped by row; `vocab` maps a word to its number in `terms`.
    """

    rows: np.ndarray  # int32
    terms: np.ndarray  # int32
    counts: np.ndarray  # int32
    vocab: dict[str, int]

    @classmethod
    def of_texts(cls, texts: list[str], vocab: dict[str, int] | None = None) -> "TermCounts":
        """Counts of `texts` as rows 0, 1, …; new words are added to (a copy of) `vocab`."""
        vocab = dict(vocab or {})
        rows, terms, counts = [], [], []
        for row, text in enumerate(texts):
            for word, count in Counter(tokenize_query(text)).items():
                rows.append(row)
                terms.append(vocab.setdefault(word, len(vocab)))
                counts.append(count)
        return cls(np.array(rows, np.int32), np.array(terms, np.int32), np.array(counts, np.int32), vocab)

    def moved(self, new_rows: np.ndarray) -> "TermCounts":
        """These counts moved to the row `new_rows` gives each row (-1: dropped)."""
        moved = new_rows[self.rows]
        keep = moved >= 0
        return TermCounts(moved[keep].astype(np.int32), self.terms[keep], self.counts[keep], self.vocab)

    def joined(self, other: "TermCounts") -> "TermCounts":
        """Both, over `other`'s vocabulary (which must extend this one's)."""
        return TermCounts(np.concatenate([self.rows, other.rows]), np.concatenate([self.terms, other.terms]),
                          np.concatenate([self.counts, other.counts]), other.vocab)

    def save(self, directory: Path) -> None:
        """Three arrays sorted by row, each its own file, so a loaded generation maps them instead of reading them."""
        order = np.argsort(self.rows, kind="stable")
        for name, array in (("rows", self.rows), ("terms", self.terms), ("counts", self.counts)):
            np.save(directory / f"term_{name}.npy", np.ascontiguousarray(array[order], dtype=np.int32))

    @classmethod
    def load(cls, directory: Path, vocab: Mapping[str, int]) -> "TermCounts":
        """The counts `save` wrote, memory-mapped (sorted by row); ValueError if the three arrays disagree."""
        rows, terms, counts = (np.load(directory / f"term_{name}.npy", mmap_mode="r") for name in ("rows", "terms", "counts"))
        if not (len(rows) == len(terms) == len(counts)):
            raise ValueError(f"the word counts in {directory} disagree")
        return cls(rows, terms, counts, vocab)

    def of_rows(self, starts: np.ndarray, stops: np.ndarray) -> "TermCounts":
        """The entries of the rows in [starts[i], stops[i]) for each i (these counts sorted by row, as `load` gives)."""
        first, last = np.searchsorted(self.rows, starts), np.searchsorted(self.rows, stops)
        lengths = last - first
        if not lengths.sum():
            return TermCounts(self.rows[:0], self.terms[:0], self.counts[:0], self.vocab)
        entries = np.repeat(first - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
        return TermCounts(np.asarray(self.rows[entries]), np.asarray(self.terms[entries]), np.asarray(self.counts[entries]), self.vocab)


# bm25s's defaults (its Lucene variant), read from the library rather than copied.
_DEFAULTS = inspect.signature(bm25s.BM25).parameters
METHOD, K1, B, DELTA = (_DEFAULTS[name].default for name in ("method", "k1", "b", "delta"))
_idf = _select_idf_scorer(METHOD)
_tfc = _select_tfc_scorer(METHOD)


@dataclass
class Postings:
    """One part's word counts by word (the lists BM25 reads), and its items' lengths in words."""

    indptr: np.ndarray  # int64, a word's entries are [indptr[w], indptr[w + 1])
    rows: np.ndarray  # int32, the part's own row numbers
    counts: np.ndarray  # float32, times the word occurs in that row
    lengths: np.ndarray  # float32, words in each row

    NAMES = ("indptr", "rows", "counts", "lengths")

    @classmethod
    def of_counts(cls, counts: TermCounts, items: int, words: int) -> "Postings":
        order = np.lexsort((counts.rows, counts.terms))  # by word, then item
        indptr = np.zeros(words + 1, dtype=np.int64)
        np.cumsum(np.bincount(counts.terms, minlength=words), out=indptr[1:])
        return cls(indptr, np.asarray(counts.rows)[order].astype(np.int32), np.asarray(counts.counts)[order].astype(np.float32),
                   np.bincount(counts.rows, weights=counts.counts, minlength=items).astype(np.float32))

    def save(self, directory: Path) -> None:
        for name in self.NAMES:
            np.save(directory / f"postings_{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, directory: Path) -> "Postings":
        postings = cls(*(np.load(directory / f"postings_{name}.npy", mmap_mode="r") for name in cls.NAMES))
        if len(postings.rows) != len(postings.counts) or postings.indptr[-1] != len(postings.rows):
            raise ValueError(f"the postings in {directory} disagree")
        return postings

    def frequencies(self) -> np.ndarray:
        return np.diff(self.indptr)


@dataclass
class LexicalPart:
    """A part's postings as seen from the whole generation: `row_map` turns its rows into the generation's
    (-1: hidden), None when they are the same."""

    postings: Postings
    row_map: np.ndarray | None = None


class Lexical:
    """BM25 over a generation's items, as bm25s's Lucene variant scores them, from word counts kept in parts (a
    base and a small delta). Scored when asked: a change in one story changes every item's score a little (the
    item count, the average length, its words' document frequencies), so precomputed scores would have to be
    written again for the whole library on each change; from the counts, a question's words cost a pass over
    their own lists, and the scores equal a build from scratch of the same items."""

    def __init__(self, vocab: Mapping[str, int], parts: list[LexicalPart], frequencies: np.ndarray, items: int, total_length: float):
        self.vocab, self.parts, self.frequencies, self.items = vocab, parts, frequencies, items
        self.average_length = total_length / items if items else 1.0

    def token_ids(self, tokens: list[str]) -> list[int]:
        """Each known token's word number, duplicates kept (as bm25s's `get_tokens_ids`)."""
        return [number for token in tokens if (number := self.vocab.get(token)) is not None]

    def postings(self, word: int) -> tuple[np.ndarray, np.ndarray]:
        """The items holding word number `word` and their BM25 scores for it."""
        frequency = int(self.frequencies[word])
        if not frequency:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idf = np.float32(_idf(frequency, N=self.items))
        rows, scores = [], []
        for part in self.parts:
            postings = part.postings
            if word + 1 >= len(postings.indptr):
                continue
            start, stop = postings.indptr[word], postings.indptr[word + 1]
            found, counts = postings.rows[start:stop], postings.counts[start:stop]
            lengths = postings.lengths[found]
            if part.row_map is not None:
                found = part.row_map[found]
                visible = found >= 0
                if not visible.all():
                    found, counts, lengths = found[visible], counts[visible], lengths[visible]
            tfc = _tfc(tf_array=counts, l_d=lengths.astype(np.float64), l_avg=self.average_length, k1=K1, b=B, delta=DELTA)
            rows.append(found)
            scores.append((idf * tfc).astype(np.float32))
        if len(rows) == 1:
            return np.asarray(rows[0]), scores[0]
        return np.concatenate(rows), np.concatenate(scores)


def build_lexical(counts: TermCounts, items: int) -> Lexical:
    """BM25 of `items` rows with these counts, in one part (`tests/index/test_lexical.py` checks it equals
    bm25s's own index of the same texts)."""
    postings = Postings.of_counts(counts, items, len(counts.vocab))
    return Lexical(counts.vocab, [LexicalPart(postings)], postings.frequencies(), items, float(postings.lengths.sum(dtype=np.float64)))


@dataclass
class Matches:
    """One question's BM25 scores, valid inside `LexicalIndex.matching` only."""

    scores: np.ndarray  # by item row; zero where no word of the question occurs
    rows: np.ndarray  # the rows that matched (a row matching two words appears twice)
    peak: float  # the best score

    def top(self, count: int) -> np.ndarray:
        """Up to `count` best-scoring rows, in no order."""
        if len(self.rows) <= count:
            return np.unique(self.rows)
        return np.unique(self.rows[np.argpartition(-self.scores[self.rows], count)[:count]])


class LexicalIndex:
    """BM25 scores over every item, and which of a question's words an item set contains at all."""

    def __init__(self, lexical: Lexical):
        self.lexical = lexical
        self._items = lexical.items
        self._local = threading.local()  # each answering thread reuses its own score buffer
        # Words in more items than this are left out of candidate search (Lucene's common-terms idea): their
        # IDF is a fraction of a rare word's. Never reached below COMMON_FLOOR items, so small corpora are exact.
        self._common = max(COMMON_FLOOR, int(COMMON_SHARE * self._items))

    @contextmanager
    def matching(self, tokens: list[str]) -> Iterator["Matches"]:
        """The question's BM25 scores, touching only the items that share a word with it.

        bm25s.get_scores allocates and scans a score for every item; at a million items those passes cost
        more than the rest of an answer. Here the scores of the question's words are added into a per-thread
        buffer over their posting lists alone, and exactly those entries are zeroed after.
        """
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._local.buffer = np.zeros(self._items, dtype=np.float32)
        postings = []
        for word in self.lexical.token_ids(tokens):
            if self.lexical.frequencies[word] > self._common:
                continue  # a word in most items barely ranks them and would cost a pass over them all
            rows, scores = self.lexical.postings(word)
            buffer[rows] += scores  # one word's rows are distinct, so += is exact
            postings.append(rows)
        rows = np.concatenate(postings) if postings else np.zeros(0, np.int64)
        try:
            yield Matches(buffer, rows, float(buffer[rows].max()) if len(rows) else 0.0)
        finally:
            buffer[rows] = 0.0
