"""Story pieces as Discord Markdown: citation markers and source lines that link to their sources.

Only http(s) URLs are ever linked; every piece of story text is escaped, so it shows as written.
"""

import unicodedata
from urllib.parse import urlsplit

from discord.utils import escape_markdown

from index import AnswerFact, Fact, Source, Story

LINKED_SCHEMES = ("http", "https")


def link_target(url: str | None) -> str | None:
    """The URL as a Markdown link target, or None when it must not be linked (not http(s), no host, hidden
    characters). Brackets and spaces are percent-encoded so the URL cannot end its link early."""
    if not url or any(unicodedata.category(c) in ("Cc", "Cf") for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINKED_SCHEMES or not parts.hostname:
        return None
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def linked_citation_markers(fact: AnswerFact) -> str:
    """'[1][3]' as the story wrote them, each marker linking to its source when it lists a linkable URL."""
    return linked_markers(fact.citations, fact.sources)


def linked_story_markers(story: Story, fact: Fact) -> str:
    """The same for a bullet of a `Story` (its sources are the story's)."""
    return linked_markers(fact.citations, [s for s in (story.source(n) for n in fact.citations) if s is not None])


def linked_markers(citations: list[int], sources: list[Source]) -> str:
    targets = {source.number: link_target(source.url) for source in sources}
    return "".join(f"[[{number}]]({targets[number]})" if targets.get(number) else f"[{number}]" for number in citations)


def linked_source_line(source: Source) -> str:
    """'[1] Eastmere Gazette — Council approves rent cap', the headline linked when there is a linkable URL."""
    target = link_target(source.url)
    headline = escape_markdown(source.headline or source.url or "(no headline)")
    if target:  # inside a link's text a "]" could close it early, so it is escaped too
        headline = f"[{headline.replace(']', chr(92) + ']')}]({target})"
    outlet = f"{escape_markdown(source.outlet)} — " if source.outlet else ""
    return f"[{source.number}] {outlet}{headline}"
