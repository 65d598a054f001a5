"""A question about two stories pays for one encoder call, and is answered as when each part paid for its own."""

import pytest

from index.evaluation import read_labelled_set
from index.retrieval import question_parts
from tests.support import EVAL, SEEDS


@pytest.fixture(scope="module")
def questions_with_parts() -> list[str]:
    texts = [q.text for q in read_labelled_set(EVAL, SEEDS).questions]
    return [text for text in texts if question_parts(text)]


class CountingEncoder:
    def __init__(self, embedder):
        self.embedder, self.calls = embedder, 0
        self.name, self.identity, self.dimension = embedder.name, embedder.identity, embedder.dimension

    def encode(self, texts, *, progress=False):
        self.calls += 1
        return self.embedder.encode(texts, progress=progress)


def facts_shown(answer) -> list[tuple[str, list[int]]]:
    return [(story.id, [fact.index for fact in story.facts]) for story in answer.stories]


def encoder_calls(kb, questions: list[str], monkeypatch) -> list[int]:
    counting = CountingEncoder(kb.embedder)
    monkeypatch.setattr(kb, "embedder", counting)
    calls = []
    for question in questions:
        counting.calls = 0
        kb.ask(question)
        calls.append(counting.calls)
    monkeypatch.setattr(kb, "embedder", counting.embedder)
    return calls


def test_a_question_with_parts_mostly_takes_one_encoder_call_not_one_a_part(eval_kb, questions_with_parts, monkeypatch):
    assert len(questions_with_parts) > 100  # "and", "&", ";", "vs" or two question marks: about one question in eight
    together = encoder_calls(eval_kb, questions_with_parts[:60], monkeypatch)
    monkeypatch.setattr(type(eval_kb), "_encode_together", lambda self, questions: {})  # each retrieval encodes its own
    apart = encoder_calls(eval_kb, questions_with_parts[:60], monkeypatch)
    assert all(t < a for t, a in zip(together, apart, strict=True))
    # A retrieval whose best story is not the one its focus was guessed from still encodes that focus by itself.
    assert together.count(1) >= 0.6 * len(together) and sum(together) <= 0.5 * sum(apart)


def test_encoding_the_parts_together_answers_as_encoding_them_one_by_one(eval_kb, questions_with_parts, monkeypatch):
    together = [facts_shown(eval_kb.ask(question)) for question in questions_with_parts]
    monkeypatch.setattr(type(eval_kb), "_encode_together", lambda self, questions: {})  # each retrieval encodes its own
    apart = [facts_shown(eval_kb.ask(question)) for question in questions_with_parts]
    assert together == apart
    assert sum(len(shown) > 1 for shown in together) >= 10  # two stories shown, through the parts
