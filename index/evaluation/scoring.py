"""Score a knowledge base's answers against labelled questions, one outcome per question.

"Wrong when answered" sits beside accuracy everywhere: an answer whose story or first bullet is wrong
misleads a member, which is worse than an honest "no story covers that".
"""

from dataclasses import dataclass

from ..answer import Answer
from .data import LabelledQuestion

# (name, higher is better, what it counts): each figure is a count over a count, shown as a rate.
METRICS = {
    "first_bullet_right": (True, "answerable questions whose first bullet shown answers them"),
    "top3_bullet_right": (True, "answerable questions with an answering bullet among the first three shown"),
    "right_story": (True, "answerable questions whose first story shown is theirs"),
    "unanswerable_refused": (True, "questions no bullet answers (on topic, false premise, off topic) that were refused"),
    "answerable_refused": (False, "answerable questions that were refused"),
    "narrative_both_sides": (True, "questions about the sides answered with their story and both narratives"),
    "two_story_both_shown": (True, "questions about two stories answered with both"),
    "wrong_when_answered": (False, "answers given whose story or first bullet is wrong, over all answers given"),
}


@dataclass(frozen=True)
class Outcome:
    question: LabelledQuestion
    split: str
    answered: bool
    shown: tuple[tuple[str, int], ...]  # (title, bullet) in the order shown
    titles: tuple[str, ...]  # stories shown, best first
    narratives: int  # narratives shown with the first story

    @property
    def story_right(self) -> bool:
        return self.answered and self.titles[0] in self.question.stories

    @property
    def bullet_right(self) -> bool:
        return self.answered and bool(self.shown) and self.shown[0] in self._expected

    @property
    def top3_right(self) -> bool:
        return self.answered and any(hit in self._expected for hit in self.shown[:3])

    @property
    def _expected(self) -> set[tuple[str, int]]:
        return {(self.question.stories[0], fact) for fact in self.question.facts} if self.question.facts else set()

    @property
    def wrong(self) -> bool:
        """Answered, and what it shows first misleads: the wrong story, or a bullet that does not answer."""
        if not self.answered:
            return False
        kind = self.question.kind
        if kind == "answerable":
            return not self.bullet_right
        if kind in ("narrative", "two_story"):
            return not self.story_right
        return True


def outcome_of(question: LabelledQuestion, split: str, answer: Answer) -> Outcome:
    return Outcome(
        question, split, answer.answered,
        tuple((story.title, fact.index) for story in answer.stories for fact in story.facts),
        tuple(story.title for story in answer.stories),
        len(answer.stories[0].narratives) if answer.stories else 0,
    )


def counts(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """Every metric as (count, out of)."""
    answerable = [o for o in outcomes if o.question.kind == "answerable"]
    refuse = [o for o in outcomes if not o.question.should_answer]
    narrative = [o for o in outcomes if o.question.kind == "narrative"]
    two_story = [o for o in outcomes if o.question.kind == "two_story"]
    answered = [o for o in outcomes if o.answered]
    return {
        "first_bullet_right": (sum(o.bullet_right for o in answerable), len(answerable)),
        "top3_bullet_right": (sum(o.top3_right for o in answerable), len(answerable)),
        "right_story": (sum(o.story_right for o in answerable), len(answerable)),
        "unanswerable_refused": (sum(not o.answered for o in refuse), len(refuse)),
        "answerable_refused": (sum(not o.answered for o in answerable), len(answerable)),
        "narrative_both_sides": (sum(o.story_right and o.narratives >= 2 for o in narrative), len(narrative)),
        "two_story_both_shown": (sum(o.answered and set(o.question.stories) <= set(o.titles) for o in two_story), len(two_story)),
        "wrong_when_answered": (sum(o.wrong for o in answered), len(answered)),
    }


def describe_miss(outcome: Outcome) -> str | None:
    """One line for a question the product got wrong (misled or wrongly refused), or None."""
    q = outcome.question
    if outcome.wrong:
        return f"{q.where}: {q.kind} {q.text!r}: expected {q.stories[:1]} {q.facts[:1]}, shown {list(outcome.shown[:2])}"
    if q.should_answer and not outcome.answered:
        return f"{q.where}: refused {q.kind} {q.text!r} about {q.stories}"
    return None
