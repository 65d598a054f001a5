"""Finding a story by a title someone half remembers, typed or picked from autocomplete.

Autocomplete offers titles but sends the story's id (ids fit Discord's 100-character choice values, titles
need not), so every story can be picked whatever the length of its title. A typed title is compared by
`title_key`: spacing, invisible characters and case do not matter.
"""

import weakref
from collections.abc import Sequence

from discord import app_commands
from rapidfuzz import fuzz, process, utils

from index import AnswerStory, KnowledgeBase
from index.models import title_key

from .rendering import limits

# A title typed in full with a typo or two still matches; a loose word or two does not.
CONFIDENT_MATCH = 90

_lookups: "weakref.WeakKeyDictionary[KnowledgeBase, tuple[dict[str, str], set[str]]]" = weakref.WeakKeyDictionary()


def matching_titles(query: str, titles: Sequence[str], limit: int) -> list[str]:
    """The best `limit` titles for what has been typed so far; all of them, in order, before any typing."""
    if not query.strip():
        return list(titles[:limit])
    matches = process.extract(query, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit)
    return [title for title, score, _ in matches if score > 0]


def best_title(query: str, titles: Sequence[str]) -> str | None:
    """The one title `query` clearly means (a typo or two), or None."""
    match = process.extractOne(
        query, titles, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=CONFIDENT_MATCH
    )
    return match[0] if match else None


def find_story(knowledge_base: KnowledgeBase, text: str, *, guess: bool = False) -> AnswerStory | None:
    """The story with this title (as `title_key` compares) or, failing that, this id; with `guess`, also the
    title `text` clearly means. A title is tried first, so no story's id can stand in for another's title."""
    ids_by_key, ids = _lookup(knowledge_base)
    story_id = ids_by_key.get(title_key(text)) or (text if text in ids else None)
    if story_id is None and guess and (meant := best_title(text, knowledge_base.titles())):
        story_id = ids_by_key.get(title_key(meant))
    return knowledge_base.story(story_id) if story_id is not None else None  # an id always finds its own story


def story_choices(knowledge_base: KnowledgeBase, typed: str, titles: Sequence[str]) -> list[app_commands.Choice[str]]:
    """Autocomplete choices among `titles` (in the order to offer them before any typing): the title shown, the id sent."""
    ids_by_key, _ = _lookup(knowledge_base)
    return [
        app_commands.Choice(name=limits.shorten(title, limits.CHOICE_NAME), value=ids_by_key[title_key(title)])
        for title in matching_titles(typed, titles, limits.AUTOCOMPLETE_CHOICES)
    ]


def _lookup(knowledge_base: KnowledgeBase) -> tuple[dict[str, str], set[str]]:
    """Title keys to ids, and the ids, made once per loaded index."""
    if knowledge_base not in _lookups:
        shelf = knowledge_base.generation.stories
        _lookups[knowledge_base] = ({title_key(t): i for t, i in zip(shelf.titles, shelf.ids, strict=True)}, set(shelf.ids))
    return _lookups[knowledge_base]
