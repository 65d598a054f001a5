"""storybot's fine-tuning of the bundled model (`python -m index train-encoder`, index/tuning/): its training data
(each answerable question with the bullet labelled as answering it and a bullet of the same story that does not),
the adapter it writes, and the default model that loads it."""

import hashlib
import json
import random

import numpy as np
import pytest

from index.embedder import TUNING_DIR, TUNING_WEIGHTS, TorchEmbedder, encoder_identity, load_sentence_transformer, merge_tuning
from index.encoder_training import train_encoder, training_triples
from index.reader_training import read_stories
from index.settings import BASE_MODEL, DEFAULT_MODEL
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


@pytest.mark.slow
def test_training_writes_an_adapter_that_brings_questions_nearer_their_bullets(tmp_path):
    _small_training_set(tmp_path)
    triples = training_triples(tmp_path, random.Random(1))
    out = train_encoder(tmp_path, tmp_path / "tuning", epochs=6, log=lambda line: None)  # 6 steps of one batch
    assert sorted(path.name for path in out.iterdir()) == ["adapter_config.json", TUNING_WEIGHTS]
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == BASE_MODEL  # no local path

    def closeness(model):
        questions = model.encode([q for q, _, _ in triples], normalize_embeddings=True)
        bullets = model.encode([b for _, b, _ in triples], normalize_embeddings=True)
        return float(np.mean((questions * bullets).sum(axis=1)))

    base = load_sentence_transformer(BASE_MODEL)
    before = closeness(base)
    merge_tuning(base, out)
    assert closeness(base) > before + 0.01  # measured: 0.512 -> 0.530


def test_the_default_model_is_the_bundled_one_with_the_shipped_tuning_and_its_identity_names_the_weights():
    digest = hashlib.sha256((TUNING_DIR / TUNING_WEIGHTS).read_bytes()).hexdigest()[:12]
    assert encoder_identity(DEFAULT_MODEL, "fused") == f"{DEFAULT_MODEL}@{digest} [fused]"
    assert encoder_identity(BASE_MODEL, "fused") == f"{BASE_MODEL} [fused]"
    assert (TUNING_DIR / TUNING_WEIGHTS).stat().st_size < 4_000_000  # ships small


@pytest.mark.slow
def test_the_default_model_answers_with_other_vectors_than_the_untuned_one(embedder):
    sentences = ["how much did the new bridge cost", "The bridge cost 4.2 million sovereigns to build."]
    tuned, untuned = embedder.encode(sentences), TorchEmbedder(BASE_MODEL).encode(sentences)
    assert np.min((tuned * untuned).sum(axis=1)) < 0.999  # the tuning is applied ...
    assert np.min((tuned * TorchEmbedder(DEFAULT_MODEL).encode(sentences)).sum(axis=1)) > 0.9999  # ... and exported as loaded
