"""`python -m index bench`: the performance figures in the README, measured on this machine.

For each size a seeded, fictional corpus is written as story files and built; then a fresh process
loads it and answers questions one at a time, reporting start-up time, resident memory and latency.
The same figures are taken for the naive path (torch encoder + exact FAISS search) on the same index.

At 1M claims only a sample of texts goes through the encoder; the other vectors are real vectors of
the sample plus small noise (said in the table). Everything else — files, parsing, BM25, FAISS,
answer building — is real at every size.
"""

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embedder import Embedder, TorchEmbedder, embedder_for
from .process import configure_process
from .settings import DEFAULT_MODEL

SIZES = (10_000, 100_000, 1_000_000)
ENCODED_AT_MOST = 100_000  # texts really encoded per build; beyond, sampled vectors plus noise
QUESTIONS = 300
SEED = 7
FACTS_PER_STORY = 8  # plus two narratives: ten claims a story

PLACES = ["Eastmere", "Norhaven", "Brackwater", "Lindenford", "Oakhollow", "Kestrel Bay", "Port Carrick", "Mirefield",
          "Greyhill", "Saltmarsh", "Pellwick", "Fennwater", "Tidewell", "Lowmoor", "Wenlow", "Valdoria"]
SUBJECTS = ["council", "hospital trust", "rail operator", "water company", "school board", "police service",
            "port authority", "housing association", "bus company", "energy regulator", "library service", "university"]
ACTIONS = ["approved", "postponed", "cancelled", "funded", "rejected", "expanded", "reviewed", "closed", "opened", "audited"]
THINGS = ["a new bridge", "a rent cap", "night buses", "a wind farm", "a data centre", "free school meals", "a ferry route",
          "a flood barrier", "a cycle lane", "a tram extension", "a recycling plant", "a crisis line", "a harbour wall"]
PEOPLE = ["Priya Hallam", "Tomas Brandt", "Odile Marsh", "Wendell Okafor", "Fiona Larkspur", "Lucien Marchetti",
          "Katarina Dovle", "Marguerite Osei", "Bernadette Kowal", "Arun Mendez", "Ines Varga", "Hugo Lindqvist"]


def synthetic_story(number: int, rng: random.Random) -> str:
    place, subject = rng.choice(PLACES), rng.choice(SUBJECTS)
    thing = rng.choice(THINGS)
    title = f"{place} {subject.title()} {rng.choice(ACTIONS).title()} {thing.title()} (Case {number})"
    facts = []
    for n in range(FACTS_PER_STORY):
        who, amount, month = rng.choice(PEOPLE), rng.randrange(2, 9000), rng.choice(["March", "June", "October"])
        facts.append(rng.choice([
            f"- The {place} {subject} {rng.choice(ACTIONS)} {thing} on {month} {n + 1}, case {number}. [{n + 1}]",
            f"- {who} said {thing} would cost {amount} thousand crowns over {n + 2} years. [{n + 1}]",
            f"- About {amount} residents of {place} signed a petition about {thing}. [{n + 1}]",
            f"- Critics said the {subject} had ignored {rng.choice(THINGS)} for {n + 3} years. [{n + 1}]",
        ]))
    return "\n".join([
        title, "Last updated May 29, 2024", "Image credit: storybot benchmark (fictional story)", "", *facts, "",
        "Narrative A", f"Supporters say {thing} in {place} is overdue.", "",
        "Narrative B", f"Opponents say the {subject} cannot afford {thing}.", "",
    ])


def write_corpus(folder: Path, claims: int) -> None:
    rng = random.Random(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(claims // (FACTS_PER_STORY + 2)):
        (folder / f"story_{number:07}.txt").write_text(synthetic_story(number, rng), encoding="utf-8")


def sample_questions(folder: Path, count: int) -> list[str]:
    """Questions as people type them: a few words of a random bullet, reworded a little."""
    rng = random.Random(SEED + 1)
    files = sorted(folder.iterdir())
    questions = []
    for path in rng.sample(files, min(count, len(files))):
        bullet = rng.choice([line for line in path.read_text().splitlines() if line.startswith("- ")])
        words = bullet[2:].rsplit("[", 1)[0].replace(",", "").split()
        start = rng.randrange(0, max(1, len(words) - 6))
        questions.append("what about " + " ".join(words[start:start + 6]) + "?")
    return questions


class SampledEmbedder(Embedder):
    """Encodes the first `limit` texts for real; later texts get a real vector of the sample plus noise."""

    def __init__(self, real: Embedder, limit: int):
        self.real, self.limit, self.name, self.dimension = real, limit, real.name, real.dimension
        self.encoded = 0

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        real = self.real.encode(texts[: self.limit], progress=progress)
        self.encoded += len(real)
        if len(texts) <= self.limit:
            return real
        rng = np.random.default_rng(SEED)
        rest = real[rng.integers(0, len(real), len(texts) - self.limit)] + rng.normal(0, 0.03, (len(texts) - self.limit, self.dimension))
        rest /= np.linalg.norm(rest, axis=1, keepdims=True)
        return np.concatenate([real, rest.astype(np.float32)])


@dataclass
class Row:
    claims: int
    path: str
    build_per_second: float
    unchanged_rebuild_seconds: float
    p50_ms: float
    p99_ms: float
    startup_seconds: float
    bytes_per_claim: float
    recall_at_10: float
    note: str = ""


def serve_and_measure(index_dir: Path, questions: list[str], naive: bool, encoder_dir: Path) -> dict:
    """A fresh process loads the index and answers every question once (see `_worker`).

    Start-up runs from just before the process is spawned to its first answer, imports included.
    """
    spawned = time.time()
    result = subprocess.run(
        [sys.executable, "-c", "import sys, index.bench as b; b._worker(sys.argv[1:])",
         str(index_dir), "naive" if naive else "fast", str(encoder_dir)],
        input="\n".join(questions), capture_output=True, text=True, check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["startup_seconds"] = report.pop("ready_wall_clock") - spawned
    return report


def _worker(argv: list[str]) -> None:
    """Runs in the measured process: memory is what loading the index adds once the encoder is up."""
    index_dir, mode, encoder_dir = Path(argv[0]), argv[1], Path(argv[2])
    configure_process()  # as `python -m bot` does, for both paths
    import faiss

    import index
    from index.retrieval import KnowledgeBase
    from index.store import read_generation

    embedder = TorchEmbedder(DEFAULT_MODEL) if mode == "naive" else embedder_for(DEFAULT_MODEL, index_dir, encoder_dir)
    embedder.encode(["warm up"])
    baseline = _rss()
    if mode == "naive":
        generation = read_generation(index_dir, model=DEFAULT_MODEL)
        generation.dense = faiss.read_index(str(exact_index_path(index_dir)))
        kb = KnowledgeBase(generation, embedder)
    else:
        kb = index.load(index_dir, embedder=embedder)
    kb.ask("what did the council decide?")
    ready = time.time()
    loaded = _rss()
    times = []
    for question in sys.stdin.read().splitlines():
        tick = time.perf_counter()
        kb.ask(question)
        times.append((time.perf_counter() - tick) * 1000)
    claims = kb.generation.dense.ntotal
    print(json.dumps({"ready_wall_clock": ready, "bytes_per_claim": (loaded - baseline) / claims, "times_ms": times}))


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def exact_index_path(index_dir: Path) -> Path:
    return index_dir.parent / "exact.faiss"


def write_exact_index(index_dir: Path) -> None:
    """Exact search over the same vectors: the naive path, and the truth for recall."""
    import faiss

    from .store import current_path

    path = current_path(index_dir)
    vectors = np.load(path / "vectors.npy")
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
    exact.add_with_ids(vectors, np.load(path / "items.npy")["id"])
    faiss.write_index(exact, str(exact_index_path(index_dir)))


def recall_at_10(index_dir: Path, questions: list[str], embedder: Embedder) -> float:
    """Share of exact search's top 10 that the index's own search also returns, over the questions."""
    import faiss

    from .dense import tune
    from .store import current_path

    dense = tune(faiss.read_index(str(current_path(index_dir) / "dense.faiss")))
    exact = faiss.read_index(str(exact_index_path(index_dir)))
    queries = embedder.encode(questions)
    _, approximate = dense.search(queries, 10)
    _, truth = exact.search(queries, 10)
    return float(np.mean([len(set(a) & set(t)) / 10 for a, t in zip(approximate, truth, strict=True)]))


def naive_build_rate(folder: Path, claims: int) -> float:
    """A whole build of the corpus with the torch encoder (exact search is what a small build uses anyway)."""
    from .builder import build

    with tempfile.TemporaryDirectory() as scratch:
        tick = time.perf_counter()
        build([folder], Path(scratch) / "index", embedder=TorchEmbedder(DEFAULT_MODEL))
        return claims / (time.perf_counter() - tick)


def bench(sizes: tuple[int, ...] = SIZES, workdir: Path | None = None) -> list[Row]:
    from .builder import build

    root = Path(workdir or tempfile.mkdtemp(prefix="storybot-bench-"))
    encoder_dir = root / "encoder"
    fast = embedder_for(DEFAULT_MODEL, root, encoder_dir)
    naive_rate, naive_note = None, ""
    rows = []
    for claims in sizes:
        folder, out = root / f"stories-{claims}", root / f"index-{claims}" / "index"
        write_corpus(folder, claims)
        questions = sample_questions(folder, QUESTIONS)
        embedder = SampledEmbedder(fast, ENCODED_AT_MOST)
        tick = time.perf_counter()
        build([folder], out, embedder=embedder)
        build_rate = claims / (time.perf_counter() - tick)
        tick = time.perf_counter()
        build([folder], out, embedder=embedder)
        unchanged = time.perf_counter() - tick
        if naive_rate is None:  # torch builds at a fifth of the speed: measured once, at the smallest size
            naive_rate, naive_note = naive_build_rate(folder, claims), f"; build rate measured at {claims:,}"
        write_exact_index(out)
        recall = recall_at_10(out, questions, fast)
        sampled = f"{embedder.encoded:,} texts encoded, the rest sampled" if embedder.encoded < claims else ""
        for path, report in (("optimised", serve_and_measure(out, questions, False, encoder_dir)),
                             ("naive", serve_and_measure(out, questions, True, encoder_dir))):
            optimised = path == "optimised"
            rows.append(Row(
                claims, path,
                build_per_second=build_rate if optimised else naive_rate,
                unchanged_rebuild_seconds=unchanged if optimised else float("nan"),
                p50_ms=statistics.median(report["times_ms"]),
                p99_ms=float(np.percentile(report["times_ms"], 99)),
                startup_seconds=report["startup_seconds"],
                bytes_per_claim=report["bytes_per_claim"],
                recall_at_10=recall if optimised else 1.0,
                note=sampled if optimised else "torch encoder, exact search" + naive_note,
            ))
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(out.parent, ignore_errors=True)
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| claims | path | build claims/s | unchanged rebuild s | p50 ms | p99 ms | start-up s | bytes/claim | recall@10 | note |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r.claims:,} | {r.path} | {r.build_per_second:,.0f} | {r.unchanged_rebuild_seconds:.2f} | {r.p50_ms:.1f} | "
                     f"{r.p99_ms:.1f} | {r.startup_seconds:.1f} | {r.bytes_per_claim:,.0f} | {r.recall_at_10:.3f} | {r.note} |")
    fast = {r.claims: r for r in rows if r.path == "optimised"}
    for r in rows:
        if r.path == "naive":
            lines.append(f"| {r.claims:,} | ratio naive/optimised | | | {r.p50_ms / fast[r.claims].p50_ms:.1f}× | "
                         f"{r.p99_ms / fast[r.claims].p99_ms:.1f}× | {r.startup_seconds / fast[r.claims].startup_seconds:.1f}× | "
                         f"{r.bytes_per_claim / max(fast[r.claims].bytes_per_claim, 1):.1f}× | | |")
    return "\n".join(lines)


def stage_costs(eval_dir: Path, seeds_dir: Path, model: str = DEFAULT_MODEL, encoder_dir: Path | None = None) -> str:
    """What answering costs per question on the evaluation corpus, stage by stage, one question at a time.

    Stages are timed by wrapping them in place: the per-bullet and per-answer signals alone, and ranking one
    story's bullets and deciding as a whole (`KnowledgeBase._candidate`: cosines, signals, the learned ranker,
    the sides detector and the answer decision). Two-story parts and follow-up context are the extra time of
    the questions that pay for them.
    """
    from . import retrieval
    from .evaluation import build_corpus, read_labelled_set

    labelled = read_labelled_set(eval_dir, seeds_dir)
    clock = {"signals": 0.0, "candidate": 0.0}
    originals = {"bullet_features": retrieval.bullet_features, "answer_features": retrieval.answer_features}
    candidate = retrieval.KnowledgeBase._candidate

    def timed(function, key):
        def wrapper(*args, **kwargs):
            tick = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                clock[key] += time.perf_counter() - tick
        return wrapper

    def ms(function, *args, **kwargs) -> float:
        tick = time.perf_counter()
        function(*args, **kwargs)
        return (time.perf_counter() - tick) * 1000

    rows: dict[str, list[float]] = {"whole answer (`ask`)": [], "signals (bullet and answer features)": [],
                                    "ranking and deciding (`_candidate`, all of it)": [], "two-story parts, extra": [],
                                    "follow-up with context (`ask(about=…)`)": [], "the same follow-up without": []}
    with tempfile.TemporaryDirectory() as scratch:
        kb = build_corpus("eval", eval_dir, seeds_dir, Path(scratch) / "index", embedder_for(model, Path(scratch), encoder_dir))
        retrieval.bullet_features = timed(originals["bullet_features"], "signals")
        retrieval.answer_features = timed(originals["answer_features"], "signals")
        retrieval.KnowledgeBase._candidate = timed(candidate, "candidate")
        try:
            for question in (q.text for q in labelled.questions):
                clock.update(signals=0.0, candidate=0.0)
                rows["whole answer (`ask`)"].append(ms(kb.ask, question))
                rows["signals (bullet and answer features)"].append(clock["signals"] * 1000)
                rows["ranking and deciding (`_candidate`, all of it)"].append(clock["candidate"] * 1000)
                if retrieval.question_parts(question):
                    rows["two-story parts, extra"].append(max(0.0, ms(kb.ask, question) - ms(kb.retrieve, question)))
            for pair in labelled.followups:
                first = kb.ask(pair.first)
                about = first.stories[0].id if first.answered else None
                rows["follow-up with context (`ask(about=…)`)"].append(ms(kb.ask, pair.followup.text, about=about))
                rows["the same follow-up without"].append(ms(kb.ask, pair.followup.text))
        finally:
            retrieval.bullet_features, retrieval.answer_features = originals["bullet_features"], originals["answer_features"]
            retrieval.KnowledgeBase._candidate = candidate
    lines = ["| stage | questions | mean ms | p50 ms |", "| --- | --- | --- | --- |"]
    lines += [f"| {stage} | {len(times)} | {statistics.mean(times):.2f} | {statistics.median(times):.2f} |" for stage, times in rows.items() if times]
    return "\n".join(lines)
