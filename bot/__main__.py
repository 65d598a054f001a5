"""`python -m bot`: on Discord with DISCORD_TOKEN set, otherwise a console chat on the terminal.

`python -m bot feedback [--index DIR] [--export FILE.csv]` summarises members' votes, or exports them.

This is where process-wide settings are made (logging, discord.py's voice warnings, and the library's
`configure_process`: FAISS threads, bm25s's log level): importing the bot or the library changes nothing.
"""

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

import discord
from pydantic import ValidationError

from index import configure_process

from .bot import StoryBot
from .console import run_console
from .knowledge import open_library
from .records import RECORDS_FILE, Records, RecordsUnavailable
from .settings import BotSettings

EXIT_NO_RECORDS = 1
EXIT_BAD_SETTINGS = 2


def main(argv: list[str] | None = None) -> int:
    configure_process()
    try:
        settings = BotSettings()
    except ValidationError as error:  # what is wrong, per setting, without a traceback
        problems = "\n".join(f"  {BotSettings.variable(str(e['loc'][0])) if e['loc'] else 'settings'}: {e['msg']}" for e in error.errors())
        print(f"error: the settings (environment or .env) cannot be used:\n{problems}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    feedback_cmd = commands.add_parser("feedback", help="members' votes on answers")
    feedback_cmd.add_argument("--index", type=Path, default=settings.index_dir, help="the index directory holding storybot.sqlite3")
    feedback_cmd.add_argument("--export", type=Path, metavar="FILE.csv", help="write every vote to a CSV file")
    args = parser.parse_args(argv)
    if args.command == "feedback":
        return run_feedback(args.index, args.export)
    run(settings)
    return 0


def run(settings: BotSettings) -> None:
    # discord.py's own handler: stderr, coloured on a terminal. Settings are never logged: only
    # `discord_token` is secret, and SecretStr shows it as '**********' should that ever change.
    discord.utils.setup_logging(level=logging.INFO)
    # The bot never joins voice; without this discord.py warns at every start about missing voice libraries.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    library = open_library(settings)
    if settings.discord_token is None:
        run_console(library, sys.stdin, sys.stdout)
        return
    asyncio.run(run_discord(StoryBot(library, settings), settings))


async def run_discord(bot: StoryBot, settings: BotSettings) -> None:
    # Ctrl-C and SIGTERM close the bot, which ends `start`. asyncio.run's own Ctrl-C only cancels this task, and
    # a cancellation that lands inside discord.py's waits can be swallowed (seen in tests), leaving the bot up.
    loop, closing = asyncio.get_running_loop(), set()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, lambda: closing.add(loop.create_task(bot.close())))
    async with bot:
        await bot.start(settings.discord_token.get_secret_value())


def run_feedback(index_dir: Path, export: Path | None) -> int:
    if not (index_dir / RECORDS_FILE).is_file():
        print(f"error: no feedback recorded at {index_dir / RECORDS_FILE}", file=sys.stderr)
        return EXIT_NO_RECORDS
    records = Records.beside(index_dir)
    try:
        if export:
            print(f"exported {records.export_csv(export)} vote(s) to {export}")
            return 0
        summary = records.summary()
    except RecordsUnavailable:
        return EXIT_NO_RECORDS  # the records logged why, once
    print(f"{summary.votes} vote(s)")
    for tally in summary.stories:
        print(f"  +{tally.up} -{tally.down}  {tally.name}")
    for tally in summary.worst:
        print(f"  worst: +{tally.up} -{tally.down}  {tally.name}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        pass
