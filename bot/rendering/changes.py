"""What changed in a story, as a Discord embed within Discord's limits (the feed and `/story changes_only:`).

Every bullet, narrative and source shown is the story's own text, escaped; the bot adds only headings, dates
and counts. A long list of changes ends with "…and N more" rather than failing the message.
"""

import discord
from discord.utils import escape_markdown

from index import StoryChanges

from . import limits
from .dates import format_updated
from .embeds import add_source_fields
from .story_text import linked_source_line, linked_story_markers

CHANGES_COLOUR = discord.Colour.gold()
NEW_STORY_INTRO = "📰 **New story**"
UPDATED_STORY_INTRO = "🔄 **Story updated**: what changed since the version I last knew"
CHANGES_FOOTER = "Quoted from the story's two versions. Moderators can post the full card with /story."
NOTHING_LISTED = ("Only citations, the image credit or a source's details changed: every bullet and narrative "
                  "reads as before.")
NARRATIVES_SHARE = 3  # narratives take at most a third of the message: the bullets are what members look for first


def _date(value) -> str:
    return format_updated(value.isoformat() if value else None)


def _items(changes: StoryChanges) -> list[str]:
    """One item per change, each section's heading on its first item (so a count of items is a count of changes)."""
    after = changes.after
    sections = [
        ("**New bullets**", [f"• {escape_markdown(f.text)}{linked_story_markers(after, f)}" for f in changes.added]),
        ("**Reworded**", [f"• {escape_markdown(p.after.text)}{linked_story_markers(after, p.after)}\n"
                          f"  was: ~~{escape_markdown(p.before.text)}~~" for p in changes.reworded]),
        ("**Removed bullets**", [f"• ~~{escape_markdown(f.text)}~~" for f in changes.removed]),
    ]
    items = []
    for heading, lines in sections:
        items += [f"{heading}\n{line}" if n == 0 else line for n, line in enumerate(lines)]
    return items


def changes_embed(changes: StoryChanges) -> discord.Embed:
    """The changes of one story: date, bullets (description), narratives and new sources (fields)."""
    after = changes.after
    title = limits.shorten(escape_markdown(after.title), limits.EMBED_TITLE)
    footer = CHANGES_FOOTER
    embed = discord.Embed(title=title, colour=CHANGES_COLOUR)
    embed.set_footer(text=footer)
    room = limits.EMBED_TOTAL - len(title) - len(footer)

    narratives = changes.narratives[: limits.EMBED_FIELDS - 1]  # one field left for the sources at least
    if narratives:
        share = (room // NARRATIVES_SHARE) // len(narratives)
        for narrative in narratives:
            state = "new" if narrative.before is None else "removed" if narrative.after is None else "changed"
            name = limits.shorten(f"{escape_markdown(narrative.label)} ({state})", min(limits.EMBED_FIELD_NAME, max(1, share // 4)))
            text = escape_markdown(narrative.after) if narrative.after is not None else f"~~{escape_markdown(narrative.before)}~~"
            value = limits.shorten(text, max(1, min(limits.EMBED_FIELD_VALUE, share - len(name))))
            embed.add_field(name=name, value=value, inline=False)
            room -= len(name) + len(value)

    if changes.date_changed:
        dated = f"Last updated **{_date(changes.updated)}** (was {_date(changes.previously_updated)})"
    else:
        dated = f"Last updated **{_date(changes.updated)}**"
    limit = min(limits.EMBED_DESCRIPTION, room)
    items = _items(changes)
    if not items and not changes.narratives and not changes.new_sources:
        items = [NOTHING_LISTED]
    body = limits.fit_items(items, limit - len(dated) - 2) if items else ""
    embed.description = f"{dated}\n\n{body}" if body else limits.shorten(dated, limit)
    room -= len(embed.description)

    if changes.new_sources:
        add_source_fields(embed, [linked_source_line(source) for source in changes.new_sources], room, name="New sources")
    return embed
