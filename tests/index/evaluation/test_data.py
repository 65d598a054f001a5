"""The labelled set: as large and varied as the evaluation needs, split by story, and checked on reading."""

import json
import shutil
from collections import Counter

import pytest

from index.evaluation import in_other_conversations, read_labelled_set
from index.evaluation.data import DEV, TEST, hashed_split
from tests.support import EVAL, SEED, SEEDS


def test_the_set_is_as_large_and_varied_as_the_issue_asks(labelled):
    kinds = Counter(q.kind for q in labelled.questions)
    assert len(labelled.splits) >= 75
    assert len(labelled.questions) >= 1000
    on_topic_but_unanswered = kinds["unanswerable"] + kinds["false_premise"]
    assert on_topic_but_unanswered >= 0.2 * len(labelled.questions) and kinds["false_premise"] >= 30
    assert kinds["narrative"] >= 50 and kinds["two_story"] >= 30
    assert len({q.writer for q in labelled.questions}) >= 8


def test_about_half_the_stories_are_dev_and_a_question_is_dev_only_when_all_its_stories_are(labelled):
    dev = set(labelled.story_titles(DEV))
    assert 0.35 < len(dev) / len(labelled.splits) < 0.65
    straddling = [q for q in labelled.questions if q.kind == "two_story" and len(set(q.stories) & dev) == 1]
    assert straddling and all(labelled.split_of(q) == TEST for q in straddling)


def test_the_seed_is_a_test_story_with_at_least_thirty_questions(labelled):
    seed_title = SEED.read_text(encoding="utf-8").splitlines()[0].strip()
    assert labelled.splits[seed_title] == TEST
    about_seed = [q for q in labelled.questions if q.stories == (seed_title,)]
    assert len(about_seed) >= 30
    assert {"answerable", "unanswerable"} <= {q.kind for q in about_seed} | {"unanswerable" for q in about_seed if q.kind == "false_premise"}


def test_each_question_is_asked_in_the_conversation_of_another_story_of_its_split(labelled):
    """The 'in another story's conversation' column: never the question's own story, never across the split, the
    same choice every run."""
    pairs = in_other_conversations(labelled, labelled.splits)
    assert len(pairs) == sum(q.kind != "two_story" for q in labelled.questions)
    for question, title in pairs:
        assert title not in question.stories and labelled.splits[title] == labelled.split_of(question), question.text
    assert len({title for _, title in pairs}) > 40  # spread over the stories, not one conversation for all
    assert pairs == in_other_conversations(labelled, labelled.splits)


def test_the_split_is_a_seeded_hash_of_the_title_that_adding_stories_cannot_move(labelled):
    # Recorded when the split was drawn: a change of seed or of rule moves these and fails here.
    assert hashed_split("Eastmere Council Approves Two-Year Rent Cap") == DEV
    assert hashed_split("Pridmouth Shipyard Wins Ferry Order, Creating 900 Jobs") == DEV
    assert hashed_split("Bank of Valdoria Holds Interest Rate at 4.25%") == TEST
    sides = Counter(hashed_split(f"story {n}") for n in range(1000))
    assert 420 < sides[DEV] < 580
    # Read without the seeds (as a tool might), no question changes side: the seed hashes to test as well.
    without_seeds = read_labelled_set(EVAL)
    assert [without_seeds.split_of(q) for q in without_seeds.questions] == [labelled.split_of(q) for q in labelled.questions]


@pytest.mark.parametrize(("row", "message"), [
    ({"q": "x", "kind": "guess", "story": None}, "kind must be one of"),
    ({"q": "x", "kind": "answerable", "story": "No Such Story", "fact": 1}, "no story titled 'No Such Story'"),
    ({"q": "x", "kind": "answerable", "story": "London Police to Stop Responding to Mental Health Calls", "fact": 7}, "between 1 and 6"),
    ({"q": "x", "kind": "two_story", "stories": ["London Police to Stop Responding to Mental Health Calls"] * 2}, "two different stories"),
    ({"q": "x", "kind": "answerable", "story": "London Police to Stop Responding to Mental Health Calls", "fact": True}, "whole numbers"),
    ({"kind": "offtopic", "story": None}, "q must be the question's text"),
    ({"q": "  ", "kind": "offtopic", "story": None}, "q must be the question's text"),
    (["not", "an", "object"], "a question is a JSON object"),
])
def test_a_bad_label_names_its_file_and_line(tmp_path, row, message):
    shutil.copytree(EVAL / "stories", tmp_path / "stories")
    (tmp_path / "questions").mkdir()
    good = {"q": "what is the weather on mars", "kind": "offtopic", "story": None, "fact": None}
    (tmp_path / "questions" / "a.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        read_labelled_set(tmp_path, SEEDS)
    assert "a.jsonl:2:" in str(error.value)
