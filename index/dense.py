"""The dense (FAISS) index, chosen by size: exact while exact is fast, IVF with 8-bit codes beyond.

Exact inner-product search costs about 1 ms at 10k vectors and grows linearly (60–160 ms at 1M on two
cores); 1,536 bytes a vector (float32) also breaks the memory budget at scale (0.6 KB a claim). Above
`EXACT_LIMIT`, an inverted file with scalar-quantised codes (384 bytes a vector) searches `NPROBE` of its lists
for `REFINE` times the items wanted, and `store.Generation.nearest_rows` re-ranks them by the exact vectors
(memory-mapped beside it): the recall of an inverted file of float vectors at a quarter of its memory.
`python -m index.recall_bench` chose this against exact search, other probe counts, IVF-Flat and HNSW, on real
text at 100k claims (README, Performance); an index of this kind is also updated in place (`updated_dense`).
"""

import math

import faiss
import numpy as np

EXACT_LIMIT = 50_000
NPROBE = 128  # lists searched: 1 ms a search at 100k claims (python -m index.recall_bench)
POINTS_PER_LIST = 40  # FAISS warns below 39 training points per list, and recall suffers
TRAINING_CAP = 200_000  # k-means on more than this buys little and costs seconds
SEED = 1234
REFINE = 2  # an index with quantised distances is asked for this many times the items wanted, re-ranked exactly


def build_dense(vectors: np.ndarray, ids: np.ndarray, exact_limit: int = EXACT_LIMIT) -> faiss.Index:
    count, dimension = vectors.shape
    if count <= exact_limit:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        index.add_with_ids(vectors, ids)
        return index
    return tune(build_ivf(vectors, ids, quantised=True))


def build_ivf(vectors: np.ndarray, ids: np.ndarray, *, quantised: bool) -> faiss.IndexIVF:
    """An inverted file over `lists_for(count)` lists trained on a seeded sample; codes of 8 bits a dimension
    (`quantised`) or the float vectors."""
    count, dimension = vectors.shape
    lists = lists_for(count)
    quantizer = faiss.IndexFlatIP(dimension)
    if quantised:
        index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(SEED)
    sample = vectors[np.sort(rng.choice(count, min(count, POINTS_PER_LIST * lists, TRAINING_CAP), replace=False))]
    index.train(sample)
    index.add_with_ids(vectors, ids)
    return index


def lists_for(count: int) -> int:
    return 1 << round(math.log2(4 * math.sqrt(count)))  # the usual 4·√n, as a power of two


def updated_dense(index: faiss.Index, remove: np.ndarray, vectors: np.ndarray, ids: np.ndarray, exact_limit: int = EXACT_LIMIT) -> faiss.Index | None:
    """`index` itself, changed in place: the ids `remove` dropped and `vectors` added under `ids`; or None when
    the new size calls for another kind of index than `index` is (then `build_dense` makes one).

    An IVF index keeps the lists it was trained with: assigning a million vectors to them again costs tens of
    seconds, and lists trained on a corpus still fit it after a few stories changed. A rebuild from the files
    of a corpus that grew or shrank past a power of two trains new ones.
    """
    count = index.ntotal - len(remove) + len(ids)
    if isinstance(index, faiss.IndexIVF) != (count > exact_limit) or (isinstance(index, faiss.IndexIVF) and index.nlist != lists_for(count)):
        return None
    if len(remove):
        index.remove_ids(np.ascontiguousarray(remove, dtype=np.int64))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
    return index


def searched(index: faiss.Index, count: int) -> int:
    """How many items to ask `index` for when `count` are wanted: more when its distances are quantised, for
    `store.Generation.nearest_rows` to re-rank by the exact vectors."""
    return count * REFINE if isinstance(index, faiss.IndexIVFScalarQuantizer) else count


def tune(index: faiss.Index) -> faiss.Index:
    """Search-time settings, which FAISS does not keep in the file."""
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = NPROBE
    return index


def describe(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexIVF):
        return f"IVF{index.nlist},SQ8 (nprobe {index.nprobe}, re-ranked exactly)"
    return "exact (flat inner product)"
