"""Finding a story by what someone typed: its title (as `title_key` compares), its id, or a title half
remembered. The one implementation, used by `KnowledgeBase.story`, the console and the bot.

Made from the catalog columns only (no story is read from disk), on first use: loading an index of
100,000 stories does not pay for it.
"""

from collections.abc import Sequence
from functools import cached_property

from rapidfuzz import fuzz, process, utils

from .models import title_key

# A title typed in full with a typo or two still matches; a loose word or two does not.
CONFIDENT_MATCH = 90


class Titles:
    """The stories' titles and ids, in catalog order (newest first, undated last)."""

    def __init__(self, ids: Sequence[str], titles: Sequence[str], updated: Sequence[str | None], keys: Sequence[str] | None = None):
        """`keys`: each title's `title_key`, if already made (the catalog keeps them)."""
        self._ids, self._titles, self._updated, self._keys = ids, titles, updated, keys

    @cached_property
    def _by_key(self) -> dict[str, int]:
        keys = self._keys if self._keys is not None else map(title_key, self._titles)
        return dict(zip(keys, range(len(self._titles)), strict=True))  # made in C: a change's first lookup pays it at 100,000 stories

    @cached_property
    def _by_id(self) -> dict[str, int]:
        return dict(zip(self._ids, range(len(self._ids)), strict=True))

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
        number = self._by_key.get(title_key(text))
        if number is None:
            number = self._by_id.get(text.strip())
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
