"""Browsing stories: `/story` posts one story's card (moderators), `/stories` lists them all (privately)."""

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from ..bot import StoryBot
from ..rendering import limits
from ..rendering.embeds import story_card_embeds
from ..utils.autocomplete import story_titles
from ..utils.checks import moderators_only
from ..utils.messages import NO_MENTIONS, reply_privately
from ..utils.pagination import CatalogPages

STORIES_PER_PAGE = 10


class Stories(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="story", description="Post a story's summary card in this channel (moderators).")
    @app_commands.describe(title="The story's title; start typing to search")
    @app_commands.guild_only()
    @moderators_only()
    @app_commands.autocomplete(title=story_titles)
    async def story(self, interaction: discord.Interaction, title: str) -> None:
        card = await asyncio.to_thread(self.bot.library.story, title, guess=True)  # reads the story's file
        if card is None:
            shown = discord.utils.escape_markdown(limits.shorten(title, 200))
            await reply_privately(interaction, f"I don't know a story called “{shown}”. Pick one from the list, or see /stories.")
            return
        await interaction.response.send_message(embeds=story_card_embeds(card), allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="stories", description="List the stories I know, newest first (only you see it).")
    async def stories(self, interaction: discord.Interaction) -> None:
        catalog = await asyncio.to_thread(self.bot.library.catalog)  # read from disk only after a change
        pages = CatalogPages(catalog, per_page=STORIES_PER_PAGE, owner_id=interaction.user.id)
        await interaction.response.send_message(
            embed=pages.page_embed(), view=pages, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        pages.shown_in = interaction


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Stories(bot))
