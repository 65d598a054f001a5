"""Answers as plain text for a terminal: what `python -m index ask` prints."""

import textwrap

from .answer import Answer, AnswerFact, AnswerStory


def citation_markers(fact: AnswerFact) -> str:
    return "".join(f"[{n}]" for n in fact.citations)


def format_story(story: AnswerStory, width: int = 100) -> str:
    lines = [story.title + (f"  (updated {story.updated})" if story.updated else "")]
    for fact in story.facts:
        lines.append(textwrap.fill(f"{fact.text} {citation_markers(fact)}".strip(), width, initial_indent="  • ", subsequent_indent="    "))
    for narrative in story.narratives:
        lines.append(f"  {narrative.label}:")
        lines.extend(textwrap.fill(paragraph, width, initial_indent="    ", subsequent_indent="    ") for paragraph in narrative.text.split("\n\n"))
    cited = {n for fact in story.facts for n in fact.citations}
    for source in story.sources:
        if source.number in cited:
            lines.append(f"  [{source.number}] " + " — ".join(x for x in (source.outlet, source.headline, source.url) if x))
    return "\n".join(lines)


def format_answer(answer: Answer, width: int = 100) -> str:
    if not answer.answered:
        text = "No story covers that question."
        if answer.suggestions:
            text += " Closest stories:\n" + "\n".join(f"  - {title}" for title in answer.suggestions)
        return text
    return "\n\n".join(format_story(story, width) for story in answer.stories)
