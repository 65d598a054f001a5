"""The one place slash-command failures are turned into a private, polite message.

An extension that installs its handler as the command tree's `on_error` while it is loaded.
"""

import logging

import discord
from discord import app_commands
from discord.ext import commands

from index import QuestionError

from ..utils.cooldowns import cooldown_message
from ..utils.messages import reply_privately

log = logging.getLogger(__name__)


def explain(error: app_commands.AppCommandError) -> str | None:
    """What to tell the member for an expected failure; None for a bug."""
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(cause, QuestionError):
        return str(cause)
    if isinstance(cause, app_commands.CommandOnCooldown):
        return cooldown_message(cause.retry_after)
    if isinstance(cause, app_commands.MissingPermissions):
        return "Only moderators (with Manage Messages) can use this command. Try /ask or /stories instead."
    if isinstance(cause, app_commands.CheckFailure):
        return "Sorry, you can't use this command here."
    return None


class ErrorHandler(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._default = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.on_error = self.on_app_command_error

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._default

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Answer privately, log, and carry on: one failed command must never take the bot down."""
        message = explain(error)
        if interaction.type is discord.InteractionType.autocomplete:
            # Suggestions cannot carry a message; an empty list is all the member will see.
            log.error("autocomplete failed for interaction %s", interaction.id, exc_info=error)
            return
        if message is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed for interaction %s", command, interaction.id, exc_info=error)
            message = "Sorry, something went wrong on my side. It has been logged; please try again later."
        else:
            log.info("refused interaction %s: %s", interaction.id, type(error).__name__)
        await reply_privately(interaction, message)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
