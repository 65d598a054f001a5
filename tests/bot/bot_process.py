"""`python -m tests.bot.bot_process PORT`: the real `python -m bot` entry point, in its own process, on a fake Discord.

discord.py is pointed at 127.0.0.1:PORT exactly as `FakeDiscord.point_discord_py_here` does in-process;
everything else (settings from the environment, building and loading the index, logging in) is `bot.__main__`.
"""

import faulthandler
import signal
import sys

import discord
import yarl

from bot.__main__ import main

if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a test that waits too long for an exit asks for the stacks
    port = int(sys.argv[1])
    discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{port}/")
    try:
        main([])  # the port is ours, not a command for the bot
    except KeyboardInterrupt:
        pass
