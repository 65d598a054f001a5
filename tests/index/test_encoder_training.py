"""The bi-encoder experiment's training data (`python -m index train-encoder`): each answerable question is paired
with the bullet labelled as answering it and a bullet of the same story that does not."""

import random

from index.encoder_training import training_triples
from index.reader_training import read_stories
from tests.index.test_reader_training import _small_training_set


def test_triples_pair_each_answerable_question_with_its_bullet_and_another_of_its_story(tmp_path):
    rows = _small_training_set(tmp_path)
    triples = training_triples(tmp_path, random.Random(1))
    stories = read_stories(tmp_path / "stories")
    answerable = [row for row in rows if row["kind"] == "answerable"]
    assert answerable and [question for question, _, _ in triples] == [row["q"] for row in answerable]
    for (_, positive, negative), row in zip(triples, answerable, strict=True):
        bullets = stories[row["story"]]
        assert positive == bullets[row["fact"] - 1]
        assert negative in bullets and negative != positive
