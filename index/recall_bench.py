"""`python -m index.recall_bench`: which FAISS index to search above `dense.EXACT_LIMIT`, measured on real text.

Writes the evaluation stories plus generated distractors up to CLAIMS claims (as `python -m index bench` does) and
builds them once with the shipped encoder (a work directory that already holds the index is reused: only an
unchanged rebuild runs). Then each candidate index is built over the same stored vectors and compared with exact
search, with the labelled questions of `tests/eval` (as members typed them, through the same encoder) as queries:

- *recall@10*, *top-1* and *recall@50*: of this index's first 10 items, the share as near the question as exact
  search's 10th (`bench.recall`: by score, as the corpus holds identical sentences); whether its first is as near as exact
  search's; the same for 50. All three through `Generation.nearest_rows`, which retrieval calls for CANDIDATES
  (50) items, so an index with quantised distances is re-ranked exactly as when answering (rows marked "no
  re-rank" turn that off);
- *same answer*: the share of questions whose whole answer (`KnowledgeBase.ask`) equals the one given with exact
  search, so what a member would see;
- *search ms*: `nearest_rows` one question at a time on one thread, as an answering thread calls it;
- *bytes/vector*: the index as written, which every process reads whole into memory (the float vectors themselves
  are memory-mapped beside it and paged in on demand); *build s*: training and adding, one thread;
- *in place*: whether a story's items can be removed from it (`remove_ids`), which an add or remove of one story
  relies on (`dense.updated_dense`); without it, every change rebuilds the whole index.

Run by hand: the first build of 100k claims takes minutes (6 on a quiet machine, 44 under load 8), the comparison
about 5 more with `--answered 270`; prints the machine, the load average and a table.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from . import dense
from .bench import load_average, machine, questions, recall, write_corpus
from .builder import build
from .embedder import embedder_for
from .retrieval import CANDIDATES, load
from .settings import DEFAULT_MODEL

CLAIMS = 100_000


@dataclass
class Option:
    name: str
    make: Callable[[np.ndarray, np.ndarray], faiss.Index]
    settings: list[tuple[str, Callable[[faiss.Index], None]]]  # (label, what to set before searching)


def hnsw(links: int) -> Callable[[np.ndarray, np.ndarray], faiss.Index]:
    def make(vectors: np.ndarray, ids: np.ndarray) -> faiss.Index:
        # Inner product, as every other index here (the vectors are unit length, so L2 would rank the same), and
        # IndexIDMap2 for the stable item ids: HNSW numbers vectors by their order of insertion only.
        index = faiss.IndexIDMap2(faiss.IndexHNSWFlat(vectors.shape[1], links, faiss.METRIC_INNER_PRODUCT))
        index.add_with_ids(vectors, ids)
        return index
    return make


def nprobe(value: int) -> Callable[[faiss.Index], None]:
    def apply(index: faiss.Index) -> None:
        faiss.extract_index_ivf(index).nprobe = value
    return apply


def ef_search(value: int) -> Callable[[faiss.Index], None]:
    def apply(index: faiss.Index) -> None:
        faiss.downcast_index(index.index).hnsw.efSearch = value
    return apply


def options(count: int) -> list[Option]:
    lists = dense.lists_for(count)
    return [
        Option("exact (flat)", lambda v, i: dense.build_dense(v, i, exact_limit=len(v)), [("", lambda index: None)]),
        Option(f"IVF{lists},SQ8", lambda v, i: dense.build_ivf(v, i, quantised=True),
               [(f"nprobe {n}", nprobe(n)) for n in (32, 64, 128, 256)]),
        Option(f"IVF{lists},Flat", lambda v, i: dense.build_ivf(v, i, quantised=False),
               [(f"nprobe {n}", nprobe(n)) for n in (64, 128, 256)]),
        Option("HNSW32,Flat", hnsw(32), [(f"efSearch {n}", ef_search(n)) for n in (32, 64, 128)]),
    ]


def removable(index: faiss.Index, ids: np.ndarray) -> bool:
    try:
        index.remove_ids(np.ascontiguousarray(ids[:1], dtype=np.int64))
    except RuntimeError:
        return False
    return True


def run(workdir: Path, claims: int, eval_dir: Path, seeds_dir: Path, answered: int | None = None, log=print) -> str:
    stories, out = workdir / "stories", workdir / "index"
    embedder = embedder_for(DEFAULT_MODEL, workdir, workdir / "encoder")
    if not stories.is_dir():
        write_corpus(stories, claims, eval_dir)
    tick = time.perf_counter()
    report = build([eval_dir / "stories", stories], out, embedder=embedder)
    log(f"index: {report.facts + report.narratives:,} claims ({time.perf_counter() - tick:.0f} s)")
    kb = load(out, embedder=embedder)
    generation = kb.generation
    vectors = np.ascontiguousarray(generation.row_vectors)
    ids = generation.items["id"]
    asked = questions(eval_dir, seeds_dir)
    queries = embedder.encode(asked)
    # Whole answers cost a hundred times a search: `answered` of the questions, spread evenly, when asked for fewer.
    answering = asked[:: max(1, len(asked) // answered)][:answered] if answered else asked
    lines = [f"machine: {machine()}; load average (1/5/15 min) before: {load_average()}",
             f"corpus: {len(vectors):,} claims; queries: the {len(asked):,} questions of {eval_dir}, "
             f"{len(answering):,} of them answered in full for *same answer*", "",
             "| index | search | search ms p50 | search ms mean | recall@10 | top-1 | recall@50 | same answer "
             "| bytes/vector | build s | in place |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    truth, truth_answers = None, None
    for option in options(len(vectors)):
        tick = time.process_time()
        index = option.make(vectors, ids)
        built = time.process_time() - tick
        size = faiss.serialize_index(index).nbytes / index.ntotal
        rows = []
        for label, apply in option.settings:
            apply(index)
            quantised = isinstance(index, faiss.IndexIVFScalarQuantizer) and label in ("nprobe 32", "nprobe 128")
            for refined in (True, False) if quantised else (True,):
                generation.dense = index
                refine, dense.REFINE = dense.REFINE, dense.REFINE if refined else 1
                try:
                    found, times = [], []
                    for query in queries:
                        start = time.perf_counter()
                        found.append(generation.nearest_rows(query, CANDIDATES))
                        times.append((time.perf_counter() - start) * 1000)
                    answers = [kb.ask(question).model_dump_json() for question in answering]
                finally:
                    dense.REFINE = refine
                if truth is None:
                    truth, truth_answers = found, answers
                rows.append((label + ("" if refined else ", no re-rank"), times, [
                    np.mean([recall(vectors, f, t, q, 10) for f, t, q in zip(found, truth, queries, strict=True)]),
                    np.mean([recall(vectors, f, t, q, 1) for f, t, q in zip(found, truth, queries, strict=True)]),
                    np.mean([recall(vectors, f, t, q, len(t)) for f, t, q in zip(found, truth, queries, strict=True)]),
                    np.mean([a == b for a, b in zip(answers, truth_answers, strict=True)]),
                ]))
                log(f"{option.name} {rows[-1][0]}: done, load {load_average()}")
        in_place = "yes" if removable(index, ids) else "no"
        for label, times, (recall10, top1, recall50, same) in rows:
            lines.append(f"| {option.name} | {label or '–'} | {statistics.median(times):.2f} | {statistics.mean(times):.2f} | "
                         f"{recall10:.3f} | {top1:.3f} | {recall50:.3f} | {same:.3f} | {size:,.0f} | {built:.1f} | {in_place} |")
    lines.append(f"\nload average after: {load_average()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from .process import configure_process

    parser = argparse.ArgumentParser(prog="python -m index.recall_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="corpus and index (reused if present)")
    parser.add_argument("--claims", type=int, default=CLAIMS)
    parser.add_argument("--eval", type=Path, default=Path("tests/eval"))
    parser.add_argument("--seeds", type=Path, default=Path("seeds"))
    parser.add_argument("--answered", type=int, help="questions answered in full per index (default: all)")
    args = parser.parse_args(argv)
    configure_process()  # one FAISS thread, as when answering; builds are timed on it too
    print(run(args.workdir, args.claims, args.eval, args.seeds, args.answered, log=lambda line: print(line, file=sys.stderr, flush=True)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
