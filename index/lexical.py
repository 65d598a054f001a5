"""Lexical search with bm25s: names, numbers and rare words that a small embedding model blurs."""

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
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


def build_lexical(texts: list[str]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    retriever.index([tokenize_query(text) for text in texts], show_progress=False)
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
