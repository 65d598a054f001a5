"""The client itself: how it logs in, what it asks the gateway for, and that it survives reconnects."""

import logging

import discord
import pytest

import index
from bot.bot import SYNCED_COMMANDS_FILE
from tests.bot.harness import copy_index, started_bot

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_bot_logs_in_without_ever_logging_its_token(fake_discord, knowledge_base, caplog):
    caplog.set_level(logging.DEBUG)
    async with started_bot(knowledge_base) as bot:
        identify = fake_discord.session.identify
        assert identify["token"] == "fake-token"
        # Servers and their messages only; in particular no privileged intent (members, presences, content).
        assert identify["intents"] == discord.Intents(guilds=True, guild_messages=True).value
        assert bot.allowed_mentions.to_dict() == {"parse": []}
        assert [r.path for r in fake_discord.requests[:3]] == [
            "/users/@me", "/oauth2/applications/@me",
            f"/applications/{fake_discord.APPLICATION_ID}/guilds/{fake_discord.GUILD_ID}/commands",
        ]
    assert caplog.records and "fake-token" not in caplog.text


async def test_commands_are_synced_only_when_the_command_tree_changed(fake_discord, embedder, story_index_dir, tmp_path):
    knowledge_base = index.load(copy_index(story_index_dir, tmp_path / "index"), embedder=embedder)

    def syncs() -> int:
        return sum(bool(r.match("PUT", rf"/applications/{fake_discord.APPLICATION_ID}/guilds/\d+/commands")) for r in fake_discord.requests)

    before = syncs()
    async with started_bot(knowledge_base, synced_before=True):
        assert syncs() == before + 1  # never synced from this folder
    async with started_bot(knowledge_base, synced_before=True):
        assert syncs() == before + 1  # the same tree: not synced again
    (tmp_path / "index" / SYNCED_COMMANDS_FILE).write_text("0" * 64)  # as after an older version of the bot
    async with started_bot(knowledge_base, synced_before=True):
        assert syncs() == before + 2
    async with started_bot(knowledge_base, synced_before=True, guild_id=str(fake_discord.GUILD_ID + 1)):
        assert syncs() == before + 3  # another server has never seen them
