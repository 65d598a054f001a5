"""Real `python -m index build` processes killed with SIGKILL at random moments, again and again.

After every kill the index at `out` must load and answer a fixed set of questions exactly as before the
build started (or, if the kill came after the atomic swap of CURRENT, be the complete new index), and at
the end an ordinary build completes and tidies up.

Half the kills land anywhere between start-up and completion (a seeded RNG draws the delay); the other
half land inside the short window where the new generation is being written and swapped in, found by
watching for the build's `.building-*` scratch directory, because that is where a non-atomic store would
break: had `write_generation` written into the current generation's directory, or rewritten `CURRENT` in
place instead of `os.replace`, a kill there leaves half-written files, and `index.load` would raise or
answer differently from before. Checked while writing it: with `_point_current_at` patched (in the build
subprocesses) to rewrite CURRENT in place, this test fails on its first kill with "points at missing".
"""

import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

import index
from index.corpus import read_corpus
from index.store import CURRENT, read_generation
from tests.support import ROOT, SEED, write_story

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KILLS = 16
WRITE_WINDOW = 0.12  # seconds; writing and swapping in a generation of this corpus takes about 0.05 s, so some kills land after the swap
SEED_RNG = 20261126
QUESTIONS = [
    "how much time did the other force save?",
    "how many berths does harbour 3 have?",
    "how many moorings does harbour 3 have?",
    "how many ferries will call at town 17 each week?",
    "what is the best recipe for sourdough bread?",
]


def write_corpus(folder, version: str) -> None:
    """Sixty small stories and the seed; versions "a" and "b" differ in stories 0-3 only, so a build
    between them embeds a few texts but writes a whole generation."""
    folder.mkdir(exist_ok=True)
    shutil.copy(SEED, folder)
    for n in range(60):
        unit = "moorings" if version == "b" and n < 4 else "berths"
        write_story(folder, f"gen_{n:03}.txt", f"""
            Fictional Town {n} Opens Harbour Number {n}
            - Town {n} opened harbour {n} with {n * 7} {unit}. [1]
            - The mayor of town {n} said {n + 3} ferries will call each week. [2]

            Narrative A
            Harbour {n} is good for trade.

            Narrative B
            Harbour {n} costs too much.
        """)


def shape(answer: index.Answer) -> list:
    """An answer without its scores: which stories and bullets, verbatim."""
    return [answer.answered, answer.suggestions] + [(s.id, [(f.index, f.text) for f in s.facts]) for s in answer.stories]


def test_builds_killed_at_random_moments_never_lose_the_index(tmp_path, embedder):
    rng = random.Random(SEED_RNG)
    corpora = {version: tmp_path / f"stories-{version}" for version in "ab"}
    for version, folder in corpora.items():
        write_corpus(folder, version)
    hashes = {v: {s.id: s.content_hash() for s in read_corpus([folder]).stories} for v, folder in corpora.items()}
    out = tmp_path / "idx"

    # What a complete index of each version answers (scores aside: a differently batched build may
    # differ in the last decimal), from builds made in this process.
    expected = {}
    for version in "ba":
        index.build([corpora[version]], tmp_path / f"ref-{version}", embedder=embedder)
        kb = index.load(tmp_path / f"ref-{version}", embedder=embedder)
        expected[version] = [shape(kb.ask(q)) for q in QUESTIONS]
    assert expected["a"] != expected["b"], "the two versions must answer differently, or a swap would go unseen"
    shutil.copytree(tmp_path / "ref-a", out)
    current = "a"

    killed, completed, reach_write = 0, 0, None
    for attempt in range(KILLS):
        kb = index.load(out, embedder=embedder)
        before = [kb.ask(q) for q in QUESTIONS]  # exact answers, scores included
        pointer = (out / CURRENT).read_text()
        target = "b" if current == "a" else "a"

        left_behind = set(out.glob(".building-*"))
        stderr = tmp_path / f"build-{attempt}.stderr"
        started = time.monotonic()
        with stderr.open("wb") as errors:  # a file, not a pipe: a full pipe would stall the build
            process = subprocess.Popen(
                [sys.executable, "-m", "index", "build", str(corpora[target]), "--out", str(out)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors,
            )
        if attempt % 2 == 0 or reach_write is None:
            # Inside the write: wait for its scratch directory (not one a killed build left), then kill
            # within the next WRITE_WINDOW.
            while not (set(out.glob(".building-*")) - left_behind) and process.poll() is None and time.monotonic() - started < 120:
                time.sleep(0.0005)
            reach_write = time.monotonic() - started
            time.sleep(rng.uniform(0, WRITE_WINDOW))
            moment = "in the write"
        else:
            # Anywhere from start-up (imports, model load, parsing, embedding) to the write.
            time.sleep(rng.uniform(0.05, reach_write))
            moment = "anywhere"
        process.send_signal(signal.SIGKILL)
        process.wait()
        print(f"attempt {attempt}: {moment}, reach_write {reach_write:.2f}s, rc {process.returncode}, after {time.monotonic() - started:.2f}s")

        after = index.load(out, embedder=embedder)
        swapped = (out / CURRENT).read_text() != pointer
        if process.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert process.returncode == 0, stderr.read_text()
            completed += 1
        if swapped:
            # Killed after the atomic swap (or finished): the new index, complete.
            assert after.generation.content_hashes() == hashes[target], f"attempt {attempt}: a partial index ({moment})"
            assert [shape(after.ask(q)) for q in QUESTIONS] == expected[target]
            current = target
        else:
            assert [after.ask(q) for q in QUESTIONS] == before, f"attempt {attempt}: answers changed ({moment})"
            assert read_generation(out).content_hashes() == hashes[current]

    assert killed >= KILLS // 2, f"only {killed} of {KILLS} builds were killed; {completed} finished first"

    # The next build completes, removes what the killed ones left behind, and serves the new stories.
    target = "b" if current == "a" else "a"
    report = index.build([corpora[target]], out, embedder=embedder)
    assert report.changed and report.updated
    assert not list(out.glob(".building-*"))
    assert len(list(out.glob("gen-*"))) <= 2
    kb = index.load(out, embedder=embedder)
    assert kb.generation.content_hashes() == hashes[target]
    assert [shape(kb.ask(q)) for q in QUESTIONS] == expected[target]
