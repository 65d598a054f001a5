"""Rebuilding while questions are being answered: every answer comes from one complete index.

A knowledge base loaded before the rebuilds keeps answering exactly as it did (its generation is pruned
from disk under it after two rebuilds; what it has open stays valid), and knowledge bases loaded at any
moment during the rebuilds answer exactly as the old corpus or exactly as the new one, never a mix
and never an error. Checked while writing it: with `_point_current_at` patched to rewrite CURRENT in place
instead of replacing it atomically, the loading thread meets an empty pointer and this test fails.
"""

import shutil
import threading
import time

import pytest

import index
from tests.support import INDEX_FIXTURES, SEED, write_story

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

REBUILDS = 6
QUESTIONS = [
    "how much time did the other force save?",
    "what will the Saltmarsh ferry charge per crossing?",
    "when does the Fennwater bridge close?",
    "how many new trams will Quarrytown buy?",
]


def shape(answer):
    return [answer.answered, answer.suggestions] + [(s.id, [(f.index, f.text) for f in s.facts]) for s in answer.stories]


def make_corpora(tmp_path):
    """Version "b" edits a bullet of the ferry story and adds a story that answers the tram question."""
    a, b = tmp_path / "stories-a", tmp_path / "stories-b"
    shutil.copytree(INDEX_FIXTURES, a)
    shutil.copy(SEED, a)
    shutil.copytree(a, b)
    ferry = b / "01_harbour_ferry_fares.txt"
    ferry.write_text(ferry.read_text().replace("9 crowns per crossing", "11 crowns per crossing"))
    write_story(b, "04_trams.txt", """
        Quarrytown Orders Twelve New Trams
        - Quarrytown will buy twelve new trams for its northern line by 2027. [1]
        - The trams will cost 40 million crowns, the transport board said. [2]

        Narrative A
        New trams will cut waiting times.

        Narrative B
        The money would be better spent on buses.
    """)
    return a, b


def test_questions_asked_during_rebuilds_are_answered_from_a_complete_index(tmp_path, embedder):
    corpora = make_corpora(tmp_path)
    out = tmp_path / "idx"
    expected = []
    for n, corpus in enumerate(corpora):
        reference = tmp_path / f"ref-{n}"
        index.build([corpus], reference, embedder=embedder)
        expected.append([shape(index.load(reference, embedder=embedder).ask(q)) for q in QUESTIONS])
    assert expected[0] != expected[1]
    index.build([corpora[0]], out, embedder=embedder)
    serving = index.load(out, embedder=embedder)
    exact = [serving.ask(q) for q in QUESTIONS]
    assert [shape(a) for a in exact] == expected[0]

    stop = threading.Event()
    failures: list[str] = []
    served, loaded = [0], {0: 0, 1: 0}

    def keep_serving():
        while not stop.is_set():
            for question, answer in zip(QUESTIONS, exact, strict=True):
                try:
                    if serving.ask(question) != answer:
                        failures.append(f"the serving index answered {question!r} differently")
                except Exception as exc:  # noqa: BLE001 - any exception is the failure being looked for
                    failures.append(f"the serving index raised {exc!r}")
            served[0] += 1

    def keep_loading():
        while not stop.is_set():
            try:
                kb = index.load(out, embedder=embedder)
                answers = [shape(kb.ask(q)) for q in QUESTIONS]
            except Exception as exc:  # noqa: BLE001
                failures.append(f"loading during a rebuild raised {exc!r}")
                continue
            if answers not in expected:
                failures.append(f"an index loaded during a rebuild answered neither as before nor as after: {answers}")
            else:
                loaded[expected.index(answers)] += 1

    threads = [threading.Thread(target=keep_serving), threading.Thread(target=keep_loading)]
    for thread in threads:
        thread.start()
    try:
        for n in range(REBUILDS):
            report = index.build([corpora[(n + 1) % 2]], out, embedder=embedder)
            assert report.changed
            time.sleep(0.2)  # let the readers see this version
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    assert not failures, failures[:5]
    assert served[0] >= REBUILDS, f"the serving index answered only {served[0]} rounds"
    assert loaded[0] and loaded[1], f"loads saw versions {loaded}; both should have been seen"
    # Its generation was pruned from disk two rebuilds ago; what it had open still answers.
    assert not serving.path.exists()
    assert [serving.ask(q) for q in QUESTIONS] == exact
