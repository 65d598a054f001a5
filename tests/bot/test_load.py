"""Load: a hundred members asking at once through the fake Discord, and memory across a thousand questions."""

import asyncio
import gc
import os
import threading
import time
import tracemalloc

import pytest

from tests.bot.message_checks import assert_message_within_limits

pytestmark = pytest.mark.slow

DEFERRED = 5
QUESTIONS = [
    "What rent cap did Eastmere City Council approve?", "Why are the Brackwater ferry crews on strike?",
    "Which Lowmoor branch libraries will close?", "How big is the telescope at Tidewell Observatory?",
    "Will the Eastmere landlords challenge the rent cap in court?",
]
SLOWER_MODEL = 0.03  # seconds added to every answer: a bigger corpus or a busier machine


@pytest.mark.asyncio(loop_scope="session")
async def test_a_hundred_members_asking_at_once_are_all_acknowledged_within_3s_and_answered(
    fake_discord, running_bot, knowledge_base, monkeypatch
):
    """Every answer takes the model's ~10 ms plus SLOWER_MODEL, about 4 s of work for the hundred, done by
    two inference threads while the event loop keeps acknowledging, heartbeating and sending.

    In a burst discord.py sends every acknowledgement before the first answer is computed, so the 3 s
    bound alone would not notice inference on the event loop; the thread check does. Replacing
    `StoryBot.off_loop` with an inline call makes this test fail there (tried while writing it).
    """
    expected = {q: knowledge_base.ask(q).stories[0].title for q in QUESTIONS}
    real_ask, loop_thread, threads = knowledge_base.ask, threading.current_thread(), set()

    def ask(question, **kwargs):
        threads.add(threading.current_thread())
        time.sleep(SLOWER_MODEL)
        return real_ask(question, **kwargs)

    monkeypatch.setattr(knowledge_base, "ask", ask)
    assert running_bot.knowledge_base is knowledge_base

    events = [fake_discord.slash_command("ask", {"question": QUESTIONS[i % len(QUESTIONS)]}) for i in range(100)]
    burst_start = fake_discord.loop_time()
    sent_at = await asyncio.gather(*(fake_discord.dispatch("INTERACTION_CREATE", event) for event in events))

    def all_answered():
        return all(any(r.json and r.json.get("embeds") for r in fake_discord.followups(e["token"])) for e in events)

    await fake_discord.wait_for(all_answered, timeout=150)
    burst_end = fake_discord.loop_time()

    lags = []
    for event, sent in zip(events, sent_at, strict=True):
        callbacks = fake_discord.callbacks(event["id"])
        assert [c.json["type"] for c in callbacks] == [DEFERRED]
        lags.append(callbacks[0].at - sent)
        answer = fake_discord.followups(event["token"])[0].json
        assert answer["embeds"][0]["title"] == expected[event["data"]["options"][0]["value"]]
        assert_message_within_limits(answer)
    assert max(lags) < 3.0, f"slowest acknowledgement {max(lags):.2f}s"
    assert threads and loop_thread not in threads, "inference ran on the event loop's thread"
    beats = [beat for beat in fake_discord.heartbeats if burst_start - 1 <= beat <= burst_end + 1]
    gaps = [later - earlier for earlier, later in zip(beats, beats[1:], strict=False)]
    assert len(beats) >= 2 and max(gaps) < 1.0, f"heartbeats {len(beats)}, longest gap {max(gaps, default=0):.2f}s"


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
