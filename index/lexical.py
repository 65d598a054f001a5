"""Lexical search with bm25s: names, numbers and rare words that a small embedding model blurs."""

import re
import threading
from collections import Counter
from collections.abc import Iterator
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

    FILE = "terms.npz"

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
        np.savez(directory / self.FILE, rows=self.rows, terms=self.terms, counts=self.counts)

    @classmethod
    def load(cls, directory: Path, vocab: dict[str, int], items: int) -> "TermCounts":
        """The counts saved in `directory` for `items` rows over `vocab`; ValueError if they do not fit them."""
        with np.load(directory / cls.FILE) as saved:
            counts = cls(saved["rows"], saved["terms"], saved["counts"], vocab)
        if not (len(counts.rows) == len(counts.terms) == len(counts.counts)) or (
                len(counts.rows) and (counts.rows.max() >= items or counts.terms.max() >= len(vocab) or counts.rows.min() < 0)):
            raise ValueError(f"{directory / cls.FILE} does not fit its generation")
        return counts

    @classmethod
    def check(cls, directory: Path) -> None:
        """Reads the archive's directory only (a cut or emptied file has none); raises ValueError or OSError."""
        with np.load(directory / cls.FILE) as saved:
            if set(saved.files) != {"rows", "terms", "counts"}:
                raise ValueError(f"{directory / cls.FILE} lacks its arrays")


def build_lexical(counts: TermCounts, items: int) -> bm25s.BM25:
    """bm25s's BM25 (its default Lucene variant, its own idf and term-frequency formulas) over `items` rows.

    bm25s.BM25.index computes the same scores, but document by document in Python: 20–90 s at a million items
    (measured), on every change. Here the same formulas run over whole arrays; `tests/index/test_lexical.py`
    checks the result equals bm25s's own index of the same texts.
    """
    retriever = bm25s.BM25()
    vocabulary = len(counts.vocab)
    lengths = np.bincount(counts.rows, weights=counts.counts, minlength=items)
    frequencies = np.bincount(counts.terms, minlength=vocabulary)
    idf_of = _select_idf_scorer(retriever.idf_method or retriever.method)
    idf = np.array([idf_of(int(df), N=items) if df else 0.0 for df in frequencies], dtype=retriever.dtype)
    tfc = _select_tfc_scorer(retriever.method)(
        tf_array=counts.counts.astype(retriever.dtype), l_d=lengths[counts.rows], l_avg=lengths.mean() if items else 1.0,
        k1=retriever.k1, b=retriever.b, delta=retriever.delta)
    order = np.lexsort((counts.rows, counts.terms))  # by word, then item: the score matrix's columns
    indptr = np.zeros(vocabulary + 1, dtype=np.int64)
    np.cumsum(frequencies, out=indptr[1:])
    retriever.scores = {"data": (idf[counts.terms] * tfc)[order].astype(retriever.dtype),
                        "indices": counts.rows[order].astype(retriever.int_dtype), "indptr": indptr, "num_docs": items}
    retriever.vocab_dict = counts.vocab
    retriever.unique_token_ids_set = set(counts.vocab.values())
    retriever.nonoccurrence_array = None
    return retriever


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

    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self._indptr = retriever.scores["indptr"]
        self._indices = retriever.scores["indices"]
        self._data = retriever.scores["data"]
        self._items = int(retriever.scores["num_docs"])
        self._local = threading.local()  # each answering thread reuses its own score buffer
        # Words in more items than this are left out of candidate search (Lucene's common-terms idea): their
        # IDF is a fraction of a rare word's. Never reached below COMMON_FLOOR items, so small corpora are exact.
        self._common = max(COMMON_FLOOR, int(COMMON_SHARE * self._items))
        # bm25s stores each (item, word) score precomputed, which is what makes `matching` a lookup.
        assert retriever.method in ("lucene", "robertson", "atire"), "methods with non-occurrence scores need get_scores"

    @contextmanager
    def matching(self, tokens: list[str]) -> Iterator["Matches"]:
        """The question's BM25 scores, touching only the items that share a word with it.

        bm25s.get_scores allocates and scans a score for every item; at a million items those passes cost
        more than the rest of an answer. Here the precomputed scores of the question's words are added into
        a per-thread buffer over their posting lists alone, and exactly those entries are zeroed after.
        """
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._local.buffer = np.zeros(self._items, dtype=np.float32)
        postings = []
        for token_id in self.retriever.get_tokens_ids(tokens):
            start, stop = self._indptr[token_id], self._indptr[token_id + 1]
            if stop - start > self._common:
                continue  # a word in most items barely ranks them and would cost a pass over them all
            rows = self._indices[start:stop]
            buffer[rows] += self._data[start:stop]  # one word's rows are distinct, so += is exact
            postings.append(rows)
        rows = np.concatenate(postings) if postings else self._indices[:0]
        try:
            yield Matches(buffer, rows, float(buffer[rows].max()) if len(rows) else 0.0)
        finally:
            buffer[rows] = 0.0
