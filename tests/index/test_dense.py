"""The FAISS index chosen by size, and the lookups that replace per-item Python objects."""

import dataclasses

import faiss
import numpy as np

from index.dense import NPROBE, build_dense, describe, tune
from index.evaluation import read_labelled_set
from index.retrieval import CANDIDATES, KnowledgeBase
from tests.support import EVAL, SEEDS


def clustered_vectors(count: int, dimension: int = 64, clusters: int = 200, seed: int = 3) -> np.ndarray:
    """Unit vectors around topics, as sentence embeddings are, rather than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dimension))
    vectors = centres[rng.integers(0, clusters, count)] + rng.normal(scale=0.35, size=(count, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def test_small_indexes_are_exact_and_large_ones_ivf_with_8_bit_codes(tmp_path):
    vectors = clustered_vectors(20_000)
    ids = np.arange(20_000, dtype=np.int64) * 7 + 11  # stable ids are not row numbers
    assert describe(build_dense(vectors[:500], ids[:500], exact_limit=1_000)) == "exact (flat inner product)"

    approximate = build_dense(vectors, ids, exact_limit=1_000)
    assert isinstance(approximate, faiss.IndexIVFScalarQuantizer) and approximate.ntotal == 20_000
    faiss.write_index(approximate, str(tmp_path / "dense.faiss"))
    reloaded = tune(faiss.read_index(str(tmp_path / "dense.faiss")))
    assert reloaded.nprobe == NPROBE, "nprobe is not kept in the file, so loading must set it"

    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
    exact.add_with_ids(vectors, ids)
    queries = clustered_vectors(200, seed=9)
    _, found = reloaded.search(queries, 10)
    _, truth = exact.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
    assert recall >= 0.95
    assert set(found.ravel()) <= set(ids.tolist())


def test_above_the_exact_limit_the_index_agrees_with_exact_search_on_real_text(eval_kb, embedder):
    """The evaluation corpus's own vectors, indexed as a corpus past EXACT_LIMIT is (the limit lowered to fit it), and
    its labelled questions: retrieval's candidates and every answer are those of exact search."""
    generation = eval_kb.generation
    vectors, ids = np.ascontiguousarray(generation.vectors), generation.items["id"]
    approximate = tune(build_dense(vectors, ids, exact_limit=len(vectors) // 2))
    assert describe(approximate).startswith("IVF") and approximate.ntotal == len(vectors)
    scaled = KnowledgeBase(dataclasses.replace(generation, dense=approximate), embedder, eval_kb.judgement)

    questions = [q.text for q in read_labelled_set(EVAL, SEEDS).questions]
    queries = embedder.encode(questions)
    found = [scaled.generation.nearest_rows(query, CANDIDATES) for query in queries]
    truth = [generation.nearest_rows(query, CANDIDATES) for query in queries]
    assert np.mean([f[0] == t[0] for f, t in zip(found, truth, strict=True)]) == 1.0
    assert np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]) >= 0.99
    differing = [q for q in questions if scaled.ask(q) != eval_kb.ask(q)]
    assert differing == []
