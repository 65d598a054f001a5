"""`python -m index.scale_bench`: what keeping a big index up to date costs (the README's "Cost at scale").

Writes the benchmark's fictional corpus (index/bench.py) at CLAIMS claims, builds it once with the bench's
sampled embedder (a few thousand texts really encoded, the rest real vectors plus noise: only the cost of
keeping the index in step is measured here, not answer quality), then times, each several times:

- an unchanged rebuild (`index.build` when nothing changed: what `python -m bot` does at every start);
- the watcher's check (`Library.changed_on_disk`, every STORYBOT_POLL_SECONDS);
- `Library.add` of a new one-bullet story and `Library.remove` of it again (what `/storyadmin add` and
  `remove` run), each including the rebuild and loading the new index.

Run by hand (tens of minutes at a million claims); prints the machine, the load average and a table.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from .bench import SEED, SampledEmbedder, write_corpus
from .builder import build
from .embedder import embedder_for
from .library import Library
from .settings import DEFAULT_MODEL

ENCODED = 5_000  # texts really encoded in the first build; the rest are sampled (see index/bench.py)


def timed(function, *args):
    """Wall-clock seconds, and the CPU seconds of this process (which another process's load barely changes)."""
    tick, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return (time.perf_counter() - tick, time.process_time() - cpu), result


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


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
                                    "`Library.remove` of it (build and load included)": []}
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
        rows["`Library.remove` of it (build and load included)"].append(timed(library.remove, title)[0])
    lines += ["", "| operation | runs | p50 s | mean s | CPU p50 s | CPU mean s |", "| --- | --- | --- | --- | --- | --- |"]
    for name, times in rows.items():
        wall, cpu = [t[0] for t in times], [t[1] for t in times]
        lines.append(f"| {name} | {len(times)} | {statistics.median(wall):.3f} | {statistics.mean(wall):.3f} | "
                     f"{statistics.median(cpu):.3f} | {statistics.mean(cpu):.3f} |")
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
