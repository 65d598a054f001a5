"""The benchmark's own pieces (`python -m index bench`), on a small real index: its naive path's exact index and
its recall, read through the store as answering reads it, whatever the generation's layout on disk."""

import faiss
import numpy as np

import index
from index.bench import exact_index_path, recall_at_10, write_exact_index


def test_the_naive_paths_exact_index_holds_every_vector_and_an_exact_index_has_full_recall(stories, tmp_path, embedder):
    out = tmp_path / "bench" / "index"
    index.build([stories], out, embedder=embedder)
    generation = index.load(out, embedder=embedder).generation
    write_exact_index(out)
    exact = faiss.read_index(str(exact_index_path(out)))
    assert exact.ntotal == len(generation.items)
    query = np.ascontiguousarray(generation.row_vectors[[3]])
    _, ids = exact.search(query, 1)
    assert ids[0][0] == generation.items["id"][3]  # each vector under its item's id
    assert recall_at_10(out, ["what did the council decide?", "how much does it cost?"], embedder) == 1.0
