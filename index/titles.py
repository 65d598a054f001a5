"""Finding a story by what someone typed: its title (as `title_key` compares), its id, or a title half
remembered. The one implementation, used by `KnowledgeBase.story`, the console and the bot.

Made from the catalog columns only (no story is read from disk), on first use: loading an index of
100,000 stories does not pay for it.
"""

from functools import cached_property

from rapidfuzz import fuzz, process, utils

from .models import title_key
from .shelf import CombinedShelf, StoryShelf

# A title typed in full with a typo or two still matches; a loose word or two does not.
CONFIDENT_MATCH = 90


class Titles:
    """The stories' titles and ids, in catalog order (newest first, undated last)."""

    def __init__(self, shelf: StoryShelf | CombinedShelf):
        """`shelf`: the catalog columns and their lookups by title key and id (made once per shelf, also for builds)."""
        self._shelf, self._titles, self._updated = shelf, shelf.titles, shelf.updated

    @cached_property
    def newest_first(self) -> list[int]:
        updated, titles = self._updated, self._titles
        return sorted(range(len(titles)), key=lambda n: (updated[n] is not None, updated[n] or "", titles[n]))[::-1]

    @cached_property
    def _titles_newest_first(self) -> list[str]:
        return [self._titles[n] for n in self.newest_first]

    def find(self, text: str, *, guess: bool = False) -> int | None:
        """The story with this title or, failing that, this id; with `guess`, also the one title `text`
        clearly means. A title is tried first, so no story's id can stand in for another's title."""
        number = self._shelf.number_of_key.get(title_key(text))
        if number is None:
            number = self._shelf.number_of_id.get(text.strip())
        if number is None and guess and self._titles:
            match = process.extractOne(text, self._titles, scorer=fuzz.WRatio, processor=utils.default_process,
                                       score_cutoff=CONFIDENT_MATCH)
            number = match[2] if match else None
        return number

    def matching(self, typed: str, limit: int) -> list[int]:
        """The best `limit` stories for what has been typed so far (autocomplete); newest first before any typing."""
        if not typed.strip():
            return self.newest_first[:limit]
        matches = process.extract(typed, self._titles_newest_first, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit)
        return [self.newest_first[position] for _, score, position in matches if score > 0]
