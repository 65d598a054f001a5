"""Browsing stories: `/story` posts one story's card (moderators), `/stories` lists them all (privately)."""

import discord
from discord import app_commands
from discord.ext import commands

from index import AnswerStory

from ..bot import StoryBot
from ..pagination import CatalogPages
from ..private_replies import NO_MENTIONS, reply_privately
from ..rendering import limits
from ..rendering.embeds import story_card_embeds
from ..title_search import find_story, story_choices

STORIES_PER_PAGE = 10


class Stories(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self._catalog_of: object = None  # the knowledge base `_catalog` was made from

    @property
    def catalog(self) -> list[AnswerStory]:
        """Every story, newest first; made again only when /storyadmin swapped in a new knowledge base."""
        if self._catalog_of is not self.bot.knowledge_base:
            self._catalog, self._catalog_of = self.bot.knowledge_base.catalog(), self.bot.knowledge_base
        return self._catalog

    @property
    def titles(self) -> list[str]:
        return [story.title for story in self.catalog]

    @app_commands.command(name="story", description="Post a story's summary card in this channel (moderators).")
    @app_commands.describe(title="The story's title; start typing to search")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_messages=True)  # Discord hides the command from members...
    @app_commands.checks.has_permissions(manage_messages=True)  # ...and this refuses those who call it anyway
    async def story(self, interaction: discord.Interaction, title: str) -> None:
        card = find_story(self.bot.knowledge_base, title, guess=True)
        if card is None:
            shown = discord.utils.escape_markdown(limits.shorten(title, 200))
            await reply_privately(interaction, f"I don't know a story called “{shown}”. Pick one from the list, or see /stories.")
            return
        await interaction.response.send_message(embeds=story_card_embeds(card), allowed_mentions=NO_MENTIONS)

    @story.autocomplete("title")
    async def story_title_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return story_choices(self.bot.knowledge_base, current, self.titles)

    @app_commands.command(name="stories", description="List the stories I know, newest first (only you see it).")
    async def stories(self, interaction: discord.Interaction) -> None:
        pages = CatalogPages(self.catalog, per_page=STORIES_PER_PAGE)
        await interaction.response.send_message(
            embed=pages.page_embed(), view=pages, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Stories(bot))
