"""Who may use a command."""

import discord
from discord import app_commands

MODERATORS = discord.Permissions(manage_messages=True)


def moderators_only():
    """Hidden from members by Discord (default permissions) and refused by the bot for anyone who calls the
    command anyway (a local check): one decorator, so the two can never disagree. A subcommand takes its
    default permissions from its group (`default_permissions=MODERATORS`); the check still applies to it."""
    hidden = app_commands.default_permissions(MODERATORS)
    refused = app_commands.checks.has_permissions(**{name: True for name, granted in MODERATORS if granted})

    def decorator(command):
        return hidden(refused(command))

    return decorator
