"""Memory across a thousand questions.

In a module of its own: a module's bot (the `running_bot` fixture) stays connected until its module ends, and
while this synchronous test holds the event loop, discord.py's heartbeat thread logs a warning with the loop's
stack every 10 s, filling linecache and the captured log (1.65 MB in one CI run), which is not the index's memory.
"""

import gc
import os
import threading
import tracemalloc

import pytest
from discord.gateway import KeepAliveHandler

from tests.bot.harness import QUESTIONS

pytestmark = pytest.mark.slow


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_does_not_grow_across_a_thousand_questions(knowledge_base):
    """A thousand questions after a warm-up of two hundred; a hundred distinct questions in turn, so a
    bounded cache keyed by question is full before measuring and only a leak can grow.

    Bounds: Python objects may grow by 1 MB in all, about 1 KB a question; keeping each Answer (its
    bullets and both narratives, several KB) or each query vector (1.5 KB) would pass that. Resident
    memory, which also sees torch, FAISS and numpy buffers, may grow by 48 MB: leaking the activations
    of each forward pass (hundreds of KB per question) would be hundreds of MB, while allocator noise
    after warm-up stays within a few MB.
    """
    for heartbeat in [t for t in threading.enumerate() if isinstance(t, KeepAliveHandler)]:
        heartbeat.join(timeout=5)  # a bot closed just before stops its heartbeat at once
        assert not heartbeat.is_alive(), "a bot of another test is still connected: its heartbeat warnings would be measured"
    questions = [f"{QUESTIONS[n % len(QUESTIONS)]} ({n} readers asked)" for n in range(100)]
    for question in questions * 2:
        knowledge_base.ask(question)
    gc.collect()
    rss_before = resident_bytes()
    tracemalloc.start()
    try:
        traced_before, _ = tracemalloc.get_traced_memory()
        for n in range(1000):
            answer = knowledge_base.ask(questions[n % len(questions)])
            assert answer.answered
        del answer
        gc.collect()
        traced_after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resident_bytes() - rss_before
    assert traced_after - traced_before < 1_000_000, f"Python objects grew by {(traced_after - traced_before) / 1e6:.2f} MB"
    assert rss_growth < 48_000_000, f"resident memory grew by {rss_growth / 1e6:.1f} MB"
