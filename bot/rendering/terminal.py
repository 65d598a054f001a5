"""Answers and story cards as plain text for a terminal: what the console chat (`python -m bot` without a
token) prints. The Discord embeds beside it show the same pieces as Markdown."""

import textwrap
from collections.abc import Sequence

from index import Answer, AnswerFact, AnswerStory, Source

from .dates import format_updated

WIDTH = 100


def citation_markers(fact: AnswerFact) -> str:
    """'[1][3]', as the story wrote them."""
    return "".join(f"[{number}]" for number in fact.citations)


def source_line(source: Source) -> str:
    """'[1] Eastmere Gazette — Council approves rent cap <https://…>'."""
    outlet = f"{source.outlet} — " if source.outlet else ""
    headline = source.headline or ("" if source.url else "(no headline)")
    url = f" <{source.url}>" if source.url else ""
    return f"[{source.number}] {outlet}{headline}{url}".replace("  ", " ")


def cited_sources(story: AnswerStory) -> list[Source]:
    """The sources the shown bullets cite, in citation order, each once."""
    seen: dict[int, Source] = {}
    for fact in story.facts:
        for source in fact.sources:
            seen.setdefault(source.number, source)
    return sorted(seen.values(), key=lambda source: source.number)


def format_answer(answer: Answer) -> str:
    """Each matching story, or a kind "not covered" with the closest titles."""
    if not answer.answered or not answer.stories:
        return format_no_answer(answer.question, answer.suggestions)
    return "\n\n".join(format_story(story) for story in answer.stories)


def format_story(story: AnswerStory, *, full_card: bool = False) -> str:
    """A story's shown bullets and narratives; `full_card` adds the image credit and every source."""
    lines = [story.title, f"Last updated {format_updated(story.updated)}"]
    if full_card and story.image_credit:
        lines.append(f"Image credit: {story.image_credit}")
    lines.append("")
    for fact in story.facts:
        lines += _wrap(f"{fact.text}{citation_markers(fact)}", first="  • ", rest="    ")
    for narrative in story.narratives:
        lines += ["", f"  {narrative.label}:"]
        for paragraph in narrative.text.split("\n\n"):
            lines += _wrap(paragraph, first="    ", rest="    ")
    sources = story.sources if full_card else cited_sources(story)
    if sources:
        lines += ["", "  Sources:"]
        lines += [f"    {source_line(source)}" for source in sources]
    return "\n".join(lines)


def format_no_answer(question: str, suggestions: Sequence[str]) -> str:
    lines = [f"Sorry — none of the stories I know covers “{question.strip()}”. I only quote stories, so I won't guess."]
    if suggestions:
        lines.append("These stories might be close (type /story and a title to read one):")
        lines += [f"  • {title}" for title in suggestions]
    return "\n".join(lines)


def format_catalog(stories: Sequence[AnswerStory]) -> str:
    if not stories:
        return "I don't know any stories yet."
    lines = [f"{len(stories)} {'story' if len(stories) == 1 else 'stories'}, newest first:"]
    lines += [f"  {format_updated(story.updated):>20}  {story.title}" for story in stories]
    return "\n".join(lines)


def _wrap(text: str, *, first: str, rest: str) -> list[str]:
    # Only spaces are broken: a hyphenated word split across lines would read as different text.
    wrapped = textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)
    return wrapped or [first.rstrip()]
