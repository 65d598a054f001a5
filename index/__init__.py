"""storybot's knowledge base: stories in, extractive answers out. No Discord in here.

    library = index.Library(Path("seeds"), Path("data/index"))
    library.open()                                               # build what changed, then load
    library.ask("how much time did the other force save?")       # -> index.Answer

`build` and `load` are its two steps on their own. Importing this package, or calling it, configures
nothing process-wide: an entry point calls `configure_process()` once (`python -m index`, `python -m bot` do).
"""

from .answer import MAX_QUESTION_CHARS, Answer, AnswerFact, AnswerNarrative, AnswerStory, clean_question
from .builder import build
from .changes import StoryChanges, story_changes
from .errors import IndexFormatError, QuestionError, StoryFileError
from .library import Change, Library, LibraryError
from .models import Fact, Narrative, Source, Story, story_id_for
from .process import configure_process
from .retrieval import KnowledgeBase, load
from .settings import IndexSettings

__all__ = [
    "Library", "LibraryError", "Change", "build", "load", "KnowledgeBase", "configure_process", "IndexSettings",
    "Answer", "AnswerStory", "AnswerFact", "AnswerNarrative", "Source", "Story", "Fact", "Narrative", "story_id_for", "StoryChanges",
    "story_changes",
    "QuestionError", "StoryFileError", "IndexFormatError",
    "MAX_QUESTION_CHARS", "clean_question",
]
