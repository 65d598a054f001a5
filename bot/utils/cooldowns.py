"""One per-member question budget shared by `/ask` and mentions, so switching between them gains nothing."""

import math

import discord
from discord import app_commands
from discord.ext import commands


def member_key(source: discord.Interaction | discord.Message) -> int:
    """The id of whoever asked, from a slash command or from a message."""
    if isinstance(source, discord.Interaction):
        return source.user.id
    return source.author.id


def question_cooldowns(rate: int, per: float) -> commands.CooldownMapping:
    """`rate` questions per `per` seconds for each member (discord.py keeps and expires the buckets)."""
    return commands.CooldownMapping(app_commands.Cooldown(rate, per), member_key)


def cooldown_message(retry_after: float) -> str:
    return f"You're asking quickly! Please wait {math.ceil(retry_after)} seconds before your next question."
