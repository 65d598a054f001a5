"""`python -m index.scale_bench`: what keeping a big index up to date costs (the README's "Cost at scale").

Writes a synthetic fictional corpus at CLAIMS claims, builds it once with a
sampled embedder (a few thousand texts really encoded, the rest real vectors plus noise: only the cost of
keeping the index in step is measured here, not answer quality), then times, each several times:

- an unchanged rebuild (`index.build` when nothing changed: what `python -m bot` does at every start);
- the watcher's check (`Library.changed_on_disk`, every STORYBOT_POLL_SECONDS);
- `Library.add` of a new one-bullet story and `Library.remove` of it again (what `/storyadmin add` and
  `remove` run), each including the rebuild and loading the new index, and the watcher's first check after the
  add (a change scans nothing, so that check digests the recorded listing with the change laid over it);
- a question's BM25 scores over the index those changes leave (a base and its delta).

Run by hand (tens of minutes at a million claims); prints the machine, the load average and a table.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from .bench import machine
from .builder import build
from .embedder import Embedder, embedder_for
from .lexical import tokenize_query
from .library import Library
from .settings import DEFAULT_MODEL

ENCODED = 5_000  # texts really encoded in the first build; the rest are sampled (SampledEmbedder)
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


class SampledEmbedder(Embedder):
    """Encodes the first `limit` texts for real; later texts get a real vector of the sample plus noise."""

    def __init__(self, real: Embedder, limit: int):
        self.real, self.limit, self.name, self.dimension, self.identity = real, limit, real.name, real.dimension, real.identity
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


def timed(function, *args):
    """Wall-clock seconds, and the CPU seconds of this process (which another process's load barely changes)."""
    tick, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return (time.perf_counter() - tick, time.process_time() - cpu), result


def bm25_line(library: Library, claims: int, questions: int = 300) -> str:
    """A question's BM25 scores over the index after the changes (scored from word counts when asked, so what a
    base and its delta cost each question): wall-clock milliseconds of `LexicalIndex.matching`."""
    rng = random.Random(SEED)
    stories = claims // (FACTS_PER_STORY + 2)
    asked = [" ".join(rng.choice(synthetic_story(rng.randrange(stories), rng).splitlines()[4:12]).split()[1:9]) for _ in range(questions)]
    lexical, times = library.knowledge_base.lexical, []
    for question in asked:
        tick = time.perf_counter()
        with lexical.matching(tokenize_query(question)):
            pass
        times.append((time.perf_counter() - tick) * 1000)
    return (f"\na question's BM25 (`LexicalIndex.matching`, {questions} bullets' words as questions): "
            f"p50 {statistics.median(times):.3f} ms, mean {statistics.mean(times):.3f} ms")


def run(workdir: Path, claims: int, repeats: int, changes: int) -> str:
    stories, out = workdir / "stories", workdir / "index"
    embedder = SampledEmbedder(embedder_for(DEFAULT_MODEL, workdir, workdir / "encoder"), ENCODED)
    lines = [f"machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}", f"corpus: {claims:,} claims, seed {SEED}"]
    if not stories.is_dir():
        write_corpus(stories, claims)
    seconds, report = timed(lambda: build([stories], out, embedder=embedder))
    lines.append(f"first build here ({seconds[0]:.0f} s): {report.summary()}")
    rows: dict[str, list[tuple[float, float]]] = {"unchanged rebuild (`index.build`)": [], "watcher check (`changed_on_disk`)": [],
                                    "`Library.add` of a new story (build and load included)": [],
                                    "`Library.remove` of it (build and load included)": [],
                                    "watcher check after a change (the record's listing laid over its base)": []}
    for _ in range(repeats):
        rows["unchanged rebuild (`index.build`)"].append(timed(lambda: build([stories], out, embedder=embedder))[0])
    library = Library(stories, out, embedder=embedder)
    library.load()
    for _ in range(repeats):
        rows["watcher check (`changed_on_disk`)"].append(timed(library.changed_on_disk)[0])
    for n in range(changes):
        title = f"Scale Benchmark Pier Reopens Number {n}"
        data = f"{title}\n- The pier reopened on Monday after {n + 2} years.[1]\n".encode()
        rows["`Library.add` of a new story (build and load included)"].append(timed(library.add, data, "upload.txt")[0])
        rows["watcher check after a change (the record's listing laid over its base)"].append(timed(library.changed_on_disk)[0])
        rows["`Library.remove` of it (build and load included)"].append(timed(library.remove, title)[0])
    lines += ["", "| operation | runs | p50 s | mean s | CPU p50 s | CPU mean s |", "| --- | --- | --- | --- | --- | --- |"]
    for name, times in rows.items():
        wall, cpu = [t[0] for t in times], [t[1] for t in times]
        lines.append(f"| {name} | {len(times)} | {statistics.median(wall):.3f} | {statistics.mean(wall):.3f} | "
                     f"{statistics.median(cpu):.3f} | {statistics.mean(cpu):.3f} |")
    lines.append(bm25_line(library, claims))
    lines.append(f"\nload average at end {os.getloadavg()[0]:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.scale_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="corpus and index (reused if present)")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=10, help="unchanged rebuilds and watcher checks")
    parser.add_argument("--changes", type=int, default=3, help="adds and removes")
    args = parser.parse_args(argv)
    print(run(args.workdir, args.claims, args.repeats, args.changes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
