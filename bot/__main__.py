"""`python -m bot`: on Discord with DISCORD_TOKEN set, otherwise a console chat on the terminal."""

import asyncio
import logging
import sys

import discord

from .bot import StoryBot
from .console import run_console
from .knowledge import open_library
from .settings import BotSettings


def main() -> None:
    settings = BotSettings()
    # discord.py's own handler: stderr, coloured on a terminal. Settings are never logged: only
    # `discord_token` is secret, and SecretStr shows it as '**********' should that ever change.
    discord.utils.setup_logging(level=logging.INFO)
    library = open_library(settings)
    if settings.discord_token is None:
        run_console(library, sys.stdin, sys.stdout)
        return
    asyncio.run(run_discord(StoryBot(library, settings), settings))


async def run_discord(bot: StoryBot, settings: BotSettings) -> None:
    async with bot:
        await bot.start(settings.discord_token.get_secret_value())


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
