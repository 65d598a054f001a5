"""The benchmark's own pieces (`python -m index bench`), on a small real index: its naive path's exact index and
its recall, read through the store as answering reads it, whatever the generation's layout on disk; and the stage
costs (`bench --stages`), each stage's clock really running."""

import json
import shutil

import faiss
import numpy as np

import index
from index.bench import exact_index_path, recall_at_10, stage_costs, write_exact_index
from index.parser import parse_file
from index.settings import DEFAULT_MODEL
from tests.support import SEED, SEEDS


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


def test_every_stage_of_the_stage_costs_is_timed(tmp_path, embedder, encoder_dir):
    """A labelled set of the seed alone: a question, one with two parts, and a follow-up. Every row must hold time:
    a stage renamed or moved out from under its wrapper would read 0 ms, not fail. (`embedder` has the encoder and
    the reader exported into `encoder_dir` before the test.)"""
    (tmp_path / "stories").mkdir()
    shutil.copy(SEED, tmp_path / "stories")
    title = parse_file(SEED).story.title
    row = {"story": title, "fact": 1, "also": [], "kind": "answerable", "writer": "test"}
    (tmp_path / "questions").mkdir()
    (tmp_path / "questions" / "a.jsonl").write_text("\n".join(json.dumps({**row, "q": q}) for q in (
        "why are london police stopping mental health calls?", "when does it start and who is against it?")), encoding="utf-8")
    (tmp_path / "followups").mkdir()
    (tmp_path / "followups" / "a.jsonl").write_text(json.dumps(
        {**row, "first": "why are london police stopping mental health calls?", "followup": "when does it start?"}), encoding="utf-8")
    table = stage_costs(tmp_path, SEEDS, DEFAULT_MODEL, encoder_dir)
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    assert len(rows) == 7, table
    timed = {stage.strip(): (int(questions), float(mean)) for stage, questions, mean, _ in rows}
    # With one story indexed the second part has no other story to add and may stop before costing anything.
    assert timed.pop("two-story parts, extra")[0] == 1, table
    assert [(questions, mean > 0) for questions, mean in timed.values()] == [(2, True)] * 4 + [(1, True)] * 2, table
