"""storybot's knowledge base: stories in, extractive answers out. No Discord in here.

    library = index.Library(Path("seeds"), Path("data/index"))
    library.open()                                               # build what changed, then load
    library.ask("how much time did the other force save?")       # -> index.Answer

`build` and `load` are the two steps on their own; `format_*` render its models as plain text for a
terminal (`python -m index ask` and the bot's console chat print the same). Importing this package configures nothing: the
entry points (`python -m index`, `python -m bot`) set logging and threads.
"""

from .answer import MAX_QUESTION_CHARS, Answer, AnswerFact, AnswerNarrative, AnswerStory, clean_question
from .builder import BuildReport, build
from .changes import ChangedNarrative, RewordedBullet, StoryChanges, story_changes
from .embedder import Embedder
from .errors import IndexFormatError, Problem, QuestionError, StoryFileError
from .library import Change, Library, LibraryError
from .models import Fact, Narrative, Source, Story
from .retrieval import KnowledgeBase, load
from .settings import IndexSettings
from .terminal import format_answer, format_catalog, format_story, format_updated

__all__ = [
    "MAX_QUESTION_CHARS", "Answer", "AnswerFact", "AnswerNarrative", "AnswerStory", "BuildReport", "Change", "ChangedNarrative",
    "Embedder", "Fact", "IndexFormatError", "IndexSettings", "KnowledgeBase", "Library", "LibraryError", "Narrative", "Problem",
    "QuestionError", "RewordedBullet", "Source", "Story", "StoryChanges", "StoryFileError", "build", "clean_question", "format_answer",
    "format_catalog", "format_story", "format_updated", "load", "story_changes",
]
