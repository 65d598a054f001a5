"""Browsing stories: `/story` posts one story's card (moderators), `/stories` lists them all (privately)."""

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from ..autocomplete import story_titles
from ..bot import StoryBot
from ..pagination import CatalogPages
from ..private_replies import NO_MENTIONS, reply_privately
from ..rendering import limits
from ..rendering.embeds import story_card_embeds

STORIES_PER_PAGE = 10


class Stories(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="story", description="Post a story's summary card in this channel (moderators).")
    @app_commands.describe(title="The story's title; start typing to search")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_messages=True)  # Discord hides the command from members...
    @app_commands.checks.has_permissions(manage_messages=True)  # ...and this refuses those who call it anyway
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
        pages = CatalogPages(catalog, per_page=STORIES_PER_PAGE)
        await interaction.response.send_message(
            embed=pages.page_embed(), view=pages, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Stories(bot))
