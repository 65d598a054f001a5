"""Lexical search with bm25s: names, numbers and rare words that a small embedding model blurs."""

import logging
import re

import bm25s
import numpy as np
import Stemmer

_stemmer = Stemmer.Stemmer("english")
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


def tokenize(texts: list[str]) -> bm25s.tokenization.Tokenized:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer, show_progress=False)


def tokenize_query(text: str) -> list[str]:
    """Query tokens as strings, stemmed and without stopwords, as the index was built."""
    return bm25s.tokenize([text], stopwords="en", stemmer=_stemmer, return_ids=False, show_progress=False)[0]


def stems(text: str) -> list[str]:
    """Word stems without dropping stopwords: for comparing a question to a title."""
    return _stemmer.stemWords(re.findall(r"\w\w+", text.lower()))


def build_lexical(texts: list[str]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


class LexicalIndex:
    """BM25 scores over every item, and which of a question's words an item set contains at all."""

    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self._indptr = retriever.scores["indptr"]
        self._indices = retriever.scores["indices"]
        self._items = int(retriever.scores["num_docs"])

    def scores(self, tokens: list[str]) -> np.ndarray:
        ids = self.retriever.get_tokens_ids(tokens)
        if not ids:
            return np.zeros(self._items, dtype=np.float32)
        return self.retriever.get_scores(ids).astype(np.float32)

    def coverage(self, tokens: list[str], rows: np.ndarray) -> float:
        """IDF-weighted share of `tokens` that occur in the items `rows`.

        A word the corpus has never seen counts as missing with the highest weight: "what is the
        police force's budget?" is not answered by a story that never says "budget".
        """
        if not tokens:
            return 1.0
        vocabulary = self.retriever.vocab_dict
        total = found = 0.0
        for token in tokens:
            token_id = vocabulary.get(token)
            items = self._indices[self._indptr[token_id]:self._indptr[token_id + 1]] if token_id is not None else ()
            weight = float(np.log((self._items + 1) / (len(items) + 0.5)))
            total += weight
            if len(items) and np.isin(rows, items, assume_unique=True).any():
                found += weight
        return found / total if total else 1.0
