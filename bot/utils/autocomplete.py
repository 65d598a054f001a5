"""The one story-title autocomplete, for `/story` and `/storyadmin remove`.

It offers titles but sends the story's id (ids fit Discord's 100-character choice values, titles need not),
so every story can be picked whatever the length of its title. Matching runs over the titles the library
keeps in memory: no story file is read on the event loop.
"""

import discord
from discord import app_commands

from ..rendering import limits


async def story_titles(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Choices for what has been typed so far: newest stories first before any typing, then the closest titles."""
    library = interaction.client.library
    return [
        app_commands.Choice(name=limits.shorten(title, limits.CHOICE_NAME), value=story_id)
        for title, story_id in library.title_choices(current, limits.AUTOCOMPLETE_CHOICES)
    ]
