"""`/storyadmin`: moderators keep the stories current from Discord, and read members' feedback.

    /storyadmin add file:      a .txt or .json story; validated first, then saved and indexed
    /storyadmin remove title:  delete a story's file and drop it from the index
    /storyadmin reindex        pick up files edited or dropped into the stories directory by hand
    /storyadmin feedback       votes per story and the worst-rated questions (private)

Hand edits are also picked up without a command: every STORYBOT_POLL_SECONDS the cog compares the
names, sizes and modification times of the story files with what it last indexed, and reindexes when
they differ. Before that it checks whether the index folder points at a newer generation than the one
loaded, as it does when another process sharing the folder (another shard) made a change; then it loads
that generation, reading only. Changes run one at a time (an asyncio lock), off the event loop; the bot answers from the
old index until the new one is loaded, then swaps it in with one assignment. Every change is written
to the audit log (bot/records.py) and announced as the `stories_changed` event (the feed listens). The work
itself is `index.Library`'s.
"""

import asyncio
import logging
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands, tasks
from discord.utils import escape_markdown

from index import Change, Library, LibraryError

from ..bot import StoryBot
from ..records import RecordsUnavailable
from ..rendering import limits
from ..rendering.embeds import feedback_embed
from ..utils.autocomplete import story_titles
from ..utils.checks import MODERATORS, moderators_only
from ..utils.messages import NO_MENTIONS, reply_privately

log = logging.getLogger(__name__)

WATCHER = "directory watcher"
AUDIT_UNAVAILABLE = "The audit log is unavailable right now, so this change is not in it; the problem has been logged."
FEEDBACK_UNAVAILABLE = "Feedback is unavailable right now: the records database cannot be used. The problem has been logged."


def problem_lines(header: str, problems) -> list[str]:
    return [header, *(f"• {escape_markdown(problem.short())}" for problem in problems)] if problems else []


class StoryAdmin(commands.Cog):
    storyadmin = app_commands.Group(
        name="storyadmin", description="Keep the stories current (moderators).",
        allowed_contexts=app_commands.AppCommandContext(guild=True),  # servers only: no moderators in DMs
        default_permissions=MODERATORS,  # hidden from members; each command checks again
    )

    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.library: Library = bot.library
        self.lock = asyncio.Lock()

    async def cog_load(self) -> None:
        if self.bot.settings.poll_seconds > 0:
            self.watch.change_interval(seconds=self.bot.settings.poll_seconds)
            self.watch.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()

    # ---------------------------------------------------------------- changing the stories

    @tasks.loop(seconds=30)  # STORYBOT_POLL_SECONDS, set in cog_load
    async def watch(self) -> None:
        try:
            if not await self.pick_up_new_generation():
                await self.pick_up_hand_edits()
        except Exception:
            log.exception("reindexing after a change in %s failed; trying again later", self.library.stories_dir)

    @watch.before_loop
    async def _first_poll_after_one_interval(self) -> None:
        await asyncio.sleep(self.bot.settings.poll_seconds)

    async def pick_up_new_generation(self) -> bool:
        """Load the generation another process sharing the index folder built; whether there was one. Nothing is
        built or written: that process made the change, audited it and recorded what it indexed."""
        if not await asyncio.to_thread(self.library.generation_moved):
            return False
        async with self.lock:
            return await asyncio.to_thread(self.library.refresh)  # the library logs the generation it loaded

    async def pick_up_hand_edits(self) -> Change | None:
        """Reindex when the story files changed since the last change the bot knows of."""
        if not await asyncio.to_thread(self.library.changed_on_disk):
            return None
        async with self.lock:
            return await self.apply(self.library.reindex, actor=WATCHER, how="directory poll")

    async def apply(self, operation, *args, actor: str, actor_id: int | None = None, how: str) -> tuple[Change, bool]:
        """Run one change off the loop (the caller holds the lock; the library swaps the new index in) and
        audit it. Also whether the audit log took it."""
        change: Change = await asyncio.to_thread(operation, *args)
        self.bot.dispatch("stories_changed", change)  # the story feed (bot/exts/feed.py) announces what changed
        for problem in change.report.problems:
            (log.error if problem.fatal else log.warning)("%s", problem)
        return change, await self.write_audit(self.audit, change, actor, actor_id, how)

    async def write_audit(self, write, *args, **kwargs) -> bool:
        """Run an audit write off the loop; False when the audit log is unavailable (the change stands)."""
        try:
            await asyncio.to_thread(write, *args, **kwargs)
        except RecordsUnavailable:
            return False  # logged once by the records
        except Exception:
            log.exception("could not write the audit log")
            return False
        return True

    def audit(self, change: Change, actor: str, actor_id: int | None, how: str) -> None:
        """One row per story added, updated or removed, naming its file."""
        report = change.report
        rows = [*(("add", t) for t in report.added), *(("update", t) for t in report.updated), *(("remove", t) for t in report.removed)]
        for action, title in rows:
            self.bot.records.audit(action, actor=actor, actor_id=actor_id, title=title, file=change.files.get(title), detail=how)
        if how == "/storyadmin reindex":
            self.bot.records.audit("reindex", actor=actor, actor_id=actor_id, detail=change.report.summary())

    # ---------------------------------------------------------------- commands

    @storyadmin.command(name="add", description="Add or update a story from a .txt or .json file (moderators).")
    @app_commands.describe(file="A story file in the scraped text format (.txt) or JSON (.json)")
    @moderators_only()
    async def add(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        suffix, shown = Path(file.filename).suffix.lower(), escape_markdown(limits.shorten(file.filename, 100))
        if suffix not in Library.story_suffixes:
            await reply_privately(interaction, f"Please attach a story file ending in .txt or .json; “{shown}” is neither.")
            return
        if file.size > Library.max_file_bytes:
            limit = Library.max_file_bytes
            await reply_privately(interaction, f"Nothing was changed: the file is {file.size:,} bytes; the limit is {limit:,}.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        result = await asyncio.to_thread(self.library.validate, data, file.filename)
        if result.errors:
            lines = [f"Nothing was changed: “{shown}” has {len(result.errors)} problem(s) to fix.",
                     *problem_lines("Errors:", result.errors), *problem_lines("Warnings:", result.warnings)]
            await self.tell(interaction, lines)
            return
        story = result.story
        async with self.lock:
            try:
                change, audited = await self.apply(self.library.add, data, file.filename, actor=str(interaction.user),
                                                   actor_id=interaction.user.id, how="/storyadmin add")
            except LibraryError as error:
                await self.tell(interaction, [f"Could not add “{escape_markdown(story.title)}”: {error}"])
                return
        verb = "Updated" if story.title in change.report.updated else "Added" if story.title in change.report.added else "Already up to date:"
        if verb == "Already up to date:":  # the same content again (perhaps as another file): still the moderator's change
            audited = await self.write_audit(
                self.bot.records.audit, "update", actor=str(interaction.user), actor_id=interaction.user.id,
                title=story.title, file=self.library.relative(change.file), detail="/storyadmin add (same content)")
        lines = [f"{verb} “{escape_markdown(story.title)}” ({len(story.facts)} bullets, {len(story.narratives)} narratives) "
                 f"in {self.library.relative(change.file)}. Members can ask about it now.",
                 *problem_lines("Warnings:", result.warnings)]
        await self.tell(interaction, lines, audited)

    @storyadmin.command(name="remove", description="Remove a story: its file and its index entries (moderators).")
    @app_commands.describe(title="The story's title; start typing to search")
    @moderators_only()
    @app_commands.autocomplete(title=story_titles)
    async def remove(self, interaction: discord.Interaction, title: str) -> None:
        story_title = self.library.find_title(title)  # never a guess for a destructive command
        if story_title is None:
            shown = escape_markdown(limits.shorten(title, 200))
            await reply_privately(interaction, f"I don't know a story called “{shown}”; nothing was removed. Pick one from the list.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.lock:
            try:
                change, audited = await self.apply(self.library.remove, story_title, actor=str(interaction.user),
                                                   actor_id=interaction.user.id, how="/storyadmin remove")
            except LibraryError as error:
                await self.tell(interaction, [f"Could not remove “{escape_markdown(story_title)}”: {error}"])
                return
        await self.tell(interaction, [f"Removed “{escape_markdown(story_title)}” ({self.library.relative(change.file)}). "
                                      f"{change.report.stories} stories remain."], audited)

    @storyadmin.command(name="reindex", description="Pick up story files edited or added by hand (moderators).")
    @moderators_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.lock:
            change, audited = await self.apply(self.library.reindex, actor=str(interaction.user), actor_id=interaction.user.id,
                                               how="/storyadmin reindex")
        report = change.report
        skipped = [p for p in report.problems if p.fatal]
        lines = [report.summary().replace(f" -> {report.out}", "").replace(f" at {report.out}", ""),
                 *([f"Skipped {len({p.path for p in skipped})} invalid file(s):"] if skipped else []),
                 *(f"• {self.library.relative(p.path)}: {escape_markdown(p.short())}" for p in skipped)]
        await self.tell(interaction, lines, audited)

    @storyadmin.command(name="feedback", description="Members' votes on answers: per story, and the worst-rated questions.")
    @moderators_only()
    async def feedback(self, interaction: discord.Interaction) -> None:
        try:
            summary = await asyncio.to_thread(self.bot.records.summary)
        except RecordsUnavailable:  # logged once by the records
            await reply_privately(interaction, FEEDBACK_UNAVAILABLE)
            return
        embed = feedback_embed(summary)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def tell(self, interaction: discord.Interaction, lines: list[str], audited: bool = True) -> None:
        if not audited:
            lines = [*lines[:1], AUDIT_UNAVAILABLE, *lines[1:]]
        await interaction.followup.send(limits.fit_lines(lines, limits.MESSAGE_CONTENT), ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(StoryAdmin(bot))
