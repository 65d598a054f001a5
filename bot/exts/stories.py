"""Browsing stories: `/story` posts one story's card or what changed in it (moderators), `/stories` lists them all
(privately)."""

import asyncio
import functools

import discord
from discord import app_commands
from discord.ext import commands

from index import AnswerStory, story_changes

from ..bot import StoryBot
from ..records import RecordsUnavailable, StoryVersions
from ..rendering import limits
from ..rendering.changes import changes_embed
from ..rendering.embeds import story_card_embeds
from ..utils.autocomplete import story_titles
from ..utils.checks import moderators_only
from ..utils.messages import NO_MENTIONS, reply_privately
from ..utils.pagination import CatalogPages

STORIES_PER_PAGE = 10
VERSIONS_UNAVAILABLE = "The story's earlier versions are unavailable right now: the records database cannot be used. The problem has been logged."


def escape(title: str) -> str:
    return discord.utils.escape_markdown(limits.shorten(title, 200))


class Stories(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="story", description="Post a story's card, or what changed in it, in a channel (moderators).")
    @app_commands.describe(
        title="The story's title; start typing to search",
        channel="Where to post it (default: this channel)",
        changes_only="Only what changed since the story's previous version",
    )
    @app_commands.guild_only()
    @moderators_only()
    @app_commands.autocomplete(title=story_titles)
    async def story(self, interaction: discord.Interaction, title: str, channel: discord.TextChannel | None = None,
                    changes_only: bool = False) -> None:
        story = await asyncio.to_thread(functools.partial(self.bot.library.story_model, title, guess=True))  # reads its file
        if story is None:
            shown = discord.utils.escape_markdown(limits.shorten(title, 200))
            await reply_privately(interaction, f"I don't know a story called “{shown}”. Pick one from the list, or see /stories.")
            return
        if channel is not None and channel.id != interaction.channel_id and (refusal := self.cannot_post_in(interaction, channel)):
            await reply_privately(interaction, refusal)
            return
        if changes_only:
            try:
                previous = await asyncio.to_thread(StoryVersions(self.bot.records).previous_version, story)
            except RecordsUnavailable:  # logged once by the records
                await reply_privately(interaction, VERSIONS_UNAVAILABLE)
                return
            if previous is None:
                await reply_privately(interaction, f"I don't know a previous version of “{escape(story.title)}”: this is the only "
                                                   "one I have seen, so there are no changes to show. Leave changes_only off "
                                                   "to post its card.")
                return
            embeds = [changes_embed(story_changes(previous, story))]
        else:
            embeds = story_card_embeds(AnswerStory.from_story(story))
        if channel is None or channel.id == interaction.channel_id:
            await interaction.response.send_message(embeds=embeds, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await channel.send(embeds=embeds, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            await reply_privately(interaction, f"I could not post in {channel.mention}: Discord said {error.status} "
                                               f"({limits.shorten(error.text or 'no reason given', 200)}).")
            return
        what = "What changed in" if changes_only else "The card of"
        await interaction.followup.send(f"{what} “{escape(story.title)}” is posted in {channel.mention}.", ephemeral=True,
                                        allowed_mentions=NO_MENTIONS)

    @staticmethod
    def cannot_post_in(interaction: discord.Interaction, channel: discord.TextChannel) -> str | None:
        """Why this member, or the bot, may not post in `channel` (a moderator here need not be one there); None if both may."""
        needed = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
        picked = interaction.namespace.channel  # as Discord resolved it, with the member's permissions in that channel
        member = picked.permissions if isinstance(picked, app_commands.AppCommandChannel) else channel.permissions_for(interaction.user)
        if not needed <= member:
            return f"You can't post with embeds in {channel.mention}, so I won't post there for you."
        if not needed <= channel.permissions_for(channel.guild.me):
            return f"I can't post with embeds in {channel.mention}: please give me View Channel, Send Messages and Embed Links there."
        return None

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
