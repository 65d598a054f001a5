"""What counts as right, refused and misleading, on hand-made answers."""

from index import Answer, AnswerFact, AnswerNarrative, AnswerStory
from index.evaluation import counts
from index.evaluation.data import LabelledQuestion
from index.evaluation.scoring import outcome_of


def answer(title: str, bullets: list[int], narratives: int = 2) -> Answer:
    story = AnswerStory(id=title, title=title, updated=None, facts=[AnswerFact(index=n, text="t", citations=[1]) for n in bullets],
                        narratives=[AnswerNarrative(label=f"N{n}", text="t") for n in range(narratives)])
    return Answer(question="q", answered=True, stories=[story])


REFUSED = Answer(question="q", answered=False)


def question(kind: str, stories=("A",), facts=()) -> LabelledQuestion:
    return LabelledQuestion("q", kind, stories, facts, "w", "f:1")


def test_wrong_when_answered_counts_every_misleading_answer_over_answers_given():
    outcomes = [
        outcome_of(question("answerable", facts=(2, 3)), "test", answer("A", [3, 1])),  # right (alternative bullet)
        outcome_of(question("answerable", facts=(2,)), "test", answer("A", [1, 2])),  # right story, wrong first bullet
        outcome_of(question("answerable", facts=(2,)), "test", answer("B", [2])),  # wrong story
        outcome_of(question("unanswerable"), "test", answer("A", [1])),  # answered what no bullet answers
        outcome_of(question("offtopic", stories=()), "test", REFUSED),  # rightly refused: not an answer given
        outcome_of(question("narrative"), "test", answer("A", [4])),  # sides of the right story
        outcome_of(question("answerable", facts=(1,)), "test", REFUSED),  # wrongly refused
    ]
    figures = counts(outcomes)
    assert figures["wrong_when_answered"] == (3, 5)
    assert figures["first_bullet_right"] == (1, 4)
    assert figures["top3_bullet_right"] == (2, 4)
    assert figures["right_story"] == (2, 4)
    assert figures["answerable_refused"] == (1, 4)
    assert figures["unanswerable_refused"] == (1, 2)
    assert figures["narrative_both_sides"] == (1, 1)


def test_narratives_and_two_stories_need_everything_they_ask_for():
    one_side = outcome_of(question("narrative"), "dev", answer("A", [1], narratives=1))
    other_story = outcome_of(question("narrative"), "dev", answer("B", [1]))
    both = Answer(question="q", answered=True, stories=answer("A", [1]).stories + answer("B", [2]).stories)
    pair = outcome_of(question("two_story", stories=("A", "B")), "dev", both)
    half = outcome_of(question("two_story", stories=("A", "C")), "dev", both)
    figures = counts([one_side, other_story, pair, half])
    assert figures["narrative_both_sides"] == (0, 2)
    assert figures["two_story_both_shown"] == (1, 2)
    assert figures["wrong_when_answered"] == (1, 4)
