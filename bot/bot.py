"""The Discord client: owns the story library, the inference threads and the extensions."""

import asyncio
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import discord
from discord.ext import commands

from index import Answer, KnowledgeBase, Library

from .feedback import VoteButton
from .records import Records
from .settings import BotSettings
from .suggestions import ReadSuggestedStory
from .utils.cooldowns import question_cooldowns

log = logging.getLogger(__name__)

# Loaded explicitly, in this order, rather than discovered: what runs is what is listed here.
EXTENSIONS = ("bot.exts.error_handler", "bot.exts.answers", "bot.exts.stories", "bot.exts.storyadmin", "bot.exts.feed")

# Only what is used: servers and their messages. Messages that mention the bot carry their text even
# without the privileged message-content intent, so none is needed.
INTENTS = discord.Intents(guilds=True, guild_messages=True)

T = TypeVar("T")

# Beside the index: the hash of the command tree last synced, so an unchanged tree is not synced at every start.
SYNCED_COMMANDS_FILE = "discord_commands.sha256"


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


class StoryBot(commands.AutoShardedBot):
    """Always discord.py's sharded bot, so one class serves every set-up: without STORYBOT_SHARD_COUNT it runs one
    shard of one (a single gateway connection, as a plain `commands.Bot` would); with it, the shards listed in
    STORYBOT_SHARD_IDS (or all of them) in this process, so the shards can be split across processes and machines."""

    def __init__(self, library: Library, settings: BotSettings, **options) -> None:
        super().__init__(
            shard_count=settings.shard_count or 1,  # a given count, never Discord's guess: each process must agree
            shard_ids=settings.shard_ids,  # None: every shard of the count
            command_prefix=commands.when_mentioned,  # required by commands.Bot; there are no text commands
            help_command=None,
            intents=INTENTS,
            allowed_mentions=discord.AllowedMentions.none(),  # text from a story or a question never pings
            **options,
        )
        self.library = library  # opened: it answers from the start
        self.settings = settings
        self.question_cooldowns = question_cooldowns(settings.ask_cooldown_rate, settings.ask_cooldown_per)
        # Inference and search are blocking; they run here so the gateway heartbeat and every other
        # member's acknowledgement keep flowing on the event loop meanwhile.
        self.inference = ThreadPoolExecutor(settings.inference_threads, thread_name_prefix="storybot-inference")
        # Votes and the audit log are kept beside the index.
        self.records = Records.beside(library.index_dir)  # opened on first use: answering never needs it
        self.saving_answers: dict[str, asyncio.Future] = {}  # answers being saved for their votes (bot/feedback.py)

    async def setup_hook(self) -> None:
        # 👍 / 👎 on answers, and the menu of suggested stories under refusals, sent before a restart keep working
        self.add_dynamic_items(VoteButton, ReadSuggestedStory)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """To one server when STORYBOT_GUILD_ID is set (instant), else globally (can take an hour); only when
        the command tree differs from the one last synced from here (Discord rate-limits syncing)."""
        guild = discord.Object(self.settings.guild_id) if self.settings.guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        where = f"to server {self.settings.guild_id}" if guild is not None else "globally"
        tree = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        # Which Discord (its API address), which application and where: a tree synced elsewhere counts for nothing here.
        state = json.dumps([discord.http.Route.BASE, self.application_id, self.settings.guild_id, tree], sort_keys=True)
        digest = hashlib.sha256(state.encode()).hexdigest()
        synced_file = self.library.index_dir / SYNCED_COMMANDS_FILE
        if await asyncio.to_thread(_read_or_none, synced_file) == digest:
            log.info("commands unchanged since they were last synced %s", where)
            return
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d commands %s", len(synced), where)
        try:  # a lost or torn file only costs one more sync
            await asyncio.to_thread(synced_file.write_text, digest, encoding="ascii")
        except OSError as exc:
            log.warning("could not record the synced commands in %s (%s); they will be synced again at the next start", synced_file, exc)

    @property
    def knowledge_base(self) -> KnowledgeBase:
        """The index answering now (the library swaps in a new one after each change)."""
        return self.library.knowledge_base

    async def on_message(self, message: discord.Message) -> None:
        """No text commands: mentions are answered by the answers extension's listener."""

    async def off_loop(self, function: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.inference, functools.partial(function, *args))

    async def answer(self, question: str, *, about: str | None = None) -> Answer:
        """`Library.ask` on an inference thread (`about`: the conversation's story); raises QuestionError like it."""
        return await self.off_loop(functools.partial(self.library.ask, question, about=about))

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d servers on shards %s of %d", self.user, self.user.id if self.user else "?",
                 len(self.guilds), sorted(self.shards), self.shard_count)

    async def close(self) -> None:
        await super().close()
        self.inference.shutdown(wait=False, cancel_futures=True)
