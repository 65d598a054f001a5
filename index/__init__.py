"""storybot's knowledge base: stories in, extractive answers out. No Discord in here.

    library = index.Library(Path("seeds"), Path("data/index"))
    library.open()                                               # build what changed, then load
    library.ask("how much time did the other force save?")       # -> index.Answer

`build` and `load` are the two steps on their own. Importing this package configures nothing: the
entry points (`python -m index`, `python -m bot`) set logging and threads.
"""

from .answer import MAX_QUESTION_CHARS, Answer, AnswerFact, AnswerNarrative, AnswerStory, clean_question
from .builder import BuildReport, build
from .embedder import Embedder
from .errors import IndexFormatError, Problem, QuestionError, StoryFileError
from .library import Change, Library, LibraryError
from .models import Fact, Narrative, Source, Story
from .retrieval import KnowledgeBase, load

__all__ = [
    "MAX_QUESTION_CHARS", "Answer", "AnswerFact", "AnswerNarrative", "AnswerStory", "BuildReport", "Change", "Embedder",
    "Fact", "IndexFormatError", "KnowledgeBase", "Library", "LibraryError", "Narrative", "Problem", "QuestionError", "Source", "Story",
    "StoryFileError", "build", "clean_question", "load",
]
