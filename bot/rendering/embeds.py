"""Answers and story cards as Discord embeds, always within Discord's limits.

Every sentence about the news is a story's own text (escaped so that it shows exactly as written);
the only words the bot adds are headings, dates and apologies.
"""

from collections.abc import Sequence

import discord
from discord.utils import escape_markdown

from index import Answer, AnswerStory

from ..records import FeedbackSummary
from . import limits
from .dates import format_updated
from .story_text import linked_citation_markers, linked_source_line

STORY_COLOUR = discord.Colour.blurple()
NO_ANSWER_COLOUR = discord.Colour.light_grey()
ANSWER_FOOTER = "Every line above is quoted from the story. Moderators can post it in full with /story."
SHOWN_QUESTION_CHARS = 200


def answer_embeds(answer: Answer) -> list[discord.Embed]:
    """The embeds for one `/ask` or mention: a card per matching story, or a kind "not covered"."""
    if not answer.answered or not answer.stories:
        return [no_answer_embed(answer.question, answer.suggestions)]
    stories = answer.stories[: limits.EMBEDS_PER_MESSAGE]
    budget = limits.EMBED_TOTAL // len(stories)  # the 6000 limit is shared by every embed of a message
    last = len(stories) - 1  # one footer under the last card says it for all of them
    return [
        story_embed(story, budget=budget, footer=ANSWER_FOOTER if i == last else "", full_card=False)
        for i, story in enumerate(stories)
    ]


def story_card_embeds(story: AnswerStory) -> list[discord.Embed]:
    """The `/story` summary card: every bullet, both narratives, image credit and the sources."""
    footer = f"Image credit: {story.image_credit}" if story.image_credit else ""
    return [story_embed(story, budget=limits.EMBED_TOTAL, footer=footer, full_card=True)]


def story_embed(story: AnswerStory, *, budget: int, footer: str, full_card: bool) -> discord.Embed:
    """One story in at most `budget` characters: narratives are always kept, then bullets, then sources."""
    title = limits.shorten(escape_markdown(story.title), limits.EMBED_TITLE)
    footer = limits.shorten(footer, limits.EMBED_FOOTER)
    embed = discord.Embed(title=title, colour=STORY_COLOUR)
    if footer:
        embed.set_footer(text=footer)
    room = budget - len(title) - len(footer)

    narratives = story.narratives[: limits.EMBED_FIELDS - 1]
    if narratives:
        # Side by side needs both: each narrative gets an equal share of at most half the room.
        share = (room // 2) // len(narratives)
        for narrative in narratives:
            name = limits.shorten(escape_markdown(narrative.label), min(limits.EMBED_FIELD_NAME, max(1, share // 4)))
            value_limit = min(limits.EMBED_FIELD_VALUE, share - len(name))
            value = limits.shorten(escape_markdown(narrative.text), max(1, value_limit))
            embed.add_field(name=name, value=value, inline=True)
            room -= len(name) + len(value)

    header = [f"Last updated **{format_updated(story.updated)}**"]
    bullets = [
        f"• {escape_markdown(fact.text)}{linked_citation_markers(fact)}" for fact in story.facts
    ]
    description = limits.fit_lines(header + [""] + bullets, min(limits.EMBED_DESCRIPTION, room))
    embed.description = description
    room -= len(description)

    sources = story.sources if full_card else []
    if sources:
        add_source_fields(embed, [linked_source_line(source) for source in sources], room)
    return embed


def add_source_fields(embed: discord.Embed, lines: list[str], room: int, *, name: str = "Sources") -> None:
    """Sources in as many non-inline fields as they need, for as long as there is room."""
    continued = f"{name} (continued)"
    while lines and len(embed.fields) < limits.EMBED_FIELDS:
        value_limit = min(limits.EMBED_FIELD_VALUE, room - len(name))
        if value_limit < 40:
            return
        value = limits.fit_lines(lines, value_limit)
        taken = value.count("\n") + 1
        if value.endswith(limits.ELLIPSIS):
            taken = len(lines)  # the rest did not fit anywhere
        embed.add_field(name=name, value=value, inline=False)
        room -= len(name) + len(value)
        lines = lines[taken:]
        name = continued


def no_answer_embed(question: str, suggestions: Sequence[str]) -> discord.Embed:
    """Said kindly: no story covers the question, and which stories might be close."""
    shown = escape_markdown(limits.shorten(question.strip(), SHOWN_QUESTION_CHARS))
    lines = [
        f"Sorry — none of the stories I know covers “{shown}”.",
        "I only ever quote from stories, so I'd rather say nothing than guess.",
    ]
    if suggestions:
        lines += ["", "These stories might be close:"]
        lines += [f"• {escape_markdown(limits.shorten(title, 300))}" for title in suggestions]
    lines += ["", "Use /stories to see everything I know."]
    return discord.Embed(
        title="No story covers that yet",
        description=limits.fit_lines(lines, limits.EMBED_DESCRIPTION),
        colour=NO_ANSWER_COLOUR,
    )


def catalog_page_embed(stories: Sequence[AnswerStory], *, page: int, pages: int, total: int) -> discord.Embed:
    """One page of the `/stories` list (`page` counts from 0)."""
    lines = [
        f"**{escape_markdown(limits.shorten(story.title, 300))}** — {format_updated(story.updated)}" for story in stories
    ]
    embed = discord.Embed(
        title=f"Stories I know — page {page + 1} of {pages}",
        description=limits.fit_lines(lines, limits.EMBED_DESCRIPTION) or "I don't know any stories yet.",
        colour=STORY_COLOUR,
    )
    embed.set_footer(text=f"{total} stories, newest first. Ask about any of them with /ask.")
    return embed



FEEDBACK_LINES = 15


def feedback_embed(summary: FeedbackSummary) -> discord.Embed:
    """`/storyadmin feedback`: votes per story and the worst-rated questions, each shown as written."""
    stories = [f"👍 {t.up} · 👎 {t.down} — {escape_markdown(t.name)}" for t in summary.stories[:FEEDBACK_LINES]]
    worst = [f"👍 {t.up} · 👎 {t.down} — “{escape_markdown(t.name)}”" for t in summary.worst]
    embed = discord.Embed(title=f"Feedback — {summary.votes} vote(s)")
    embed.description = limits.fit_lines(
        ["**Votes per story**", *(stories or ["No votes yet."]), "", "**Worst-rated questions**",
         *(worst or ["None rated worse than liked."])],
        limits.EMBED_DESCRIPTION,
    )
    return embed
