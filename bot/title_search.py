"""Finding a story by a title someone half remembers, typed or picked from autocomplete."""

from collections.abc import Sequence

from rapidfuzz import fuzz, process, utils

# A title typed in full with a typo or two still matches; a loose word or two does not.
CONFIDENT_MATCH = 90


def matching_titles(query: str, titles: Sequence[str], limit: int) -> list[str]:
    """The best `limit` titles for what has been typed so far; all of them, in order, before any typing."""
    if not query.strip():
        return list(titles[:limit])
    matches = process.extract(query, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit)
    return [title for title, score, _ in matches if score > 0]


def best_title(query: str, titles: Sequence[str]) -> str | None:
    """The one title `query` clearly means (e.g. an autocomplete value cut to 100 characters), or None."""
    match = process.extractOne(
        query, titles, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=CONFIDENT_MATCH
    )
    return match[0] if match else None
