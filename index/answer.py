"""The answer contract: the one model that crosses from `index/` to `bot/`.

Every `text` here is copied verbatim from a story; nothing in an answer is written by the product.
The JSON field names are fixed (other tools read them); fields may be added, never renamed.
"""

import re

from pydantic import BaseModel, Field

from .errors import QuestionError
from .models import Source, Story, visible_text

MAX_QUESTION_CHARS = 500


def clean_question(question: str) -> str:
    """Collapse whitespace and refuse what cannot be answered, with a message a member can act on.

    Part of the contract because the bot must refuse *before* it acknowledges a slash command publicly.
    """
    # Invisible format characters (zero-width spaces and joiners, bidi overrides) are dropped first: a question
    # made only of them is empty, and none of them can reorder or hide the question where it is shown.
    text = visible_text(question)
    if not text:
        raise QuestionError("Please include a question, e.g. “What did the council decide about rents?”")
    if not re.search(r"\w", text):
        raise QuestionError("I can only answer questions asked in words, e.g. “What did the council decide about rents?”")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"That question is {len(text):,} characters long; I can take up to {MAX_QUESTION_CHARS}. "
            "Could you shorten it a little?"
        )
    return text


class AnswerFact(BaseModel):
    index: int = Field(description="1-based position of the bullet in its story")
    text: str = Field(description="the bullet, verbatim")
    citations: list[int]
    sources: list[Source] = Field(default_factory=list, description="the listed sources of `citations`")
    score: float = 0.0


class AnswerNarrative(BaseModel):
    label: str
    text: str


class AnswerStory(BaseModel):
    id: str
    title: str
    updated: str | None = Field(description="ISO date of 'Last updated', or null")
    image_credit: str | None = None
    facts: list[AnswerFact] = Field(description="best first in an answer; story order on a story card")
    narratives: list[AnswerNarrative] = Field(description="all of them, in the story's order")
    sources: list[Source] = Field(default_factory=list, description="every source the story lists")
    score: float = 0.0

    @classmethod
    def from_story(cls, story: Story, facts: list[AnswerFact] | None = None, score: float = 0.0) -> "AnswerStory":
        """A story card; with `facts` omitted it carries every bullet in story order (the `/story` card)."""
        if facts is None:
            facts = [answer_fact(story, fact.index) for fact in story.facts]
        return cls(
            id=story.id,
            title=story.title,
            updated=story.updated.isoformat() if story.updated else None,
            image_credit=story.image_credit,
            facts=facts,
            narratives=[AnswerNarrative(label=n.label, text=n.text) for n in story.narratives],
            sources=list(story.sources),
            score=score,
        )


class Answer(BaseModel):
    question: str
    answered: bool
    stories: list[AnswerStory] = Field(default_factory=list, description="best first; empty when not answered")
    suggestions: list[str] = Field(default_factory=list, description="closest titles when not answered")


def answer_fact(story: Story, index: int, score: float = 0.0) -> AnswerFact:
    fact = story.facts[index - 1]
    sources = [s for s in (story.source(n) for n in fact.citations) if s is not None]
    return AnswerFact(index=fact.index, text=fact.text, citations=list(fact.citations), sources=sources, score=score)
