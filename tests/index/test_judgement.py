"""The learned parts of answering: shipped, small, and fed signals that mean the same at any corpus size."""

import dataclasses

import numpy as np
import pytest

from index import build, load
from index.judgement import ANSWER_FEATURES, BULLET_FEATURES, WEIGHTS_FILE, Judgement
from index.retrieval import keeps_to_the_conversation
from index.signals import content_words, coverage, rarity_missing, stem_set
from tests.support import SEED, SEEDS

# Every answer signal but one: the routing margin says how clearly a story beat its rivals, so it depends on the
# corpus by design (a story alone counts as a clear winner).
INVARIANT = tuple(name for name in ANSWER_FEATURES if name != "routing_margin")


def test_the_weights_ship_small_and_load(embedder):
    assert WEIGHTS_FILE.stat().st_size < 64_000
    judgement = Judgement.load()
    assert judgement.bullet_rank.coefficients.shape == (len(BULLET_FEATURES),)
    assert judgement.answer.coefficients.shape == judgement.answer_sides.coefficients.shape == (len(ANSWER_FEATURES),)
    assert judgement.sides.coefficients.shape == (embedder.dimension,)
    assert 0 < judgement.answer_threshold < 1 and 0 < judgement.sides_answer_threshold < 1
    assert 0 < judgement.context_threshold < 1
    assert 0 <= judgement.sides_reply_lacking_cut <= 30


def test_a_question_about_the_sides_is_answered_by_its_own_threshold(seed_kb):
    """Two answer models, two thresholds: a question about the sides clears the sides one, any other the answer one."""
    sides = seed_kb.retrieve("what are the arguments for and against this?").best
    facts = seed_kb.retrieve("Why are London police stopping mental health calls?").best
    assert sides.about_the_sides and not facts.about_the_sides
    for candidate, own, other in ((sides, "sides_answer_threshold", "answer_threshold"), (facts, "answer_threshold", "sides_answer_threshold")):
        assert candidate.answers(dataclasses.replace(seed_kb.judgement, **{own: candidate.probability, other: 1.0}))
        assert not candidate.answers(dataclasses.replace(seed_kb.judgement, **{own: candidate.probability + 1e-6, other: 0.0}))


def test_damaged_weights_name_the_file_and_the_fix(tmp_path):
    broken = tmp_path / "judgement.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(RuntimeError, match="python -m index train"):
        Judgement.load(broken)


@pytest.mark.slow
def test_the_evidence_about_a_story_is_the_same_alone_and_among_eighty(eval_kb, embedder, tmp_path):
    """Asked of the seed indexed alone and of the seed among the eighty evaluation stories, with the story given."""
    build([SEEDS], tmp_path / "seed", embedder=embedder)
    alone = load(tmp_path / "seed", embedder=embedder)
    title = SEED.read_text(encoding="utf-8").splitlines()[0].strip()
    among = eval_kb.titles().index(title)
    for question in ("Why are London police stopping mental health calls?", "what is the capital of peru?", "who disagrees?"):
        one, many = alone.retrieve(question, story=0).best, eval_kb.retrieve(question, story=among).best
        assert np.allclose(one.bullet_features, many.bullet_features, atol=1e-5), question
        for name in INVARIANT:
            at = ANSWER_FEATURES.index(name)
            assert one.features[at] == pytest.approx(many.features[at], abs=1e-4), (question, name)
        assert one.lacking == pytest.approx(many.lacking), question


def test_coverage_weighs_words_by_their_rarity_in_english():
    words = content_words("how many officers does the Humberside force have?")
    assert [stem for stem, _ in words] == ["offic", "humbersid", "forc"]
    rare_found = coverage(words, stem_set("Humberside"))
    common_found = coverage(words, stem_set("officers"))
    assert rare_found > common_found > 0
    assert coverage(content_words("??"), stem_set("anything")) == 0.0
    assert np.isclose(coverage(words, stem_set("officers in Humberside force")), 1.0)


def test_a_reply_about_the_sides_keeps_to_its_story_up_to_the_cut_and_not_beyond(seed_kb):
    """At the cut a reply about the sides still keeps to its conversation's story; a hair over it, it must clear the
    context threshold like any other reply."""
    reply = seed_kb.retrieve("and the other side?", story=0).best
    assert reply.about_the_sides
    judgement = dataclasses.replace(seed_kb.judgement, context_threshold=1.0)  # no reply clears it
    at_cut = dataclasses.replace(reply, lacking=judgement.sides_reply_lacking_cut)
    assert keeps_to_the_conversation(at_cut, None, judgement)
    assert not keeps_to_the_conversation(dataclasses.replace(at_cut, lacking=at_cut.lacking + 0.01), None, judgement)


def test_what_a_question_names_that_a_story_lacks_grows_with_each_rare_word_missing():
    story = stem_set("The Met will stop attending mental health calls; police in Humberside saved 1.1K hours a month.")
    assert rarity_missing(content_words("and the other side?"), story) < 3
    assert rarity_missing(content_words("what about humberside police?"), story) == 0.0
    pizza = rarity_missing(content_words("what are the arguments for and against pineapple on pizza?"), story)
    pineapple = rarity_missing(content_words("what are the arguments for and against pineapple?"), story)
    assert pizza > pineapple > 3
    assert rarity_missing(content_words("??"), story) == 0.0
