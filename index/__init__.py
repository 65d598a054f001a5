"""storybot's knowledge base: stories in, extractive answers out. No Discord in here.

    report = index.build([Path("seeds")], Path("data/index"))   # incremental, atomic
    kb = index.load(Path("data/index"))
    kb.ask("how much time did the other force save?")            # -> index.Answer
"""

from .answer import MAX_QUESTION_CHARS, Answer, AnswerFact, AnswerNarrative, AnswerStory, clean_question
from .builder import BuildReport, build
from .embedder import Embedder
from .errors import IndexFormatError, Problem, QuestionError, StoryFileError
from .models import Fact, Narrative, Source, Story
from .retrieval import KnowledgeBase, load

__all__ = [
    "MAX_QUESTION_CHARS", "Answer", "AnswerFact", "AnswerNarrative", "AnswerStory", "BuildReport", "Embedder",
    "Fact", "IndexFormatError", "KnowledgeBase", "Narrative", "Problem", "QuestionError", "Source", "Story",
    "StoryFileError", "build", "clean_question", "load",
]
