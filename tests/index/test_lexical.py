"""BM25 computed over whole arrays (index/lexical.py) is bm25s's own index of the same texts, and carrying
unchanged items' word counts over to a new build gives the index a build from scratch would."""

import bm25s
import numpy as np

from index.lexical import Lexical, TermCounts, build_lexical, tokenize_query
from tests.support import SEED


def texts_of_the_seed() -> list[str]:
    lines = [line.strip("- ") for line in SEED.read_text(encoding="utf-8").splitlines() if len(line) > 20]
    return [*lines, "", "the the the", "Saltmarsh ferry fares ferry ferry 9 crowns"]


def score_matrix(retriever: bm25s.BM25 | Lexical) -> dict[tuple[str, int], float]:
    """(word, item) -> score, whatever numbers the two indexes gave their words."""
    if isinstance(retriever, Lexical):
        matrix = {}
        for word, number in retriever.vocab.items():
            rows, scores = retriever.postings(number)
            matrix |= {(word, int(row)): float(score) for row, score in zip(rows, scores, strict=True)}
        return matrix
    scores, words = retriever.scores, {number: word for word, number in retriever.vocab_dict.items()}
    matrix = {}
    for number, word in words.items():
        if number + 1 >= len(scores["indptr"]):
            continue  # bm25s's empty-word entry, which has no column
        start, stop = scores["indptr"][number], scores["indptr"][number + 1]
        for item, score in zip(scores["indices"][start:stop], scores["data"][start:stop], strict=True):
            matrix[(word, int(item))] = float(score)
    return matrix


def test_bm25_over_arrays_equals_bm25s_own_index():
    texts = texts_of_the_seed()
    reference = bm25s.BM25()
    reference.index([tokenize_query(text) for text in texts], show_progress=False)
    ours = build_lexical(TermCounts.of_texts(texts), len(texts))
    expected, got = score_matrix(reference), score_matrix(ours)
    assert expected.keys() == got.keys() and len(got) > 100
    assert np.allclose([got[key] for key in expected], list(expected.values()), rtol=1e-5)
    assert ours.items == len(texts)


def test_counts_carried_over_give_the_index_a_fresh_build_gives():
    texts = texts_of_the_seed()
    old = TermCounts.of_texts(texts[:-3])
    # Drop the first two items, keep the rest one row down... two rows down, and add three new ones after them.
    new_rows = np.full(len(texts) - 3, -1)
    new_rows[2:] = np.arange(len(texts) - 5)
    carried = old.moved(new_rows)
    added = TermCounts.of_texts(texts[-3:], vocab=old.vocab).moved(np.arange(len(texts) - 5, len(texts) - 2))
    incremental = build_lexical(carried.joined(added), len(texts) - 2)
    fresh = build_lexical(TermCounts.of_texts(texts[2:]), len(texts) - 2)
    expected, got = score_matrix(fresh), score_matrix(incremental)
    assert expected.keys() == got.keys()
    assert np.allclose([got[key] for key in expected], list(expected.values()), rtol=1e-5)
