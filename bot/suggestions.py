"""Under a refusal, a menu of the stories it suggests: the member picks one and reads its card, privately.

"No story covers that" is sometimes wrong (a question the story answers is refused rather than answered with a
bullet that might not answer it). The menu lets the member read the closest stories themselves, at one click,
without the bot claiming that any of them answers. It is a `DynamicItem`, registered at start
(`add_dynamic_items`), so a pick on a message sent before a restart still arrives here; each option's value is
the story's id (at most 89 characters, within Discord's 100), looked up when picked, so a story removed since is
said to be gone rather than shown.
"""

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from index import story_id_for

from .rendering import limits
from .rendering.embeds import story_card_embeds
from .utils.messages import reply_privately, send_privately

if TYPE_CHECKING:
    from .bot import StoryBot

log = logging.getLogger(__name__)

READ_ID = "storybot:read"
PLACEHOLDER = "Read one of these stories (only you will see it)"
GONE = "That story is no longer here. See /stories for the stories I know."
FAILED = "Sorry, I couldn't show that story just now; the problem has been logged. Please try again later."


class ReadSuggestedStory(discord.ui.DynamicItem[discord.ui.Select], template=READ_ID):
    @classmethod
    def offering(cls, titles: Sequence[str]) -> "ReadSuggestedStory":
        """The menu for a refusal's suggested titles (one option each)."""
        by_id: dict[str, str] = {}
        for title in titles:
            by_id.setdefault(story_id_for(title), title)  # Discord refuses a menu with a value twice
        options = [discord.SelectOption(label=limits.shorten(title, limits.SELECT_OPTION), value=story_id)
                   for story_id, title in by_id.items()]
        return cls(discord.ui.Select(custom_id=READ_ID, placeholder=PLACEHOLDER, options=options))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str]) -> "ReadSuggestedStory":
        return cls(item)  # the menu as sent; discord.py fills in what was picked

    async def callback(self, interaction: discord.Interaction["StoryBot"]) -> None:
        picked = self.item.values[0] if self.item.values else ""  # any text a client sends: only ever looked up
        try:
            await show_the_menu_unpicked(interaction)
            story = await asyncio.to_thread(interaction.client.library.story, picked)  # reads the index's story shelf
            if story is None:
                await reply_privately(interaction, GONE)
                return
            await send_privately(interaction, embeds=story_card_embeds(story))
        except Exception:
            log.exception("could not show story %r picked under a refusal", picked[:100])
            await reply_privately(interaction, FAILED)


async def show_the_menu_unpicked(interaction: discord.Interaction) -> None:
    """Answer a pick by "updating" the menu's message with nothing changed: the client shows the menu's placeholder
    again, where it would leave the picked option shown and not send that pick a second time. Cosmetic: when Discord
    refuses the update, the pick is still answered, with the card as the interaction's response."""
    try:
        await interaction.response.edit_message()
    except discord.HTTPException:
        log.warning("could not reset the menu on message %s", getattr(interaction.message, "id", None), exc_info=True)
