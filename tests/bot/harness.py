"""Starting the real bot against the fake Discord, for the fixtures and for tests that need their own bot."""

import asyncio
import contextlib
import shutil
from pathlib import Path

import index
from bot.bot import SYNCED_COMMANDS_FILE, StoryBot
from bot.records import RECORDS_FILE
from bot.settings import BotSettings
from tests.bot.fake_discord import FakeDiscord

COOLDOWN_RATE = 3
# Questions the index of tests/bot/stories answers: for the load and memory tests.
QUESTIONS = [
    "What rent cap did Eastmere City Council approve?", "How long will the Brackwater ferry strike last?",
    "Which Lowmoor branch libraries will close?", "How big is the telescope at Tidewell Observatory?",
    "Will the Eastmere landlords challenge the rent cap in court?",
]


def copy_index(source: Path, destination: Path) -> Path:
    """A copy of an index folder without what bots keep beside the index (records, synced commands): bots of
    other tests may be writing those in a shared folder while it is copied, and this copy starts without."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(f"{RECORDS_FILE}*", "*.salt", SYNCED_COMMANDS_FILE))
    return destination


def bot_settings(**values) -> BotSettings:
    """A test bot's settings by field name (the token by its variable's name): the values given here win over the
    environment, and no .env file is read."""
    if unknown := values.keys() - BotSettings.model_fields.keys() - {"DISCORD_TOKEN"}:
        raise TypeError(f"not settings' field names: {sorted(unknown)}")  # pydantic-settings would ignore them silently
    values = {"DISCORD_TOKEN": "fake-token", "guild_id": FakeDiscord.GUILD_ID,
              "ask_cooldown_rate": COOLDOWN_RATE, "ask_cooldown_per": 600, **values}
    return BotSettings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def started_bot(knowledge_base: index.KnowledgeBase, *, synced_before: bool = False, **settings):
    """The real StoryBot logged in to the fake Discord (already pointed to) and past READY; closed after.

    It serves `knowledge_base` as loaded, with its stories folder from the settings. Unless `synced_before`,
    the record of the commands last synced from its index folder is dropped first, so the bot syncs its
    commands to this fake Discord as to a new one, whichever bots other tests started before."""
    values = bot_settings(**settings)
    library = index.Library(values.stories_dir, knowledge_base.path.parent, knowledge_base=knowledge_base)
    if not synced_before:
        (library.index_dir / SYNCED_COMMANDS_FILE).unlink(missing_ok=True)
    bot = StoryBot(library, values, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(bot.settings.discord_token.get_secret_value()))
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task.done():
            raise RuntimeError("the bot stopped before it was ready") from task.exception()
        raise RuntimeError("the bot was not ready within 30 s")
    try:
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
